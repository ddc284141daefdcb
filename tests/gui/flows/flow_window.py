"""The window the user-flow tests drive: the app's main window on temporary settings, shown, exposed and active
(under a bare X server without a window manager nothing activates it otherwise), training on a thread."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication

from bpcore.config import Experiment
from bpgui.main_window import MainWindow
from bpgui.settings import open_settings


def make_window(qtbot, experiment: Experiment | None = None) -> MainWindow:
    window = MainWindow(experiment, settings=open_settings(), ask_on_close=False, in_process=True)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    QApplication.processEvents()
    return window
