"""What the network predicts over the input plane: a class field (or a fitted curve) under the data."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QVBoxLayout, QWidget

from bpgui.views import _style, colour_image, palette
from bpgui.views.scatter_view import POINT_SIZE, point_brushes_and_pens

_TINT = 0.45  # share of the class colour in the field; the rest is white so points stay readable


class DecisionView(QWidget):
    """Classification: predicted-class field under the samples. Regression: fitted curve over the samples."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _style.describe(
            self,
            "decisionView",
            "decision regions",
            "Background: the class the network predicts at each point of the input plane\n"
            "(or the fitted curve for regression). Filled points: training set, hollow: test set.",
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
        self._plot.addItem(self._points)
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

    def _unchanged(self, kind: str, values: np.ndarray, extent: tuple[float, float, float, float]) -> bool:
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
        x0, x1, y0, y1 = (float(v) for v in extent)
        self._field.set_pixels(pixels, rect=QRectF(x0, y0, x1 - x0, y1 - y0))
        if (x0, x1, y0, y1) != self._extent:
            self.set_extent(extent)
        self._field.setVisible(True)
        self._curve.setData([], [])
