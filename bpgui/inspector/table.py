"""A read-only table of one numpy array: values as %.6g, cells tinted by sign and size like the heatmaps."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from bpgui.inspector._style import describe
from bpgui.views import palette

VALUE_ROLE = Qt.ItemDataRole.UserRole  # data(index, VALUE_ROLE) is the float behind the text
CELL_HEIGHT = 22
FONT_POINTS = 9.5
WIDEST = "-8.88888e-88"  # the widest %.6g text
_TINT = 0.42  # strongest tint (at ±max|value|), so black text stays readable


def fmt(v: float) -> str:
    """The table's number format (%.6g; a zero is "0", never "−0")."""
    return "0" if v == 0 else f"{v:.6g}"


def _tint(rgb: tuple[int, int, int], t: float) -> QColor:
    a = min(1.0, abs(t)) * _TINT
    return QColor(*(round(255 + (c - 255) * a) for c in rgb))


_Index = QModelIndex | QPersistentModelIndex


class ArrayModel(QAbstractTableModel):
    """A 2-D float array with row and column labels."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._a = np.zeros((0, 0))
        self._rows: tuple[str, ...] = ()
        self._cols: tuple[str, ...] = ()
        self._peak = 1.0

    def set_array(self, a: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str]) -> None:
        """Show `a` (rows × cols); one reset, views repaint lazily."""
        self.beginResetModel()
        self._a = np.asarray(a, dtype=float)
        self._rows, self._cols = tuple(row_labels), tuple(col_labels)
        finite = np.abs(self._a[np.isfinite(self._a)])
        self._peak = float(finite.max()) if finite.size and finite.max() > 0 else 1.0
        self.endResetModel()

    def array(self) -> np.ndarray:
        """The array shown."""
        return self._a

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 (Qt's signature)
        return 0 if parent.isValid() else self._a.shape[0]

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self._a.ndim < 2 else self._a.shape[1]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        v = float(self._a[index.row(), index.column()])
        if role == Qt.ItemDataRole.DisplayRole:
            return fmt(v)
        if role == VALUE_ROLE:
            return v
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"row {self._rows[index.row()]}, column {self._cols[index.column()]}: {v!r}"
        if role == Qt.ItemDataRole.BackgroundRole and np.isfinite(v):
            return QBrush(_tint(palette.POSITIVE if v > 0 else palette.NEGATIVE, v / self._peak))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        labels = self._cols if orientation == Qt.Orientation.Horizontal else self._rows
        return labels[section] if 0 <= section < len(labels) else None


def cell_width(view: QTableView) -> int:
    """Column width that fits any %.6g number in the view's font."""
    return view.fontMetrics().horizontalAdvance(WIDEST) + 12


def make_table(model: ArrayModel, object_name: str, accessible_name: str, tooltip: str) -> QTableView:
    """A compact, read-only QTableView on `model` with fixed cell sizes (cheap for large arrays)."""
    view = QTableView()
    describe(view, object_name, accessible_name, tooltip)
    view.setModel(model)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    font = QFont(view.font())
    font.setPointSizeF(FONT_POINTS)
    view.setFont(font)
    for header, size in ((view.horizontalHeader(), cell_width(view)), (view.verticalHeader(), CELL_HEIGHT)):
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setDefaultSectionSize(size)
        header.setMinimumSectionSize(10)
        header.setFont(font)
    view.verticalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
    view.horizontalHeader().setFixedHeight(CELL_HEIGHT)
    return view
