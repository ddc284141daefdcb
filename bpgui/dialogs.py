"""The questions and messages the window puts to the user (QMessageBox), in one place.

Tests replace QMessageBox.warning / QMessageBox.question to read the text and give an answer.
"""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

from bpcore.errors import BackpropLabError

#: Errors a user can cause (bad files, settings, data); shown as a message, never as a traceback.
USER_ERRORS = (BackpropLabError, OSError, ValueError)


def show_error(parent: QWidget | None, title: str, error: BaseException | str) -> None:
    """A warning box with the error's own message (it says what and where)."""
    QMessageBox.warning(parent, title, str(error) or type(error).__name__)


def ask_save_changes(parent: QWidget | None, what: str) -> str:
    """'save', 'discard' or 'cancel' for unsaved training before `what` (closing, opening, …)."""
    buttons = QMessageBox.StandardButton
    answer = QMessageBox.question(
        parent, "Unsaved changes",
        f"The current training has not been saved. Save it as a session before {what}?",
        buttons.Save | buttons.Discard | buttons.Cancel, buttons.Save)
    return {buttons.Save: "save", buttons.Discard: "discard"}.get(answer, "cancel")


def ask_reset(parent: QWidget | None, what: str, mode: str = "running") -> bool:
    """True when the user agrees to re-initialise the weights (and end the run) to change `what`; `mode` is the
    run's as the status line shows it (running or paused)."""
    buttons = QMessageBox.StandardButton
    ends = "stops it" if mode == "running" else "ends it"
    answer = QMessageBox.question(
        parent, "Reset the network?",
        f"Training is {mode}. Changing the {what} {ends}, re-initialises the weights and clears the "
        f"history.\n\nChange the {what} and reset?",
        buttons.Yes | buttons.No, buttons.No)
    return answer == buttons.Yes
