"""Training history: loss and score curves over epochs, with the best-validation epoch marked."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QVBoxLayout, QWidget

from bpgui.views import _style, palette

SPLITS = (("train", "train", palette.TRAIN), ("val", "validation", palette.VALIDATION), ("test", "test", palette.TEST))
EMPTY_EPOCHS = 10.0  # the epoch axis of a run with no epochs yet: 0..10
SCORE_TOP = 1.02  # accuracy and R² are at most 1: the score axis stops just above, so no tick passes 1
ACCURACY_BOTTOM = -0.02  # and accuracy is at least 0
LEGEND_GAP = 4  # pixels between the legend row and the loss plot


def _step_down(v: float) -> float:
    """-step_up(-v) for negative v; 0 for v >= 0."""
    return -_style.step_up(-v) if v < 0 else 0.0


def _finite(history: Mapping[str, np.ndarray], kind: str) -> np.ndarray:
    parts = [history[f"{key}_{kind}"] for key, _l, _c in SPLITS if f"{key}_{kind}" in history]
    values = np.concatenate(parts) if parts else np.zeros(0)
    return values[np.isfinite(values)]


class LossPlot(QWidget):
    """Two stacked plots sharing the epoch axis: loss (top, optional log scale) and score (bottom)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _style.describe(
            self,
            "lossPlot",
            "loss and score history",
            "Loss (top) and accuracy or R² (bottom) per epoch for the train, validation and test sets.\n"
            "The dashed line marks the epoch with the best validation loss; the legend above the plots names\n"
            "the curves and that epoch, so nothing covers the newest epochs.",
        )
        self._history: dict[str, np.ndarray] = {}
        self._best: int | None = None
        self._present: set[str] = set()
        self._drawn = False  # set_history has drawn at least once (an empty history is then skipped too)
        self._ranges: dict[str, tuple[float, float]] = {}

        self._log = QCheckBox("log scale")
        _style.describe(self._log, "lossLogScale", "log scale loss axis", "Show the loss axis on a log scale")
        self._log.toggled.connect(self._on_log_toggled)

        self._glw = _style.layout_widget()
        # row 0 keeps room for the legend, above the plots: never over the curves (their newest epochs)
        self._legend_room = pg.GraphicsWidget()
        self._glw.ci.addItem(self._legend_room, row=0, col=0)
        self._loss = self._glw.addPlot(row=1, col=0)
        self._score = self._glw.addPlot(row=2, col=0)
        self._score.setXLink(self._loss)
        self._glw.ci.layout.setRowStretchFactor(1, 3)
        self._glw.ci.layout.setRowStretchFactor(2, 2)
        for plot in (self._loss, self._score):
            _style.style_plot(plot, grid=True)
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.getAxis("left").setWidth(56)  # same width keeps the two x-axes aligned
        self._loss.setLabel("left", "loss")
        for plot in (self._loss, self._score):  # no "(x0.001)" on the log axis or on accuracies in [0, 1]
            plot.getAxis("left").enableAutoSIPrefix(False)
        _style.sparse_log_ticks(self._loss.getAxis("left"))
        self._loss.getAxis("bottom").setStyle(showValues=False)
        self._score.setLabel("bottom", "epoch")
        self._score.setLabel("left", "accuracy")
        # one row of entries (train, validation, test, best epoch) in the room kept above the loss plot
        self._legend = pg.LegendItem(offset=(60, 2), colCount=4, labelTextColor=palette.FOREGROUND,
                                     brush=pg.mkBrush(255, 255, 255, 210))
        self._legend.layout.setContentsMargins(4, 0, 4, 0)
        self._legend.setParentItem(self._glw.ci)

        self._loss_curves: dict[str, pg.PlotDataItem] = {}
        self._score_curves: dict[str, pg.PlotDataItem] = {}
        for key, _label, colour in SPLITS:
            style = {"pen": pg.mkPen(colour, width=2), "connect": "finite",
                     "autoDownsampleFactor": _style.SAMPLES_PER_PIXEL}
            self._loss_curves[key] = self._loss.plot(**style)
            self._score_curves[key] = self._score.plot(**style)
            # names for pyqtgraph's CSV exporter (set after creation: the legend is managed by _sync_legend)
            self._loss_curves[key].opts["name"] = f"{key}_loss"
            self._score_curves[key].opts["name"] = f"{key}_accuracy"
        self.set_score_label("accuracy")

        marker_pen = pg.mkPen(palette.FOREGROUND, width=1, style=Qt.PenStyle.DashLine)
        # the marker's epoch is written in the legend (outside the plots), not on the line over the curves
        self._best_lines = (pg.InfiniteLine(angle=90, pen=marker_pen), pg.InfiniteLine(angle=90, pen=marker_pen))
        self._best_sample = pg.PlotDataItem(pen=marker_pen)  # the legend's dashed sample; never plotted
        self._legend_key: tuple = ()
        for plot, line in zip((self._loss, self._score), self._best_lines, strict=True):
            line.setVisible(False)
            line.setZValue(-5)
            plot.addItem(line, ignoreBounds=True)

        top = QHBoxLayout()
        top.setContentsMargins(4, 2, 4, 0)
        top.addStretch(1)
        top.addWidget(self._log)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addWidget(self._glw, 1)

    # public API ------------------------------------------------------------------------------------------
    def set_history(self, history: Mapping[str, np.ndarray], best_epoch: int | None = None) -> None:
        """Draw the curves; keys "epoch", "{train,val,test}_{loss,score}" may be missing or hold NaN."""
        new = {k: np.asarray(v, dtype=float) for k, v in history.items()}
        if self._same_history(new) and best_epoch == self._best:
            return  # nothing moved: the curves on screen are still right
        self._history = {k: v.copy() for k, v in new.items()}  # a copy: the caller may append in place
        self._best = best_epoch
        epoch = self._history.get("epoch")
        present: set[str] = set()
        for key, _label, _colour in SPLITS:
            for kind, curves in (("loss", self._loss_curves), ("score", self._score_curves)):
                y = self._history.get(f"{key}_{kind}")
                if y is None or y.size == 0 or not np.isfinite(y).any():
                    curves[key].setData([], [])
                    continue
                x = epoch if epoch is not None and epoch.shape == y.shape else np.arange(1, y.size + 1)
                measured = np.isfinite(y)
                if not measured.all():  # e.g. a test set measured every k epochs: join the measurements
                    x, y = x[measured], y[measured]
                curves[key].setData(x, y)
                if kind == "loss":
                    present.add(key)
        self._present = present
        self.set_best_epoch(best_epoch)
        self._step_ranges()

    def set_best_epoch(self, best_epoch: int | None) -> None:
        """Move the best-validation marker, or hide it with None."""
        self._best = best_epoch
        for line in self._best_lines:
            line.setVisible(best_epoch is not None)
            if best_epoch is not None:
                line.setValue(best_epoch)
        self._sync_legend(self._present, best_epoch)

    def set_score_label(self, label: str) -> None:
        """Name the score axis, e.g. "accuracy" or "R²"."""
        self._score.setLabel("left", label)
        # accuracy lies in [0, 1], R² in (-inf, 1]: the axis never shows a score that cannot be
        self._score.setLimits(yMin=ACCURACY_BOTTOM if label == "accuracy" else -1e307, yMax=SCORE_TOP)
        for key, curve in self._score_curves.items():
            curve.opts["name"] = f"{key}_{'r2' if label == 'R²' else label}"

    def plot_items(self) -> tuple[pg.PlotItem, pg.PlotItem]:
        """The loss and the score PlotItem (for pyqtgraph exporters)."""
        return self._loss, self._score

    def scene(self) -> pg.GraphicsScene:
        """The graphics scene holding both plots (for image and SVG export)."""
        return self._glw.scene()

    def set_log_scale(self, on: bool) -> None:
        """Switch the loss axis between linear and log10 (non-positive losses are left out)."""
        self._log.setChecked(on)

    def log_scale(self) -> bool:
        """True when the loss axis is logarithmic."""
        return self._log.isChecked()

    def curves(self) -> dict[str, pg.PlotDataItem]:
        """The long-lived curve items, keyed "train_loss", …, "test_score"."""
        out = {f"{k}_loss": c for k, c in self._loss_curves.items()}
        out.update({f"{k}_score": c for k, c in self._score_curves.items()})
        return out

    def legend_names(self) -> list[str]:
        """The names currently listed in the legend."""
        return [label.text for _sample, label in self._legend.items]

    def clear(self) -> None:
        """Remove every curve's data and the best-epoch marker."""
        self.set_history({}, None)

    # private ---------------------------------------------------------------------------------------------
    def _same_history(self, new: dict[str, np.ndarray]) -> bool:
        old = self._history
        same = self._drawn and new.keys() == old.keys() and all(
            new[k].shape == old[k].shape and np.array_equal(new[k], old[k], equal_nan=True) for k in new
        )
        self._drawn = True
        return same

    def legend_item(self) -> pg.LegendItem:
        """The legend (above the plots)."""
        return self._legend

    def _sync_legend(self, present: set[str], best: int | None) -> None:
        key = (frozenset(present), best)
        if key == self._legend_key:
            return
        self._legend_key = key
        self._legend.clear()
        for split, label, _colour in SPLITS:
            if split in present:
                self._legend.addItem(self._loss_curves[split], label)
        if best is not None:
            self._legend.addItem(self._best_sample, f"best validation: epoch {best}")
        # the room above the plots as tall as the legend (none while it is empty)
        self._legend.layout.activate()  # the entries' sizes now, then the legend's size from them
        self._legend.updateSize()
        self._legend.setVisible(bool(self._legend.items))
        self._legend_room.setFixedHeight(self._legend.height() + LEGEND_GAP if self._legend.items else 0)

    def _step_ranges(self) -> None:
        """Axis ranges that change in steps, not with every epoch: a range change re-renders the axis
        text (the dearest part of a repaint), so live curves would otherwise cost that on every frame."""
        h = self._history
        epoch = h.get("epoch")
        n = float(np.nanmax(epoch)) if epoch is not None and epoch.size and np.isfinite(epoch).any() else 0.0
        # with no data (a new run, a new data set) the axes start over too: never the last run's ranges
        ranges: dict[str, tuple[float, float]] = {"x": (0.0, _style.step_up(n) if n > 0 else EMPTY_EPOCHS)}
        loss = _finite(h, "loss")
        if not self.log_scale():
            ranges["loss"] = ((min(0.0, _step_down(float(loss.min()))), _style.step_up(float(loss.max())))
                              if loss.size else (0.0, 1.0))
        score = _finite(h, "score")
        lo, hi = (float(score.min()), float(score.max())) if score.size else (0.0, 1.0)
        lo, hi = np.floor(lo * 10) / 10, min(1.0, max(np.ceil(hi * 10) / 10, np.floor(lo * 10) / 10 + 0.1))
        lo = min(lo, hi - 0.1)
        ranges["score"] = (lo, hi)
        if ranges == self._ranges:
            return
        self._ranges = ranges
        self._loss.setXRange(*ranges["x"], padding=0.02)
        if "loss" in ranges:
            self._loss.setYRange(*ranges["loss"], padding=0.02)
        else:
            self._loss.enableAutoRange(y=True)
        # padding by hand: 2 % of the span below, a fixed 0.02 above (a score is at most 1, see SCORE_TOP)
        self._score.setYRange(lo - 0.02 * (hi - lo), min(hi + 0.02, SCORE_TOP), padding=0)

    def _on_log_toggled(self, on: bool) -> None:
        self._loss.setLogMode(x=False, y=on)
        self._ranges = {}
        self._loss.enableAutoRange(y=True)
        self._step_ranges()
