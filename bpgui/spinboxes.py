"""Spin boxes whose range is the setting's own (bpcore.config.LIMITS), shared by the toolbar, the training panel,
the data panel and the inspector."""

from __future__ import annotations

import math
import re

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QSpinBox, QWidget

from bpcore.config import LIMITS

_PARTIAL_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d*)?([eE][+-]?\d*)?")
MAX_SEED_SHOWN = min(int(LIMITS["training.seed"].hi), 2**31 - 1)  # QSpinBox holds a 32-bit int
_DECIMALS = 12  # the value is kept to 1e-12: below the smallest μ (1e-10) a spin box may hold
_OPEN_GAP = 10.0**-_DECIMALS  # an open end of a range: the nearest value the spin box can hold inside it


def _special(text: str, special: str | None) -> QValidator.State | None:
    """How far `text` is on its way to a special word ('off', 'no limit'), or None when it is not."""
    t = text.strip().lower()
    if not special or not t:
        return None
    if t == special:
        return QValidator.State.Acceptable
    return QValidator.State.Intermediate if special.startswith(t) else None


class NumberSpin(QDoubleSpinBox):
    """A spin box for a number spanning decades (μ, λ) in the range LIMITS gives its key: shows 0.3, 1e-05 or
    2e+03 and takes typed e-notation, so every value a file or the CLI may hold is shown as it is.

    `off`: the setting may be unset (a stopping criterion, clipping): 0 stands for unset and shows as that word
    (the range must start at 0, open or closed); `optional_value` gives None there."""

    def __init__(self, key: str, parent: QWidget | None = None, *, off: str | None = None) -> None:
        super().__init__(parent)
        self._off = off  # before any setter: Qt calls validate() and textFromValue() from them
        limit = LIMITS[key]
        self.setDecimals(_DECIMALS)
        lo = limit.lo + (_OPEN_GAP if limit.lo_open and not off else 0.0)
        hi = limit.hi - (_OPEN_GAP if limit.hi_open else 0.0)
        if off is not None:
            if limit.lo != 0:
                raise ValueError(f"{key}: an 'off' value needs a range from 0, not {limit}")
            self.setSpecialValueText(off)
        self.setRange(lo, hi)

    def optional_value(self) -> float | None:
        """The value, or None when the spin box shows its 'off' word."""
        return None if self._off is not None and self.value() == self.minimum() else self.value()

    def set_optional_value(self, value: float | None) -> None:
        """Show a value, or the 'off' word for None."""
        self.setValue(self.minimum() if value is None else value)

    def textFromValue(self, value: float) -> str:
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:
        if _special(text, self._off) is QValidator.State.Acceptable:
            return self.minimum()
        try:
            value = float(text.strip())
        except ValueError:
            return self.value()
        return value if math.isfinite(value) else self.value()

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        special = _special(text, self._off)
        if special is not None:
            return special, text, pos
        t = text.strip()
        if not _PARTIAL_NUMBER.fullmatch(t):
            return QValidator.State.Invalid, text, pos
        try:
            value = float(t)
        except ValueError:
            return QValidator.State.Intermediate, text, pos
        ok = math.isfinite(value) and self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos


class CountSpin(QSpinBox):
    """An integer setting (epochs, patience, step size) in the range LIMITS gives its key (up to 2³¹ − 1, what a
    QSpinBox holds).

    `off`: the setting may be unset; one below the range stands for it and shows as that word
    (`optional_value` gives None there). `unlimited`: the top of the range shows as that word ('no limit')."""

    def __init__(self, key: str, parent: QWidget | None = None, *, off: str | None = None,
                 unlimited: str | None = None) -> None:
        super().__init__(parent)
        self._off, self._unlimited = off, unlimited  # before any setter: Qt calls the overrides from them
        limit = LIMITS[key]
        lo, hi = int(limit.lo), min(int(limit.hi), 2**31 - 1)
        self.setRange(lo - 1 if off else lo, hi)
        if off:
            self.setSpecialValueText(off)

    def optional_value(self) -> int | None:
        """The value, or None when the spin box shows its 'off' word."""
        return None if self._off and self.value() == self.minimum() else self.value()

    def set_optional_value(self, value: int | None) -> None:
        """Show a value, or the 'off' word for None."""
        self.setValue(self.minimum() if value is None else value)

    def textFromValue(self, value: int) -> str:
        if self._unlimited and value == self.maximum():
            return self._unlimited
        return str(value)

    def valueFromText(self, text: str) -> int:
        if _special(text, self._unlimited) is QValidator.State.Acceptable:
            return self.maximum()
        if _special(text, self._off) is QValidator.State.Acceptable:
            return self.minimum()
        return super().valueFromText(text)

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        for word in (self._unlimited, self._off):
            special = _special(text, word)
            if special is not None:
                return special, text, pos
        return super().validate(text, pos)
