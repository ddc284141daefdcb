"""A Step on a paused run completes the interrupted epoch and ends at a whole epoch (finish_epoch)."""

from __future__ import annotations

import threading
import time

from bpcore.config import DataSpec, Experiment, TrainSpec
from bpcore.train import Trainer
from bpcore.train.runner import ProcessRunner
from bpcore.train.state import RunState

# 280 training rows one at a time: a pause almost always lands inside an epoch
EXP = Experiment(data=DataSpec(source="xor", n_samples=400), training=TrainSpec(epochs=1_000_000, batch_size=1))
PER_EPOCH = 280


def _paused_inside_an_epoch(t: Trainer) -> None:
    while True:
        t.pause()
        assert t.wait_held(10.0)
        if 0 < t._epoch_steps < PER_EPOCH:
            return
        t.resume()
        time.sleep(0.001)


def test_finish_epoch_completes_the_paused_epoch_and_ends_the_run():
    t = Trainer(EXP)
    thread = threading.Thread(target=t.run, daemon=True)  # a failed test must not hang pytest's exit
    thread.start()
    try:
        while t.epoch < 1:
            time.sleep(0.001)
        _paused_inside_an_epoch(t)
        epoch, done = t.epoch, t._epoch_steps
        assert t.finish_epoch()
        thread.join(30)
    finally:
        t.stop()
    assert not thread.is_alive() and t.state is RunState.STOPPED
    assert t.epoch == epoch + 1 and t.step_count == PER_EPOCH * t.epoch  # the rest of it: PER_EPOCH − done steps
    assert done < PER_EPOCH
    assert not t.finish_epoch()  # no run goes on


def test_runner_step_after_pause_adds_the_rest_of_the_epoch():
    with ProcessRunner(in_process=True) as r:
        r.load(EXP)
        r.play()
        while r.latest is None or r.latest.epoch < 1:
            time.sleep(0.005)
        for _ in range(3):
            r.pause()
            assert r.wait() and r.state is RunState.PAUSED
            before = r.latest
            r.step()
            assert r.wait()
            after = r.latest
            assert after.epoch == before.epoch + 1 and after.step == PER_EPOCH * after.epoch
            r.play()
            time.sleep(0.05)
        r.stop()
