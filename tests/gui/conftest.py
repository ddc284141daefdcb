"""GUI tests run without a screen: the offscreen Qt platform, set before any QApplication exists.

Every GUI test gets a temporary QSettings folder, so the user's settings are never read or written, and
`boxes` records message boxes instead of showing them.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox


@pytest.fixture(autouse=True)
def temp_settings(tmp_path):
    """QSettings (INI, user scope) in a temporary folder for this test."""
    folder = tmp_path / "settings"
    folder.mkdir()
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    return folder


@pytest.fixture
def boxes(monkeypatch) -> list[tuple[str, str]]:
    """(title, text) of every warning or critical message box; questions answer Discard."""
    shown: list[tuple[str, str]] = []

    def record(_parent, title, text, *args, **kwargs):
        shown.append((title, text))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "warning", staticmethod(record))
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(record))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Discard))
    return shown
