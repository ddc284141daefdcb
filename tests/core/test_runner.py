"""The process runner: a Trainer in a spawned child, commands down a pipe, the newest snapshot back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from bpcore.config import Experiment, TrainSpec
from bpcore.errors import ConfigError
from bpcore.train.runner import ProcessRunner, RunnerError, _Child, _death
from bpcore.train.state import RunState
from bpcore.train.views import ViewRequest

ROOT = Path(__file__).resolve().parents[2]

LONG = Experiment(training=TrainSpec(epochs=1_000_000))  # a run that only stops when told to


def wait_for(condition, timeout: float = 30.0, what: str = "condition"):
    """Poll until condition() is truthy (a wait, not a timing assertion: a loaded machine only waits longer)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie still answers kill(0); it has exited all the same
    with open(f"/proc/{pid}/stat") as f:
        return f.read().split(")")[-1].split()[0] == "Z"


@pytest.fixture(scope="module")
def runner():
    r = ProcessRunner()
    r.load(LONG)
    # the child loads in the background: the tests start from its first snapshot (without this wait they
    # passed only when an earlier test had warmed the machine up, and failed run alone)
    wait_for(lambda: r.latest is not None, what="the loaded trainer's first snapshot")
    yield r
    r.close()


def test_play_pause_resume_and_live_lr(runner):
    runner.play()
    first = wait_for(lambda: runner.latest is not None and runner.latest.epoch >= 3 and runner.latest, what="epochs")
    assert first.state == RunState.RUNNING and first.weights is not None  # weights travel with the snapshot
    runner.pause()
    assert runner.wait() and runner.state is RunState.PAUSED  # the snapshot of the weights the pause holds
    held = runner.latest.step
    time.sleep(0.3)
    assert runner.latest.step == held  # a paused child trains no further
    runner.set_lr(0.05)
    runner.resume()
    # μ from the next epoch on (a pause within an epoch ends that epoch with the old one)
    wait_for(lambda: runner.latest.lr == pytest.approx(0.05), what="the new μ")
    assert runner.latest.step > held and runner.latest.state == RunState.RUNNING
    assert runner.error is None and runner.failure is None


@pytest.mark.parametrize("setter,value", [("set_lr", float("inf")), ("set_lr", -1.0), ("set_lr", "abc"),
                                          ("set_batch_size", 2.7), ("set_batch_size", 0)])
def test_out_of_range_settings_are_refused_before_sending(runner, setter, value):
    before = runner.latest
    with pytest.raises(ConfigError, match="training"):
        getattr(runner, setter)(value)
    assert runner.error is None and runner.latest is not None and before is not None


def test_load_error_is_reported_and_the_old_trainer_kept(runner):
    runner.play()
    wait_for(lambda: runner.latest.epoch >= 1, what="an epoch")
    runner.pause()
    assert runner.wait() and runner.state is RunState.PAUSED
    epoch = runner.latest.epoch
    runner.load(LONG, weights=[np.zeros((3, 3))])  # a network of other shapes
    err = wait_for(lambda: runner.error, what="the load error")
    assert isinstance(err, RunnerError) and err.command == "load" and "shapes" in err.message
    runner.error = None
    runner.resume()
    runner.play()
    wait_for(lambda: runner.latest.epoch > epoch, what="the old trainer training on")


def test_killed_child_is_reported_and_play_recovers_with_the_progress():
    with ProcessRunner() as r:
        r.load(LONG)
        r.set_lr(0.05)  # a change since the load: the restarted child must train with it, not the load's μ
        r.set_batch_size(16)
        r.play()
        wait_for(lambda: r.latest is not None and r.latest.epoch >= 5, what="epochs")
        os.kill(r.pid, signal.SIGKILL)
        reason = wait_for(lambda: r.failure, what="the failure report")
        assert "SIGKILL" in reason and not r.alive
        epoch = r.latest.epoch  # the last snapshot stays
        r.play()
        wait_for(lambda: r.alive and r.latest.epoch > epoch + 1, what="a fresh child continuing")
        assert r.failure is None and len(r.latest.history["epoch"]) >= epoch  # the record continues
        assert r.latest.lr == pytest.approx(0.05)


@pytest.mark.parametrize("setter", ["set_lr", "set_batch_size"])
def test_settings_sent_while_the_trainer_is_built_reach_it(setter):
    """μ or the batch size changed right after a load (the child is still building the Trainer) are applied to
    that Trainer when it is ready, not dropped because there was none yet."""
    with ProcessRunner(in_process=True) as r:
        r.load(LONG)
        getattr(r, setter)(0.05 if setter == "set_lr" else 7)
        assert r.wait()
        r.play()
        wait_for(lambda: r.latest is not None and r.latest.epoch >= 2, what="epochs")
        r.pause()
        assert r.wait()
        snap = r.latest
        if setter == "set_lr":
            assert snap.lr == pytest.approx(0.05)
        else:  # 280 training rows: 40 steps an epoch in batches of 7, 9 in the default 32
            assert snap.step >= 40 * snap.epoch
        r.stop()


