"""Stopping criteria as progress rows (epochs, time, loss goal, minimum gradient, validation patience): each
row names the criterion with its unit and shows value / limit, 'no limit' for an unlimited epoch count and
'off' for a criterion without a limit (its limits are set in the toolbar and Training…)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from bpcore.config import MAX_EPOCHS
from bpgui.views import _style

_STEPS = 1000
_MET_STYLE = "QProgressBar::chunk { background-color: #009E73; }"
_RUN_STYLE = "QProgressBar::chunk { background-color: #0072B2; }"
_OFF_STYLE = "color: #777777;"
#: The unit of each criterion's value and limit (bpcore.train.stopping's names); J and ‖∇W J‖ have none.
UNITS = {"time": "s", "validation patience": "epochs"}


def progress_fraction(value: float, limit: float | None, start: float | None) -> tuple[float, bool]:
    """Progress in [0, 1] towards ``limit`` and whether it is log-scaled.

    A criterion that falls towards a positive limit (loss goal, minimum gradient: it started above the
    limit) is measured on a log scale from its first value ``start``; one that rises (epochs, time,
    validation failures) is value / limit.
    """
    if limit is None or not math.isfinite(value):
        return 0.0, False
    if start is not None and start > limit > 0:
        if value <= limit:
            return 1.0, True
        return min(1.0, max(0.0, math.log(start / value) / math.log(start / limit))), True
    if limit <= 0:
        return (1.0 if value <= limit else 0.0), False
    return min(1.0, max(0.0, value / limit)), False


def _fmt(v: float) -> str:
    if not math.isfinite(v):
        return "–"
    return f"{v:.0f}" if float(v).is_integer() and abs(v) < 1e10 else f"{v:.3g}"  # counts in full


class _Row:
    def __init__(self, grid: QGridLayout, row: int) -> None:
        self.name = QLabel()
        self.name.setWordWrap(True)  # "validation patience (epochs) · off" may take two lines in a narrow dock
        self.bar = QProgressBar()
        self.bar.setRange(0, _STEPS)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(14)
        self.text = QLabel()
        self.text.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.text.setMinimumWidth(110)
        self.met: bool | None = None
        self.off: bool | None = None
        for col, w in enumerate((self.name, self.bar, self.text)):
            grid.addWidget(w, row, col)

    def widgets(self) -> tuple[QWidget, ...]:
        return (self.name, self.bar, self.text)


class CriteriaPanel(QWidget):
    """One row per stopping criterion: name, progress bar (log-scaled for falling goals), value / limit."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _style.describe(
            self,
            "criteriaPanel",
            "stopping criteria",
            "Progress towards each stopping criterion. Falling goals (loss, gradient) use a log scale\n"
            "from their first value; a green bar means the criterion is met and training stops.",
        )
        self._grid = QGridLayout()
        self._grid.setColumnStretch(1, 1)
        self._grid.setHorizontalSpacing(10)
        self._rows: list[_Row] = []
        self._names: list[str] = []
        self._start: dict[str, float] = {}
        outer = QVBoxLayout(self)
        outer.addLayout(self._grid)
        outer.addStretch(1)

    # public API ------------------------------------------------------------------------------------------
    def set_criteria(self, criteria: Sequence[tuple[str, float, float | None, bool]]) -> None:
        """Update rows from (name, value, limit or None, met); rows are reused while the names stay."""
        names = [c[0] for c in criteria]
        if names != self._names:
            self._rebuild(len(criteria))
            self._names = names
            self._start = {}
        for row, (name, value, limit, met) in zip(self._rows, criteria, strict=True):
            value = float(value)
            if name not in self._start and math.isfinite(value):
                self._start[name] = value
            unlimited = name == "epochs" and limit is not None and limit >= MAX_EPOCHS  # the window's default
            off = limit is None or unlimited
            frac, log = progress_fraction(value, None if off else limit, self._start.get(name))
            frac = 1.0 if met else frac
            row.bar.setValue(round(frac * _STEPS))
            row.bar.setVisible(not off)  # nothing to progress towards
            unit = f" ({UNITS[name]})" if name in UNITS else ""
            row.name.setText(f"✔ {name}{unit}" if met else f"{name}{unit}" + (" · off" if limit is None else ""))
            if (limit is None) != row.off:  # a style sheet re-polishes the label: only when it changes
                row.name.setStyleSheet(_OFF_STYLE if limit is None else "")
                row.off = limit is None
            shown_limit = "no limit" if unlimited else None if limit is None else _fmt(float(limit))
            row.text.setText(_fmt(value) if shown_limit is None else f"{_fmt(value)} / {shown_limit}")
            row.bar.setToolTip(f"{name}: {100 * frac:.0f} % of the way" + (" (log scale)" if log else ""))
            if met != row.met:
                row.bar.setStyleSheet(_MET_STYLE if met else _RUN_STYLE)
                font = row.name.font()
                font.setBold(bool(met))
                row.name.setFont(font)
                row.met = bool(met)

    def reset(self) -> None:
        """Forget the first values (log-scale starting points), e.g. when a new run starts."""
        self._start = {}

    def rows(self) -> list[tuple[str, int, str, bool]]:
        """(name text, bar value 0-1000, value text, met) per row, for inspection."""
        return [(r.name.text(), r.bar.value(), r.text.text(), bool(r.met)) for r in self._rows]

    def clear(self) -> None:
        """Remove all rows."""
        self._rebuild(0)
        self._names, self._start = [], {}

    # private ---------------------------------------------------------------------------------------------
    def _rebuild(self, n: int) -> None:
        while len(self._rows) > n:
            for w in self._rows.pop().widgets():
                self._grid.removeWidget(w)
                w.deleteLater()
        while len(self._rows) < n:
            self._rows.append(_Row(self._grid, len(self._rows)))
        for row in self._rows:
            row.met = row.off = None
