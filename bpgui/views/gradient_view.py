"""Gradients: ∇W = h δᵀ per layer as heatmaps, and mean |δ| per layer over epochs."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import QBoxLayout, QWidget

from bpgui.views import _style, palette
from bpgui.views.heatmap import LayerHeatmaps


def gradient_title(layer: int) -> str:
    """Heatmap title of layer ``layer`` (1-based): "∇W(l) = h δᵀ (eq. 9)"."""
    return f"∇W({layer}) = h δᵀ (eq. 9)"


WIDE = 2.0  # width / height above which the δ plot goes beside the heatmaps instead of under them
LEGEND_ROW = 24  # pixels of one legend row (the plot's title row holds the legend)
LEGEND_COLUMNS = 6  # entries per legend row


class GradientView(QWidget):
    """Per-layer ∇W heatmaps and a log-scale plot of mean |δ^(l)| per layer over epochs: side by side in a
    wide panel (the bottom dock: stacked, each got ~30 px of height), stacked in a tall one."""

    def __init__(self, max_side_by_side: int = 4, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _style.describe(
            self,
            "gradientView",
            "gradients per layer",
            "Heatmaps: the weight gradient ∇W = h δᵀ of each layer (eq. 9).\n"
            "Curves: mean |δ| of each layer per epoch; vanishing gradients show as falling curves.",
        )
        self._heatmaps = LayerHeatmaps(max_side_by_side=max_side_by_side)
        self._delta = _style.plot_widget()
        _style.describe(self._delta, "deltaHistory", "mean absolute delta per layer", "Mean |δ| per layer over epochs")
        plot = self._delta.getPlotItem()
        _style.style_plot(plot, grid=True)
        plot.setLogMode(x=False, y=True)
        plot.setLabel("left", "mean |δ|")
        plot.getAxis("left").enableAutoSIPrefix(False)
        plot.setLabel("bottom", "epoch")
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        # the legend lives in the plot's title row, above the curves: it lists every layer and covers no data
        plot.setTitle("")
        self._legend = pg.LegendItem(offset=None, colCount=LEGEND_COLUMNS, labelTextColor=palette.FOREGROUND,
                                     brush=pg.mkBrush(255, 255, 255, 210))
        self._legend.layout.setContentsMargins(4, 0, 4, 0)
        self._legend.setParentItem(plot)
        self._legend.anchor(itemPos=(0.5, 0), parentPos=(0.5, 0), offset=(0, 2))
        self._curves: list[pg.PlotDataItem] = []

        self._layout = QBoxLayout(QBoxLayout.Direction.TopToBottom, self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self._heatmaps, 2)
        self._layout.addWidget(self._delta, 1)

    # public API ------------------------------------------------------------------------------------------
    def set_gradients(self, gradients: Sequence[np.ndarray]) -> None:
        """Show ∇W of every layer (each (D_in + 1, D_out), last row = bias gradient)."""
        titles = [gradient_title(k + 1) for k in range(len(gradients))]
        self._heatmaps.set_matrices(gradients, titles)

    def set_delta_history(self, epochs: np.ndarray, mean_abs_delta: np.ndarray) -> None:
        """Plot mean |δ^(l)| (n_epochs, L) against epochs; zeros and NaN leave gaps on the log axis."""
        x = np.asarray(epochs, dtype=float)
        d = np.asarray(mean_abs_delta, dtype=float)
        if d.ndim == 1:
            d = d[:, None]
        if d.shape[0] != x.shape[0]:
            raise ValueError(f"{x.shape[0]} epochs but mean_abs_delta has {d.shape[0]} rows")
        self._ensure_curves(d.shape[1])
        for k, curve in enumerate(self._curves):
            curve.setData(x, np.where(d[:, k] > 0, d[:, k], np.nan))

    def legend_names(self) -> list[str]:
        """The names listed in the mean |δ| legend."""
        return [label.text for _sample, label in self._legend.items]

    def legend_item(self) -> pg.LegendItem:
        """The mean |δ| legend (in the plot's title row)."""
        return self._legend

    def side_by_side(self) -> bool:
        """True when the δ plot is beside the heatmaps (a wide panel)."""
        return self._layout.direction() == QBoxLayout.Direction.LeftToRight

    def resizeEvent(self, event) -> None:
        """Heatmaps and δ plot side by side in a wide panel, stacked in a tall one: each keeps a readable height."""
        super().resizeEvent(event)
        size = event.size()
        wide = size.width() > WIDE * size.height()
        direction = QBoxLayout.Direction.LeftToRight if wide else QBoxLayout.Direction.TopToBottom
        if direction != self._layout.direction():
            self._layout.setDirection(direction)

    def heatmaps(self) -> LayerHeatmaps:
        """The ∇W heatmaps."""
        return self._heatmaps

    def delta_curves(self) -> list[pg.PlotDataItem]:
        """One curve per layer, δ(1) first."""
        return list(self._curves)

    def delta_plot(self) -> pg.PlotItem:
        """The mean |δ| plot."""
        return self._delta.getPlotItem()

    def clear(self) -> None:
        """Show nothing."""
        self._heatmaps.clear()
        for curve in self._curves:
            curve.setData([], [])

    # private ---------------------------------------------------------------------------------------------
    def _ensure_curves(self, n_layers: int) -> None:
        if n_layers == len(self._curves):
            return
        plot = self._delta.getPlotItem()
        for curve in self._curves:
            plot.removeItem(curve)
        colours = palette.class_colours(n_layers)
        self._curves = [
            plot.plot(pen=pg.mkPen(colours[k], width=2), name=f"δ({k + 1})", connect="finite",
                      autoDownsampleFactor=_style.SAMPLES_PER_PIXEL) for k in range(n_layers)
        ]
        self._legend.clear()
        for k, curve in enumerate(self._curves):
            self._legend.addItem(curve, f"δ({k + 1})")
        rows = -(-n_layers // LEGEND_COLUMNS)
        plot.layout.setRowFixedHeight(0, rows * LEGEND_ROW + 4)  # the title row: room for every legend row
        plot.titleLabel.setMaximumHeight(rows * LEGEND_ROW + 4)