@pytest.mark.parametrize("request_,d_in,fits", [
    (ViewRequest(extent=(-2, 2, -2, 2)), 2, True), (ViewRequest(extent=(-2, 2, -2, 2)), 13, False),
    (ViewRequest(extent=(-2, 2, 0, 0)), 1, True), (ViewRequest(extent=(-2, 2, 0, 0)), 2, False),
    (ViewRequest(rows=np.zeros((5, 13))), 13, True), (ViewRequest(rows=np.zeros((5, 13))), 30, False),
    (ViewRequest(confusion="test"), 30, True),
])
def test_a_view_request_fits_only_the_network_it_was_made_for(request_, d_in, fits):
    from bpcore.train import views

    assert views.fits(request_, d_in) is fits


def test_close_ends_a_training_child_and_a_busy_one():
    r = ProcessRunner()
    r.load(LONG)
    r.play()
    wait_for(lambda: r.latest is not None and r.latest.epoch >= 1, what="training")
    pid = r.pid
    r.close()
    assert gone(pid) and r.failure is None
    # one mini-batch of a wide network on many rows holds the child for seconds: close terminates it
    big = Experiment.from_dict({"data": {"source": "digits"}, "model": {"hidden": [4096, 4096]},
                                "training": {"batch_size": 2048, "epochs": 1_000_000}})
    r = ProcessRunner(threads=1)
    r.load(big)
    r.play()
    wait_for(lambda: r.latest is not None, timeout=60, what="the big network loaded")
    pid = r.pid
    t0 = time.monotonic()
    r.close(grace=0.2)
    assert gone(pid)
    assert time.monotonic() - t0 < 10  # bounded by grace + terminate, not by the mini-batch


def test_child_exits_when_its_parent_dies(tmp_path):
    script = textwrap.dedent("""
        import os, sys, time
        from bpcore.config import Experiment, TrainSpec
        from bpcore.train.runner import ProcessRunner
        if __name__ == "__main__":
            r = ProcessRunner()
            r.load(Experiment(training=TrainSpec(epochs=1_000_000)))
            r.play()
            while r.latest is None:
                time.sleep(0.01)
            print(r.pid, flush=True)
            os._exit(0)  # die without closing anything
    """)
    path = tmp_path / "parent.py"
    path.write_text(script)
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    pid = int(out.stdout.split()[0])
    wait_for(lambda: gone(pid), what="the orphaned child to exit")


class _Pipe:
    def __init__(self):
        self.sent = []

    def send(self, message):
        self.sent.append(message)


def test_snapshots_are_replaced_never_queued():
    import dataclasses

    from bpcore.train import Trainer

    base = Trainer(LONG).snapshot()
    snaps = [dataclasses.replace(base, epoch=k) for k in range(6)]
    child = _Child(_Pipe(), fixed_threads=True)
    threading.Thread(target=child.send_loop, daemon=True).start()
    child.publish(snaps[0])
    wait_for(lambda: len(child.conn.sent) == 1, what="the first snapshot")
    for k in range(1, 6):  # the parent has not taken snapshot 0: nothing more is sent, the newest is kept
        child.publish(snaps[k])
    time.sleep(0.1)
    assert len(child.conn.sent) == 1 and child.pending[0] is snaps[5]
    child.command("ack", [])
    wait_for(lambda: len(child.conn.sent) == 2, what="the newest snapshot")
    kind, (snap, rows), acked = child.conn.sent[-1]
    assert kind == "snapshot" and snap.epoch == 5 and child.pending is None and acked == 0
    assert rows[0] == 0 and len(snap.history["epoch"]) == 0  # the history travels as rows, not in the snapshot
    child.command("ack", [])
    time.sleep(0.1)
    assert len(child.conn.sent) == 2  # nothing new: nothing sent
    with child.wake:
        child.closing = True
        child.wake.notify_all()


def test_history_travels_as_new_rows_only():
    """Each snapshot carries only the history rows the parent lacks; the parent's record equals the child's."""
    with ProcessRunner(in_process=True) as r:
        r.load(Experiment(training=TrainSpec(epochs=40)))
        r.play()
        wait_for(lambda: r.latest is not None and r.latest.state == RunState.FINISHED, what="the run's end")
        assert r.wait()
        h = r.latest.history
        assert len(h["epoch"]) == 40 and list(h["epoch"]) == list(range(1, 41))
        assert r.latest.delta_history.shape == (40, 3) and not h["epoch"].flags.writeable
        # a new Trainer starts the record over: the parent does not append to the old one
        r.load(Experiment(training=TrainSpec(epochs=3)))
        r.step()
        assert r.wait() and list(r.latest.history["epoch"]) == [1.0]


@pytest.mark.parametrize("exitcode,words", [(-9, "SIGKILL (out of memory?)"), (-11, "SIGSEGV"), (1, "code 1"),
                                            (None, "stopped answering")])
def test_death_reasons(exitcode, words):
    assert words in _death(exitcode)


