"""InspectorPanel: step through one forward pass, backward pass and update, layer by layer (eq. 1–12).

Every number comes from bpcore.inspect (trace, chain_rule, check); the panel only shows them.

Weights: set_source keeps references to the trainer's live weights and works on its own copy. Forward,
Backward and Check read the copy; Update applies W ← W − μ h δᵀ (the engine's W_next) to the copy only,
so pressing Update repeatedly walks the panel's copy downhill while training is untouched. "Reset W"
(or another set_source) copies the live weights again.

Batch mode inspects rows index … index + B − 1 at once: per-row quantities show one row (h: one column)
per sample, W-shaped quantities (∇_W J, −μ h δᵀ, W) are the batch sums Σ_i h_i δ_iᵀ that an update uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QFrame, QHBoxLayout, QScrollArea, QVBoxLayout, QWidget
from torch import Tensor

from bpcore.inspect import Check, Trace, check, trace
from bpgui.inspector import export
from bpgui.inspector._style import FAIL_COLOUR, OK_COLOUR, describe
from bpgui.inspector.controls import Controls
from bpgui.inspector.grid import LayerTabs, StageGrid
from bpgui.inspector.quantities import (
    STAGES,
    Quantity,
    as_numpy,
    batch_sum_error,
    inputs_tensor,
    layer_infos,
    layer_quantities,
    targets_tensor,
)
from bpgui.inspector.side import SidePanel
from bpgui.inspector.summary import SummaryBar, batch_text, summary_text

CHECK_LIMIT = 20_000  # weights; the finite-difference check needs two forward passes per weight


class InspectorPanel(QWidget):
    """Forward / Backward / Update one row or a mini-batch and show h, z, o, o', ∇_o J, δ, ∇_W J and W."""

    sampleChanged = Signal(int)  # the inspected data row (first row of a batch)
    stageChanged = Signal(str)  # "", "forward", "backward" or "update": the last stage revealed
    weightsUpdated = Signal()  # the panel's own copy of W changed (Update, Step all, Reset W)
    checkFinished = Signal(bool)  # Check ran; True when the gradients agree

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        describe(self, "inspectorPanel", "backprop inspector",
                 "Step through backpropagation for one training row or a mini-batch: every number of eq. 1–12.")
        self._live: list[Tensor] = []
        self._weights: list[Tensor] = []
        self._activations: list[str] = []
        self._output = "softmax"
        self._X = np.zeros((0, 0))
        self._targets = np.zeros(0)
        self._class_names: list[str] | None = None
        self._infos: list = []
        self._trace: Trace | None = None
        self._layers: list[dict[str, Quantity]] = []
        self._stage = 0  # stages revealed: 0 none, 1 forward, 2 backward, 3 update
        self._applied = False  # the shown trace's update was applied to the panel's copy
        self._n_updates = 0
        self._check: Check | None = None
        self._frame_state: str | None = None

        self.controls = c = Controls()
        self.grid = StageGrid()
        self.layer_tabs = LayerTabs()
        self.layer_tabs.layerChosen.connect(self.grid.show_only)
        self.summary = SummaryBar()
        self.side = SidePanel()
        self.chain, self.banner = self.side.chain, self.side.banner
        scroll = QScrollArea()
        describe(scroll, "inspectorScroll", "layers scroll area", "Scroll to see every layer")
        scroll.setWidget(self.grid)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        layers = QVBoxLayout()
        layers.setSpacing(0)
        layers.addWidget(self.layer_tabs)
        layers.addWidget(scroll, 1)
        body = QHBoxLayout()
        body.addLayout(layers, 1)
        body.addWidget(self.side)
        self._frame = QFrame()
        describe(self._frame, "inspectorFrame", "inspector frame", "Turns red when the gradient check fails")
        inner = QVBoxLayout(self._frame)
        inner.setContentsMargins(6, 6, 6, 6)
        inner.addWidget(c)
        inner.addWidget(self.summary)
        inner.addLayout(body, 1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._frame)
        self._set_frame("")

        c.forward.clicked.connect(self.forward)
        c.backward.clicked.connect(self.backward)
        c.update.clicked.connect(self.update_weights)
        c.step_all.clicked.connect(self.step_all)
        c.reset.clicked.connect(self.reset_weights)
        c.check.clicked.connect(self.run_check)
        c.row.valueChanged.connect(self._on_row)
        c.batch.toggled.connect(self._on_selection)
        c.batch_size.valueChanged.connect(self._on_selection)
        c.lr.valueChanged.connect(self._on_selection)
        c.export_json.clicked.connect(lambda: self._export_dialog("JSON", "json", self.export_json))
        c.export_csv.clicked.connect(lambda: self._export_dialog("CSV", "csv", self.export_csv))
        c.export_png.clicked.connect(lambda: self._export_dialog("PNG", "png", self.export_png))
        self.chain.weightChosen.connect(self._highlight_weight)
        c.set_enabled(False, False)
        self._refresh()

    # inputs ----------------------------------------------------------------------------------------------
    def set_source(self, weights: Sequence[Tensor], activations: Sequence[str], output: str, X: np.ndarray,
                   targets: np.ndarray, lr: float, class_names: Sequence[str] | None = None) -> None:
        """Inspect these weights (copied; the live tensors are only read) on the rows of X with targets.

        The copy is taken now, so call this while training is paused (or pass snapshot copies); targets are
        class ids (softmax), 0/1 (sigmoid) or values (identity), one per row of X.
        """
        X, targets = as_numpy(X), as_numpy(targets)
        d_in = int(weights[0].shape[0]) - 1
        if X.ndim != 2 or X.shape[1] != d_in or len(targets) != len(X):
            raise ValueError(f"need X (N, {d_in}) for W^(1) of shape {tuple(weights[0].shape)} and N targets, "
                             f"got X {X.shape} and {len(targets)} targets")
        self._live = list(weights)
        self._activations, self._output = list(activations), output
        self._X, self._targets = X, targets
        self._class_names = list(class_names) if class_names is not None else None
        self._infos = layer_infos(self._live, activations, output)
        self._weights = [W.detach().clone() for W in self._live]
        self._n_updates = 0
        c = self.controls
        for w in (c.row, c.batch_size, c.lr):
            w.blockSignals(True)
        c.row.setRange(0, max(0, len(self._X) - 1))
        c.batch_size.setRange(1, max(1, len(self._X)))
        c.lr.setValue(lr)
        for w in (c.row, c.batch_size, c.lr):
            w.blockSignals(False)
        self.grid.set_layers(self._infos, output, self.lr(), self.batch_mode())
        self.layer_tabs.sync(self._infos)
        c.set_enabled(self._ready(), False)
        self._recompute()

    def select_sample(self, index: int) -> None:
        """Inspect data row `index` (the first row of the batch in batch mode)."""
        self.controls.row.setValue(index)

    def set_batch_mode(self, on: bool, size: int | None = None) -> None:
        """Inspect `size` consecutive rows from the selected one (on) or the selected row alone (off)."""
        if size is not None:
            self.controls.batch_size.setValue(size)
        self.controls.batch.setChecked(on)

    def show_layer(self, layer: int | None) -> None:
        """Show layer `layer` (1-based) in full, or all layers side by side with None."""
        self.layer_tabs.choose(layer)

    # state -----------------------------------------------------------------------------------------------
    def rows(self) -> list[int]:
        """The inspected data rows."""
        start, n = self.controls.row.value(), len(self._X)
        if n == 0:
            return []
        size = self.controls.batch_size.value() if self.batch_mode() else 1
        return list(range(start, min(start + size, n)))

    def batch_mode(self) -> bool:
        """Whether several rows are inspected together."""
        return self.controls.batch.isChecked()

    def lr(self) -> float:
        """μ of eq. 10."""
        return float(self.controls.lr.value())

    def stage(self) -> str:
        """The last revealed stage: '', 'forward', 'backward' or 'update'."""
        return STAGES[self._stage - 1] if self._stage else ""

    def current_trace(self) -> Trace | None:
        """The engine's Trace behind the shown numbers."""
        return self._trace

    def weights(self) -> list[Tensor]:
        """The panel's own copy of W (clones; the trainer's weights are never written)."""
        return [W.clone() for W in self._weights]

    def last_check(self) -> Check | None:
        """The result of the last Check, or None."""
        return self._check

    def check_state(self) -> str:
        """'' (not checked), 'ok', 'fail' or 'skipped'."""
        return self.banner.state()

    def batch_identity_text(self) -> str:
        """The batch line (empty outside batch mode)."""
        return self.summary.batch_label.text() if self.summary.batch_label.isVisibleTo(self) else ""

    # the buttons -----------------------------------------------------------------------------------------
    def forward(self) -> None:
        """Trace the inspected rows with the panel's W and reveal h, z, o."""
        if not self._ready():
            return
        self._compute()
        self._show(1)

    def backward(self) -> None:
        """Reveal o', ∇_o J, δ and ∇_W J (tracing first when nothing current is shown)."""
        if not self._ready():
            return
        if self._trace is None or self._applied:
            self._compute()
            self._show(2)
        else:
            self._show(max(self._stage, 2))

    def update_weights(self) -> None:
        """Reveal −μ h δᵀ and W before/after, and apply W ← W − μ h δᵀ to the panel's copy (eq. 10)."""
        if not self._ready():
            return
        if self._trace is None or self._applied:
            self._compute()
        self._apply()
        self._show(3)

    def step_all(self) -> None:
        """Forward, Backward and Update at once."""
        if not self._ready():
            return
        self._compute()
        self._apply()
        self._show(3)

    def reset_weights(self) -> None:
        """Copy the trainer's live weights into the panel again."""
        if not self._live:
            return
        self._weights = [W.detach().clone() for W in self._live]
        self._n_updates = 0
        self.weightsUpdated.emit()
        self._recompute()

    def run_check(self) -> Check | None:
        """bpcore.inspect.check on the panel's W and the inspected rows; red banner and frame when it fails."""
        if not self._ready():
            return None
        n = sum(W.numel() for W in self._weights)
        if n > CHECK_LIMIT:
            self.banner.skipped(f"Check skipped: {n:,} weights need {2 * n:,} forward passes for finite "
                                f"differences; the check is meant for networks up to {CHECK_LIMIT:,} weights.")
            self._set_frame("")
            return None
        rows = self.rows()
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            c = check(self._weights, self._activations, self._output, *self._tensors(rows))
        finally:
            QGuiApplication.restoreOverrideCursor()
        self._check = c
        self.banner.show_check(c, f"rows {rows[0]}–{rows[-1]}" if len(rows) > 1 else f"row #{rows[0]}")
        self._set_frame("ok" if c.ok else "fail")
        self.checkFinished.emit(c.ok)
        return c

    # exports ---------------------------------------------------------------------------------------------
    def shown_quantities(self) -> list[dict[str, Quantity]]:
        """The revealed quantities of every layer (what the exports write)."""
        shown = set(STAGES[: self._stage])
        return [{k: q for k, q in layer.items() if q.stage in shown} for layer in self._layers]

    def export_json(self, path: str | Path) -> None:
        """Write every shown value of this step, with symbols, rows, loss and the chain rule, as JSON."""
        layers = self._exportable()
        export.write_json(path, export.step_document(self._meta(), layers))

    def export_csv(self, path: str | Path) -> None:
        """Write every shown value as long-format CSV: layer, quantity, row, col, value, symbol."""
        export.write_csv(path, self._exportable())

    def export_png(self, path: str | Path) -> None:
        """Save a picture of the panel."""
        if not self.grab().save(str(path)):
            raise OSError(f"could not write the image {path}")

    # private ---------------------------------------------------------------------------------------------
    def _ready(self) -> bool:
        return bool(self._weights) and len(self._X) > 0

    def _tensors(self, rows: Sequence[int]) -> tuple[Tensor, Tensor]:
        like = self._weights[0]
        return inputs_tensor(self._X, rows, like), targets_tensor(self._targets, rows, self._output, like)

    def _compute(self) -> None:
        rows = self.rows()
        self._trace = trace(self._weights, self._activations, self._output, *self._tensors(rows), lr=self.lr())
        self._layers = layer_quantities(self._trace, rows, self._infos)
        self._applied = False

    def _apply(self) -> None:
        assert self._trace is not None
        self._weights = [torch.as_tensor(lt.W_next, dtype=W.dtype, device=W.device)
                         for lt, W in zip(self._trace.layers, self._weights, strict=True)]
        self._applied = True
        self._n_updates += 1
        self.banner.reset("Gradient check: W changed, press Check again.")
        self._set_frame("")
        self._check = None
        self.weightsUpdated.emit()

    def _recompute(self) -> None:
        """After the rows, μ or the weights changed: trace again and keep Forward/Backward revealed."""
        self.banner.reset()
        self._set_frame("")
        self._check = None
        self.grid.set_layers(self._infos, self._output, self.lr(), self.batch_mode())
        if self._stage and self._ready():
            self._compute()
            self._show(min(self._stage, 2))
        else:
            self._trace, self._layers = None, []
            self._show(0)

    def _show(self, stage: int) -> None:
        self._stage = stage
        self.grid.show_layers(self._layers or None, stage)
        dtype = self._weights[0].dtype if self._weights else torch.float64
        self.chain.set_trace(self._trace if stage >= 2 else None, self.rows(), dtype)
        self.controls.set_enabled(self._ready(), self._trace is not None and stage > 0)
        self._refresh()
        self.stageChanged.emit(self.stage())

    def _refresh(self) -> None:
        t = self._trace if self._stage else None
        rows = self.rows()
        if not self._weights:
            self.summary.show_rows("No network yet: the window sets one.")
        else:
            batch = self.batch_mode() and t is not None and self._stage >= 2
            self.summary.show_rows(summary_text(rows, self._X, self._targets, self._output, self._class_names, t),
                                   batch_text(len(rows), batch_sum_error(t)) if batch else "")
        self.side.set_updates(self._n_updates)

    def _set_frame(self, state: str) -> None:
        if state == self._frame_state:
            return  # a style sheet restyles every child: only when the state changes
        self._frame_state = state
        colour = {"ok": OK_COLOUR, "fail": FAIL_COLOUR}.get(state)
        width = 5 if state == "fail" else 2
        border = f"{width}px solid {colour}" if colour else "2px solid transparent"
        bg = "background: #fff0f0;" if state == "fail" else ""
        self._frame.setStyleSheet(f"QFrame#inspectorFrame {{ border: {border}; {bg} }}")

    def _highlight_weight(self, i: int, j: int) -> None:
        if self.grid.n_layers() and self._stage >= 2:
            table = self.grid.card(self.grid.n_layers(), "grad_W").table
            table.setCurrentIndex(table.model().index(i, j))

    def _on_row(self, index: int) -> None:
        self._recompute()
        self.sampleChanged.emit(index)

    def _on_selection(self, *_args: object) -> None:
        self.controls.batch_size.setEnabled(self.batch_mode())
        self._recompute()

    def _exportable(self) -> list[dict[str, Quantity]]:
        if self._trace is None or not self._stage:
            raise RuntimeError("nothing to export yet: press Forward first")
        return self.shown_quantities()

    def _meta(self) -> dict:
        assert self._trace is not None
        chain = None
        if self._stage >= 2 and self.chain.values() is not None:
            chain = {"i": self.chain.i_spin.value(), "j": self.chain.j_spin.value(),
                     "row": self.chain.row_spin.value(), **self.chain.values()}
        return export.step_meta(self._trace, self.rows(), self._activations, self.stage(), self._n_updates, chain,
                                self._check)

    def _export_dialog(self, kind: str, ext: str, write) -> None:
        path, _ = QFileDialog.getSaveFileName(self, f"Export {kind}", f"inspector.{ext}", f"{kind} (*.{ext})")
        if not path:
            return
        try:
            write(path)
        except (OSError, RuntimeError) as e:
            self.side.set_status(f"Export failed: {e}", error=True)
        else:
            self.side.set_status(f"Saved {path}")

