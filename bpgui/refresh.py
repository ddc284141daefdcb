"""The GUI's drawing clock: a QTimer at the display's pace pulls the runner's latest Snapshot and updates the views.

Training never waits for drawing: the timer only reads ``controller.latest``. Cheap views (curves, criteria,
status) follow every new snapshot; views that cost more (heatmaps, the network, the decision field, the
confusion matrix) draw only while visible, each skipping frames when its data did not change, and at most at
a rate that keeps its share of the GUI thread bounded, measured from its own last drawing time. The decision
field, the neuron thumbnails, the predicted classes and the confusion matrix arrive in the snapshot
(bpcore.train.views, computed by the training process on the snapshot's own weights): the engine computes,
the views draw, and this module runs no torch.

With training in its own process (the default) the window has its core to itself and draws at the display's
pace. With the thread fallback the trainer shares the GIL with this thread, so FramePacer spaces whole frames
to keep the GUI thread's CPU share under GUI_BUDGET: every millisecond drawing is a millisecond less training.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from bpcore.train import Snapshot, Trainer
from bpcore.train.views import ViewRequest
from bpgui.controller import TrainingController
from bpgui.docks import Views
from bpgui.geometry import Layout, layout_for
from bpgui.status import StatusLine

FRAME_MS = 16  # the timer's pace: up to 60 frames per second, a view drawing only when its data changed
THREAD_FRAME_MS = 40  # with the thread fallback: 25 frames per second at most
PROJECTED_POINTS = 600  # samples whose predicted class the projected (PCA) view shows
FIELD_RESOLUTION = 100  # decision field: FIELD_RESOLUTION² points of the input plane
THUMB_STRIDE = 2  # neuron thumbnails use every 2nd field point per axis (50 × 50)
# The trainer shares the GIL with this thread, so GUI time is training time lost: a view draws again only
# after cost / share seconds, share = _VIEW_SHARE × the pacer's budget (small nets: a view taking 2 ms
# may draw every 50 ms, one taking 10 ms every 250 ms; big nets allow five times more).
_VIEW_SHARE = 0.4
# thread fallback: seconds between draws of views the GUI thread would otherwise compute often
_MIN_INTERVAL = {"decision": 0.1, "thumbnails": 0.25, "confusion": 0.5}
GUI_BUDGET = (0.08, 0.6)  # share of a CPU the GUI thread may use while a run goes on: GIL-bound trainer, other
PROCESS_BUDGET = (0.9, 0.9)  # training in its own process: the GUI thread may use nearly its whole core
PYTHON_PER_STEP_S = 250e-6  # GIL-held time of one step beside a drawing GUI (tiny nets: the whole step)
TICK_WORK_S = 0.004  # heavy views drawn in one tick while training stop once this much time is used
_FIRST = ("weights",)  # drawn first whenever due (its own spacing, cost / share, leaves room for the rest)


class FramePacer:
    """Spaces the frames so the GUI thread's CPU time stays under a budget while training runs.

    The GUI thread's CPU time (time.thread_time: drawing, painting, event handling, not waiting for the
    GIL) over wall time is measured every tick; above the budget the gap between frames grows, well
    below it the gap shrinks back towards one timer interval. The budget is small while the trainer's
    steps are mostly Python (small networks: every GUI millisecond holds the GIL the trainer needs) and
    larger when its steps are mostly matrix products, which run without the GIL on their own core.
    """

    def __init__(self, budget: tuple[float, float] = GUI_BUDGET, min_gap: float = FRAME_MS / 1000,
                 max_gap: float = 1.0) -> None:
        self.low, self.high = budget
        self.min_gap, self.max_gap = min_gap, max_gap
        self.budget = self.low
        self.gap = min_gap
        self.duty = 0.0  # smoothed CPU share of the GUI thread
        self._last = (time.perf_counter(), time.thread_time())

    def update(self, training: bool, steps_per_second: float = 0.0) -> None:
        """Measure the share since the last call and adapt the gap."""
        now, cpu = time.perf_counter(), time.thread_time()
        dt = now - self._last[0]
        if dt <= 0:
            return
        share = (cpu - self._last[1]) / dt
        self._last = (now, cpu)
        self.duty = 0.7 * self.duty + 0.3 * share
        python_share = min(1.0, PYTHON_PER_STEP_S * steps_per_second) if steps_per_second > 0 else 1.0
        self.budget = self.high - (self.high - self.low) * python_share
        if not training:
            self.gap = self.min_gap
        elif self.duty > self.budget:
            self.gap = min(self.max_gap, self.gap * 1.3)
        elif self.duty < 0.6 * self.budget:
            self.gap = max(self.min_gap, self.gap / 1.15)


def _unit(a: np.ndarray) -> np.ndarray:
    """Display scaling of neuron outputs into [-1, 1] (tanh as is, [0, 1] outputs to 2o − 1, else / max|o|)."""
    lo, hi = float(np.min(a)), float(np.max(a))
    if lo >= 0:
        return 2 * a / (1.0 if hi <= 1 else hi) - 1
    return a / max(1.0, -lo, hi)


class ViewRefresher(QObject):
    """Pulls snapshots on a timer and draws them; counts what it drew (for tests and benchmarks)."""

    frameDrawn = Signal()  # after a tick that drew a new snapshot

    def __init__(self, controller: TrainingController, views: Views, status: StatusLine,
                 on_mode: Callable[[str], None] | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller, self.views, self.status = controller, views, status
        self._on_mode = on_mode
        self.counts: Counter[str] = Counter()  # draws per view since the start
        self._threaded = controller.runner.in_process
        self._frame_ms = THREAD_FRAME_MS if self._threaded else FRAME_MS
        self._timer = QTimer(self)
        self._timer.setInterval(self._frame_ms)
        self._timer.timeout.connect(self.tick)
        self._snap: Snapshot | None = None
        self._drawn: dict[str, Snapshot | None] = {}
        self._next: dict[str, float] = {}
        self._layout: Layout | None = None
        self._shown_rows = np.zeros(0, dtype=int)
        self._mode: tuple[str, int] | None = None  # (mode, runs) last told to on_mode
        self.pacer = FramePacer(GUI_BUDGET if self._threaded else PROCESS_BUDGET, min_gap=self._frame_ms / 1000)
        self._last_frame = 0.0
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
        self._shown_rows = self._rows_shown(lay)
        self.controller.watch(self._request(trainer, lay))
        self._snap, self._drawn, self._next = None, {}, {}
        self._cost: dict[str, float] = {}  # smoothed drawing time per heavy view
        classification = trainer.task == "classification"
        v.scatter.set_data(lay.xy, lay.labels if classification else lay.values, lay.class_names,
                           is_test=lay.held_out)
        v.decision.clear()
        rows = self._shown_rows if lay.kind == "projected" else slice(None)
        v.decision.set_points(lay.xy[rows], None if lay.labels is None else lay.labels[rows], lay.held_out[rows])
        v.decision_title.setText(self._decision_title(trainer, lay))
        model = trainer.model
        v.network.set_architecture(model.sizes, [*model.activations, model.output])
        v.loss.clear()
        v.loss.set_score_label("accuracy" if classification else "R²")
        v.criteria.reset()
        v.gradients.clear()
        v.confusion.clear()
        self._mode = None

    # ---------------------------------------------------------------------------------------- the clock
    def tick(self, force: bool = False) -> None:
        """Draw the latest snapshot where needed and refresh the status line."""
        ctl = self.controller
        snap = ctl.latest
        if snap is None:
            return
        mode = ctl.mode()
        self.pacer.update(training=mode == "running", steps_per_second=snap.steps_per_second)
        # fewer wake-ups while frames are spaced out: each one costs the trainer a GIL hand-over
        frame = self._frame_ms
        interval = frame if self.pacer.gap <= frame / 1000 else int(min(self.pacer.gap, 0.25) * 1000)
        if interval != self._timer.interval():
            self._timer.setInterval(interval)
        # a new run counts as a change even in the same mode: a second divergence shows its banner again
        key = (mode, ctl.runs)
        changed = key != self._mode
        if changed:
            self._mode = key
            if self._on_mode is not None:
                self._on_mode(mode)
        now = time.perf_counter()
        if not (force or changed or now - self._last_frame >= self.pacer.gap):
            return  # the GUI used its share of the CPU: leave it to the trainer for now
        self._last_frame = now
        new = snap is not self._snap
        if new:
            self._snap = snap
            self._draw_light(snap)
        # while training, the longest-waiting heavy views until TICK_WORK_S is used: each frame stays
        # short, so the event loop never blocks for long; otherwise every view catches up at once
        due = [(self._next.get(name, 0.0), name, draw) for name, dock, draw in self._heavy()
               if self._drawn.get(name) is not snap
               and (force or (self._shown.get(dock, True) and now >= self._next.get(name, 0.0)))]
        due.sort(key=lambda d: (d[1] not in _FIRST, d[0]))
        limit = None if force or mode != "running" else time.perf_counter() + TICK_WORK_S
        for k, (_when, name, draw) in enumerate(due):
            t0 = time.perf_counter()
            if k and limit is not None and t0 > limit:
                break  # the first due view always draws; more only while the tick has time left
            draw(snap)
            cost = time.perf_counter() - t0
            # the first drawing after a new trainer builds the view's items: not a measure of its cost
            cost = 0.5 * self._cost[name] + 0.5 * cost if name in self._cost else 0.0
            self._cost[name] = cost
            self._drawn[name] = snap
            spacing = min(1.0, cost / (_VIEW_SHARE * self.pacer.budget))
            least = _MIN_INTERVAL.get(name, 0.0) if self._threaded else 0.0
            self._next[name] = t0 + max(least, spacing)
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
            predicted = None if snap.views is None else snap.views.predicted
            if lay.labels is not None and predicted is not None and len(predicted) == len(self._shown_rows):
                rows = self._shown_rows
                v.set_points(lay.xy[rows], predicted, lay.held_out[rows])
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
        thumbs += [_unit(h) for h in f.hidden]  # the engine sent them at every THUMB_STRIDE-th point
        thumbs.append(_unit(np.moveaxis(f.output, 2, 0)[:, ::s, ::s]))
        v.set_thumbnails(thumbs)

    def _draw_confusion(self, snap: Snapshot) -> None:
        trainer = self.controller.trainer
        matrix = None if snap.views is None else snap.views.confusion
        if trainer.task == "classification" and matrix is not None:
            self.views.confusion.set_matrix(matrix, trainer.dataset.class_names)

    # ---------------------------------------------------------------------------------- engine requests
    @staticmethod
    def _request(trainer: Trainer, lay: Layout) -> ViewRequest:
        """What the engine computes for each snapshot: the field over the plotted plane (or line), the predicted
        class of the shown samples in the projected view, the confusion matrix of the first non-empty part of
        test, validation and training."""
        classification = trainer.task == "classification"
        part = next((p for p in ("test", "val", "train") if len(trainer.parts[p])), "train")
        if lay.kind == "projected":
            rows = lay.inputs[ViewRefresher._rows_shown(lay)] if classification else None
            return ViewRequest(rows=rows, confusion=part if classification else None)
        extent = lay.extent if lay.kind == "plane" else (lay.extent[0], lay.extent[1], 0.0, 0.0)
        resolution = FIELD_RESOLUTION if lay.kind == "plane" else 2 * FIELD_RESOLUTION
        return ViewRequest(extent=extent, resolution=resolution, hidden_stride=THUMB_STRIDE,
                           confusion=part if classification else None)

    @staticmethod
    def _rows_shown(lay: Layout) -> np.ndarray:
        """The projected view predicts on (at most) PROJECTED_POINTS evenly spread samples."""
        return np.unique(np.linspace(0, len(lay.xy) - 1, min(len(lay.xy), PROJECTED_POINTS)).astype(int))

    @staticmethod
    def _field_of(snap: Snapshot):
        """The decision field the engine computed on the snapshot's weights (None before the first)."""
        return None if snap.views is None else snap.views.field

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
            some = "every sample" if len(lay.xy) <= PROJECTED_POINTS else f"{PROJECTED_POINTS} of {len(lay.xy)} samples"
            return (f"{name}: predicted class of {some}, drawn at the PCA projection of its "
                    f"{lay.n_inputs} inputs (regions need 2 inputs)")
        return f"{name}: samples at their PCA projection of {lay.n_inputs} inputs"

    def shown_docks(self) -> dict[str, bool]:
        """Which docks the clock currently treats as on screen."""
        return dict(self._shown)
