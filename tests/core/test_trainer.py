"""bpcore.train.Trainer: exact gradients, optimizers, schedules, stopping, divergence, threads."""

from __future__ import annotations

import itertools
import math
import threading
import time

import numpy as np
import pytest
import torch

from bpcore.config import DataSpec, Experiment, ModelSpec, TrainSpec
from bpcore.nn import MLP
from bpcore.train import RunState, Trainer


def _exp(source="xor", hidden=(8,), epochs=20, activation="tanh", **training) -> Experiment:
    return Experiment(data=DataSpec(source=source, n_samples=200),
                      model=ModelSpec(hidden=hidden, activation=activation),
                      training=TrainSpec(epochs=epochs, **training))


def _autograd_grads(trainer: Trainer, x1, target, l2=0.0):
    """Gradients of the same weights by torch autograd on torch.nn (an independent path)."""
    seq = trainer.model.to_torch()
    z = seq(x1[:, :-1])
    loss = {"softmax": torch.nn.functional.cross_entropy,
            "sigmoid": torch.nn.functional.binary_cross_entropy_with_logits,
            "identity": torch.nn.functional.mse_loss}[trainer.output](z, target)
    lins = [m for m in seq if isinstance(m, torch.nn.Linear)]
    if l2:
        loss = loss + 0.5 * l2 * sum((m.weight ** 2).sum() for m in lins)
    loss.backward()
    return [torch.cat([m.weight.grad.mT, m.bias.grad[None]]) for m in lins]


@pytest.mark.parametrize("source,hidden,acts", [("xor", (6, 5), "tanh"), ("iris", (7,), "relu"),
                                                ("sine", (9,), "sigmoid")])
def test_graph_free_step_equals_autograd(source, hidden, acts):
    tr = Trainer(_exp(source, hidden, activation=acts, dtype="float64"))
    p = tr.parts["train"]
    x1, target = p.x1[:16], p.target[:16]
    with torch.no_grad():
        tr.net.step(x1, target)
    for ours, ref in zip(tr.net.grads, _autograd_grads(tr, x1, target), strict=True):
        assert (ours - ref).abs().max() < 1e-12


def test_sigmoid_output_gradients_equal_autograd():
    tr = Trainer(Experiment(data=DataSpec(source="moons", n_samples=100),
                            model=ModelSpec(hidden=(5,), output="sigmoid"), training=TrainSpec(dtype="float64")))
    p = tr.parts["train"]
    with torch.no_grad():
        tr.net.step(p.x1, p.target)
    for ours, ref in zip(tr.net.grads, _autograd_grads(tr, p.x1, p.target), strict=True):
        assert (ours - ref).abs().max() < 1e-12


def test_l2_gradient_spares_the_biases():
    tr = Trainer(_exp(dtype="float64", l2=0.1))
    p = tr.parts["train"]
    with torch.no_grad():
        tr.net.step(p.x1, p.target)
        tr.net.flat_grad.addcmul_(tr.net.flat, tr.net.weight_mask, value=0.1)
    for ours, ref in zip(tr.net.grads, _autograd_grads(tr, p.x1, p.target, l2=0.1), strict=True):
        assert (ours - ref).abs().max() < 1e-12


def test_model_shares_the_flat_buffer():
    tr = Trainer(_exp())
    tr.train_epoch()
    for W, layer in zip(tr.net.weights, tr.model.layers, strict=True):
        assert layer.weight.data_ptr() == W.data_ptr()
    x = torch.as_tensor(tr.split.test.X, dtype=torch.float32)
    assert torch.allclose(tr.model(x), tr.net.logits(tr.parts["test"].x1))


def test_training_learns_and_records_history():
    tr = Trainer(_exp("xor", (8,), epochs=150, lr=0.5))
    snap = tr.run()
    assert snap.state is RunState.FINISHED and snap.epoch == 150
    h = snap.history
    assert len(h["train_loss"]) == 150 and h["train_loss"][-1] < 0.5 * h["train_loss"][0]
    assert snap.metrics["test_score"] >= 0.9
    assert snap.delta_history.shape == (150, 2) and np.all(snap.delta_history > 0)
    assert snap.grad_norms.shape == (2,)
    assert "epoch limit" in snap.reason


def test_same_seed_gives_identical_curves_bit_for_bit():
    a = Trainer(_exp("spirals", (8, 8), epochs=15, optimizer="adam", lr=0.01)).run().history
    b = Trainer(_exp("spirals", (8, 8), epochs=15, optimizer="adam", lr=0.01)).run().history
    c = Trainer(_exp("spirals", (8, 8), epochs=15, optimizer="adam", lr=0.01, seed=1)).run().history
    for k in ("train_loss", "val_loss", "test_loss"):
        assert np.array_equal(a[k], b[k])
    assert not np.array_equal(a["train_loss"], c["train_loss"])


