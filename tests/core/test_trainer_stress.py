"""Trainer commands from another thread under a tiny sys.setswitchinterval: no command is ever lost.

Every trial checks the state right after the command returns, that run() returns after stop(), and that
epochs only grow with one history row per epoch. The suite runs a few hundred trials (a few seconds);
BPCORE_STRESS_FULL=1 runs the bar of issue 9: 1000 start/stop trials of each kind and 3000 pause/resume
trials, e.g.  BPCORE_STRESS_FULL=1 pytest -q tests/core/test_trainer_stress.py -s
"""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from bpcore.config import DataSpec, Experiment, ModelSpec, TrainSpec
from bpcore.train import RunState, Snapshot, Trainer, TrainerBusyError

FULL = os.environ.get("BPCORE_STRESS_FULL") == "1"
START_STOP = 1000 if FULL else 100  # trials per kind
PAUSE_RESUME = 3000 if FULL else 300
JOIN_S = 10.0  # a run that has not returned this long after stop() lost the command (the bar: no hang past 10 s)
SWITCH_S = 1e-6  # the interpreter hands the GIL over every microsecond: races show up within a few trials


@pytest.fixture
def tiny_switch():
    old = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_S)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


@pytest.fixture(scope="module")
def trainer() -> Trainer:
    # ~6 steps an epoch of a 2-4-2 network: epochs end often, so commands land in every phase of one
    exp = Experiment(data=DataSpec(source="xor", n_samples=64), model=ModelSpec(hidden=(4,)),
                     training=TrainSpec(epochs=10**9, batch_size=8, lr=0.1))
    return Trainer(exp)


class _Watch:
    """Checks every snapshot it sees: one history row per epoch, epochs never going back."""

    def __init__(self) -> None:
        self.epoch = 0
        self.problems: list[str] = []
        self.seen = 0

    def __call__(self, snap: Snapshot) -> None:
        self.seen += 1
        if len(snap.history["epoch"]) != snap.epoch:
            self.problems.append(f"snapshot at epoch {snap.epoch} with {len(snap.history['epoch'])} history rows")
        if snap.epoch < self.epoch:
            self.problems.append(f"epoch went back from {self.epoch} to {snap.epoch}")
        self.epoch = max(self.epoch, snap.epoch)


def _run_on_thread(tr: Trainer, watch: _Watch) -> tuple[threading.Thread, list]:
    out: list = []

    def target() -> None:
        try:
            out.append(tr.run(watch))
        except BaseException as e:  # reported by the test, not lost on a thread
            out.append(e)

    th = threading.Thread(target=target, daemon=True)
    th.start()
    return th, out


def _stopped(tr: Trainer, th: threading.Thread, out: list, watch: _Watch, trial: int) -> None:
    th.join(JOIN_S)
    assert not th.is_alive(), f"trial {trial}: run() still going {JOIN_S:g} s after stop()"
    assert len(out) == 1 and isinstance(out[0], Snapshot), f"trial {trial}: run() gave {out}"
    assert out[0].state is RunState.STOPPED and tr.state is RunState.STOPPED, f"trial {trial}: {tr.state}"
    assert tr.history.n == tr.epoch and not watch.problems, f"trial {trial}: {watch.problems[:3]}"


@pytest.mark.parametrize("claimed", [True, False], ids=["begin-then-thread", "stop-once-running"])
def test_start_stop_never_loses_the_stop(trainer, tiny_switch, claimed):
    """begin() + a thread's run() + stop() at once, or stop() as soon as run() shows RUNNING."""
    tr, watch = trainer, _Watch()
    watch.epoch = tr.epoch
    t0 = time.perf_counter()
    for trial in range(START_STOP):
        runs = tr.runs
        if claimed:
            tr.begin()
            assert tr.state is RunState.RUNNING
        th, out = _run_on_thread(tr, watch)
        if not claimed:
            while tr.runs == runs and th.is_alive():  # run() has claimed the trainer: it started
                pass
        tr.stop()
        _stopped(tr, th, out, watch, trial)
        assert tr.runs == runs + 1
    print(f"\n{START_STOP} start/stop trials ({'claimed' if claimed else 'unclaimed'}), "
          f"switch interval {SWITCH_S:g} s: none lost, {time.perf_counter() - t0:.2f} s, {watch.seen} snapshots")


def test_pause_resume_never_loses_a_command(trainer, tiny_switch):
    tr, watch = trainer, _Watch()
    watch.epoch = tr.epoch
    reader_problems: list[str] = []
    done = threading.Event()

    def reader() -> None:  # snapshots from a third thread while the commands fly
        last = 0
        while not done.is_set():
            s = tr.snapshot()
            if len(s.history["epoch"]) != s.epoch or s.epoch < last:
                reader_problems.append(f"epoch {s.epoch} after {last}, {len(s.history['epoch'])} rows")
            last = s.epoch

    rd = threading.Thread(target=reader, daemon=True)
    rd.start()
    tr.begin()
    th, out = _run_on_thread(tr, watch)
    t0 = time.perf_counter()
    try:
        for trial in range(PAUSE_RESUME):
            tr.pause()
            assert tr.state is RunState.PAUSED, f"trial {trial}: pause() returned with state {tr.state}"
            if trial % 100 == 0:  # give a lost pause time to show: the paused run may end one epoch at most
                at = tr.epoch
                time.sleep(0.005)
                assert tr.epoch <= at + 1, f"trial {trial}: {tr.epoch - at} epochs while paused"
            assert tr.resume() and tr.state is RunState.RUNNING, f"trial {trial}: resume() gave {tr.state}"
            if trial % 100 == 50:  # a lost wake-up would leave the run asleep: it must train on
                at, deadline = tr.epoch, time.perf_counter() + JOIN_S
                while tr.epoch <= at + 1 and time.perf_counter() < deadline:
                    time.sleep(0.001)
                assert tr.epoch > at + 1, f"trial {trial}: the run did not go on after resume()"
        elapsed = time.perf_counter() - t0
        tr.stop()
        _stopped(tr, th, out, watch, PAUSE_RESUME)
    finally:
        tr.stop()
        done.set()
        rd.join(JOIN_S)
    assert not reader_problems, reader_problems[:3]
    print(f"\n{PAUSE_RESUME} pause/resume trials, switch interval {SWITCH_S:g} s: none lost, {elapsed:.2f} s, "
          f"{tr.epoch} epochs, {watch.seen} snapshots checked")


def test_two_concurrent_runs_one_is_refused(trainer, tiny_switch):
    tr = trainer
    for trial in range(30 if not FULL else 300):
        go = threading.Barrier(2)
        results: list = []

        def racer(go: threading.Barrier = go, results: list = results) -> None:
            go.wait()
            try:
                results.append(tr.run())
            except TrainerBusyError as e:
                results.append(e)

        threads = [threading.Thread(target=racer, daemon=True) for _ in range(2)]
        for th in threads:
            th.start()
        deadline = time.perf_counter() + JOIN_S
        while not any(isinstance(r, TrainerBusyError) for r in results) and time.perf_counter() < deadline:
            time.sleep(0.0005)
        assert any(isinstance(r, TrainerBusyError) for r in results), f"trial {trial}: no run was refused"
        tr.stop()
        for th in threads:
            th.join(JOIN_S)
            assert not th.is_alive()
        kinds = sorted(type(r).__name__ for r in results)
        assert kinds == ["Snapshot", "TrainerBusyError"], f"trial {trial}: {kinds}"
        busy = next(r for r in results if isinstance(r, TrainerBusyError))
        assert "already training" in str(busy)
        assert tr.state is RunState.STOPPED
