"""Training in a process of its own, so the window's process keeps its core and its interpreter lock for drawing.

`ProcessRunner` owns a Trainer in a child process started with the *spawn* context (the same on Linux, macOS and
Windows). Commands go down a pipe through a sender thread, so no caller ever blocks on a full pipe. Snapshots come
back one at a time: the child sends the next only after the parent has taken the previous one (one credit), and
keeps only the newest meanwhile, so a slow reader makes the child skip snapshots, never queue them. The parent's
receiver thread keeps the newest in `latest`, which the window reads on its own timer.

Lifecycle: the child starts in the background (the caller never waits for torch to import), is reused across
runs (`load` builds a new Trainer in it), ignores Ctrl+C (the parent decides), exits when the parent's end of the
pipe closes (parent killed), and `close()` ends it within its grace period, terminating it if a long mini-batch
holds it. A child that dies (kill -9, out of memory) is reported in `failure`; `play()` then starts a fresh child
from the last experiment and the newest weights the parent has.
"""

from __future__ import annotations

import collections
import dataclasses
import importlib
import io
import multiprocessing
import os
import pickle
import queue
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from bpcore.config import validate
from bpcore.train import views
from bpcore.train.history import History
from bpcore.train.progress import restore_progress
from bpcore.train.state import RunState
from bpcore.train.threads import one_blas_thread, threads_for
from bpcore.train.trainer import Trainer

# Nothing below imports on the threads it runs: an `import` statement calls builtins.__import__, which PySide6
# replaces in the window's process with a hook that can deadlock a background thread against the GUI thread.

SNAPSHOT_INTERVAL = 0.03  # seconds between snapshots while a run goes on (~33 per second at most)
CLOSE_GRACE = 1.0  # seconds close() waits for the child to finish its mini-batch before terminating it
PAUSE_WAIT = 5.0  # seconds a pause waits for the current mini-batch to end before publishing the held weights


@dataclass(frozen=True)
class RunnerError:
    """An error the child met while carrying out a command: the exception's type name and its message."""

    kind: str  # e.g. "ConfigError", "DataError", "TrainerBusyError"
    message: str
    command: str  # the command that failed: load, play, step, lr, batch_size

    def __str__(self) -> str:
        return self.message


# --------------------------------------------------------------------------------------------------- parent


