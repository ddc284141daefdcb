"""Hostile files in the window ("files & data" part of issue 9): File menu and data panel opens of paths that are
not usable files show bpcore's typed message (naming the path) in a message box — never a traceback or a hang.

A 10 s alarm turns a blocking open (a FIFO) into a failure instead of a hung test run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import bpcore.files
from bpgui.main_window import MainWindow
from bpgui.panels.csv_dialog import CsvImportDialog
from bpgui.panels.data_panel import DataPanel
from bpgui.settings import open_settings

pytestmark = [pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"), reason="POSIX only"),
              pytest.mark.usefixtures("ten_seconds")]  # tests/conftest.py: a blocking open fails, never hangs




def _fifo(tmp_path: Path, suffix: str) -> Path:
    os.mkfifo(tmp_path / f"pipe{suffix}")
    return tmp_path / f"pipe{suffix}"


def _dev_zero(tmp_path: Path, suffix: str) -> Path:
    (tmp_path / f"zero{suffix}").symlink_to("/dev/zero")
    return tmp_path / f"zero{suffix}"


def _folder(tmp_path: Path, suffix: str) -> Path:
    (tmp_path / f"folder{suffix}").mkdir()
    return tmp_path / f"folder{suffix}"


def _deep_model(tmp_path: Path, suffix: str) -> Path:
    import json

    import safetensors.torch
    import torch

    path = tmp_path / f"deep{suffix}"
    safetensors.torch.save_file({"W0": torch.zeros(3, 2)}, str(path), metadata={
        "format": bpcore.files.FORMAT, "sizes": "[2, 2]", "activations": "[]", "output": "softmax",
        "extra": json.dumps({"history": []})[:-3] + "[" * 50_000 + "]" * 50_000 + "}"})
    return path


CASES = [  # (maker, words the message holds)
    (_fifo, "is a FIFO (named pipe), not a regular file"),
    (_dev_zero, "is a character device, not a regular file"),
    (_folder, "is a folder"),
]


@pytest.mark.parametrize(("make", "words"), [*CASES, (_deep_model, "nested more than")],
                         ids=["fifo", "dev-zero", "folder", "deep-metadata"])
def test_open_session_shows_the_typed_error(qtbot, boxes, tmp_path, make, words) -> None:
    window = MainWindow(None, settings=open_settings())
    qtbot.addWidget(window)
    trainer = window.controller.trainer
    path = make(tmp_path, ".safetensors")
    assert not window.files.open_session(str(path))
    (title, text), = boxes
    assert title == "Cannot open the session" and str(path) in text and words in text, text
    assert window.controller.trainer is trainer


@pytest.mark.parametrize(("make", "words"), CASES, ids=["fifo", "dev-zero", "folder"])
def test_open_csv_from_the_file_menu_shows_the_typed_error(qtbot, boxes, tmp_path, make, words) -> None:
    window = MainWindow(None, settings=open_settings())
    qtbot.addWidget(window)
    path = make(tmp_path, ".csv")
    assert window.files.open_csv(str(path)) is None  # the data panel's import route: no dialog for it
    (title, text), = boxes
    assert title == "Cannot open the CSV file" and str(path) in text and words in text, text
    assert window.findChild(CsvImportDialog) is None
    assert window.controller.experiment.data.source == "spirals"


@pytest.mark.parametrize(("make", "words"), CASES, ids=["fifo", "dev-zero", "folder"])
def test_data_panel_csv_import_shows_the_typed_error(qtbot, boxes, tmp_path, make, words) -> None:
    panel = DataPanel()
    qtbot.addWidget(panel)
    path = make(tmp_path, ".csv")
    assert panel.open_csv(path) is None
    (title, text), = boxes
    assert title == "Cannot open the CSV file" and str(path) in text and words in text, text
    assert panel.findChild(CsvImportDialog) is None
