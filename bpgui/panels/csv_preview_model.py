"""A read-only table model over the first rows of a CSV file (text cells as preview_csv returns them)."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

_TARGET_BACKGROUND = QColor("#FFF2CC")  # a pale amber tint marks the target column

_Index = QModelIndex | QPersistentModelIndex


class CsvPreviewModel(QAbstractTableModel):
    """Header names and rows of text cells; the target column is tinted and its header is bold."""

    def __init__(self, header: list[str], rows: list[list[str]], parent=None) -> None:
        super().__init__(parent)
        self._header = list(header)
        self._rows = [list(r) for r in rows]
        self._target = len(self._header) - 1

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's default argument
        """Number of preview rows."""
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        """Number of columns of the header."""
        return 0 if parent.isValid() else len(self._header)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        """The cell text (a ragged row shows its missing cells empty), tint and alignment."""
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            row = self._rows[r]
            return row[c] if c < len(row) else ""
        if role == Qt.ItemDataRole.BackgroundRole and c == self._target:
            return QBrush(_TARGET_BACKGROUND)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        """Column names across the top (the target bold, marked 'target'); data rows numbered down the side."""
        horizontal = orientation == Qt.Orientation.Horizontal
        if role == Qt.ItemDataRole.DisplayRole:
            if horizontal:
                name = self._header[section]
                return f"{name}\n(to predict)" if section == self._target else f"{name}\n"
            return str(section + 1)
        if role == Qt.ItemDataRole.ToolTipRole and not horizontal:
            return f"data row {section + 1} (the header is not counted)"
        if role == Qt.ItemDataRole.FontRole and horizontal and section == self._target:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole and horizontal:
            return f"column {section + 1}: {self._header[section]!r} — click to make it the target"
        return None

    def target(self) -> int:
        """0-based index of the highlighted target column."""
        return self._target

    def set_target(self, column: int) -> None:
        """Highlight ``column`` as the target."""
        if column == self._target or not 0 <= column < len(self._header):
            return
        old, self._target = self._target, column
        last = max(len(self._rows) - 1, 0)
        for c in (old, column):
            self.dataChanged.emit(self.index(0, c), self.index(last, c))
            self.headerDataChanged.emit(Qt.Orientation.Horizontal, c, c)
