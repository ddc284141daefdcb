"""Weight-matrix heatmaps: one (D_in + 1, D_out) matrix, or one per layer side by side."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QVBoxLayout, QWidget

from bpgui.views import _style, colour_image, palette

_FEW_TICKS = 16  # up to this many rows/columns every index gets a tick label


class MatrixHeatmap(QWidget):
    """One matrix as a diverging heatmap centred on 0: rows = inputs i (last row = bias), columns = neurons j."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _style.describe(
            self,
            "matrixHeatmap",
            "weight matrix heatmap",
            "Rows: inputs i (the last row is the bias), columns: neurons j.\n"
            "Blue is negative, red positive, white zero. Hover a cell to read its value.",
        )
        self._matrix: np.ndarray | None = None  # the values as given (a copy): hover read-outs read these
        self._levels = (-1.0, 1.0)
        self._factors = (1, 1)  # cells per drawn block (rows, columns): > 1 only where cells outnumber pixels
        self._table = colour_image.colour_table(palette.DIVERGING_MAP)
        self._shape: tuple[int, int] | None = None
        self._hover: tuple[int, int] | None = None
        self._title = ""

        self._glw = _style.layout_widget()
        self._plot = self._glw.addPlot(row=0, col=0)
        _style.style_plot(self._plot)
        for name in ("left", "bottom"):  # indices, never "(x0.001)" (a one-column matrix spans -0.5…0.5)
            self._plot.getAxis(name).enableAutoSIPrefix(False)
        self._plot.setLabel("left", "input i")  # row b is the bias (tick "b", tooltip): short enough for ~100 px
        self._plot.setLabel("bottom", "neuron j")
        self._plot.setMenuEnabled(False)
        self._plot.hideButtons()
        self._plot.invertY(True)  # row 0 on top, as the matrix is written
        # coloured once per set_matrix (colour_image): a repaint only blits the pixels
        self._image = colour_image.ArgbImage()
        self._plot.addItem(self._image)
        self._plot.vb.sigResized.connect(self._on_resized)
        self._bias_line = pg.InfiniteLine(angle=0, movable=False, pen=pg.mkPen(palette.FOREGROUND, width=1.5))
        self._plot.addItem(self._bias_line)
        self._bar = pg.ColorBarItem(
            values=(-1.0, 1.0), colorMap=palette.colormap(palette.DIVERGING_MAP), interactive=False, width=14
        )
        # the bar only shows the scale: the image is coloured here, not by the bar's levels and table
        self._bar.setImageItem([], insert_in=self._plot)
        _style.style_plot(self._bar)
        _style.compact_ticks(self._bar.axis)
        self._readout = self._glw.addLabel("", row=1, col=0, color=palette.FOREGROUND, size="9pt")
        self._glw.scene().sigMouseMoved.connect(self._on_mouse_moved)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._glw)
        self.set_title(title)

    # public API ------------------------------------------------------------------------------------------
    def set_matrix(self, matrix: np.ndarray, title: str | None = None) -> None:
        """Show a (D_in + 1, D_out) matrix with symmetric levels ±max|M|, rounded up to a 1-1.2-1.5-2-2.5-3-4-5-6-8
        step (see _style.step_up: the colour scale moves in steps, not on every update; one setImage)."""
        m = np.asarray(matrix)
        if m.ndim != 2:
            raise ValueError(f"MatrixHeatmap needs a 2-D matrix, got shape {m.shape}")
        if title is not None:
            self.set_title(title)
        if self._same_as_drawn(m):
            return  # same values: the pixels drawn are still right
        self._matrix = np.array(m, copy=True)
        peak = _style.step_up(_style.finite_max_abs(m))
        self._levels = (-peak, peak)
        if self._levels != self._bar.levels():
            self._bar.setLevels(self._levels)
        if m.shape != self._shape:
            self._reshape(m.shape)
        self._colour()
        if self._hover is not None:
            self._show_readout(*self._hover)

    def set_title(self, title: str) -> None:
        """Set the title above the heatmap."""
        if title != self._title:
            self._title = title
            _style.set_title(self._plot, title)

    def title(self) -> str:
        """The current title."""
        return self._title

    def levels(self) -> tuple[float, float]:
        """The colour levels (low, high) currently applied to the image."""
        return self._levels

    def readout(self) -> str:
        """The hover read-out text ('i = …, j = …, value') or '' when nothing is hovered."""
        return self._readout.text

    def show_cell(self, i: int, j: int) -> None:
        """Show the read-out for cell (i, j), as hovering it does."""
        self._hover = (i, j)
        self._show_readout(i, j)

    def clear(self) -> None:
        """Show nothing."""
        self._matrix = None
        self._shape = None
        self._hover = None
        self._factors = (1, 1)
        self._image.clear()
        self._readout.setText("")

    # private ---------------------------------------------------------------------------------------------
    def _reshape(self, shape: tuple[int, int]) -> None:
        rows, cols = shape
        self._shape = shape
        self._bias_line.setPos(rows - 1.5)
        self._plot.setLimits(xMin=-0.5, xMax=cols - 0.5, yMin=-0.5, yMax=rows - 0.5)
        self._plot.setRange(xRange=(-0.5, cols - 0.5), yRange=(-0.5, rows - 0.5), padding=0)
        left, bottom = self._plot.getAxis("left"), self._plot.getAxis("bottom")
        if rows <= _FEW_TICKS:
            left.setTicks([[(i, str(i)) for i in range(rows - 1)] + [(rows - 1, "b")]])
        else:
            left.setTicks(None)
        bottom.setTicks([[(j, str(j)) for j in range(cols)]] if cols <= _FEW_TICKS else None)

    def _same_as_drawn(self, m: np.ndarray) -> bool:
        old = self._matrix
        return old is not None and m.shape == old.shape and np.array_equal(m, old, equal_nan=m.dtype.kind in "fc")

    def drawn_factors(self) -> tuple[int, int]:
        """Matrix cells per drawn block (rows, columns): (1, 1) unless the matrix has more cells than pixels."""
        return self._factors

    def _wanted_factors(self) -> tuple[int, int]:
        """Whole numbers of cells per device pixel, per axis (1 while the view has no size yet)."""
        if self._shape is None:
            return (1, 1)
        ratio = self._glw.devicePixelRatioF()
        height, width = self._plot.vb.height() * ratio, self._plot.vb.width() * ratio
        rows, cols = self._shape
        return (max(1, int(rows / height)) if height >= 1 else 1, max(1, int(cols / width)) if width >= 1 else 1)

    def _colour(self) -> None:
        """Colour the matrix once: blocks of cells averaged where there are more cells than pixels, then the table."""
        m = self._matrix
        fy, fx = self._factors = self._wanted_factors()
        values = colour_image.block_mean(m, fy, fx) if fy > 1 or fx > 1 else m
        pixels = colour_image.map_values(values, *self._levels, self._table)
        h, w = pixels.shape
        # cell (i, j) centred on (j, i); a smaller last block still spans whole blocks (the view clips it)
        self._image.set_pixels(pixels, QRectF(-0.5, -0.5, w * fx, h * fy))

    def _on_resized(self, *_args) -> None:
        if self._matrix is not None and self._wanted_factors() != self._factors:
            self._colour()

    def _on_mouse_moved(self, pos: QPointF) -> None:
        if self._matrix is None or not self._plot.vb.sceneBoundingRect().contains(pos):
            return
        p = self._plot.vb.mapSceneToView(pos)
        i, j = round(p.y()), round(p.x())
        rows, cols = self._matrix.shape
        if 0 <= i < rows and 0 <= j < cols:
            self.show_cell(i, j)

    def _show_readout(self, i: int, j: int) -> None:
        if self._matrix is None or i >= self._matrix.shape[0] or j >= self._matrix.shape[1]:
            self._readout.setText("")
            return
        row = "b (bias)" if i == self._matrix.shape[0] - 1 else str(i)
        self._readout.setText(f"i = {row}, j = {j}, value = {self._matrix[i, j]:.4g}")


