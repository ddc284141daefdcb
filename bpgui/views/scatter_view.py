"""The data set as a 2-D scatter: classes (or target values) as colours, test samples hollow, clickable."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from bpgui.views import _style, palette

POINT_SIZE = 8


@cache
def brush(r: int, g: int, b: int, a: int = 255) -> pg.QtGui.QBrush:
    """A shared QBrush per colour: pyqtgraph's symbol atlas keys on the object, so reuse keeps it small."""
    return pg.mkBrush(r, g, b, a)


@cache
def pen(r: int, g: int, b: int, a: int = 255, width: float = 1.0) -> pg.QtGui.QPen:
    """A shared QPen per colour and width (see ``brush``)."""
    return pg.mkPen(r, g, b, a, width=width)


HOLLOW = (255, 255, 255, 90)
OUTLINE = (40, 40, 40, 200)


def point_brushes_and_pens(
    labels: np.ndarray | None, is_test: np.ndarray, colours: Sequence[tuple[int, int, int]]
) -> tuple[list[pg.QtGui.QBrush], list[pg.QtGui.QPen]]:
    """Per-point brush and pen: train filled in its class colour, test hollow with a class-coloured ring."""
    fills = [brush(*c, 230) for c in colours]
    rings = [pen(*c, 255, width=2) for c in colours]
    hollow, outline = brush(*HOLLOW), pen(*OUTLINE, width=0.8)
    idx = np.zeros(len(is_test), dtype=int) if labels is None else np.asarray(labels, dtype=int)
    idx = np.clip(idx, 0, len(colours) - 1)
    brushes = [hollow if t else fills[c] for c, t in zip(idx, is_test, strict=True)]
    pens = [rings[c] if t else outline for c, t in zip(idx, is_test, strict=True)]
    return brushes, pens


