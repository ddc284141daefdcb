"""One quantity of one layer: its labelled symbol, a small chart with hover read-out beside a numeric table."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSpacerItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from bpgui.inspector._style import describe, rich
from bpgui.inspector.plot import QuantityPlot
from bpgui.inspector.quantities import Quantity
from bpgui.inspector.table import CELL_HEIGHT, ArrayModel, cell_width, make_table

MAX_VISIBLE_ROWS = 8  # taller arrays scroll inside their table
MAX_VISIBLE_COLS = 6
CHART_WIDTH = 72
MIN_CHART_HEIGHT = 2 * CELL_HEIGHT + 4
MIN_TITLE_WIDTH = 300  # a title wraps at the chart + table width, or at this for narrow tables
_SCROLLBAR = 16


class QuantityCard(QFrame):
    """Title (symbol and equation) over a chart and a table of one quantity; a hint until revealed."""

    def __init__(self, layer: int, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        name = f"card_{key}_{layer}"
        describe(self, name, f"layer {layer} {key}", f"Layer {layer}: {key}")
        self.setStyleSheet(f"QFrame#{name} {{ background: white; border: 1px solid #c4c4c4; border-radius: 4px; }}")
        self._symbol = ""
        self._title = QLabel()
        describe(self._title, f"title_{key}_{layer}", f"layer {layer} {key} symbol", "Symbol and equation")
        self._title.setTextFormat(Qt.TextFormat.RichText)
        self._title.setStyleSheet("font-size: 10.5pt; font-weight: 600; color: #1a1a1a;")
        self._title.setWordWrap(True)  # titles carry their convention ("includes 1/B"): they wrap to the card
        self._title.setMaximumWidth(MIN_TITLE_WIDTH)
        self._readout = QLabel("")
        describe(self._readout, f"readout_{key}_{layer}", f"layer {layer} {key} hover value",
                 "The value under the mouse in the chart")
        self._readout.setStyleSheet("font-size: 8.5pt; color: #505050;")
        self.plot = QuantityPlot(f"chart_{key}_{layer}")
        self.plot.setFixedWidth(CHART_WIDTH)
        self.plot.hovered.connect(self._show_readout)
        self.model = ArrayModel(self)
        self.table: QTableView = make_table(
            self.model, f"table_{key}_{layer}", f"layer {layer} {key} values",
            "Exact values (%.6g). Row b: the bias row of W / the appended 1 of h (eq. 11); #n: data row n.",
        )
        self._hint = QLabel()
        describe(self._hint, f"hint_{key}_{layer}", f"layer {layer} {key} hint", "Press the button named here")
        self._hint.setStyleSheet("color: #8a8a8a; font-style: italic;")
        top = QHBoxLayout()
        top.setSpacing(6)
        top.addWidget(self._title, 1)
        top.addWidget(self._readout, 0, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight)
        self._chart_offset = QSpacerItem(0, 0, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
        chart = QVBoxLayout()
        chart.setSpacing(0)
        chart.addItem(self._chart_offset)
        chart.addWidget(self.plot)
        chart.addStretch(1)
        body = QHBoxLayout()
        body.setSpacing(4)
        body.addLayout(chart)
        body.addWidget(self.table, 0, Qt.AlignmentFlag.AlignTop)
        body.addWidget(self._hint)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 5)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addLayout(body)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Maximum)
        self.show_hint("")

    def set_symbol(self, symbol: str) -> None:
        """The title: symbol, definition and equation number (plain text, shown with sub/superscripts)."""
        if symbol != self._symbol:
            self._symbol = symbol
            self._title.setText(rich(symbol))
            # a wrapping label asks for little width: short titles keep one line, long ones wrap at MIN_TITLE_WIDTH
            plain = self._title.fontMetrics().horizontalAdvance(symbol) + 8
            self._title.setMinimumWidth(min(plain, MIN_TITLE_WIDTH))
            self.setAccessibleDescription(symbol)

    def symbol(self) -> str:
        """The plain-text title."""
        return self._symbol

    def show_quantity(self, q: Quantity) -> None:
        """Draw and tabulate q.display."""
        self.set_symbol(q.symbol)
        self.model.set_array(q.display, q.row_labels, q.col_labels)
        self.plot.set_array(q.display, q.row_labels, q.col_labels)
        self._fit(q.row_labels, q.display.shape[1])
        self._hint.hide()
        self.plot.show()
        self.table.show()
        self._show_readout("")

    def show_hint(self, text: str) -> None:
        """Hide the numbers and say which button reveals them."""
        self.model.set_array([[]], (), ())
        self.plot.clear_array()
        self.plot.hide()
        self.table.hide()
        self._show_readout("")
        self._hint.setText(text)
        self._hint.setVisible(bool(text))

    def revealed(self) -> bool:
        """Whether numbers are shown."""
        return not self.table.isHidden()

    def readout(self) -> str:
        """The hover read-out ('row, column: value'), '' when nothing is hovered."""
        return self._readout.text()

    def _show_readout(self, text: str) -> None:
        self._readout.setText(text)
        self._readout.setVisible(bool(text))

    def _fit(self, row_labels: Sequence[str], cols: int) -> None:
        """Size the table to its content (up to MAX_VISIBLE_* cells, then it scrolls) and the chart beside it."""
        rows = len(row_labels)
        fm = self.table.fontMetrics()
        header = max((fm.horizontalAdvance(s) for s in row_labels), default=10) + 14
        self.table.verticalHeader().setFixedWidth(header)
        frame = 2 * self.table.frameWidth()
        vis_r, vis_c = min(rows, MAX_VISIBLE_ROWS), min(cols, MAX_VISIBLE_COLS)
        w = header + vis_c * cell_width(self.table) + frame + (_SCROLLBAR if rows > vis_r else 0)
        h = CELL_HEIGHT * (vis_r + 1) + frame + (_SCROLLBAR if cols > vis_c else 0)
        self.table.setFixedSize(w, h)
        self._title.setMaximumWidth(max(MIN_TITLE_WIDTH, w + CHART_WIDTH + 4))
        if rows == 1:  # bars of a row vector: as tall as the whole table
            offset, chart_h = 0, max(h, MIN_CHART_HEIGHT)
        else:  # chart rows level with the table rows, below its header
            offset, chart_h = CELL_HEIGHT + frame // 2, CELL_HEIGHT * vis_r
        self._chart_offset.changeSize(0, offset, QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
        self.plot.setFixedHeight(chart_h)
        self.layout().invalidate()