class LayerHeatmaps(QWidget):
    """One MatrixHeatmap per layer side by side; beyond ``max_side_by_side`` layers a selector picks one."""

    def __init__(self, max_side_by_side: int = 4, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _style.describe(
            self,
            "layerHeatmaps",
            "per-layer matrix heatmaps",
            "One heatmap per layer: rows are inputs (last row = bias), columns are neurons.",
        )
        self._max = max(1, max_side_by_side)
        self._matrices: list[np.ndarray] = []
        self._titles: list[str] = []
        self._heatmaps: list[MatrixHeatmap] = []

        self._selector = QComboBox()
        _style.describe(self._selector, "layerSelector", "layer selector", "Choose the layer to show")
        self._selector.currentIndexChanged.connect(self._show_selected)
        self._selector.setVisible(False)
        self._row = QHBoxLayout()
        self._row.setContentsMargins(0, 0, 0, 0)
        self._row.setSpacing(4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._selector, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(self._row, 1)

    def set_matrices(self, matrices: Sequence[np.ndarray], titles: Sequence[str]) -> None:
        """Show one matrix per layer; child heatmaps are reused while the layer count stays the same."""
        if len(titles) != len(matrices):
            raise ValueError(f"{len(matrices)} matrices but {len(titles)} titles")
        self._matrices, self._titles = list(matrices), list(titles)
        single = len(matrices) > self._max
        needed = 1 if single else len(matrices)
        while len(self._heatmaps) < needed:
            heatmap = MatrixHeatmap(parent=self)
            self._heatmaps.append(heatmap)
            self._row.addWidget(heatmap, 1)
        for k, heatmap in enumerate(self._heatmaps):
            heatmap.setVisible(k < needed)
        self._selector.setVisible(single)
        if single:
            self._sync_selector()
            self._show_selected(self._selector.currentIndex())
        else:
            for heatmap, m, t in zip(self._heatmaps, matrices, titles, strict=False):
                heatmap.set_matrix(m, t)

    def heatmaps(self) -> list[MatrixHeatmap]:
        """The visible child heatmaps, in layer order."""
        return [h for h in self._heatmaps if not h.isHidden()]

    def selected_layer(self) -> int | None:
        """The layer shown by the selector, or None when every layer is shown side by side."""
        return self._selector.currentIndex() if self._selector.isVisibleTo(self) else None

    def select_layer(self, index: int) -> None:
        """Pick the layer to show when there are more layers than fit side by side."""
        self._selector.setCurrentIndex(index)

    def clear(self) -> None:
        """Show nothing."""
        self._matrices, self._titles = [], []
        for heatmap in self._heatmaps:
            heatmap.clear()

    def _sync_selector(self) -> None:
        names = [t or f"layer {k + 1}" for k, t in enumerate(self._titles)]
        if [self._selector.itemText(k) for k in range(self._selector.count())] != names:
            current = max(0, self._selector.currentIndex())
            self._selector.blockSignals(True)
            self._selector.clear()
            self._selector.addItems(names)
            self._selector.setCurrentIndex(min(current, len(names) - 1))
            self._selector.blockSignals(False)

    def _show_selected(self, index: int) -> None:
        if 0 <= index < len(self._matrices) and self._heatmaps:
            self._heatmaps[0].set_matrix(self._matrices[index], self._titles[index])