def test_stop_or_pause_right_after_play_is_never_lost():
    with ProcessRunner() as r:
        r.load(LONG)
        for _ in range(5):
            r.play()
            r.stop()  # arrives before the child's main thread starts the run: the claim makes it count
            wait_for(lambda: r.latest is not None and r.latest.state == RunState.STOPPED, what="stopped")
        r.play()
        r.pause()
        wait_for(lambda: r.latest is not None and r.latest.state == RunState.PAUSED, what="paused")
        r.stop()
        wait_for(lambda: r.latest.state == RunState.STOPPED, what="stopped from paused")
        assert r.error is None


@pytest.mark.parametrize("in_process", [False, True])
def test_commands_show_at_once_and_snapshots_follow(in_process):
    with ProcessRunner(in_process=in_process) as r:
        r.load(LONG)
        assert r.wait(), r.error  # the Trainer is built: the newest snapshot reflects the load
        assert r.state is RunState.IDLE and r.latest.epoch == 0
        r.play()
        assert r.state is RunState.RUNNING  # predicted from the command until a snapshot reflects it
        r.pause()
        assert r.state is RunState.PAUSED
        assert r.wait() and r.state is RunState.PAUSED
        held = r.latest
        time.sleep(0.2)
        assert r.latest.epoch == held.epoch and r.latest.state is RunState.PAUSED
        r.set_lr(0.07)
        assert r.wait()  # a command that changes no state is acknowledged too (the last snapshot again)
        r.step()  # ends the paused run; its interrupted epoch is the step
        assert r.wait() and r.state is RunState.STOPPED and r.latest.epoch == held.epoch + 1
        r.stop()  # nothing going on: no change expected
        assert r.wait() and r.state is RunState.STOPPED
        assert r.error is None and r.failure is None


def test_the_snapshot_carries_what_the_window_asked_for():
    with ProcessRunner(in_process=True) as r:
        r.load(LONG)
        rows = np.array([[0.0, 0.0], [1.0, -1.0], [-0.5, 0.5]])
        r.watch(ViewRequest(extent=(-2.0, 2.0, -1.0, 1.0), resolution=20, rows=rows, confusion="test"))
        r.step()
        assert r.wait()
        snap = r.latest
        v = snap.views
        assert v is not None and v.field.output.shape == (20, 20, 2) and v.predicted.shape == (3,)
        assert v.confusion.shape == (2, 2) and v.confusion.sum() == 60  # spirals: 15 % of 400 rows in test
        # the field belongs to the snapshot's own weights: recompute it from them
        from bpcore.inspect import field

        f = field([__import__("torch").from_numpy(np.array(W)) for W in snap.weights], ("tanh", "tanh"),
                  "softmax", (-2.0, 2.0, -1.0, 1.0), 20)
        assert np.abs(f.output - v.field.output).max() < 1e-6  # same float32 forward, another call


_EXIT_RIGHT_AFTER_CLOSE = textwrap.dedent("""
    import time
    from bpcore.config import DataSpec, Experiment
    from bpcore.train.runner import ProcessRunner
    from bpcore.train.views import ViewRequest
    with ProcessRunner(in_process=True) as r:
        r.load(Experiment(data=DataSpec(source="spirals")))
        r.watch(ViewRequest(extent=(-2, 2, -2, 2), resolution=100))
        r.play()
        while r.latest is None or r.latest.epoch < 3:
            time.sleep(0.005)
        r.stop()
""")


def test_thread_fallback_exits_cleanly_right_after_close():
    """The fallback's sender thread may be inside a torch call (the views) when close() returns: serve() joins
    it, else the interpreter's exit aborts the process ('terminate called without an active exception')."""
    for _ in range(4):
        proc = subprocess.run([sys.executable, "-c", _EXIT_RIGHT_AFTER_CLOSE], capture_output=True, text=True,
                              timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
        assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.parametrize("source,output", [("iris", "softmax"), ("sine", "identity")])
def test_view_rows_get_the_predicted_class_or_value(source, output):
    """The projected view's rows: the class each is predicted (classification) or the predicted value
    (regression, first output), from the snapshot's weights, to float32 rounding of the Trainer's own."""
    from bpcore import backprop as bp
    from bpcore.config import DataSpec
    from bpcore.train import Trainer, views

    t = Trainer(Experiment(data=DataSpec(source=source)))
    t.train_epoch()
    snap = t.snapshot(with_weights=True)
    x = t.parts["test"].x
    data = views.compute(ViewRequest(rows=x.numpy()), snap.weights, t.model.activations, t.output)
    z = t.net.logits(x).detach()
    if output == "softmax":  # the same class wherever the top two logits are not within float32 rounding
        top2 = z.topk(2, dim=1).values
        clear = (top2[:, 0] - top2[:, 1]).numpy() > 1e-5
        assert (data.predicted == z.argmax(1).numpy())[clear].all() and clear.mean() > 0.9
    else:
        assert np.allclose(data.predicted, bp.output(output, z)[:, 0].numpy(), rtol=1e-5, atol=1e-6)
