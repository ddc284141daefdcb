"""The GUI's drawing clock: a ~25 Hz QTimer pulls the worker's latest Snapshot and updates the views in place.

Training never waits for drawing: the timer only reads ``worker.latest``. Cheap views (curves, criteria,
status) follow every new snapshot; views that cost more (heatmaps, the network, the decision field, the
confusion matrix) draw only while visible and at most at a rate that keeps their share of the GUI
thread small, measured from their own last drawing time. The decision field and the neuron thumbnails
come from bpcore.inspect.field on the snapshot's weights: the engine computes, the views draw.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import numpy as np
import torch
from PySide6.QtCore import QObject, QTimer, Signal

from bpcore import backprop as bp
from bpcore.inspect import Field, field
from bpcore.train import Snapshot, Trainer
from bpgui.controller import TrainingController
from bpgui.docks import Views
from bpgui.geometry import Layout, layout_for
from bpgui.status import StatusLine

FRAME_MS = 40  # 25 frames per second
FIELD_RESOLUTION = 100  # decision field: FIELD_RESOLUTION² points of the input plane
THUMB_STRIDE = 2  # neuron thumbnails use every 2nd field point per axis (50 × 50)
# The trainer shares the GIL with this thread, so GUI time is training time lost: a view draws again only
# after cost / _SHARE seconds (a view taking 2 ms may draw every 40 ms, one taking 10 ms every 200 ms).
_SHARE = 0.05
_MIN_INTERVAL = {"confusion": 0.5, "thumbnails": 0.25}  # seconds; views not listed may draw every frame


def _unit(a: np.ndarray) -> np.ndarray:
    """Display scaling of neuron outputs into [-1, 1] (tanh as is, [0, 1] outputs to 2o − 1, else / max|o|)."""
    lo, hi = float(np.min(a)), float(np.max(a))
    if lo >= 0:
        return 2 * a / (1.0 if hi <= 1 else hi) - 1
    return a / max(1.0, -lo, hi)


def _tensors(weights: tuple[np.ndarray, ...]) -> list[torch.Tensor]:
    return [torch.tensor(w) for w in weights]  # copies of the read-only snapshot arrays


class ViewRefresher(QObject):
    """Pulls snapshots on a timer and draws them; counts what it drew (for tests and benchmarks)."""

    frameDrawn = Signal()  # after a tick that drew a new snapshot

    def __init__(self, controller: TrainingController, views: Views, status: StatusLine,
                 on_mode: Callable[[str], None] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller, self.views, self.status = controller, views, status
        self._on_mode = on_mode
        self.counts: Counter[str] = Counter()  # draws per view since the start
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self.tick)
        self._snap: Snapshot | None = None
        self._drawn: dict[str, Snapshot | None] = {}
        self._next: dict[str, float] = {}
        self._field: tuple[Snapshot | None, Field | None] = (None, None)
        self._layout: Layout | None = None
        self._inputs: torch.Tensor | None = None
        self._mode = ""
        # whether each dock is on screen (not a background tab, not closed), from its visibilityChanged
        self._shown = {key: dock.isVisible() for key, dock in views.docks.items()}
        for key, dock in views.docks.items():
            dock.visibilityChanged.connect(lambda visible, key=key: self._shown.__setitem__(key, visible))
        controller.trainerChanged.connect(self.on_trainer_changed)
        self.on_trainer_changed(controller.trainer)

    # ------------------------------------------------------------------------------------------ control
    def start(self) -> None:
        """Start the drawing clock."""
        self._timer.start()

    def stop(self) -> None:
        """Stop the drawing clock."""
        self._timer.stop()

    def draw_now(self) -> None:
        """Draw the latest snapshot in every view, visible or not, ignoring the rate limits."""
        self._next.clear()
        self._drawn.clear()
        self.tick(force=True)

    # -------------------------------------------------------------------------------------- new trainer
    def on_trainer_changed(self, trainer: Trainer) -> None:
        """Set up the views for a new Trainer: data points, architecture, axes; forget what was drawn."""
        v = self.views
        self._layout = lay = layout_for(trainer)
        self._inputs = torch.as_tensor(lay.inputs, dtype=torch.float32)
        self._snap, self._drawn, self._next, self._field = None, {}, {}, (None, None)
        classification = trainer.task == "classification"
        v.scatter.set_data(lay.xy, lay.labels if classification else lay.values, lay.class_names,
                           is_test=lay.held_out)
        v.decision.clear()
        v.decision.set_points(lay.xy, lay.labels, lay.held_out)
        v.decision_title.setText(self._decision_title(trainer, lay))
        model = trainer.model
        v.network.set_architecture(model.sizes, [*model.activations, model.output])
        v.loss.clear()
        v.loss.set_score_label("accuracy" if classification else "R²")
        v.criteria.reset()
        v.gradients.clear()
        v.confusion.clear()
        self._mode = ""

    # ---------------------------------------------------------------------------------------- the clock
    def tick(self, force: bool = False) -> None:
        """Draw the latest snapshot where needed and refresh the status line."""
        ctl = self.controller
        snap = ctl.worker.latest
        if snap is None:
            return
        mode = ctl.mode()
        if mode != self._mode:
            self._mode = mode
            if self._on_mode is not None:
                self._on_mode(mode)
        new = snap is not self._snap
        if new:
            self._snap = snap
            self._draw_light(snap)
        now = time.perf_counter()
        for name, dock, draw in self._heavy():
            if self._drawn.get(name) is snap:
                continue
            if not force and (not self._shown.get(dock, True) or now < self._next.get(name, 0.0)):
                continue  # hidden (a background tab, a closed dock) or drawn too recently
            t0 = time.perf_counter()
            draw(snap)
            cost = time.perf_counter() - t0
            self._drawn[name] = snap
            self._next[name] = t0 + max(_MIN_INTERVAL.get(name, 0.0), cost / _SHARE)
            self.counts[name] += 1
        self.status.show(snap, mode, str(ctl.trainer.device))
        if new:
            self.counts["frames"] += 1
            self.frameDrawn.emit()

    # ------------------------------------------------------------------------------------------ drawing
    def _heavy(self):
        """(name, dock key or None for the central view, draw function) of the views drawn under a budget."""
        return (
            ("weights", "weights", self._draw_weights),
            ("gradients", "gradients", self._draw_gradients),
            ("decision", None, self._draw_decision),
            ("network", "architecture", self._draw_network),
            ("thumbnails", "architecture", self._draw_thumbnails),
            ("confusion", "confusion", self._draw_confusion),
        )

    def _draw_light(self, snap: Snapshot) -> None:
        v = self.views
        v.loss.set_history(snap.history, snap.best_epoch)
        v.criteria.set_criteria([(c.name, c.value, c.limit, c.met) for c in snap.criteria])

    def _draw_weights(self, snap: Snapshot) -> None:
        if snap.weights is None:
            return
        titles = [f"W({l + 1})  {w.shape[0] - 1}+1 × {w.shape[1]}" for l, w in enumerate(snap.weights)]
        self.views.weights.set_matrices(snap.weights, titles)

    def _draw_gradients(self, snap: Snapshot) -> None:
        v = self.views.gradients
        if snap.grads is not None:
            v.set_gradients(snap.grads)
        epochs = snap.history.get("epoch")
        if epochs is not None and len(epochs) and len(snap.delta_history) == len(epochs):
            v.set_delta_history(epochs, snap.delta_history)

    def _draw_decision(self, snap: Snapshot) -> None:
        lay, v = self._layout, self.views.decision
        if lay.kind == "projected":
            if lay.labels is not None and snap.weights is not None:
                v.set_points(lay.xy, self._predicted_classes(snap), lay.held_out)
            return
        f = self._field_of(snap)
        if f is None:
            return
        if lay.kind == "line":
            v.set_curve(f.xs, f.output[0, :, 0])
        elif self.controller.trainer.task == "regression":
            out = f.output[..., 0]
            lo, hi = float(out.min()), float(out.max())
            v.set_field((out - lo) / (hi - lo) if hi > lo else np.full_like(out, 0.5), lay.extent)
        elif f.output.shape[2] == 1:
            v.set_field(f.output[..., 0], lay.extent)
        else:
            v.set_probabilities(f.output, lay.extent)

    def _draw_network(self, snap: Snapshot) -> None:
        if snap.weights is not None:
            self.views.network.set_weights(snap.weights)

    def _draw_thumbnails(self, snap: Snapshot) -> None:
        v = self.views.network
        f = self._field_of(snap) if self._layout.kind != "projected" else None
        if f is None:
            return
        s = THUMB_STRIDE
        xs, ys = f.xs[::s], f.ys[::s]
        ramp_x = np.broadcast_to(2 * (xs - xs[0]) / max(xs[-1] - xs[0], 1e-12) - 1, (len(ys), len(xs)))
        inputs = [ramp_x]
        if self._layout.n_inputs >= 2:
            inputs.append(np.broadcast_to((2 * (ys - ys[0]) / max(ys[-1] - ys[0], 1e-12) - 1)[:, None],
                                          (len(ys), len(xs))))
        thumbs = [np.stack(inputs)]
        thumbs += [_unit(h[:, ::s, ::s]) for h in f.hidden]
        thumbs.append(_unit(np.moveaxis(f.output, 2, 0)[:, ::s, ::s]))
        v.set_thumbnails(thumbs)

    def _draw_confusion(self, snap: Snapshot) -> None:
        trainer = self.controller.trainer
        if trainer.task != "classification":
            return
        part = next((p for p in ("test", "val", "train") if len(trainer.parts[p])), "train")
        self.views.confusion.set_matrix(trainer.confusion(part), trainer.dataset.class_names)

    # ---------------------------------------------------------------------------------- engine helpers
    def _field_of(self, snap: Snapshot) -> Field | None:
        """bpcore.inspect.field on the snapshot's weights, computed once per snapshot."""
        cached_snap, cached = self._field
        if cached_snap is snap:
            return cached
        if snap.weights is None:
            return None
        trainer, lay = self.controller.trainer, self._layout
        extent = lay.extent if lay.kind == "plane" else (lay.extent[0], lay.extent[1], 0.0, 0.0)
        resolution = FIELD_RESOLUTION if lay.kind == "plane" else 2 * FIELD_RESOLUTION
        f = field(_tensors(snap.weights), trainer.model.activations, trainer.output, extent, resolution)
        self._field = (snap, f)
        return f

    def _predicted_classes(self, snap: Snapshot) -> np.ndarray:
        """Class the snapshot's network predicts for every sample (bpcore.backprop's forward pass)."""
        trainer = self.controller.trainer
        with torch.no_grad():
            _, _, z = bp.forward_pass(self._inputs, _tensors(snap.weights), trainer.model.activations)
            o = bp.output(trainer.output, z)
        if o.shape[1] == 1:  # sigmoid: P(class 1)
            return (o[:, 0] >= 0.5).long().numpy()
        return o.argmax(dim=1).numpy()

    @staticmethod
    def _decision_title(trainer: Trainer, lay: Layout) -> str:
        name = trainer.dataset.name
        if lay.kind == "plane":
            what = "class the network predicts over the input plane" if trainer.task == "classification" \
                else "network output over the input plane"
            return f"{name}: {what} (filled = training, hollow = validation/test samples)"
        if lay.kind == "line":
            return f"{name}: fitted curve over the samples (filled = training, hollow = validation/test)"
        if trainer.task == "classification":
            return (f"{name}: predicted class of every sample, drawn at its PCA projection of "
                    f"{lay.n_inputs} inputs (regions need 2 inputs)")
        return f"{name}: samples at their PCA projection of {lay.n_inputs} inputs"

    def shown_docks(self) -> dict[str, bool]:
        """Which docks the clock currently treats as on screen."""
        return dict(self._shown)
