"""The state of a training run: one Enum shared by the Trainer, the runners, the CLI and the window, and the
lock-protected machine (RunControl) that a Trainer's commands and its training loop change it through."""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable

from bpcore.errors import BackpropLabError


class RunState(str, enum.Enum):
    """Where a run stands. A str Enum, so ``state == "running"`` and JSON output keep working."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    FINISHED = "finished"
    DIVERGED = "diverged"

    def __str__(self) -> str:
        return self.value

    @property
    def ended(self) -> bool:
        """True once the run has ended for any reason (stopped, a criterion met, diverged)."""
        return self in (RunState.STOPPED, RunState.FINISHED, RunState.DIVERGED)


class TrainerBusyError(BackpropLabError, RuntimeError):
    """run(), begin() or train_epoch() while the Trainer is already training: one run at a time."""


class RunControl:
    """One Trainer's run state under one lock: which run is going, its RunState and reason, and the pause
    and stop requests its training loop takes up between two steps.

    A run is claimed by begin() (for a thread about to call run()) or by run() itself; commands act on the
    claimed run and do nothing without one, so a stop() that comes late never cancels a later run. The lock
    is reentrant: the CLI's Ctrl+C handler calls stop() on the thread that trains, maybe while it holds it.
    """

    def __init__(self, ranks: int = 1) -> None:
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)
        self.state, self.reason = RunState.IDLE, ""
        self.runs = 0  # runs claimed so far
        self.hold = False  # a pause or a stop is pending: the one flag the step loop reads
        self.stop_request = False  # several ranks: a stop asked for here, agreed on at the end of an epoch
        self._ranks = ranks
        self._active: str | None = None  # None, "claimed" (begin), "run" or "epoch" (a bare train_epoch)
        self._pause = self._stop = False
        self.epoch_end_stop = False  # end the run when its current epoch is complete (a Step on a paused run)
        self.held = threading.Event()  # set while the training loop waits in a pause: its weights are still

    # ------------------------------------------------------------------------ the training side's calls
    def claim(self, kind: str) -> None:
        """Take the Trainer for a "run" (continuing a begin() claim), a "claimed" run or a bare "epoch"."""
        with self.lock:
            if kind == "run" and self._active == "claimed":
                self._active = "run"
                return
            if self._active is not None:
                raise TrainerBusyError("this Trainer is already training (one run at a time): stop that run first")
            self._active = kind
            self._pause = self._stop = self.stop_request = self.hold = self.epoch_end_stop = False
            if kind != "epoch":
                self.state, self.reason = RunState.RUNNING, ""
                self.runs += 1

    def release(self) -> None:
        """The run (or bare epoch) is over; a run that no criterion ended was stopped by the user."""
        with self.lock:
            if self._active in ("claimed", "run") and not self.state.ended:
                self.state, self.reason = RunState.STOPPED, "stopped by the user"
            self._active = None
            self._pause = self._stop = self.stop_request = self.hold = self.epoch_end_stop = False
            self._changed.notify_all()

    def finish(self, state: RunState, reason: str) -> None:
        """End the run: a criterion was met, it diverged, or an error stopped it."""
        with self.lock:
            self.state, self.reason = state, reason

    def wait(self) -> bool:
        """Block while the run is paused; False when it is to stop now."""
        with self._changed:
            if self._pause and not self._stop:
                self.held.set()
                try:
                    while self._pause and not self._stop:
                        self._changed.wait()
                finally:
                    self.held.clear()
            return not self._stop

    def rest(self, until: Callable[[], float]) -> None:
        """Wait between two epochs of a paced run until time.perf_counter() reaches until() (asked again after
        each nudge: the pace may change meanwhile); a pause or stop ends the wait at once."""
        with self._changed:
            while not self.hold and (left := until() - time.perf_counter()) > 0:
                self._changed.wait(left)

    def nudge(self) -> None:
        """Wake a resting run to look at its pace again."""
        with self._changed:
            self._changed.notify_all()

    def agreed_stop(self) -> None:
        """Every rank stops at the end of this epoch (World.agree found a stop request)."""
        with self.lock:
            self._stop = self.hold = True

    # ------------------------------------------------------------------------------ commands (any thread)
    def cancel(self) -> None:
        """Give back a begin() claim whose run() will not come."""
        with self.lock:
            if self._active == "claimed":
                self.state, self.reason = RunState.STOPPED, "the run did not start"
                self.release()

    def pause(self) -> None:
        """Hold the claimed run; its state is PAUSED when this returns."""
        with self.lock:
            if self._active in ("claimed", "run") and self.state is RunState.RUNNING and not self._stopping:
                self._pause = self.hold = True
                self.state = RunState.PAUSED
                self._changed.notify_all()  # a paced run resting between epochs holds at once

    def resume(self) -> bool:
        """Continue a paused run; True while a run goes on (paused before or not)."""
        with self.lock:
            if self._pause:
                self._pause = False
                self.state = RunState.RUNNING
                self.hold = self._stop
                self._changed.notify_all()
            return self._active in ("claimed", "run") and not self.state.ended and not self._stopping

    def stop_after_epoch(self) -> bool:
        """Let the claimed run (a paused one continues) complete its current epoch, then end; True when there
        is such a run."""
        with self.lock:
            if self._active not in ("claimed", "run") or self.state.ended or self._stopping:
                return False
            self.epoch_end_stop = True
            if self._pause:
                self._pause = False
                self.state = RunState.RUNNING
                self.hold = False
                self._changed.notify_all()
            return True

    def epoch_done(self) -> None:
        """The training loop completed an epoch: a stop_after_epoch() request now ends the run."""
        with self.lock:
            if self.epoch_end_stop:
                self.epoch_end_stop = False
                self._stop = self.hold = True

    def stop(self) -> None:
        """End the claimed run after its current step (a paused one too)."""
        with self.lock:
            if self._active is None:
                return
            if self._ranks > 1:
                self.stop_request = True  # taken up by every rank at the end of the epoch (World.agree)
            else:
                self._stop = True
            if self._pause:
                self._pause = False
                self.state = RunState.RUNNING
            self.hold = self._stop
            self._changed.notify_all()

    @property
    def _stopping(self) -> bool:
        return self._stop or self.stop_request
