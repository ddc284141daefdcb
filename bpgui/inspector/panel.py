"""InspectorPanel: step through one forward pass, backward pass and update, layer by layer (eq. 1–12).

The panel is a view of a bpcore.inspection.InspectorSession, which holds every piece of state (copies of the
weights, the rows, μ, the stage revealed, the applied updates, the Trace and the last Check): a button calls the
session's method of the same name, then the panel redraws from the session. Every number comes from
bpcore.inspect (trace, chain_rule, check) through the session; the panel only shows them.

Weights: set_source copies the weights it is given (snapshot copies or paused tensors; they are never kept).
Update applies W ← W − μ h δᵀ (the engine's W_next) to the session's copy only, so pressing Update repeatedly
walks that copy downhill while training is untouched. "Reset W" copies the source weights in again.

Check runs bpcore.inspect.check on a worker thread (CheckRunner): the banner says "checking…", the buttons that
would change W wait, and the verdict is shown only when neither W nor the rows changed meanwhile.
run_check(wait=True) or wait_check() block until it is in (tests, automation).

Conventions are said where the numbers are: J is the mean over the rows (the trainer's) unless the Σ switch shows
eq. 1's sum; lecture notation (default) indexes from 1 and writes the hidden recursion as W̃ δ; the update card
shows the trainer's real step when set_rule gave its rule (L2, schedule, clipping, momentum, Adam), and says what it
leaves out otherwise. The backward pass can be stepped layer by layer from the output down ("← one layer").

Batch mode inspects rows index … index + B − 1 at once: per-row quantities show one row (h: one column)
per sample, W-shaped quantities (∇_W J, −μ h δᵀ, W) are the batch sums Σ_i h_i δ_iᵀ that an update uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFileDialog, QFrame, QHBoxLayout, QScrollArea, QVBoxLayout, QWidget
from torch import Tensor

from bpcore.errors import BackpropLabError
from bpcore.inspect import Check, Trace
from bpcore.inspection import CHECK_LIMIT, CheckRequest, InspectorSession, UpdateRule
from bpgui.inspector import export
from bpgui.inspector._style import FAIL_COLOUR, OK_COLOUR, describe
from bpgui.inspector.check_view import CheckRunner
from bpgui.inspector.controls import Controls
from bpgui.inspector.grid import GROUPS, LESSON_GROUPS, LayerTabs, StageGrid
from bpgui.inspector.quantities import (
    STAGES,
    Conventions,
    Quantity,
    batch_sum_error,
    layer_infos,
    layer_quantities,
)
from bpgui.inspector.side import SidePanel
from bpgui.inspector.summary import SummaryBar, batch_text, summary_text

__all__ = ["CHECK_LIMIT", "InspectorPanel"]


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
        self.session = InspectorSession()  # every piece of state; the panel draws it
        self._infos: list = []
        self._dtype = torch.float64  # the inspected weights' (chain-rule rounding is stated in it)
        self._quantities: tuple[Trace, tuple[int, ...], Conventions, list[dict[str, Quantity]]] | None = None
        self._titles: tuple | None = None
        self._check_hint = ""  # why the banner is neutral (W changed, a check went stale)
        self._frame_state: str | None = None
        self._checker = CheckRunner(self)
        self._checker.done.connect(self._check_done)

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
        self.layers_scroll = scroll
        layers = QVBoxLayout()
        layers.setSpacing(0)
        layers.addWidget(self.layer_tabs)
        layers.addWidget(scroll, 1)
        # the chain rule and the check scroll on their own: a short dock (~400 px) still reaches every line
        side_scroll = QScrollArea()
        describe(side_scroll, "inspectorSideScroll", "chain rule scroll area", "Scroll the chain rule and the check")
        side_scroll.setWidget(self.side)
        side_scroll.setWidgetResizable(True)
        side_scroll.setFrameShape(QFrame.Shape.NoFrame)
        side_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        side_scroll.setFixedWidth(self.side.width() + side_scroll.verticalScrollBar().sizeHint().width() + 2)
        self.side_scroll = side_scroll
        body = QHBoxLayout()
        body.addLayout(layers, 1)
        body.addWidget(side_scroll)
        self._frame = QFrame()
        describe(self._frame, "inspectorFrame", "inspector frame", "Turns red when the gradient check fails")
        inner = self._inner = QVBoxLayout(self._frame)
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
        c.backward_layer.clicked.connect(self.backward_step)
        c.reduction.currentIndexChanged.connect(self._on_reduction)
        c.notation.toggled.connect(lambda _on: self._redraw())
        c.update.clicked.connect(self.update_weights)
        c.step_all.clicked.connect(self.step_all)
        c.reset.clicked.connect(self.reset_weights)
        c.check.clicked.connect(lambda: self.run_check())
        c.row.valueChanged.connect(self._on_row)
        c.batch.toggled.connect(self._on_selection)
        c.batch_size.valueChanged.connect(self._on_selection)
        c.lr.valueChanged.connect(self._on_lr)
        c.export_json.triggered.connect(lambda: self._export_dialog("JSON", "json", self.export_json))
        c.export_csv.triggered.connect(lambda: self._export_dialog("CSV", "csv", self.export_csv))
        c.export_png.triggered.connect(lambda: self._export_dialog("PNG", "png", self.export_png))
        self.chain.weightChosen.connect(self._highlight_weight)
        self.side.set_rule_text(self._rule_text())
        self._redraw()

    # inputs ----------------------------------------------------------------------------------------------
    def set_source(self, weights: Sequence[Tensor], activations: Sequence[str], output: str, X: np.ndarray,
                   targets: np.ndarray, lr: float, class_names: Sequence[str] | None = None,
                   rule: UpdateRule | None = None) -> None:
        """Inspect copies of these weights on the rows of X with targets (InspectorSession.set_source).

        Targets are class ids (softmax), 0/1 (sigmoid) or values (identity), one per row of X; DataError when
        X does not fit W^(1). A check still running is dropped (its W is gone). `rule`: the trainer's update
        (UpdateRule.from_trainer), so that Update shows and applies the trainer's real step; without it the
        update is plain eq. 10 and its card says so.
        """
        s = self.session
        s.set_source(weights, activations, output, X, targets, lr, class_names)
        s.set_rule(rule)
        source = s.source_weights()
        self._infos = layer_infos(source, activations, output)
        self._dtype = source[0].dtype
        self._quantities = None
        c = self.controls
        for w in (c.row, c.batch_size, c.lr):
            w.blockSignals(True)
        c.row.setRange(0, max(0, len(s.X) - 1))
        c.batch_size.setRange(1, max(1, len(s.X)))
        c.row.setValue(s.row())
        c.batch_size.setValue(s.batch_size())
        c.lr.setValue(s.lr())
        for w in (c.row, c.batch_size, c.lr):
            w.blockSignals(False)
        self.layer_tabs.sync(self._infos)
        self._redraw()

    def select_sample(self, index: int) -> None:
        """Inspect data row `index` (the first row of the batch in batch mode)."""
        self.controls.row.setValue(index)

    def set_batch_mode(self, on: bool, size: int | None = None) -> None:
        """Inspect `size` consecutive rows from the selected one (on) or the selected row alone (off)."""
        if size is not None:
            self.controls.batch_size.setValue(size)
        self.controls.batch.setChecked(on)

    def set_rule(self, rule: UpdateRule | None) -> None:
        """Show and apply the trainer's step (L2, schedule, clipping, momentum, Adam) or, with None, eq. 10."""
        self.session.set_rule(rule)
        self.controls.lr.blockSignals(True)
        self.controls.lr.setValue(self.session.lr())
        self.controls.lr.blockSignals(False)
        self._redraw()

    def set_reduction(self, reduction: str) -> None:
        """J as the 'mean' over the rows (the trainer's) or their 'sum' (eq. 1)."""
        self.controls.reduction.setCurrentIndex(self.controls.reduction.findData(reduction))

    def set_notation(self, lecture: bool) -> None:
        """Lecture notation (1-based, W̃ δ; the default) or the code's (0-based, δ W[:-1]ᵀ)."""
        self.controls.notation.setChecked(lecture)

    def set_lesson_layout(self, on: bool) -> None:
        """The lesson arrangement of the cards (lower and wider: grid.LESSON_GROUPS) or the usual one."""
        self.grid.set_arrangement(LESSON_GROUPS if on else GROUPS)
        self._titles = None  # the new cards need their titles
        self._redraw()

    def frame_layout(self) -> QVBoxLayout:
        """The layout inside the panel's frame: controls, summary, then the cards beside the chain rule."""
        return self._inner

    def conventions(self) -> Conventions:
        """The labels' conventions now: notation, mean/sum, and the update's words."""
        s = self.session
        rule = s.rule()
        lecture = self.controls.notation.isChecked()
        update, left_out = "", ""
        if s.rule_given() and not rule.is_plain():
            update = "the trainer's step: −μ ∇_W J, " + "; ".join(rule.parts())
            left_out = rule.note()
        elif not s.rule_given():
            left_out = "the trainer's optimizer, L2, schedule and clipping were not given to the inspector"
        if s.reduction() == "sum":
            left_out = (left_out + "; " if left_out else "") + "J summed: B × the step of the trainer's mean"
        return Conventions("lecture" if lecture else "code", s.reduction(), update, left_out)

    def show_layer(self, layer: int | None) -> None:
        """Show layer `layer` (1-based) in full, or all layers side by side with None."""
        self.layer_tabs.choose(layer)

    # state -----------------------------------------------------------------------------------------------
    def rows(self) -> list[int]:
        """The inspected data rows."""
        return self.session.rows()

    def batch_mode(self) -> bool:
        """Whether several rows are inspected together."""
        return self.session.batch_mode()

    def lr(self) -> float:
        """μ of eq. 10."""
        return self.session.lr()

    def stage(self) -> str:
        """The last revealed stage: '', 'forward', 'backward' or 'update'."""
        return self.session.stage()

    def current_trace(self) -> Trace | None:
        """The engine's Trace behind the shown numbers."""
        return self.session.trace()

    def weights(self) -> list[Tensor]:
        """The session's own copy of W (clones; the trainer's weights are never written)."""
        return self.session.weights()

    def last_check(self) -> Check | None:
        """The result of the last Check on the shown W and rows, or None."""
        return self.session.last_check()

    def check_state(self) -> str:
        """'' (not checked), 'ok', 'fail', 'skipped', 'checking' (running) or 'error' (the check raised)."""
        return self.banner.state()

    def checking(self) -> bool:
        """Whether a gradient check is running on the worker thread."""
        return self._checker.busy()

    def batch_identity_text(self) -> str:
        """The batch line (empty outside batch mode)."""
        return self.summary.batch_label.text() if self.summary.batch_label.isVisibleTo(self) else ""

    # the buttons -----------------------------------------------------------------------------------------
    def forward(self) -> None:
        """Trace the inspected rows with the session's W and reveal h, z, o."""
        self._act(self.session.forward)

    def backward(self) -> None:
        """Reveal o', ∇_o J, δ and ∇_W J (tracing first when nothing current is shown)."""
        self._act(self.session.backward)

    def backward_step(self) -> None:
        """Reveal the backward pass of one more layer, from the output down (the lecture's order)."""
        self._act(self.session.backward_step)
        s = self.session
        if s.backward_layers():
            self.show_layer(None if len(self._infos) > 1 else 1)
            self.chain.choose(0, 0, 0, len(self._infos) - s.backward_layers() + 1)

    def update_weights(self) -> None:
        """Reveal −μ h δᵀ and W before/after, and apply W ← W − μ h δᵀ to the session's copy (eq. 10)."""
        self._act(self.session.update, weights=True)

    def step_all(self) -> None:
        """Forward, Backward and Update at once."""
        self._act(self.session.step_all, weights=True)

    def reset_weights(self) -> None:
        """Copy the source weights into the session again."""
        self._act(self.session.reset_weights, weights=True)

    def run_check(self, wait: bool = False) -> Check | None:
        """Start bpcore.inspect.check on the session's W and the inspected rows on a worker thread.

        Returns None at once (the banner says "checking…"; checkFinished follows), or with wait=True the Check
        once it is in (None when skipped, not ready, or W/the rows changed meanwhile). Red banner and frame when
        it fails."""
        s = self.session
        if not s.ready():
            return None
        reason = s.check_skip_reason()
        if reason:
            self.banner.skipped(reason)
            self._set_frame("")
            return None
        request = s.check_request()
        assert request is not None
        self._checker.start(request)
        self._redraw_check()
        self._enable()
        return self.wait_check() if wait else None

    def wait_check(self, timeout: float | None = None) -> Check | None:
        """Block until a running check is in and shown; its Check, or None (stale, failed, or still running)."""
        if not self._checker.wait(timeout):
            return None
        return self.session.last_check()

    # exports ---------------------------------------------------------------------------------------------
    def shown_quantities(self) -> list[dict[str, Quantity]]:
        """The revealed quantities of every layer (what the exports write)."""
        shown = set(STAGES[: self.session.stage_index()])
        return [{k: q for k, q in layer.items() if q.stage in shown} for layer in self._layers() or []]

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
    def _act(self, method, weights: bool = False) -> None:
        """Call a session method for a button, then redraw; `weights`: it may change W (refused while checking)."""
        if not self.session.ready() or (weights and self.checking()):
            return
        before = (self.session.n_updates(), self.session.version())
        method()
        if weights and (self.session.n_updates(), self.session.version()) != before:
            self._check_hint = "Gradient check: W changed, press Check again."
            self.weightsUpdated.emit()
        self._redraw()

    def _layers(self) -> list[dict[str, Quantity]] | None:
        """The shown trace's quantities (computed once per trace and rows)."""
        t, rows, conv = self.session.trace(), tuple(self.session.rows()), self.conventions()
        if t is None:
            return None
        q = self._quantities
        if q is None or q[0] is not t or q[1] != rows or q[2] != conv:
            self._quantities = q = (t, rows, conv, layer_quantities(t, rows, self._infos, conv))
        return q[3]

    def _redraw(self) -> None:
        """Draw everything from the session's state."""
        s = self.session
        conv = self.conventions()
        titles = (tuple(self._infos), s.output, s.lr(), s.batch_mode(), conv)
        if titles != self._titles:
            self._titles = titles
            self.grid.set_layers(self._infos, s.output, s.lr(), s.batch_mode(), conv)
        stage, t, rows, back = s.stage_index(), s.trace(), s.rows(), s.backward_layers()
        layers = self._layers() if stage else None
        self.grid.show_layers(layers, stage, back)
        self.chain.set_trace(t if stage >= 2 or (stage and back) else None, rows, self._dtype, conv.lecture,
                             back or None)
        self.side.set_rule_text(self._rule_text())
        self._enable()
        if not self._infos:
            self.summary.show_rows("No network yet: the window sets one.")
        else:
            shown = t if stage else None
            batch = s.batch_mode() and shown is not None and stage >= 2
            self.summary.show_rows(summary_text(rows, s.X, s.targets, s.output, s.class_names, shown),
                                   batch_text(len(rows), batch_sum_error(shown)) if batch else "")
        self.side.set_updates(s.n_updates())
        self._redraw_check()
        self.stageChanged.emit(s.stage())

    def _rule_text(self) -> str:
        """The side note on the update: which step Update applies, and what it leaves out."""
        s = self.session
        rule = s.rule()
        if not s.rule_given():
            return (f"Update applies eq. 10, W ← W − μ ∇<sub>W</sub>J with μ = {s.lr():g}. The trainer's optimizer, "
                    "L2 λ, schedule and clipping were not given to the inspector: its step may differ.")
        if rule.is_plain():
            return (f"Update applies eq. 10, W ← W − μ ∇<sub>W</sub>J with μ = {s.lr():g}, exactly: plain gradient "
                    "descent without L2, schedule or clipping.")
        text = "Update applies the trainer's step: " + "; ".join(rule.parts())
        if rule.clip_norm is not None and s.trace() is not None:
            clipped = s.grad_norm() > rule.clip_norm
            text += (f" (‖∇J‖ = {s.grad_norm():.4g}: " + ("clipped" if clipped else "not clipped") + ")")
        note = rule.note()
        return text + (f". <b>Leaves out</b>: {note}." if note else ".")

    def _enable(self) -> None:
        s = self.session
        c = self.controls
        c.set_enabled(s.ready(), s.trace() is not None and s.stage_index() > 0)
        if self.checking():  # W must stay what is being checked
            for w in (c.update, c.step_all, c.reset, c.check):
                w.setEnabled(False)

    def _redraw_check(self) -> None:
        """The banner and the frame from the session's last check and a running one."""
        s = self.session
        request = self._checker.request()
        if request is not None and request.version == s.version():
            self.banner.checking(_where(request.rows))
            self._set_frame("")
        elif s.last_check() is not None:
            self.banner.show_check(s.last_check(), _where(s.rows()))
            self._set_frame("ok" if s.last_check().ok else "fail")
        elif not (self.banner.state() == "skipped" and s.check_skip_reason()) or request is not None:
            if request is not None:
                self._check_hint = "Gradient check: W or the rows changed while checking; press Check again."
            self.banner.reset(self._check_hint or "Gradient check: press Check.")
            self._set_frame("")
        self._check_hint = ""

    def _check_done(self, request: CheckRequest, outcome: object) -> None:
        """The worker's result, on the GUI thread: shown only if W and the rows are still the checked ones."""
        if isinstance(outcome, Exception):
            self.banner.error(f"✗ Gradient check could not run: {outcome}")
            self._set_frame("")
            self.side.set_status(f"Check failed to run: {outcome}", error=True)
            self._enable()
            return
        accepted = self.session.accept_check(request, outcome)
        if not accepted:
            self._check_hint = "Gradient check: W or the rows changed while checking; press Check again."
        self._redraw_check()
        self._enable()
        if accepted:
            self.checkFinished.emit(outcome.ok)

    def _set_frame(self, state: str) -> None:
        if state == self._frame_state:
            return  # a style sheet restyles every child: only when the state changes
        self._frame_state = state
        colour = {"ok": OK_COLOUR, "fail": FAIL_COLOUR}.get(state)
        width = 5 if state == "fail" else 2
        border = f"{width}px solid {colour}" if colour else "2px solid transparent"
        bg = "background: #fff0f0;" if state == "fail" else ""
        self._frame.setStyleSheet(f"QFrame#inspectorFrame {{ border: {border}; {bg} }}")

    def _highlight_weight(self, layer: int, i: int, j: int) -> None:
        if 0 < layer <= self.grid.n_layers() and self.grid.card(layer, "grad_W").revealed():
            table = self.grid.card(layer, "grad_W").table
            table.setCurrentIndex(table.model().index(i, j))

    def _select(self) -> None:
        """The row/batch controls changed: select in the session (typed errors shown, never raised)."""
        c = self.controls
        try:
            self.session.select(c.row.value(), c.batch.isChecked(), c.batch_size.value())
        except BackpropLabError as e:
            self.side.set_status(str(e), error=True)
        self._redraw()

    def _on_row(self, index: int) -> None:
        self._select()
        self.sampleChanged.emit(index)

    def _on_selection(self, *_args: object) -> None:
        self._select()

    def _on_reduction(self, _index: int) -> None:
        try:
            self.session.set_reduction(self.controls.reduction.currentData())
        except BackpropLabError as e:
            self.side.set_status(str(e), error=True)
        self._redraw()

    def _on_lr(self, value: float) -> None:
        try:
            self.session.set_lr(value)
        except BackpropLabError as e:
            self.side.set_status(str(e), error=True)
        self._redraw()

    def _exportable(self) -> list[dict[str, Quantity]]:
        if self.session.trace() is None or not self.session.stage_index():
            raise RuntimeError("nothing to export yet: press Forward first")
        return self.shown_quantities()

    def _meta(self) -> dict:
        s = self.session
        t = s.trace()
        assert t is not None
        chain = None
        if s.stage_index() >= 2 and self.chain.values() is not None:
            chain = {"layer": self.chain.layer_spin.value(), "i": self.chain.i_spin.value(),
                     "j": self.chain.j_spin.value(),
                     "row": self.chain.row_spin.value(), **self.chain.values()}
        return export.step_meta(t, s.rows(), s.activations, s.stage(), s.n_updates(), chain, s.last_check())

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



def _where(rows: Sequence[int]) -> str:
    return f"rows {rows[0]}–{rows[-1]}" if len(rows) > 1 else f"row #{rows[0]}"
