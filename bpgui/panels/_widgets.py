"""Private helpers shared by the panels: accessibility metadata, hint and error labels, an emission throttle."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel

from bpgui.describe import describe

ERROR_STYLE = "color: #B00020;"
WARNING_STYLE = "color: #9A5B00;"
HINT_STYLE = "color: #555555;"


def message_label(object_name: str, accessible_name: str, tooltip: str, style: str = HINT_STYLE) -> QLabel:
    """A word-wrapped label for a summary, hint or inline error, in the given colour."""
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet(style)
    describe(label, object_name, accessible_name, tooltip)
    return label


class Throttle(QObject):
    """Calls ``callback`` at most once per ``interval_ms`` while pokes keep coming, and once after the last.

    ``poke()`` starts the timer unless it runs already (it is not restarted, so a long drag still calls back
    every interval); ``flush()`` calls back now and cancels the pending call (e.g. on slider release).
    """

    def __init__(self, interval_ms: int, callback: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._callback = callback
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(callback)

    def poke(self) -> None:
        """Schedule a call within one interval (no-op if one is already scheduled)."""
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        """Call back now; a scheduled call is cancelled."""
        self._timer.stop()
        self._callback()

    def cancel(self) -> None:
        """Drop a scheduled call."""
        self._timer.stop()

    def pending(self) -> bool:
        """True while a call is scheduled."""
        return self._timer.isActive()
