"""Application entry point (placeholder window until the desktop trainer lands)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Start the desktop trainer."""
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance() or QApplication(sys.argv if argv is None else argv)
    label = QLabel("Backprop Lab — the desktop trainer is being built.")
    label.setObjectName("placeholder")
    label.resize(480, 120)
    label.show()
    return app.exec()