class DataScatter(QWidget):
    """Scatter of a 2-D data set; emits ``sampleClicked(row)`` when a point is clicked."""

    sampleClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _style.describe(
            self,
            "dataScatter",
            "data set scatter plot",
            "Each point is one sample: filled = training set, hollow = test set.\nClick a point to select that sample.",
        )
        self._pw = _style.plot_widget()
        self._plot = self._pw.getPlotItem()
        _style.style_plot(self._plot, grid=True)
        self._plot.setLabel("bottom", "x₁")
        self._plot.setLabel("left", "x₂")
        self._legend = self._plot.addLegend(
            offset=(-8, 8), labelTextColor=palette.FOREGROUND, brush=pg.mkBrush(255, 255, 255, 210)
        )
        self._points = pg.ScatterPlotItem(size=POINT_SIZE, hoverable=True, tip=self._tip)
        self._points.sigClicked.connect(self._on_clicked)
        self._plot.addItem(self._points)
        self._marker = pg.ScatterPlotItem(
            size=POINT_SIZE + 10, symbol="o", brush=None, pen=pg.mkPen(palette.FOREGROUND, width=2.5)
        )
        self._marker.setZValue(10)
        self._plot.addItem(self._marker)
        self._legend_samples: list[pg.ScatterPlotItem] = []
        self._legend_key: tuple = ()
        self._x = np.zeros((0, 2))
        self._labels: np.ndarray | None = None
        self._names: list[str] | None = None
        self._highlighted: int | None = None

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._pw)

    # public API ------------------------------------------------------------------------------------------
    def set_data(
        self,
        x2: np.ndarray,
        labels: np.ndarray,
        class_names: Sequence[str] | None = None,
        is_test: np.ndarray | None = None,
    ) -> None:
        """Show samples (N, 2); integer labels with class_names colour classes, float labels colour values."""
        x = np.asarray(x2, dtype=float)
        y = np.asarray(labels)
        if x.ndim != 2 or x.shape[1] != 2 or y.shape != (x.shape[0],):
            raise ValueError(f"need X (N, 2) and labels (N,), got {x.shape} and {y.shape}")
        test = np.zeros(len(x), dtype=bool) if is_test is None else np.asarray(is_test, dtype=bool)
        self._x, self._labels = x, y
        classification = class_names is not None or np.issubdtype(y.dtype, np.integer)
        if classification:
            k = len(class_names) if class_names is not None else int(y.max(initial=0)) + 1
            self._names = list(class_names) if class_names is not None else [f"class {c}" for c in range(k)]
            brushes, pens = point_brushes_and_pens(y, test, palette.class_colours(k))
        else:
            self._names = None
            brushes, pens = self._value_brushes(y.astype(float), test)
        self._points.setData(pos=x, data=np.arange(len(x)), brush=brushes, pen=pens, symbol="o")
        self._sync_legend(test.any())
        self.highlight(self._highlighted if self._highlighted is not None and self._highlighted < len(x) else None)

    def highlight(self, index: int | None) -> None:
        """Ring sample ``index`` (a row of the data), or remove the ring with None."""
        self._highlighted = index
        if index is None:
            self._marker.setData([], [])
        else:
            self._marker.setData(pos=self._x[index : index + 1])

    def highlighted(self) -> int | None:
        """The ringed row, or None."""
        return self._highlighted

    def points_item(self) -> pg.ScatterPlotItem:
        """The scatter item holding the samples (its point i is data row i)."""
        return self._points

    def clear(self) -> None:
        """Show nothing."""
        self._x, self._labels = np.zeros((0, 2)), None
        self._points.clear()
        self.highlight(None)

    # private ---------------------------------------------------------------------------------------------
    def _on_clicked(self, _item: pg.ScatterPlotItem, points: Sequence, _ev: object) -> None:
        if len(points):
            row = int(points[0].index())
            self.highlight(row)
            self.sampleClicked.emit(row)

    def _tip(self, x: float, y: float, data: object) -> str:
        label = "" if self._labels is None else self._labels[int(data)]
        if self._names is not None and 0 <= int(label) < len(self._names):
            label = self._names[int(label)]
        return f"sample {int(data)}: ({x:.3g}, {y:.3g})  {label}"

    def _value_brushes(self, values: np.ndarray, test: np.ndarray) -> tuple[list, list]:
        lo, hi = np.nanmin(values, initial=0.0), np.nanmax(values, initial=1.0)
        t = (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)
        lut = palette.colormap(palette.VALUE_MAP).getLookupTable(nPts=256, mode="byte", alpha=False)
        rgb = [tuple(int(v) for v in lut[i]) for i in np.round(np.nan_to_num(t) * 255).astype(int)]
        outline, hollow = pen(*OUTLINE, width=0.8), brush(*HOLLOW)
        brushes = [hollow if s else brush(*c) for c, s in zip(rgb, test, strict=True)]
        pens = [pen(*c, width=2) if s else outline for c, s in zip(rgb, test, strict=True)]
        return brushes, pens

    def _sync_legend(self, has_test: bool) -> None:
        key = (tuple(self._names or ()), has_test)
        if key == self._legend_key:
            return
        self._legend.clear()
        self._legend_samples = []
        entries: list[tuple[str, pg.QtGui.QBrush, pg.QtGui.QPen]] = []
        if self._names is not None:
            for name, c in zip(self._names, palette.class_colours(len(self._names)), strict=True):
                entries.append((name, pg.mkBrush(*c), pg.mkPen(40, 40, 40, 200)))
        else:
            entries.append(("colour = target value", pg.mkBrush(*palette.TRAIN), pg.mkPen(40, 40, 40)))
        if has_test:
            entries.append(("test (hollow)", pg.mkBrush(255, 255, 255, 90), pg.mkPen(palette.FOREGROUND, width=2)))
        for name, brush, pen in entries:
            sample = pg.ScatterPlotItem(size=POINT_SIZE, brush=brush, pen=pen, symbol="o")
            self._legend_samples.append(sample)
            self._legend.addItem(sample, name)
        self._legend_key = key
