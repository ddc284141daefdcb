"""The training thread: runs a Trainer off the GUI thread and publishes only its latest snapshot.

The worker never touches a widget and never signals the GUI. Its callback stores the newest Snapshot in
``latest`` (one reference assignment, atomic under the GIL); the GUI pulls it on its own timer, so
training never waits for drawing. Commands (pause, resume, stop, μ, batch size) go straight to the
Trainer, whose command methods are thread-safe. A run is claimed (Trainer.begin) before its thread starts,
so a stop() or pause() right after start() acts on it instead of being lost.
"""

from __future__ import annotations

import threading

from bpcore.train import RunState, Snapshot, Trainer

SNAPSHOT_INTERVAL = 0.03  # seconds between published snapshots while a run goes on (~33 per second)
JOIN_TIMEOUT = 30.0  # seconds; stop() ends a run after its current mini-batch, far sooner than this


class TrainingWorker:
    """Drives one Trainer on a daemon thread: a whole run (Play) or one epoch (Step)."""

    def __init__(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self.latest: Snapshot | None = None  # the newest snapshot; replaced, never mutated
        self.error: BaseException | None = None  # an unexpected exception of the last run, for the GUI
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------------------------ queries
    @property
    def busy(self) -> bool:
        """True while a run or a step is on the thread (a paused run counts as busy)."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def paused(self) -> bool:
        """True while a run is on the thread but held by pause()."""
        return self.busy and self.trainer.state is RunState.PAUSED

    # ----------------------------------------------------------------------------------------- commands
    def start(self) -> None:
        """Start a run: trainer.run until a criterion is met, stop() or divergence (or continue a paused one)."""
        if self.trainer.resume():  # a run is going on: it continues
            return
        self._join()  # a run that has just ended or is stopping: its thread is winding down
        self._launch(self._run)

    def step(self) -> None:
        """Train one epoch on the thread; a paused run is first stopped (its current epoch completes)."""
        if self.busy:
            before = self.trainer.epoch
            self.stop()
            if self.trainer.epoch > before:  # the paused epoch was completed by the stop: that is the step
                self._publish()
                return
        self._launch(self._one_epoch)

    def pause(self) -> None:
        """Hold the run between two mini-batches (weights stay as they are)."""
        self.trainer.pause()

    def resume(self) -> None:
        """Continue a paused run."""
        self.trainer.resume()

    def stop(self, timeout: float = JOIN_TIMEOUT) -> None:
        """End the run after its current mini-batch and join the thread (no-op when idle)."""
        if self._thread is None:
            return
        self.trainer.stop()  # also releases a paused run
        self._join(timeout)

    def set_lr(self, lr: float) -> None:
        """μ from the next epoch on (thread-safe); ConfigError, and nothing changes, when out of range."""
        self.trainer.set_lr(lr)

    def set_batch_size(self, batch_size: int) -> None:
        """Mini-batch size from the next epoch on (thread-safe); ConfigError when out of range."""
        self.trainer.set_batch_size(batch_size)

    # ------------------------------------------------------------------------------------------ private
    def _launch(self, target) -> None:
        self.error = None
        self.trainer.begin()  # the run is the trainer's from now on: stop()/pause() reach it
        thread = threading.Thread(target=self._guarded, args=(target,), name="bpgui-trainer", daemon=True)
        try:
            thread.start()
        except BaseException:
            self.trainer.cancel()
            raise
        self._thread = thread

    def _join(self, timeout: float = JOIN_TIMEOUT) -> None:
        thread = self._thread
        if thread is None:
            return
        thread.join(timeout)
        if thread.is_alive():  # a single huge mini-batch still going: never leave it without a trainer
            raise RuntimeError(f"the training thread did not stop within {timeout:g} s")
        self._thread = None

    def _guarded(self, target) -> None:
        try:
            target()
        except BaseException as e:  # shown by the GUI; a thread must not die with a traceback on stderr
            self.error = e
            self._publish()

    def _run(self) -> None:
        self.trainer.run(self._store, snapshot_interval=SNAPSHOT_INTERVAL, with_weights=True)

    def _one_epoch(self) -> None:
        # asking the run to stop after its first epoch makes it run exactly one epoch
        def stop_after_first(snap: Snapshot) -> None:
            self.trainer.stop()
            self._store(snap)

        self.trainer.run(stop_after_first, snapshot_interval=0.0, with_weights=True)

    def _store(self, snap: Snapshot) -> None:
        self.latest = snap  # atomic reference swap; the GUI timer reads it

    def _publish(self) -> None:
        self.latest = self.trainer.snapshot(with_weights=True)