@pytest.mark.parametrize("name,kwargs", [("momentum", {"momentum": 0.9}),
                                         ("nesterov", {"momentum": 0.9, "nesterov": True}),
                                         ("adam", {})])
def test_optimizers_match_torch_optim_on_the_module(name, kwargs):
    exp = _exp("xor", (6,), optimizer=name, lr=0.05, batch_size=500, dtype="float64")
    tr = Trainer(exp)
    ref = MLP(tr.model.sizes, tr.model.activations, tr.model.output, dtype=torch.float64)
    ref.load_state_dict(tr.model.state_dict())
    opt = (torch.optim.Adam(ref.parameters(), lr=0.05) if name == "adam"
           else torch.optim.SGD(ref.parameters(), lr=0.05, **kwargs))
    p = tr.parts["train"]
    for _ in range(3):
        tr.train_epoch()  # one full batch per epoch, so the order of rows does not matter
        opt.zero_grad()
        ref.loss(ref(p.x1[:, :-1]), p.target).backward()
        opt.step()
    for a, b in zip(tr.model.weights, ref.weights, strict=True):
        assert (a - b).abs().max() < 1e-12


def test_learning_rate_schedules():
    step = Trainer(_exp(lr=0.4, schedule="step", step_size=10, gamma=0.5, epochs=100))
    assert [step.lr_at(e) for e in (0, 9, 10, 25)] == [0.4, 0.4, 0.2, 0.1]
    cos = Trainer(_exp(lr=0.4, schedule="cosine", epochs=100))
    assert cos.lr_at(0) == pytest.approx(0.4) and cos.lr_at(50) == pytest.approx(0.2)
    assert cos.lr_at(100) == pytest.approx(0.0, abs=1e-12)


def test_loss_goal_and_min_gradient_stop():
    snap = Trainer(_exp("xor", (8,), epochs=2000, lr=0.5, loss_goal=0.3)).run()
    assert snap.state is RunState.FINISHED and "loss reached the goal" in snap.reason
    assert snap.history["train_loss"][-1] <= 0.3 < snap.history["train_loss"][-2]
    crit = {c.name: c for c in snap.criteria}
    assert crit["loss goal"].met and crit["loss goal"].limit == 0.3 and not crit["epochs"].met
    snap = Trainer(_exp("gaussians", (4,), epochs=5000, lr=0.5, min_grad=0.05)).run()
    assert "gradient norm fell below" in snap.reason and snap.history["grad_norm"][-1] < 0.05


def test_validation_patience_restores_best_weights():
    tr = Trainer(_exp("spirals", (16, 16), epochs=3000, lr=2.0, patience=5))
    snap = tr.run()
    assert snap.state is RunState.FINISHED and "did not improve for 5 epochs" in snap.reason
    best = snap.best_epoch
    assert snap.epoch == best + 5
    assert tr.evaluate("val")["loss"] == pytest.approx(snap.history["val_loss"][best - 1], rel=1e-6)


def test_time_limit_stops():
    snap = Trainer(_exp("spirals", (8, 8), epochs=10**7, time_limit=0.3)).run()
    assert "time limit" in snap.reason and 0.3 <= snap.elapsed < 5


def test_divergence_is_reported_and_finite_weights_kept():
    tr = Trainer(_exp("sine", (8,), epochs=50, activation="relu", lr=1e8, batch_size=10))
    snap = tr.run()
    assert snap.state is RunState.DIVERGED
    assert snap.reason.startswith("diverged at epoch") and "step" in snap.reason and "too large" in snap.reason
    assert bool(torch.isfinite(tr.net.flat).all())


def test_gradient_clipping_bounds_the_update():
    tr = Trainer(_exp(lr=1.0, clip_norm=0.01))
    before = tr.net.flat.clone()
    p = tr.parts["train"]
    with torch.no_grad():
        tr.net.step(p.x1[:32], p.target[:32])
        tr._update(1.0, tr.experiment.training)
    assert float(torch.linalg.vector_norm(tr.net.flat - before)) <= 0.01 + 1e-6


def _wait_until(condition, timeout: float = 20.0) -> None:
    """Poll until condition() holds; fail after `timeout` seconds (a bound on a hang, not a speed claim)."""
    deadline = time.perf_counter() + timeout
    while not condition():
        assert time.perf_counter() < deadline, "condition not reached"
        time.sleep(0.002)