class ProcessRunner:
    """A Trainer in a child process, driven by commands; `latest` holds the newest Snapshot it sent.

    With ``in_process=True`` the same child code runs on a thread of this process instead, behind the same pipe
    and interface: the fallback for single-core machines and for tests (it shares this process's GIL).
    """

    def __init__(self, *, threads: int | None = None, in_process: bool = False) -> None:
        self.latest = None  # the newest Snapshot; replaced, never mutated
        self.error: RunnerError | None = None  # the last command the child could not carry out
        self.failure: str | None = None  # why the child died, when it did without being asked to
        self.in_process = in_process
        self._threads = threads
        self._ctx = multiprocessing.get_context("spawn")
        self._lock = threading.Lock()
        self._load: tuple | None = None  # the last load command, to rebuild a child that died
        self._watch: tuple | None = None  # the last watch command, likewise
        self._pace: tuple | None = None  # the last pace command, likewise
        self._live: dict[str, tuple] = {}  # μ and batch size set since the last load, likewise
        self._sent = 0  # sequence number of the last command sent
        self._acked = 0  # sequence number of the last command the newest snapshot reflects
        self._expected: tuple[int, RunState] | None = None  # (seq, state) of the last state-changing command
        self._link: _Link | None = None
        self._history: History | None = None  # the run's record, rebuilt here from the rows the child sends
        self._start_child()

    # -------------------------------------------------------------------------------------------- queries
    @property
    def alive(self) -> bool:
        """True while the child runs."""
        link = self._link
        return link is not None and link.alive()

    @property
    def pid(self) -> int | None:
        """The child's process id (None for the thread fallback; for tests and diagnostics)."""
        link = self._link
        return None if link is None or link.proc is None else link.proc.pid

    @property
    def state(self) -> RunState:
        """The run's state: the newest snapshot's, or, while commands sent are not yet reflected in a snapshot,
        the state they lead to (play → RUNNING, pause → PAUSED, …), so the window answers a click at once."""
        snap, expected = self.latest, self._expected
        if expected is not None and self._acked < expected[0]:
            return expected[1]
        return RunState.IDLE if snap is None else RunState(snap.state)

    @property
    def settled(self) -> bool:
        """True when the newest snapshot reflects every command sent so far."""
        return self._acked >= self._sent

    def wait(self, timeout: float = 30.0) -> bool:
        """Block until the newest snapshot reflects every command sent (tests, saving); False on timeout or when
        the child died."""
        end = time.monotonic() + timeout
        while not self.settled:
            if self.failure is not None or time.monotonic() > end:
                return False
            time.sleep(0.002)
        return True

    # ------------------------------------------------------------------------------------------- commands
    def load(self, experiment, dataset=None, weights: Sequence[np.ndarray] | None = None, progress=None) -> None:
        """A new Trainer in the child for `experiment` (on `dataset` when given, else the experiment's data),
        starting from `weights` and continuing the record of `progress` (a Snapshot: its history, epoch and
        step) when given; a run going on is stopped first. Errors arrive in `error`."""
        weights = None if weights is None else tuple(np.array(W, dtype=np.float64) for W in weights)
        self._load = ("load", experiment, dataset, weights, progress)
        self._live = {}  # μ and batch size changed since: the experiment's own until then
        self._send(self._load, RunState.IDLE)

    def watch(self, request) -> None:
        """What to compute for every snapshot sent from now on (a bpcore.train.views.ViewRequest, or None)."""
        self._watch = ("watch", request)
        self._send(self._watch)

    def play(self) -> None:
        """Start a run (or continue a paused one); a dead child is replaced first."""
        if not self.alive:
            self._restart()
        self._send(("play",), RunState.RUNNING)

    def pause(self) -> None:
        """Hold the run between two mini-batches; the snapshot that follows has the weights it holds."""
        self._send(("pause",), RunState.PAUSED if self.state is RunState.RUNNING else None)

    def resume(self) -> None:
        """Continue a paused run."""
        self._send(("resume",), RunState.RUNNING if self.state is RunState.PAUSED else None)

    def step(self) -> None:
        """Train one epoch (a paused run is ended first; its interrupted epoch then counts as the step)."""
        if not self.alive:
            self._restart()
        self._send(("step",), RunState.STOPPED)

    def stop(self) -> None:
        """End the run after its current mini-batch."""
        self._send(("stop",), RunState.STOPPED if self.state in (RunState.RUNNING, RunState.PAUSED) else None)

    def set_lr(self, lr: float) -> None:
        """μ from the next epoch on (also for a Trainer still being loaded); ConfigError here, before anything
        is sent, when out of range."""
        self._live["lr"] = ("lr", validate("training.lr", lr))
        self._send(self._live["lr"])

    def set_batch_size(self, batch_size: int) -> None:
        """Mini-batch size from the next epoch on; ConfigError here when out of range."""
        self._live["batch_size"] = ("batch_size", validate("training.batch_size", batch_size))
        self._send(self._live["batch_size"])

    def set_pace(self, epochs_per_second: float | None) -> None:
        """At most this many epochs per second, for this run and the next ones (None: no limit); ConfigError
        here when out of range."""
        pace = None if epochs_per_second is None else validate("run.pace", epochs_per_second)
        self._pace = ("pace", pace)
        self._send(self._pace)

    def close(self, grace: float = CLOSE_GRACE) -> None:
        """End the child: ask it to stop and exit, wait `grace` seconds, then terminate (and kill) it."""
        with self._lock:
            link, self._link = self._link, None
        if link is not None:
            link.close(grace)

    def __enter__(self) -> ProcessRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -------------------------------------------------------------------------------------------- private
    def _start_child(self) -> None:
        with self._lock:
            self._sent = self._acked = 0
            self._expected = None
            self._history = None
            self._link = _Link(self._ctx, self._threads, self, self.in_process)

    def _restart(self) -> None:
        """A fresh child from the last experiment, continuing from the newest weights the parent has."""
        self.close(grace=0.1)
        self.failure = None
        self._start_child()
        if self._load is not None:
            _, experiment, dataset, weights, progress = self._load
            snap = self.latest
            if snap is not None and snap.weights is not None:
                weights, progress = snap.weights, snap
            live = self._live
            self.load(experiment, dataset, weights, progress)
            for message in live.values():
                self._live[message[0]] = message
                self._send(message)
        for kept in (self._watch, self._pace):
            if kept is not None:
                self._send(kept)

    def _send(self, message: tuple, expected: RunState | None = None) -> None:
        """Queue a command with the next sequence number; `expected` is the state it leads to, if it changes it."""
        link = self._link
        if link is None:
            return
        with self._lock:
            self._sent += 1
            if expected is not None:
                self._expected = (self._sent, expected)
            link.messages.put((self._sent, *message))

    def _received(self, snap, rows: tuple, acked: int) -> None:
        """A snapshot sent without its history, and the history rows the parent does not have yet: (first row,
        series, delta rows); first row 0 starts the record over (a new Trainer, a new child)."""
        start, series, delta = rows
        if start == 0 or self._history is None or self._history.n != start:
            self._history = History(delta.shape[1])  # (a gap cannot happen on one ordered pipe: start over)
        self._history.extend(series, delta)
        history, delta_history = self._history.views()
        self.latest = dataclasses.replace(snap, history=history, delta_history=delta_history)  # one swap
        self._acked = acked


