"""Session files keep the whole record of a run: history, mean |δ| per layer, best epoch, epoch and step; reopened,
the best epoch and the stopping criteria are what the trainer had (bpcore.session + restore_progress)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import safetensors
import safetensors.torch

from bpcore.config import Experiment
from bpcore.errors import ModelFileError
from bpcore.files import load_model_file, save_model_file
from bpcore.session import load_model, save_model, save_session
from bpcore.train import Trainer, restore_progress


def _trained(epochs: int = 12, **training) -> Trainer:
    exp = Experiment().replace(data={"n_samples": 200}, training={"epochs": epochs, "lr": 0.2, **training})
    trainer = Trainer(exp)
    trainer.run()
    return trainer


def _reopened(path, experiment: Experiment | None = None) -> Trainer:
    session = load_model(path)
    trainer = Trainer(experiment or session.experiment, model=session.model)
    restore_progress(trainer, session.history, **session.progress)
    return trainer


def test_session_keeps_delta_history_best_epoch_and_criteria(tmp_path):
    # a loss goal and a minimum gradient make every criterion carry a number; patience gives a best epoch
    t = _trained(12, loss_goal=1e-4, min_grad=1e-6, patience=50, time_limit=3600.0)
    before = t.snapshot()
    assert before.best_epoch is not None and np.isfinite(before.delta_history).all()
    path = tmp_path / "run.safetensors"
    save_session(path, t)
    extra = load_model_file(path).extra
    assert len(extra["delta_history"]) == 12 and len(extra["delta_history"][0]) == t.net.n_layers
    assert extra["best_epoch"] == before.best_epoch

    after = _reopened(path).snapshot()
    # JSON numbers are Python's float repr, which reads back to the same double: exact copies
    np.testing.assert_array_equal(after.delta_history, before.delta_history)
    assert after.best_epoch == before.best_epoch and (after.epoch, after.step) == (before.epoch, before.step)
    assert [(c.name, c.limit, c.met) for c in after.criteria] == [(c.name, c.limit, c.met) for c in before.criteria]
    for a, b in zip(after.criteria, before.criteria, strict=True):
        # the same recorded numbers (time: the elapsed seconds of the last epoch's row, which is t.elapsed)
        assert a.value == pytest.approx(b.value, rel=1e-12, abs=0), a.name


def test_session_keeps_the_last_gradients_exactly(tmp_path):
    t = _trained(5)
    before = t.snapshot(with_weights=True)
    assert all(np.abs(G).max() > 0 for G in before.grads)
    path = tmp_path / "run.safetensors"
    save_session(path, t)
    after = _reopened(path).snapshot(with_weights=True)
    for a, b in zip(after.grads, before.grads, strict=True):
        np.testing.assert_array_equal(a, b)  # safetensors stores the bytes: exact copies
    # the same norms of the same tensors (torch.linalg.vector_norm, the same kernel on the same numbers)
    np.testing.assert_allclose(after.grad_norms, before.grad_norms, rtol=1e-12, atol=0)
    exported = tmp_path / "model.safetensors"
    save_model(exported, t.model)  # a model file for eval holds no gradients
    assert load_model_file(exported).grads is None


def test_half_a_set_of_gradient_tensors_is_refused(tmp_path):
    t = _trained(2)
    path = tmp_path / "odd.safetensors"
    save_session(path, t)
    f = load_model_file(path)
    tensors = {f"W{l}": W for l, W in enumerate(f.weights)} | {"G0": f.grads[0]}
    safetensors.torch.save_file(tensors, str(path), metadata=safetensors.safe_open(str(path), "pt").metadata())
    with pytest.raises(ModelFileError, match=r"odd\.safetensors: holds tensors \['G0', 'W0', 'W1', 'W2'\]"):
        load_model(path)


def test_finished_run_reopens_with_its_criterion_met_and_a_new_limit_shows_at_once(tmp_path):
    t = _trained(6)
    path = tmp_path / "run.safetensors"
    save_session(path, t)
    met = {c.name: c.met for c in _reopened(path).snapshot().criteria}
    assert met["epochs"] and not any(v for k, v in met.items() if k != "epochs")
    longer = load_model(path).experiment.replace(training={"epochs": 20})
    epochs = next(c for c in _reopened(path, longer).snapshot().criteria if c.name == "epochs")
    assert (epochs.value, epochs.limit, epochs.met) == (6, 20, False)


def test_recorded_best_epoch_wins_over_a_tie(tmp_path):
    t = _trained(8)
    history, delta = t.history.views()
    val = np.array(history["val_loss"])
    val[5] = val[2] = val.min()  # a tie: the trainer keeps the first; the record may say the later one
    rec = Trainer(t.experiment, model=t.model)
    restore_progress(rec, {**history, "val_loss": val}, delta_history=delta, best_epoch=6)
    assert rec.best_epoch == 6 and rec.best_val == val[5]
    rec = Trainer(t.experiment, model=t.model)
    restore_progress(rec, {**history, "val_loss": val}, delta_history=delta)
    assert rec.best_epoch == 3


def test_file_without_delta_history_still_opens(tmp_path):
    t = _trained(4)
    path = tmp_path / "old.safetensors"
    save_session(path, t)
    f = load_model_file(path)
    extra = {k: v for k, v in f.extra.items() if k not in ("delta_history", "best_epoch")}  # an older file
    save_model_file(path, f.weights, f.sizes, f.activations, f.output, f.experiment, extra)
    after = _reopened(path).snapshot()
    assert after.epoch == 4 and after.delta_history.shape == (4, t.net.n_layers)
    assert np.isnan(after.delta_history).all() and after.best_epoch == t.best_epoch


@pytest.mark.parametrize("edit, message", [
    (lambda e: e["delta_history"].pop(), "extra.delta_history holds 4 epochs but extra.history holds 5"),
    (lambda e: e["delta_history"][2].pop(), "extra.delta_history[2] must be a list of 3 numbers"),
    (lambda e: e["delta_history"][1].__setitem__(0, "x"), "extra.delta_history[1][0] must be a number"),
    (lambda e: e.__setitem__("delta_history", {}), "extra.delta_history must be a list"),
    (lambda e: e.__setitem__("best_epoch", -1), "extra.best_epoch must be a whole number"),
])
def test_bad_record_names_the_key(tmp_path, edit, message):
    t = _trained(5)
    path = tmp_path / "bad.safetensors"
    save_session(path, t)
    f = load_model_file(path)
    extra = json.loads(json.dumps(f.extra))
    edit(extra)
    save_model_file(path, f.weights, f.sizes, f.activations, f.output, f.experiment, extra)
    with pytest.raises(ModelFileError, match=r"bad\.safetensors") as err:
        load_model(path)
    assert message in str(err.value)
