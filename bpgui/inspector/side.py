"""The right-hand column: the chain rule for one weight, the gradient check, which W is shown, messages."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from bpgui.inspector._style import FAIL_COLOUR, describe
from bpgui.inspector.chain_rule import ChainRuleBox
from bpgui.inspector.check_view import CheckBanner

WIDTH = 320


class SidePanel(QWidget):
    """ChainRuleBox, CheckBanner, the note on the panel's copy of W, and a status line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        describe(self, "inspectorSide", "chain rule and check", "Eq. 5 for one weight and the gradient check")
        self.chain = ChainRuleBox()
        self.banner = CheckBanner()
        self._note = QLabel()
        describe(self._note, "weightsNote", "which weights are shown",
                 "The panel works on its own copy of the weights it was given; Update never changes training")
        self._note.setWordWrap(True)
        self._note.setStyleSheet("color: #505050;")
        self._rule = QLabel()
        describe(self._rule, "updateRuleNote", "which update is applied",
                 "Whether Update applies plain eq. 10 or the trainer's step (L2, schedule, clipping, optimizer), "
                 "and what it leaves out")
        self._rule.setWordWrap(True)
        self._rule.setTextFormat(Qt.TextFormat.RichText)
        self._rule.setStyleSheet("color: #1d5a35;")
        self._status = QLabel()
        describe(self._status, "inspectorStatus", "inspector messages", "Export results and errors")
        self._status.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.chain, self.banner, self._rule, self._note, self._status):
            layout.addWidget(w)
        layout.addStretch(1)
        self.setFixedWidth(WIDTH)
        self.set_updates(0)

    def set_updates(self, n: int) -> None:
        """Say how many panel updates the shown W is past the weights it was given."""
        self._note.setText("W shown: the panel's own copy of the training weights it was given"
                           + (f" after {n} panel update(s)." if n else ".")
                           + " Update never changes training; Reset W restores that copy.")

    def set_rule_text(self, text: str) -> None:
        """Which step Update applies (rich text)."""
        self._rule.setText(text)

    def rule_text(self) -> str:
        """The update note's text."""
        return self._rule.text()

    def set_status(self, text: str, error: bool = False) -> None:
        """A message (red when it reports an error)."""
        self._status.setText(f"<span style='color:{FAIL_COLOUR}'>{text}</span>" if error else text)

    def status(self) -> str:
        """The last message."""
        return self._status.text()
