"""Trainer.evaluate_all: the three parts' losses and scores in one pass, equal to evaluate() per part."""

from __future__ import annotations

import math

import pytest

import bpcore.train.trainer as trainer_module
from bpcore.config import DataSpec, Experiment, TrainSpec
from bpcore.errors import ConfigError
from bpcore.train import Trainer


@pytest.mark.parametrize("join", [True, False])
@pytest.mark.parametrize("source,split", [("iris", (0.7, 0.15, 0.15)), ("spirals", (0.8, 0.0, 0.2)),
                                          ("sine", (0.7, 0.15, 0.15))])
def test_evaluate_all_equals_evaluate_per_part(join, source, split, monkeypatch):
    """One forward pass over the joined parts (small data) or part by part (large): the same numbers as
    evaluate(), to float64 rounding (the joined matrix product may sum in another order: 1e-12 relative)."""
    if not join:
        monkeypatch.setattr(trainer_module, "JOIN_ELEMENTS", 0)
    t = Trainer(Experiment(data=DataSpec(source=source, split=split), training=TrainSpec(dtype="float64", epochs=3)))
    t.run()
    both = t.evaluate_all()
    for part in ("train", "val", "test"):
        one = t.evaluate(part)
        for key in ("loss", "score"):
            if math.isnan(one[key]):
                assert math.isnan(both[part][key])
            else:
                assert both[part][key] == pytest.approx(one[key], rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("every,epochs,measured", [(1, 5, [1, 2, 3, 4, 5]), (2, 5, [2, 4, 5]), (10, 5, [5]),
                                                   (3, 9, [3, 6, 9])])
def test_eval_every_measures_every_nth_epoch_and_the_last(every, epochs, measured):
    """training.eval_every N: losses and scores at epochs N, 2N, … and the last; NaN (a gap in the curves) in
    between; the weights train exactly as with N = 1 (evaluation does not touch them)."""
    def run(n):
        t = Trainer(Experiment(data=DataSpec(source="iris"), training=TrainSpec(epochs=epochs, eval_every=n,
                                                                                dtype="float64")))
        t.run()
        return t

    t, every_epoch = run(every), run(1)
    loss = t.history.views()[0]["train_loss"]
    assert [e + 1 for e in range(epochs) if not math.isnan(loss[e])] == measured
    assert (t.net.flat - every_epoch.net.flat).abs().max() == 0  # the same steps: nothing else differs
    last = every_epoch.history.views()[0]["train_loss"][-1]
    assert loss[-1] == pytest.approx(last, rel=1e-12)


def test_eval_every_still_stops_a_diverging_run():
    """Between measured epochs the divergence test looks at the weights and the gradient alone."""
    t = Trainer(Experiment(data=DataSpec(source="spirals"), training=TrainSpec(epochs=50, lr=1e9, eval_every=7)))
    snap = t.run()
    assert snap.state == "diverged" and "diverged at epoch 1, step 1:" in snap.reason


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3"])
def test_eval_every_out_of_range_is_refused(bad):
    with pytest.raises(ConfigError, match=r"training\.eval_every"):
        TrainSpec(eval_every=bad)


@pytest.mark.parametrize("source", ["iris", "spirals", "sine"])
def test_an_unmeasured_epoch_tests_the_last_batch_loss_before_its_update(source, monkeypatch):
    """Between measured epochs the divergence test gets the last mini-batch's J as its step computed it, from
    the weights the step started from: the same number as a forward pass of those weights on those rows."""
    t = Trainer(Experiment(data=DataSpec(source=source),
                           training=TrainSpec(epochs=4, eval_every=4, dtype="float64", batch_size=16)))
    seen, before = [], []
    real_step, real_check = t.net.step, type(t.guard).check

    def step(inputs, target, deltas=None, loss=False):
        if loss:
            before.append((t.net.flat.clone(), inputs, target))
        return real_step(inputs, target, deltas, loss)

    def check(guard, net, train_loss, extremes=None):
        seen.append(train_loss)
        return real_check(guard, net, train_loss, extremes)

    monkeypatch.setattr(t.net, "step", step)
    monkeypatch.setattr(type(t.guard), "check", check)
    t.run()
    assert len(before) == 3 and len(seen) == 4  # epochs 1–3 unmeasured, epoch 4 measured on all rows
    for (flat, x, y), loss in zip(before, seen, strict=False):
        now = t.net.flat.clone()
        t.net.flat.copy_(flat)
        want = float(t.net.loss(t.net.logits(x), y))
        t.net.flat.copy_(now)
        assert loss == pytest.approx(want, rel=1e-12, abs=1e-15)  # Output.rough_loss: log softmax's digits


@pytest.mark.parametrize("source,hidden", [("iris", (16,)), ("spirals", (8, 8)), ("sine", (6,))])
def test_mean_delta_history_is_the_last_batchs_mean_abs_delta_per_layer(source, hidden, monkeypatch):
    """The δ curve's numbers: each epoch's row holds mean |δ^(l)| over the last mini-batch, layer 1 first (read
    as Σ|δ| / n with one foreach norm: float32 sums in another order than .abs().mean(), 1e-6 relative)."""
    from bpcore.config import ModelSpec

    t = Trainer(Experiment(data=DataSpec(source=source), model=ModelSpec(hidden=hidden),
                           training=TrainSpec(epochs=3, batch_size=16)))
    seen = []
    real_step = t.net.step

    def step(inputs, target, deltas=None, loss=False):
        J = real_step(inputs, target, deltas, loss)
        if deltas is not None:
            seen.append([float(d.double().abs().mean()) for d in reversed(deltas)])
        return J

    monkeypatch.setattr(t.net, "step", step)
    t.run()
    _, delta = t.history.views()
    assert delta.shape == (3, len(hidden) + 1) and len(seen) == 3
    for row, want in zip(delta, seen, strict=True):
        assert row == pytest.approx(want, rel=1e-6)
