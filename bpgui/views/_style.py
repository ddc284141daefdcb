"""Private helpers that give every view the same look and the same accessibility metadata."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QPixmapCache
from PySide6.QtWidgets import QGraphicsItem

from bpgui.describe import describe  # noqa: F401 (re-exported for this package's modules)
from bpgui.views import palette

# samples per pixel column that a curve's peak downsampling keeps (each column's min and max: the same envelope);
# pyqtgraph's default keeps 5, and stroking 2-pixel pens through them took a quarter of the GUI thread in a run
SAMPLES_PER_PIXEL = 1.0


def layout_widget() -> pg.GraphicsLayoutWidget:
    """A GraphicsLayoutWidget on the shared background."""
    glw = pg.GraphicsLayoutWidget()
    glw.setBackground(palette.BACKGROUND)
    return glw


def plot_widget() -> pg.PlotWidget:
    """A PlotWidget on the shared background with styled axes."""
    pw = pg.PlotWidget()
    pw.setBackground(palette.BACKGROUND)
    style_plot(pw.getPlotItem())
    return pw


# The axis caches below live in Qt's QPixmapCache, 10 MB by default. An axis that draws a grid caches its
# whole plot area (a 1600 × 680 loss plot: 4.3 MB per axis), so one window's axes overflow 10 MB, every
# paint evicts the caches the next paint needs, and each grid is re-rendered on every frame (measured: the
# loss view repainted in 39 ms, 9 ms once its caches fit; see benchmarks/bench_views.py). 128 MB holds every
# cached axis of a full-screen window on a 4K display.
AXIS_CACHE_KB = 128 * 1024


def style_plot(plot: pg.PlotItem, grid: bool = False) -> None:
    """Dark axes and labels for a light background; optional light grid."""
    if QPixmapCache.cacheLimit() < AXIS_CACHE_KB:
        QPixmapCache.setCacheLimit(AXIS_CACHE_KB)
    pen = pg.mkPen(palette.FOREGROUND)
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setPen(pen)
        axis.setTextPen(pen)
        # an axis re-renders its text on every repaint of the region under it (~0.5 ms each); cached, it
        # is blitted until its range or labels change, which is what keeps live views cheap to repaint
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    if grid:
        plot.showGrid(x=True, y=True, alpha=palette.GRID_ALPHA)


def set_title(plot: pg.PlotItem, text: str) -> None:
    """Set a plot title in the foreground colour."""
    plot.setTitle(text, color=palette.FOREGROUND, size="10pt")


_STEPS = np.array([1.0, 1.2, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0])


def step_up(v: float) -> float:
    """The smallest of 1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8 × 10^k that is >= v (v > 0), else 1.

    Live views round ranges and colour levels up to these steps: they then change now and then instead
    of on every frame (each change re-renders axis text, the dearest part of a repaint), and the colours
    of a heatmap do not flicker as its largest entry moves a little.
    """
    if not (v > 0 and np.isfinite(v)):
        return 1.0
    scale = 10.0 ** np.floor(np.log10(v))
    return float(_STEPS[np.searchsorted(_STEPS, v / scale * (1 - 1e-12))] * scale)


def finite_max_abs(values: np.ndarray) -> float:
    """max |v| over the finite entries, or 0.0 when there are none."""
    a = np.abs(values)
    m = float(a.max()) if a.size else 0.0
    if np.isfinite(m):
        return m
    finite = a[np.isfinite(a)]
    return float(finite.max()) if finite.size else 0.0


def compact_ticks(axis: pg.AxisItem) -> None:
    """Short tick labels (e.g. "-5e-4" instead of "-0.0005") for narrow colour-bar axes."""

    def tick_strings(values: list[float], scale: float, spacing: float) -> list[str]:
        top = max((abs(v) for v in values), default=0.0)
        if top and (top < 1e-2 or top >= 1e4):
            return [_short_exp(v * scale) for v in values]
        return [f"{v * scale:.4g}" for v in values]

    axis.tickStrings = tick_strings


def _short_exp(v: float) -> str:
    if v == 0:
        return "0"
    mantissa, exponent = f"{v:.1e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def sparse_log_ticks(axis: pg.AxisItem) -> None:
    """On a log axis label only 1, 2 and 5 × 10^n, so minor labels (0.09, 0.08, …) do not overlap."""
    default = axis.tickStrings

    def tick_strings(values: list[float], scale: float, spacing: float) -> list[str]:
        strings = default(values, scale, spacing)
        if not axis.logMode:
            return strings
        mantissas = np.round(10 ** (np.asarray(values, dtype=float) % 1.0), 6)
        return [s if m in (1.0, 2.0, 5.0, 10.0) else "" for s, m in zip(strings, mantissas, strict=True)]

    axis.tickStrings = tick_strings
