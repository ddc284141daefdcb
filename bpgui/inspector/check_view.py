"""The gradient check's verdict: green when the hand-derived ∇_W J matches, red (and by how much) when not."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from bpcore.inspect import Check
from bpgui.inspector._style import FAIL_BACKGROUND, FAIL_COLOUR, OK_BACKGROUND, OK_COLOUR, describe

_NEUTRAL = "background: #f2f2f2; color: #404040; border: 2px solid #c8c8c8;"
_STYLE = "font-size: 10.5pt; padding: 6px; border-radius: 4px; "


class CheckBanner(QLabel):
    """Text and colour of the last bpcore.inspect.check; state() is '', 'ok', 'fail' or 'skipped'."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        describe(self, "checkBanner", "gradient check result",
                 "Check compares the hand-derived ∇_W J with torch autograd and with central finite differences\n"
                 "(J(w + ε) − J(w − ε)) / 2ε on the inspected rows and the panel's weights.")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self._state = ""
        self.reset()

    def state(self) -> str:
        """'' (not checked), 'ok', 'fail' or 'skipped'."""
        return self._state

    def reset(self, text: str = "Gradient check: press Check.") -> None:
        """Neutral, not checked."""
        self._state = ""
        self.setStyleSheet(_STYLE + _NEUTRAL)
        self.setText(text)

    def skipped(self, text: str) -> None:
        """Neutral with a reason the check did not run."""
        self._state = "skipped"
        self.setStyleSheet(_STYLE + _NEUTRAL)
        self.setText(text)

    def show_check(self, c: Check, where: str) -> None:
        """Show both errors; red with the excess over the tolerance when the check fails."""
        errors = (f"max error vs autograd: <b>{c.autograd_error:.3g}</b>, "
                  f"vs finite differences: <b>{c.finite_difference_error:.3g}</b> "
                  f"(tolerance {c.tolerance:.3g}; {where})")
        if c.ok:
            self._state = "ok"
            self.setStyleSheet(_STYLE + f"background: {OK_BACKGROUND}; color: {OK_COLOUR}; "
                               f"border: 2px solid {OK_COLOUR};")
            self.setText("✓ Gradient check passed: " + errors)
        else:
            worst = max(c.autograd_error, c.finite_difference_error)
            ratio = worst / c.tolerance if c.tolerance > 0 else float("inf")
            self._state = "fail"
            self.setStyleSheet(_STYLE + f"background: {FAIL_BACKGROUND}; color: {FAIL_COLOUR}; "
                               f"border: 3px solid {FAIL_COLOUR}; font-weight: 600;")
            self.setText(f"✗ Gradient check FAILED: error {worst:.3g} exceeds the tolerance {c.tolerance:.3g} "
                         f"by {worst - c.tolerance:.3g} ({ratio:.3g}×). " + errors)
