"""What the network predicts over the input plane: a class field (or a fitted curve) under the data."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from bpgui.views import _style, colour_image, palette
from bpgui.views.scatter_view import HOLLOW, OUTLINE, POINT_SIZE, brush, pen, point_brushes_and_pens

_TINT = 0.45  # share of the class colour in the field; the rest is white so points stay readable


class DecisionView(QWidget):
    """Classification: predicted-class field under the samples. Regression: the predicted value over the plane
    (a colour map with its colour bar) or the fitted curve over the samples. A click on a sample emits
    ``sampleClicked(row)`` with its row in the data set (set_rows maps the points drawn to those rows)."""

    sampleClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _style.describe(
            self,
            "decisionView",
            "decision regions",
            "Background: the class the network predicts at each point of the input plane (regression: the\n"
            "predicted value, read on the colour bar, or the fitted curve). Filled points: training set,\n"
            "hollow: test set.",
        )
        self._pw = _style.plot_widget()
        self._plot = self._pw.getPlotItem()
        self._plot.setLabel("bottom", "x₁")
        self._plot.setLabel("left", "x₂")
        self._field = colour_image.ArgbImage()  # coloured once per set_field / set_probabilities
        self._field.setZValue(-10)
        self._plot.addItem(self._field)
        self._curve = pg.PlotDataItem(pen=pg.mkPen(palette.FOREGROUND, width=2.5))
        self._curve.setZValue(5)
        self._plot.addItem(self._curve)
        self._points = pg.ScatterPlotItem(size=POINT_SIZE, symbol="o")
        self._points.setZValue(10)
        self._points.sigClicked.connect(self._on_clicked)
        self._plot.addItem(self._points)
        self._rows: np.ndarray | None = None  # data-set row of each point drawn (None: point i is row i)
        # regression: the value scale of the field and the points (shown only while values are drawn)
        self._bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=palette.colormap(palette.VALUE_MAP),
                                    interactive=False, width=14)
        self._bar.setImageItem([], insert_in=self._plot)  # a scale only: the field is coloured here
        _style.style_plot(self._bar)
        _style.compact_ticks(self._bar.axis)
        self._plot.layout.removeItem(self._bar)
        self._bar.setVisible(False)
        self._value_table = colour_image.colour_table(palette.VALUE_MAP)
        self._colours: list[tuple[int, int, int]] = palette.class_colours(2)
        self._extent: tuple[float, float, float, float] | None = None
        self._drawn: tuple | None = None  # (kind, values, extent, colours) of the field on screen

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._pw)

    # public API ------------------------------------------------------------------------------------------
    def set_field(self, image: np.ndarray, extent: tuple[float, float, float, float]) -> None:
        """Draw the field: (ny, nx, 3) RGB in [0, 1], or (ny, nx) probability of class 1; row 0 is y0."""
        img = np.asarray(image, dtype=np.float32)
        if not (img.ndim == 2 or (img.ndim == 3 and img.shape[2] == 3)):
            raise ValueError(f"field must be (ny, nx) or (ny, nx, 3), got {img.shape}")
        if self._unchanged("field", img, extent):
            return
        if img.ndim == 2:
            c0, c1 = (np.asarray(c, dtype=np.float32) / 255 for c in self._colours[:2])
            p = np.clip(img, 0.0, 1.0)[..., None]
            img = self._tint((1 - p) * c0 + p * c1)
        self._show_rgb(img, extent)

    def set_probabilities(self, probabilities: np.ndarray, extent: tuple[float, float, float, float]) -> None:
        """Draw (ny, nx, K) class probabilities as a blend of the class colours."""
        p = np.asarray(probabilities, dtype=np.float32)
        if p.ndim != 3:
            raise ValueError(f"probabilities must be (ny, nx, K), got shape {p.shape}")
        if self._unchanged("probabilities", p, extent):
            return
        colours = np.asarray(palette.class_colours(p.shape[2]), dtype=np.float32) / 255
        self._show_rgb(self._tint(p @ colours), extent)

    def set_values(self, values: np.ndarray, extent: tuple[float, float, float, float],
                   levels: tuple[float, float]) -> None:
        """Regression: draw (ny, nx) predicted values through the value colour map with levels (low, high),
        the scale shown by the colour bar (set_value_scale); row 0 is y0."""
        v = np.asarray(values, dtype=np.float32)
        if v.ndim != 2:
            raise ValueError(f"values must be (ny, nx), got shape {v.shape}")
        if self._unchanged(("values", *map(float, levels)), v, extent):
            return
        pixels = colour_image.map_values(v, float(levels[0]), float(levels[1]), self._value_table)
        self._show_pixels(pixels, extent)

    def set_value_points(self, x2: np.ndarray, values: np.ndarray, is_test: np.ndarray | None,
                         levels: tuple[float, float]) -> None:
        """Regression: samples coloured by a value (their target, or the one predicted for them) through the value
        colour map (levels as the field's):
        train filled, test hollow with a ring of its colour."""
        x = np.asarray(x2, dtype=float)
        test = np.zeros(len(x), dtype=bool) if is_test is None else np.asarray(is_test, dtype=bool)
        lo, hi = float(levels[0]), float(levels[1])
        t = np.clip((np.asarray(values, dtype=float) - lo) / (hi - lo if hi > lo else 1.0), 0.0, 1.0)
        table = colour_image.unpack_rgb(self._value_table)
        rgb = [tuple(int(c) for c in table[i]) for i in np.round(np.nan_to_num(t) * 255).astype(int)]
        outline, hollow = pen(*OUTLINE, width=0.8), brush(*HOLLOW)
        brushes = [hollow if s else brush(*c) for c, s in zip(rgb, test, strict=True)]
        pens = [pen(*c, width=2) if s else outline for c, s in zip(rgb, test, strict=True)]
        self._points.setData(pos=x, brush=brushes, pen=pens)

    def set_value_scale(self, levels: tuple[float, float] | None, label: str = "") -> None:
        """Show the colour bar with levels (low, high) and a label naming the value, or hide it with None."""
        shown = self._bar.isVisible()
        if levels is None:
            if shown:
                self._plot.layout.removeItem(self._bar)
                self._bar.setVisible(False)
            return
        if not shown:
            self._plot.layout.addItem(self._bar, 2, 5)  # where ColorBarItem's insert_in puts it
            self._bar.setVisible(True)
        self._bar.setLevels((float(levels[0]), float(levels[1])))
        self._bar.axis.setLabel(label, color=palette.FOREGROUND)

    def value_scale(self) -> tuple[tuple[float, float], str] | None:
        """The colour bar's levels and label while it is shown, else None."""
        if not self._bar.isVisible():
            return None
        return tuple(float(v) for v in self._bar.levels()), self._bar.axis.labelText

    def set_axis_labels(self, bottom: str, left: str) -> None:
        """Name the axes (inputs, principal components, or the target of a fitted curve)."""
        self._plot.setLabel("bottom", bottom)
        self._plot.setLabel("left", left)

    def axis_labels(self) -> tuple[str, str]:
        """The (bottom, left) axis names."""
        return self._plot.getAxis("bottom").labelText, self._plot.getAxis("left").labelText

    def set_points(
        self,
        x2: np.ndarray,
        labels: np.ndarray | None,
        is_test: np.ndarray | None = None,
        class_colours: Sequence[tuple[int, int, int]] | None = None,
    ) -> None:
        """Samples on top: train filled, test hollow, coloured by class (labels None: one colour)."""
        x = np.asarray(x2, dtype=float)
        test = np.zeros(len(x), dtype=bool) if is_test is None else np.asarray(is_test, dtype=bool)
        if class_colours is None:
            k = 1 if labels is None else int(np.max(labels, initial=0)) + 1
            class_colours = palette.class_colours(max(k, 2))
        self._colours = list(class_colours)
        brushes, pens = point_brushes_and_pens(labels, test, self._colours)
        self._points.setData(pos=x, brush=brushes, pen=pens)

    def set_rows(self, rows: np.ndarray | None) -> None:
        """The data-set row of each point drawn (a projected view draws a subset); None: point i is row i."""
        self._rows = None if rows is None else np.asarray(rows, dtype=np.int64)

    def points_item(self) -> pg.ScatterPlotItem:
        """The scatter item holding the samples."""
        return self._points

    def _on_clicked(self, _item: pg.ScatterPlotItem, points: Sequence, _ev: object) -> None:
        if len(points):
            i = int(points[0].index())
            self.sampleClicked.emit(int(self._rows[i]) if self._rows is not None else i)

    def set_curve(self, x: np.ndarray, y_fit: np.ndarray) -> None:
        """Regression: draw the fitted curve (x sorted for you) and hide the class field."""
        xs = np.asarray(x, dtype=float)
        order = np.argsort(xs, kind="stable")
        self._curve.setData(xs[order], np.asarray(y_fit, dtype=float)[order])
        self._field.setVisible(False)
        self._drawn = None

    def set_extent(self, extent: tuple[float, float, float, float]) -> None:
        """Show exactly x0..x1, y0..y1 (a new data set's range: its samples and field, whatever was shown)."""
        x0, x1, y0, y1 = (float(v) for v in extent)
        self._plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        self._extent = (x0, x1, y0, y1)

    def view_range(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The (x0, x1), (y0, y1) on screen."""
        (x0, x1), (y0, y1) = self._plot.getViewBox().viewRange()
        return (float(x0), float(x1)), (float(y0), float(y1))

    def points(self) -> np.ndarray:
        """(N, 2) positions of the samples drawn."""
        x, y = self._points.getData()
        return np.column_stack([x, y]) if x is not None else np.zeros((0, 2))

    def plot_item(self) -> pg.PlotItem:
        """The PlotItem holding field, curve and points (for pyqtgraph exporters)."""
        return self._plot

    def field_rgb(self) -> np.ndarray | None:
        """The (ny, nx, 3) RGB (uint8) image currently drawn as the field, or None."""
        pixels = self._field.pixels()
        return colour_image.unpack_rgb(pixels) if pixels is not None and self._field.isVisible() else None

    def clear(self) -> None:
        """Show nothing."""
        self._field.clear()
        self._drawn = None
        self._curve.setData([], [])
        self._points.clear()

    # private ---------------------------------------------------------------------------------------------
    @staticmethod
    def _tint(rgb: np.ndarray) -> np.ndarray:
        return 1.0 - _TINT * (1.0 - rgb)

    def _unchanged(self, kind, values: np.ndarray, extent: tuple[float, float, float, float]) -> bool:
        """True when the field on screen was drawn from these very values (then nothing is redone);
        otherwise remember them (a copy: the caller may reuse its array)."""
        key = (kind, tuple(float(v) for v in extent), tuple(self._colours))
        drawn = self._drawn
        if (
            drawn is not None
            and drawn[0] == key
            and self._field.isVisible()
            and drawn[1].shape == values.shape
            and np.array_equal(drawn[1], values, equal_nan=True)
        ):
            return True
        self._drawn = (key, values.copy())
        return False

    def _show_rgb(self, rgb: np.ndarray, extent: tuple[float, float, float, float]) -> None:
        bad = np.isnan(rgb).any(axis=2)  # a point the network gave no number for: background shows through
        u8 = (np.clip(np.nan_to_num(rgb), 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
        pixels = colour_image.pack(u8)
        pixels[bad] = colour_image.TRANSPARENT
        self._show_pixels(pixels, extent)

    def _show_pixels(self, pixels: np.ndarray, extent: tuple[float, float, float, float]) -> None:
        x0, x1, y0, y1 = (float(v) for v in extent)
        self._field.set_pixels(pixels, rect=QRectF(x0, y0, x1 - x0, y1 - y0))
        if (x0, x1, y0, y1) != self._extent:
            self.set_extent(extent)
        self._field.setVisible(True)
        self._curve.setData([], [])