class _Link:
    """One child process with its pipe, the parent's sender and receiver threads, and whether it was asked to
    close (so that its end is not reported as a failure, even after a newer child replaced it)."""

    def __init__(self, ctx, threads: int | None, runner: ProcessRunner, in_process: bool) -> None:
        parent_end, child_end = ctx.Pipe()
        if in_process:  # the fallback: the child's code on a thread, same pipe, same protocol
            self.proc, self.thread = None, threading.Thread(
                target=_Child(child_end, fixed_threads=True).serve, name="bpcore-runner", daemon=True)
            self.thread.start()
        else:
            self.thread, self.proc = None, ctx.Process(
                target=_child_main, args=(child_end, threads), name="bpcore-runner", daemon=True)
            self.proc.start()  # returns at once: the child imports torch on its own time
            child_end.close()  # the child holds its end; the parent's closing lets the child see EOF
        self.conn, self.runner, self.closing = parent_end, runner, threading.Event()
        self.messages: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._send_loop, name="bpcore-runner-send", daemon=True).start()
        threading.Thread(target=self._receive_loop, name="bpcore-runner-receive", daemon=True).start()

    def alive(self) -> bool:
        return (self.proc or self.thread).is_alive()

    def close(self, grace: float) -> None:
        self.closing.set()
        self.messages.put((0, "close"))
        self.messages.put(None)
        if self.thread is not None:  # a thread cannot be terminated: it ends after its current mini-batch
            self.thread.join(grace)
            return
        self.proc.join(grace)
        if self.proc.is_alive():  # a long mini-batch holds it: it loses only that step
            self.proc.terminate()
            self.proc.join(0.5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()

    def _send_loop(self) -> None:
        while (message := self.messages.get()) is not None:
            try:
                self.conn.send(message)
            except (BrokenPipeError, EOFError, OSError):
                return  # the child is gone; the receiver reports why

    def _receive_loop(self) -> None:
        runner = self.runner
        while True:
            try:
                kind, payload, acked = receive(self.conn)
            except (EOFError, OSError):
                break
            if kind == "snapshot":
                runner._received(*payload, acked)
                self.messages.put((0, "ack"))
            elif kind == "error":
                runner.error = payload
        if self.proc is not None:
            self.proc.join(2.0)
        self.conn.close()
        if not self.closing.is_set():
            runner.failure = _death(None if self.proc is None else self.proc.exitcode)


class _Unpickler(pickle.Unpickler):
    """Finds classes through importlib, not builtins.__import__: messages are read on background threads, and
    PySide6 replaces __import__ with a hook that deadlocked against the GUI thread there (seen in a test run:
    the reader stuck in PySide6's feature_import while the GUI thread connected a signal)."""

    def find_class(self, module: str, name: str):
        obj = sys.modules.get(module) or importlib.import_module(module)
        for part in name.split("."):
            obj = getattr(obj, part)
        return obj


def receive(conn):
    """The next message on a pipe, unpickled without builtins.__import__ (see _Unpickler)."""
    return _Unpickler(io.BytesIO(conn.recv_bytes())).load()


def _death(exitcode: int | None) -> str:
    """Why a child ended, in words."""
    if exitcode is None:
        return "the training process stopped answering"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        return f"the training process was killed by {name}{hint}"
    return f"the training process exited with code {exitcode}"


# ---------------------------------------------------------------------------------------------------- child

_HELD_OR_NOT = {RunState.RUNNING, RunState.PAUSED}


def _child_main(conn, threads: int | None) -> None:
    """The child's entry point: serve commands until the parent closes or goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the whole process group: the parent decides
    if threads:
        torch.set_num_threads(threads)
    one_blas_thread()  # the views' numpy products beside the training
    _Child(conn, fixed_threads=threads is not None).serve()
    os._exit(0)  # nothing to flush (the child writes no files); skips torch's slow interpreter teardown


class _Job:
    """A command that runs on the child's main thread (load, play, step), with the seq number of the last
    command its completion acknowledges and the pause/resume/stop that came for it before it started."""

    def __init__(self, name: str, args: tuple) -> None:
        self.name, self.args = name, args
        self.seq = 0
        self.kept: list[tuple[str, tuple]] = []  # (command, its arguments) for the job's Trainer or run
        self.done = False  # started: the kept commands were applied
        self.acknowledged = False
        self.end_seq = 0  # a stop that came while the job ran: acknowledged when it ends


class _Child:
    """The child's two threads: a reader that takes commands as they come (pause, stop and μ reach a running
    Trainer at once, its commands being thread-safe) and the main thread that builds and trains Trainers.

    Every snapshot sent carries `acked`, the seq number of the last command whose effect it shows, so the parent
    knows when its commands have taken effect. A command that comes while a job is queued (play, step or load
    not yet started) takes effect with that job: pause, resume and stop are kept for the run it starts.
    """

    def __init__(self, conn, fixed_threads: bool) -> None:
        self.conn = conn
        self.fixed_threads = fixed_threads
        self.trainer = None
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.send_lock = threading.Lock()  # guards credit, pending, last and request
        self.wake = threading.Condition(self.send_lock)  # the sender thread waits on it
        self.write_lock = threading.Lock()  # one writer on the pipe at a time
        self.credit = True  # the parent has taken the last snapshot
        self.pending = None  # the newest snapshot not yet sent
        self.last = None  # the newest snapshot published
        self.closing = False
        self.lock = threading.Lock()  # guards queued and acked
        self.queued: collections.deque[_Job] = collections.deque()  # jobs not yet started, oldest first
        self.acked = 0  # the last command whose effect the next snapshot shows
        self.current: _Job | None = None  # the job on the main thread (under lock)
        self.request = None  # the window's ViewRequest (under send_lock)
        self.pace: float | None = None  # epochs per second at most, for every Trainer loaded
        self.sent_rows, self.sent_source = 0, None  # history rows the parent has, and whose they are

    def serve(self) -> None:
        threading.Thread(target=self.read, name="bpcore-runner-read", daemon=True).start()
        sender = threading.Thread(target=self.send_loop, name="bpcore-runner-send", daemon=True)
        sender.start()
        while (job := self.jobs.get()) is not None:
            with self.lock:
                self.current = job
            try:
                getattr(self, "_job_" + job.name)(job, *job.args)
            except Exception as e:  # any error of a command goes to the parent, typed by name
                self.send_error(job.name, e)
            finally:  # a job that failed before its start still acknowledges its commands
                self.started(job, None)
                with self.lock:
                    self.current = None
                    job.seq = max(job.seq, job.end_seq)
                    job.acknowledged = False
                self.acknowledge(job)
        with self.wake:
            self.closing = True
            self.wake.notify_all()
        # the sender may be computing views: a daemon thread left inside a torch call when the interpreter
        # exits aborts the process (the thread fallback's serve() returns just before the window exits)
        sender.join()
        with self.write_lock:
            self.conn.close()

    # ------------------------------------------------------------------------------------- reader thread
    def read(self) -> None:
        while True:
            try:
                seq, name, *args = receive(self.conn)
            except (EOFError, OSError):  # the parent is gone: stop training and exit
                seq, name, args = 0, "close", []
            try:
                if self.command(name, args):
                    return
            except Exception as e:
                self.send_error(name, e)
            finally:
                if seq and not self.at_end(name, seq):
                    self.handled(seq)

    def at_end(self, name: str, seq: int) -> bool:
        """A stop of the run on the main thread is acknowledged when that run has ended and published its last
        snapshot, not before: True when `seq` was handed to that job. (A stop kept for a queued job, and a load,
        are acknowledged by their own jobs.)"""
        if name != "stop":
            return False
        with self.lock:
            job = self.current
            if job is None or job.name not in ("play", "step") or self.queued:
                return False
            job.end_seq = seq
            return True

    def handled(self, seq: int) -> None:
        """Command `seq` took effect, or takes effect with the newest queued job; the parent hears of it with
        the next snapshot, sent now (the last one again) if nothing else would be sent soon."""
        with self.lock:
            if self.queued:
                self.queued[-1].seq = seq
                return
            self.acked = seq
        with self.send_lock:
            last = self.last
        if last is not None:
            self.publish(last)

    def command(self, name: str, args: list) -> bool:
        """Carry out one command from the parent; True when the child is to exit."""
        t = self.trainer
        if name == "watch":
            with self.send_lock:
                self.request = args[0]
        elif name == "ack":
            with self.wake:
                self.credit = True
                self.wake.notify_all()
        elif name == "close":
            if t is not None:
                t.stop()
            self.jobs.put(None)
            return True
        elif name == "load":
            if t is not None:
                t.stop()
            self.queue_job("load", args)
        elif name == "play":
            if t is not None and t.resume():  # a paused (or running) run continues
                return False
            self.queue_job("play", ())
        elif name == "step":
            before = None
            if t is not None and t.finish_epoch():  # a run goes on: it completes its current epoch and ends
                before = t.epoch
            self.queue_job("step", (before,))
        elif name in ("pause", "resume", "stop", "lr", "batch_size"):
            with self.lock:
                if self.queued:  # for the Trainer or run the newest queued job is about to start: it applies them
                    self.queued[-1].kept.append((name, tuple(args)))
                    return False
            if t is None:
                return False  # nothing loaded yet: the load's experiment carries μ and the batch size
            if name in ("lr", "batch_size"):
                getattr(t, "set_" + name)(*args)
                return False
            getattr(t, name)()
            if name == "pause" and t.state is RunState.PAUSED and t.wait_held(PAUSE_WAIT):
                self.publish(t.snapshot(with_weights=True))  # the weights the pause holds, exactly
            else:
                self.publish_state()
        elif name == "pace":  # kept for the Trainers loaded later too
            self.pace = args[0]
            if t is not None:
                t.set_pace(self.pace)
        else:
            raise ValueError(f"unknown runner command {name!r}")
        return False

    def queue_job(self, name: str, args) -> None:
        job = _Job(name, tuple(args))
        with self.lock:
            self.queued.append(job)
        self.jobs.put(job)

    # --------------------------------------------------------------------------------------- main thread
    def started(self, job: _Job, t, acknowledge: bool = True) -> None:
        """The job has started (a run claimed, a Trainer built): apply the commands kept for it to `t`, and
        acknowledge them unless the job does that itself when it ends (a Step). Once per job."""
        with self.lock:
            if job.done:
                return
            job.done = True
            self.queued.remove(job)
        try:
            for name, args in job.kept if t is not None else ():
                getattr(t, "set_" + name if name in ("lr", "batch_size") else name)(*args)
        finally:
            if acknowledge and ("stop", ()) not in job.kept:  # a kept stop: acknowledged when the run has ended
                self.acknowledge(job)

    def acknowledge(self, job: _Job) -> None:
        """The next snapshot reflects the job's commands (sent now: RUNNING at once, PAUSED when a kept pause
        holds the run, the new Trainer, the stepped epoch)."""
        with self.lock:
            if job.acknowledged:
                return
            job.acknowledged = True
            self.acked = max(self.acked, job.seq)
        self.publish_state(force=True)

    def _job_load(self, job: _Job, experiment, dataset, weights, progress) -> None:
        trainer = Trainer(experiment, dataset)
        if weights is not None:
            if [tuple(W.shape) for W in weights] != [tuple(W.shape) for W in trainer.net.weights]:
                raise ValueError("the weights given do not fit the experiment's network: shapes "
                                 f"{[W.shape for W in weights]} vs {[tuple(W.shape) for W in trainer.net.weights]}")
            with torch.no_grad():
                for W, saved in zip(trainer.net.weights, weights, strict=True):
                    W.copy_(torch.from_numpy(saved))
        if progress is not None and progress.epoch:
            restore_progress(trainer, progress.history, epoch=progress.epoch, step=progress.step,
                             delta_history=progress.delta_history, best_epoch=progress.best_epoch,
                             grads=progress.grads)
        # by the work's size, leaving the window its core; the thread fallback keeps the window's setting
        trainer.threads = (torch.get_num_threads() if self.fixed_threads
                           else threads_for(trainer.model.sizes, experiment.training.batch_size, spare=1))
        trainer.set_pace(self.pace)
        self.trainer = trainer
        with self.send_lock:
            self.last = trainer.snapshot(with_weights=True)
        self.started(job, trainer)

    def _claimed(self, job: _Job, acknowledge: bool = True):
        """The trainer with its run claimed and the commands kept for it applied."""
        t = self.trainer
        if t is None:
            raise RuntimeError("no experiment loaded: load one before play or step")
        t.begin()
        self.started(job, t, acknowledge)
        return t

    def _job_play(self, job: _Job) -> None:
        t = self._claimed(job)
        t.run(self.publish, snapshot_interval=SNAPSHOT_INTERVAL, with_weights=True, within_epochs=True)

    def _job_step(self, job: _Job, before: int | None) -> None:
        t = self._claimed(job, acknowledge=False)  # acknowledged when the epoch is done (serve's finally)
        if before is not None and t.epoch > before:  # the stopped run's last epoch was the step
            t.cancel()
            self.publish(t.snapshot(with_weights=True))
            return

        def stop_after_first(snap) -> None:
            t.stop()
            self.publish(snap)

        t.run(stop_after_first, snapshot_interval=0.0, with_weights=True)

    # -------------------------------------------------------------------------------------------- sending
    def publish_state(self, force: bool = False) -> None:
        """The last snapshot again with the run's state as it is now (a paused run publishes nothing else, and
        copying weights from this thread while a mini-batch may still finish could tear them); with `force`
        also when the state did not change (to acknowledge commands)."""
        t, last = self.trainer, self.last
        if t is None or last is None:
            return
        if (last.state, last.reason) != (t.state, t.reason):
            self.publish(dataclasses.replace(last, state=t.state, reason=t.reason))
        elif force:
            self.publish(last)

    def publish(self, snap) -> None:
        """Hand the snapshot to the sender thread, replacing one it has not sent yet: the training thread never
        waits for the views, the pickling or the pipe. The commands it reflects are those acknowledged now."""
        with self.wake:
            t = self.trainer
            if t is not None and {snap.state, t.state} == _HELD_OR_NOT:  # paused while the snapshot was taken
                snap = dataclasses.replace(snap, state=t.state)
            with self.lock:
                acked = self.acked
            self.last, self.pending = snap, (snap, acked, t)
            self.wake.notify_all()

    def send_loop(self) -> None:
        """The sender thread: the newest snapshot, with the window's views computed on its weights, each time the
        parent has taken the previous one (one credit: never a queue)."""
        while True:
            with self.wake:
                while not self.closing and (not self.credit or self.pending is None):
                    self.wake.wait()
                if self.closing:
                    return
                (snap, acked, source), self.pending, self.credit = self.pending, None, False
            self._send(("snapshot", self.history_rows(snap, source), acked))

    def history_rows(self, snap, source) -> tuple:
        """(the snapshot without its history, with the window's views; the history rows the parent lacks):
        the record grows by an epoch at a time, so sending it whole would cost more with every epoch.
        `source` is the Trainer that published it: rows of another Trainer's record start over at row 0."""
        n = len(snap.delta_history)
        start = self.sent_rows if source is self.sent_source and self.sent_rows <= n else 0
        rows = (start, {k: np.array(v[start:]) for k, v in snap.history.items()}, np.array(snap.delta_history[start:]))
        self.sent_rows, self.sent_source = n, source
        empty = {k: v[:0] for k, v in snap.history.items()}
        return (dataclasses.replace(self.with_views(snap, source), history=empty, delta_history=snap.delta_history[:0]),
                rows)

    def with_views(self, snap, source):
        """The snapshot with the window's request computed on its own weights by the Trainer that took it
        (bpcore.train.views). Right after a new data set or network the window's request and the last snapshot
        of the old Trainer may meet: a request that does not fit the snapshot's network is left for the next."""
        with self.send_lock:
            request = self.request
        t = source
        if request is None or t is None or snap.weights is None or len(snap.weights) != t.net.n_layers \
                or not views.fits(request, snap.weights[0].shape[0] - 1):
            return snap
        try:
            data = views.compute(request, snap.weights, t.model.activations, t.output, t.parts,
                                 t.dataset.n_classes if t.task == "classification" else None)
        except Exception as e:  # the window gets the reason; the snapshot still goes, and so do the next ones
            self.send_error("views", e)
            return snap
        return dataclasses.replace(snap, views=data)

    def send_error(self, command: str, e: BaseException) -> None:
        self._send(("error", RunnerError(type(e).__name__, str(e), command), 0))

    def _send(self, message: Any) -> None:
        with self.write_lock:
            try:
                self.conn.send(message)
            except (BrokenPipeError, EOFError, OSError):
                pass  # the parent is gone; the reader sees EOF and ends the child
