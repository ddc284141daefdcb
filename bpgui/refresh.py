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

import itertools
import time
from collections import Counter
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from bpcore.train import Snapshot, Trainer
from bpgui import presenters
from bpgui.controller import TrainingController
from bpgui.docks import CONFUSION_TIP, CONFUSION_TITLE, Views
from bpgui.frame_pacer import (
    BIG_DIAGRAM_INTERVAL,
    BIG_DIAGRAM_LINKS,
    DRAW_FIRST,
    FRAME_MS,
    GUI_BUDGET,
    MIN_INTERVAL,
    PROCESS_BUDGET,
    THREAD_FRAME_MS,
    TICK_WORK_S,
    VIEW_SHARE,
    FramePacer,
)
from bpgui.geometry import Layout, layout_for
from bpgui.status import StatusLine


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
        self._shown_rows = presenters.shown_rows(lay)
        self.controller.watch(presenters.decision_request(trainer, lay))
        self._snap, self._drawn, self._next = None, {}, {}
        self._cost: dict[str, float] = {}  # smoothed drawing time per heavy view
        classification = trainer.task == "classification"
        v.scatter.set_data(lay.xy, lay.labels if classification else lay.values, lay.class_names,
                           is_test=lay.held_out)
        v.decision.clear()
        rows = self._shown_rows if lay.kind == "projected" else slice(None)
        v.decision.set_rows(self._shown_rows if lay.kind == "projected" else None)
        scale = presenters.value_scale_label(trainer, lay)
        if scale is None:
            v.decision.set_points(lay.xy[rows], None if lay.labels is None else lay.labels[rows],
                                  lay.held_out[rows])
        else:  # regression over a plane or a projection: samples in the colour of their target
            levels = presenters.value_levels(lay)
            v.decision.set_value_points(lay.xy[rows], lay.values[rows], lay.held_out[rows], levels)
        v.decision.set_value_scale(None if scale is None else presenters.value_levels(lay), scale or "")
        v.decision.set_axis_labels(*presenters.axis_labels(trainer, lay))
        # the new data's range in both plots, whatever the previous data (or a zoom) showed
        v.decision.set_extent(lay.extent)
        x0, x1, y0, y1 = lay.extent
        v.scatter.points_item().getViewBox().setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0)
        v.decision_title.setText(presenters.decision_title(trainer, lay))
        model = trainer.model
        v.network.set_architecture(model.sizes, [*model.activations, model.output])
        # a diagram of many links costs its repaint more than its update measures: draw it less often
        shown = v.network.shown_neurons()
        links = sum(a * b for a, b in itertools.pairwise(shown))
        self._least = {"network": BIG_DIAGRAM_INTERVAL if links > BIG_DIAGRAM_LINKS else 0.0}
        v.loss.clear()
        v.loss.set_score_label("accuracy" if classification else "R²")
        v.criteria.reset()
        v.gradients.clear()
        v.confusion.clear()
        self._confusion_for(trainer)
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
        due.sort(key=lambda d: (d[1] not in DRAW_FIRST, d[0]))
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
            spacing = min(1.0, cost / (VIEW_SHARE * self.pacer.budget))
            least = max(MIN_INTERVAL.get(name, 0.0) if self._threaded else 0.0, self._least.get(name, 0.0))
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
        if snap.weights is not None:
            self.views.weights.set_matrices(snap.weights, presenters.weight_titles(snap.weights))

    def _draw_gradients(self, snap: Snapshot) -> None:
        v = self.views.gradients
        if snap.grads is not None:
            v.set_gradients(snap.grads)
        epochs = snap.history.get("epoch")
        if epochs is not None and len(epochs) and len(snap.delta_history) == len(epochs):
            v.set_delta_history(epochs, snap.delta_history)

    def _draw_decision(self, snap: Snapshot) -> None:
        drawing = presenters.decision(snap, self._layout, self.controller.trainer.task)
        if drawing is not None:
            method, args = drawing
            getattr(self.views.decision, method)(*args)

    def _draw_network(self, snap: Snapshot) -> None:
        if snap.weights is not None:
            self.views.network.set_weights(snap.weights)

    def _draw_thumbnails(self, snap: Snapshot) -> None:
        thumbs = presenters.thumbnails(snap, self._layout)
        if thumbs is not None:
            self.views.network.set_thumbnails(thumbs)

    def _draw_confusion(self, snap: Snapshot) -> None:
        trainer = self.controller.trainer
        matrix = None if snap.views is None else snap.views.confusion
        if trainer.task == "classification" and matrix is not None:
            self.views.confusion.set_matrix(matrix, trainer.dataset.class_names)

    def _confusion_for(self, trainer: Trainer) -> None:
        """The confusion matrix is for classes: with a regression its panel is disabled and says why."""
        dock = self.views.docks["confusion"]
        reason = presenters.confusion_unavailable(trainer)
        self.views.confusion.set_unavailable(reason)
        dock.setEnabled(reason is None)
        dock.setWindowTitle(CONFUSION_TITLE if reason is None else f"{CONFUSION_TITLE} (classification only)")
        dock.setToolTip(CONFUSION_TIP if reason is None else reason)

    def shown_docks(self) -> dict[str, bool]:
        """Which docks the clock currently treats as on screen."""
        return dict(self._shown)