def test_pause_resume_stop_from_another_thread():
    tr = Trainer(_exp("spirals", (8, 8), epochs=10**7))
    snaps = []
    tr.begin()  # the run is claimed here, so the commands below act on it even before the thread runs
    th = threading.Thread(target=lambda: snaps.append(tr.run()))
    th.start()
    _wait_until(lambda: tr.epoch >= 2)
    tr.pause()
    assert tr.state is RunState.PAUSED  # before pause() returned
    at = tr.epoch
    time.sleep(0.2)  # time for a pause that does not hold to show: an epoch here takes about a millisecond
    assert tr.epoch <= at + 1 and tr.state is RunState.PAUSED  # at most the epoch in progress completes
    tr.set_lr(0.05)
    assert tr.resume() and tr.state is RunState.RUNNING
    _wait_until(lambda: tr.epoch >= at + 3)
    assert tr.base_lr == 0.05
    tr.stop()
    th.join(10)
    assert not th.is_alive() and snaps[0].state is RunState.STOPPED


def test_snapshots_are_immutable_copies():
    tr = Trainer(_exp(epochs=3))
    got = []
    tr.run(got.append, with_weights=True)
    snap = got[0]
    with pytest.raises(ValueError):
        snap.history["train_loss"][0] = 1.0
    with pytest.raises(ValueError):
        snap.weights[0][0, 0] = 1.0
    assert snap.weights[0].shape == tuple(tr.net.weights[0].shape)
    assert not np.array_equal(snap.weights[0], tr.net.weights[0].numpy())  # training moved on
    assert [s.epoch for s in got] == [1, 2, 3] and got[-1].finished and not got[0].finished


def test_batch_size_change_and_validation():
    tr = Trainer(_exp())
    tr.set_batch_size(7)
    tr.train_epoch()
    assert tr.batch_size == 7 and tr.step_count == math.ceil(len(tr.parts["train"]) / 7)
    with pytest.raises(Exception, match="batch_size"):
        tr.set_batch_size(0)


def test_confusion_matrix_counts_the_test_part():
    tr = Trainer(_exp("iris", (8,), epochs=30))
    tr.run()
    C = tr.confusion("test")
    assert C.shape == (3, 3) and C.sum() == len(tr.parts["test"])
    assert np.trace(C) / C.sum() == pytest.approx(tr.evaluate("test")["score"])


def test_training_continues_after_a_stopped_run():
    tr = Trainer(_exp(epochs=100))
    assert tr.run(lambda snap: snap.finished or tr.stop()).state is RunState.STOPPED and tr.epoch == 1
    tr.train_epoch()
    assert tr.epoch == 2


def test_restore_progress_continues_the_curves():
    from bpcore.train import restore_progress

    old = Trainer(_exp(epochs=6, patience=50))
    old.run()
    history, delta = old.history.views()
    new = Trainer(_exp(epochs=10, patience=50), model=old.model)
    restore_progress(new, history, epoch=old.epoch, step=old.step_count, delta_history=delta)
    assert (new.epoch, new.step_count, new.best_epoch) == (6, old.step_count, old.best_epoch)
    new.run()
    h = new.snapshot().history
    assert np.array_equal(h["train_loss"][:6], history["train_loss"]) and list(h["epoch"]) == list(range(1, 11))


def test_snapshots_within_epochs_follow_the_steps():
    """A run asked for snapshots within epochs (the window's big networks: long epochs) publishes between
    mini-batches too: steps not on an epoch boundary, weights that moved, steps never going back."""
    exp = Experiment(data=DataSpec(source="spirals", n_samples=2000),
                     training=TrainSpec(epochs=3, batch_size=8))
    tr = Trainer(exp)
    per_epoch = -(-len(tr.parts["train"]) // 8)
    snaps = []
    tr.run(snaps.append, snapshot_interval=1e-4, with_weights=True, within_epochs=True)
    steps = [s.step for s in snaps]
    assert steps == sorted(steps) and steps[-1] == 3 * per_epoch
    inside = [s for s in snaps if s.step % per_epoch]
    assert inside, "no snapshot between two epochs' ends"
    s = inside[0]
    assert s.epoch == s.step // per_epoch  # the epochs counted are the finished ones
    assert len(s.history["epoch"]) == s.epoch  # history rows belong to finished epochs only
    assert any((a.weights[0] != b.weights[0]).any() for a, b in itertools.pairwise(inside))
