"""A small chart of one quantity: bars for a single vector, a diverging heatmap for a matrix or a batch.

The bar item, the image item and the zero line are created once and updated in place (setOpts/setImage).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtWidgets import QWidget

from bpgui.inspector._style import describe
from bpgui.inspector.table import fmt
from bpgui.views import palette


def _peak(a: np.ndarray) -> float:
    finite = np.abs(a[np.isfinite(a)])
    return float(finite.max()) if finite.size and finite.max() > 0 else 1.0


class QuantityPlot(pg.PlotWidget):
    """Bars (one row or one column) or a heatmap (anything wider), with a hover read-out signal."""

    hovered = Signal(str)  # "row, column: value" of the bar or cell under the mouse

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent, background=palette.BACKGROUND)
        describe(self, name, "quantity chart",
                 "Red = positive, blue = negative; bar length or colour strength = size. Hover to read a value.")
        item = self.getPlotItem()
        item.hideButtons()
        item.setMenuEnabled(False)
        item.hideAxis("left")
        item.hideAxis("bottom")
        item.setContentsMargins(1, 1, 1, 1)
        self.setMouseEnabled(x=False, y=False)
        self._image = pg.ImageItem(axisOrder="row-major")
        self._image.setColorMap(palette.colormap(palette.DIVERGING_MAP))
        self._bars = pg.BarGraphItem(x=[], height=[], width=0.8)
        self._zero = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(palette.FOREGROUND, width=1))
        for it in (self._image, self._bars, self._zero):
            item.addItem(it)
        self._a = np.zeros((0, 0))
        self._rows: tuple[str, ...] = ()
        self._cols: tuple[str, ...] = ()
        self._mode = "empty"
        self.scene().sigMouseMoved.connect(self._on_mouse_moved)

    def mode(self) -> str:
        """'row-bars', 'column-bars', 'heatmap' or 'empty'."""
        return self._mode

    def set_array(self, a: np.ndarray, row_labels: Sequence[str], col_labels: Sequence[str]) -> None:
        """Draw `a` (rows × cols): a single row or column as bars, otherwise as a heatmap centred on 0."""
        self._a = a = np.asarray(a, dtype=float)
        self._rows, self._cols = tuple(row_labels), tuple(col_labels)
        rows, cols = a.shape
        peak = _peak(a)
        item = self.getPlotItem()
        if rows == 1 or cols == 1:
            v = a.ravel()
            n = len(v)
            brushes = [pg.mkBrush(*(palette.POSITIVE if x > 0 else palette.NEGATIVE)) for x in v]
            lo, hi = min(0.0, float(np.nanmin(v))), max(0.0, float(np.nanmax(v)))
            lo, hi = (lo, hi) if hi > lo else (-1.0, 1.0)
            span = (lo - 0.08 * (hi - lo), hi + 0.08 * (hi - lo))
            idx = np.arange(n, dtype=float)
            if rows == 1:  # a row vector: vertical bars, j to the right
                self._mode = "row-bars"
                self._bars.setOpts(x=idx, x0=None, x1=None, width=0.8, y=None, y0=np.minimum(v, 0), y1=None,
                                   height=np.abs(v), brushes=brushes, pen=None)
                self._zero.setAngle(0)
                item.invertY(False)
                item.setRange(xRange=(-0.5, n - 0.5), yRange=span, padding=0)
            else:  # a column vector: horizontal bars, i downwards like the table
                self._mode = "column-bars"
                self._bars.setOpts(x=None, x0=np.minimum(v, 0), x1=None, width=np.abs(v), y=idx, y0=None, y1=None,
                                   height=0.8, brushes=brushes, pen=None)
                self._zero.setAngle(90)
                item.invertY(True)
                item.setRange(xRange=span, yRange=(-0.5, n - 0.5), padding=0)
            self._image.setVisible(False)
            self._bars.setVisible(True)
            self._zero.setVisible(True)
        else:
            self._mode = "heatmap"
            self._image.setImage(a, autoLevels=False, levels=(-peak, peak))
            self._image.setRect(QRectF(-0.5, -0.5, cols, rows))
            self._image.setVisible(True)
            self._bars.setVisible(False)
            self._zero.setVisible(False)
            item.invertY(True)
            item.setRange(xRange=(-0.5, cols - 0.5), yRange=(-0.5, rows - 0.5), padding=0)

    def clear_array(self) -> None:
        """Draw nothing."""
        self._a = np.zeros((0, 0))
        self._mode = "empty"
        for it in (self._image, self._bars, self._zero):
            it.setVisible(False)

    def readout(self, r: int, c: int) -> str:
        """The hover text of cell (r, c)."""
        return f"{self._rows[r]}, {self._cols[c]}: {fmt(self._a[r, c])}"

    def _on_mouse_moved(self, pos: QPointF) -> None:
        vb = self.getPlotItem().vb
        if self._mode == "empty" or not vb.sceneBoundingRect().contains(pos):
            return
        p = vb.mapSceneToView(pos)
        rows, cols = self._a.shape
        if self._mode == "row-bars":
            r, c = 0, round(p.x())
        elif self._mode == "column-bars":
            r, c = round(p.y()), 0
        else:
            r, c = round(p.y()), round(p.x())
        if 0 <= r < rows and 0 <= c < cols:
            self.hovered.emit(self.readout(r, c))
