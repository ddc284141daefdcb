"""The watchable pace: a run limited to N epochs per second, changed live, interrupted at once by pause and stop."""

from __future__ import annotations

import threading
import time

import pytest

from bpcore.config import DataSpec, Experiment, TrainSpec
from bpcore.errors import ConfigError
from bpcore.train import Trainer
from bpcore.train.runner import ProcessRunner
from bpcore.train.state import RunState

EXP = Experiment(data=DataSpec(source="xor", n_samples=40), training=TrainSpec(epochs=1000))


@pytest.mark.parametrize("bad", [0.0, 0.05, -1.0, 1e4, float("nan"), float("inf"), "fast"])
def test_pace_out_of_range_is_refused_and_changes_nothing(bad):
    t = Trainer(EXP)
    t.set_pace(5.0)
    with pytest.raises(ConfigError, match=r"run\.pace must be"):
        t.set_pace(bad)
    assert t.pace == 5.0


def test_paced_run_trains_at_most_pace_epochs_per_second():
    """10 epochs/s for 0.5 s: at most 6 epochs (the first starts at once), where an unpaced run does hundreds."""
    t = Trainer(EXP)
    t.set_pace(10.0)
    thread = threading.Thread(target=t.run, daemon=True)  # a failed test must not hang pytest's exit
    thread.start()
    time.sleep(0.5)
    t.stop()
    thread.join(10)
    assert not thread.is_alive()
    assert 1 <= t.epoch <= 6


def test_pause_and_stop_interrupt_a_resting_run():
    """At 0.1 epochs/s the loop rests 10 s after each epoch: pause holds and stop ends it without that wait."""
    t = Trainer(EXP)
    t.set_pace(0.1)
    thread = threading.Thread(target=t.run, daemon=True)  # a failed test must not hang pytest's exit
    thread.start()
    while t.epoch < 1:
        time.sleep(0.005)
    t.pause()
    assert t.wait_held(5.0)  # held long before the 10 s rest would end
    assert t.state is RunState.PAUSED
    t.stop()
    thread.join(5.0)
    assert not thread.is_alive() and t.epoch == 1


def test_runner_keeps_the_pace_for_trainers_loaded_later():
    with ProcessRunner(in_process=True) as r:
        r.set_pace(0.1)
        r.load(EXP)
        assert r.wait(30)
        r.play()
        deadline = time.monotonic() + 5  # the first epoch's snapshot comes before its 10 s rest, not after
        while (r.latest is None or r.latest.epoch < 1) and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)
        assert r.latest.epoch == 1  # resting: the next epoch is 10 s away
        r.set_pace(None)
        deadline = time.monotonic() + 10
        while r.latest.epoch < 50 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert r.latest.epoch >= 50  # unpaced at once: the change wakes the resting loop, not 10 s later
        r.stop()
