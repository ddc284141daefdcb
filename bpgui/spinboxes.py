"""Spin boxes whose range is the setting's own (bpcore.config.LIMITS), shared by the toolbar, the data panel and
the inspector."""

from __future__ import annotations

import math
import re

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QWidget

from bpcore.config import LIMITS

_PARTIAL_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d*)?([eE][+-]?\d*)?")
MAX_SEED_SHOWN = min(int(LIMITS["training.seed"].hi), 2**31 - 1)  # QSpinBox holds a 32-bit int


class NumberSpin(QDoubleSpinBox):
    """A spin box for a number spanning decades (μ, λ) in the range LIMITS gives its key: shows 0.3, 1e-05 or
    2e+03 and takes typed e-notation, so every value a file or the CLI may hold is shown as it is."""

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        limit = LIMITS[key]
        self.setDecimals(12)  # the value is kept to 1e-12: below the smallest μ (1e-10) a spin box may hold
        self.setRange(limit.lo, limit.hi)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            return self.value()
        return value if math.isfinite(value) else self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        t = text.strip()
        if not _PARTIAL_NUMBER.fullmatch(t):
            return QValidator.State.Invalid, text, pos
        try:
            value = float(t)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        ok = math.isfinite(value) and self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos
