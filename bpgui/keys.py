"""The window's keys that work wherever the focus is: Space plays or pauses, Escape gives the focus back to the
plots.

The toolbar's Play action has Space as its shortcut, but a focused spin box or line edit claims Space for its
text first (Qt's ShortcutOverride), so the shortcut never fired there and the key reached the field instead. An
application event filter sees that key press before the field does: in a number field (a spin box, where a
space is never valid) it plays or pauses instead; a field that takes free text keeps its spaces.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

_PLAIN = (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)


def takes_text(widget: QObject | None) -> bool:
    """True for a field where a space is text: a line edit (not a spin box's), an editable combo, a text edit."""
    if isinstance(widget, (QTextEdit, QPlainTextEdit)):
        return not widget.isReadOnly()
    if isinstance(widget, QComboBox):
        return widget.isEditable()
    if isinstance(widget, QLineEdit):
        return not isinstance(widget.parent(), QAbstractSpinBox) and not widget.isReadOnly()
    return False


class WindowKeys(QObject):
    """Space toggles `play` in `window` (and in the windows added with add_window) wherever the focus is, except
    in a field that takes free text; Escape in `window` calls `escape` (focus to the plots)."""

    def __init__(self, window: QWidget, play: QAction, escape: Callable[[], None]) -> None:
        super().__init__(window)
        self._window, self._play, self._escape = window, play, escape
        self._windows: list[QWidget] = [window]
        QApplication.instance().installEventFilter(self)  # removed when this object goes with the window

    def add_window(self, other: QWidget) -> None:
        """Space plays or pauses in `other` too (a non-modal tool window such as Training settings)."""
        self._windows.append(other)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(obj, QWidget):
            return False
        assert isinstance(event, QKeyEvent)
        key = event.key()
        if key not in (Qt.Key.Key_Space, Qt.Key.Key_Escape) or event.modifiers() not in _PLAIN:
            return False
        top = obj.window()
        if top not in self._windows or QApplication.activePopupWidget() is not None:
            return False  # another window, a dialog, an open menu or combo list: theirs
        if key == Qt.Key.Key_Escape:
            if top is not self._window:
                return False  # a dialog's Escape closes it
            spin = _spin_box_of(obj)
            if spin is not None:  # Escape drops a number being typed (leaving the box would apply it)
                spin.setValue(spin.value())
            self._escape()
            return True
        if takes_text(obj) or takes_text(QApplication.focusWidget()):
            return False
        if not event.isAutoRepeat() and self._play.isEnabled():
            self._play.trigger()
        return True


def _spin_box_of(widget: QObject | None) -> QAbstractSpinBox | None:
    """The spin box a widget is or belongs to (its line edit), else None."""
    while widget is not None:
        if isinstance(widget, QAbstractSpinBox):
            return widget
        widget = widget.parent() if isinstance(widget, QLineEdit) else None
    return None
