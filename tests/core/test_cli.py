"""bpcore.cli: train / eval / check, their JSON lines, exit codes and one-line errors."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import bpcore.cli
import bpcore.session
import bpcore.testing
from bpcore.cli import main
from bpcore.config import load_experiment
from bpcore.data.bundled import bundled_path
from bpcore.session import load_model
from bpcore.train import Trainer

ROOT = Path(__file__).resolve().parents[2]
TRAIN_KEYS = {"dataset", "epochs", "steps", "state", "reason", "train_loss", "val_loss", "test_loss", "seconds",
              "model"}


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # default model files land in a fresh folder


def _run(capsys, *argv: str) -> tuple[int, dict | None, str]:
    """Exit code, the JSON line on stdout (None if there is none) and stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert len(lines) <= 1, out
    return code, json.loads(lines[0]) if lines else None, err


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bpcore: error: "), err
    assert "Traceback" not in err
    return lines[0]


# ------------------------------------------------------------------------------------------------ train

def test_train_prints_one_json_line_and_writes_the_model(capsys, tmp_path):
    code, res, _ = _run(capsys, "train", "--dataset", "xor", "--epochs", "3", "--layers", "4", "--samples", "100")
    assert code == 0
    assert TRAIN_KEYS | {"train_accuracy", "test_accuracy"} <= set(res)
    assert (res["dataset"], res["epochs"], res["state"]) == ("xor", 3, "finished")
    assert res["steps"] == 3 * math.ceil(70 / 32)  # 70 training rows of 100, batch 32
    assert 0 < res["train_loss"] < 1 and 0 <= res["test_accuracy"] <= 1
    assert res["model"] == "xor.safetensors"
    session = load_model(tmp_path / "xor.safetensors")
    assert session.model.sizes == (2, 4, 2)
    stats = session.extra["standardise"]
    assert len(stats["mean"]) == len(stats["std"]) == 2 and all(s > 0 for s in stats["std"])
    assert session.extra["class_names"] == ["same sign", "opposite sign"]
    assert len(session.history["train_loss"]) == 3


def test_flags_override_the_experiment_file(capsys, tmp_path):
    (tmp_path / "exp.toml").write_text('[data]\nsource = "moons"\nn_samples = 60\n[model]\nhidden = [4]\n'
                                       '[training]\nlr = 0.05\nepochs = 7\noptimizer = "momentum"\n')
    code, res, _ = _run(capsys, "train", "exp.toml", "--epochs", "2", "--layers", "3,2", "--activation",
                        "relu,tanh", "--seed", "5", "--out", "m.safetensors", "--save-experiment", "ran.json")
    assert code == 0 and res["epochs"] == 2
    exp = load_experiment(tmp_path / "ran.json")
    assert exp.training.epochs == 2 and exp.training.lr == 0.05 and exp.training.optimizer == "momentum"
    assert exp.model.hidden == (3, 2) and exp.model.activation == ("relu", "tanh")
    assert (exp.data.source, exp.data.n_samples) == ("moons", 60)
    assert exp.data.seed == exp.model.init_seed == exp.training.seed == 5
    assert load_model(tmp_path / "m.safetensors").model.sizes == (2, 3, 2, 2)


def test_no_hidden_layer(capsys, tmp_path):
    code, _, _ = _run(capsys, "train", "--dataset", "gaussians", "--layers", "", "--epochs", "2")
    assert code == 0 and load_model(tmp_path / "gaussians.safetensors").model.sizes[1:-1] == ()


@pytest.mark.parametrize("flag,value,key", [
    ("--lr", "-1", "--lr: training.lr must be a number in [1e-10, 1e+10]"),
    ("--lr", "abc", "training.lr must be a number"),
    ("--epochs", "2.5", "training.epochs must be an integer"),
    ("--activation", "swish", "model.activation"),
    ("--layers", "8,x", "model.hidden"),
    ("--dataset", "nope", "data.source"),
    ("--optimizer", "adamw", "training.optimizer"),
    ("--split", "0.5,0.1,0.1", "data.split"),
    ("--task", "numbers", "data.task"),
])
def test_bad_flag_value_exits_2_naming_the_key(capsys, flag, value, key):
    code, res, err = _run(capsys, "train", "--dataset", "xor", "--epochs", "1", flag, value)
    assert code == 2 and res is None
    assert key in _one_error_line(err)
    assert not list(Path.cwd().iterdir())  # nothing written


@pytest.mark.parametrize("argv,needle", [
    (["--bogus", "1"], "unrecognized arguments: --bogus"),
    (["--threads", "0"], "argument --threads: run.threads must be an integer in [1, "),
    (["--out", "no/such/folder/m.safetensors", "--epochs", "1"], "folder no/such/folder does not exist"),
])
def test_usage_errors_are_one_line(capsys, argv, needle):
    code, res, err = _run(capsys, "train", "--dataset", "xor", *argv)
    assert code == 2 and res is None and needle in _one_error_line(err)


def test_bad_experiment_file_names_the_file_and_key(capsys, tmp_path):
    (tmp_path / "exp.toml").write_text("[training]\nlrr = 0.1\n")
    code, _, err = _run(capsys, "train", "exp.toml")
    line = _one_error_line(err)
    assert code == 2 and "exp.toml" in line and "training.lrr" in line and "did you mean 'lr'" in line


def test_bad_csv_exits_2_naming_row_and_column(capsys, tmp_path):
    (tmp_path / "bad.csv").write_text("x1,x2,label\n0.1,0.2,a\n0.3,abc,b\n0.5,0.6,a\n0.7,0.8,b\n")
    code, res, err = _run(capsys, "train", "--dataset", "bad.csv", "--epochs", "1")
    line = _one_error_line(err)
    assert code == 2 and res is None
    assert "bad.csv" in line and "row 3" in line and "column 2 'x2'" in line and "'abc'" in line


def test_diverging_run_exits_3_with_the_reason_and_finite_weights(capsys, tmp_path):
    code, res, err = _run(capsys, "train", "--dataset", "sine", "--layers", "8", "--activation", "relu",
                          "--lr", "1e8", "--batch-size", "10", "--epochs", "50", "--out", "div.safetensors")
    assert code == 3
    assert res["state"] == "diverged" and res["reason"].startswith("diverged at epoch")
    assert "step" in res["reason"] and res["reason"] in err
    model = load_model(tmp_path / "div.safetensors").model  # written, and loading checks every weight is finite
    assert all(bool(torch.isfinite(W).all()) for W in model.weights)
    assert res["epochs"] < 50 and "test_r2" in res


def test_ctrl_c_stops_cleanly_and_saves(capsys, tmp_path, monkeypatch):
    original = bpcore.cli._Progress.__call__

    pressed: list[int] = []

    def epoch_then_ctrl_c(self, snap):  # the CLI's per-epoch hook: independent of the Trainer's internals
        original(self, snap)
        if snap.epoch == 3 and not pressed:  # once: the final snapshot after the stop is at epoch 3 too
            pressed.append(snap.epoch)
            signal.raise_signal(signal.SIGINT)  # as if the user pressed Ctrl+C at the end of epoch 3

    monkeypatch.setattr(bpcore.cli._Progress, "__call__", epoch_then_ctrl_c)
    code, res, _ = _run(capsys, "train", "--dataset", "xor", "--epochs", "1000", "--samples", "60")
    assert code == 0
    assert (res["state"], res["epochs"], res["reason"]) == ("stopped", 3, "stopped by the user")
    assert load_model(tmp_path / "xor.safetensors").extra["epoch"] == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # handler restored


def test_checkpoint_every_writes_the_model_during_training(capsys, monkeypatch):
    saved: list[int] = []
    original = bpcore.session.save_session

    def record(path, trainer, extra=None):
        saved.append(trainer.epoch)
        original(path, trainer, extra)

    monkeypatch.setattr(bpcore.session, "save_session", record)
    code, _, _ = _run(capsys, "train", "--dataset", "xor", "--epochs", "5", "--checkpoint-every", "2",
                      "--samples", "60")
    assert code == 0 and saved == [2, 4, 5]  # every 2 epochs, then at the end


def test_python_m_bpcore_entry_point(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "bpcore", "train", "--dataset", "xor", "--epochs", "2",
                           "--samples", "60"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["epochs"] == 2
    assert (tmp_path / "xor.safetensors").is_file()


# ------------------------------------------------------------------------------------------------- eval

@pytest.mark.parametrize("data,flags,score", [
    (str(bundled_path("iris")), ["--layers", "6", "--epochs", "5"], "accuracy"),
    ("sine", ["--layers", "6", "--epochs", "5", "--samples", "120"], "r2"),
])
def test_eval_reproduces_the_test_metrics(capsys, tmp_path, data, flags, score):
    code, res, _ = _run(capsys, "train", "--dataset", data, *flags, "--out", "m.safetensors")
    assert code == 0
    code, ev, _ = _run(capsys, "eval", "m.safetensors", "--data", data, "--part", "test")
    assert code == 0 and ev["part"] == "test"
    assert (ev["loss"], ev[score]) == (res["test_loss"], res[f"test_{score}"])  # same rows, same ops: exact
    code, ev_all, _ = _run(capsys, "eval", "m.safetensors", "--data", data)
    assert code == 0 and ev_all["rows"] == (150 if score == "accuracy" else 120)
    assert ev["rows"] == len(Trainer(load_model(tmp_path / "m.safetensors").experiment).parts["test"])
    if score == "accuracy":
        confusion = torch.tensor(ev_all["confusion"])
        assert confusion.shape == (3, 3) and int(confusion.sum()) == 150
        assert float(confusion.diagonal().sum()) / 150 == pytest.approx(ev_all["accuracy"])
        assert ev_all["class_names"] == ["setosa", "versicolor", "virginica"]


def test_eval_maps_class_names_of_a_partial_file(capsys, tmp_path):
    rows = (tmp_path / "full.csv")
    rows.write_text(bundled_path("iris").read_text())
    assert _run(capsys, "train", "--dataset", "full.csv", "--epochs", "20", "--out", "m.safetensors")[0] == 0
    lines = rows.read_text().splitlines()
    (tmp_path / "part.csv").write_text("\n".join([lines[0], *(ln for ln in lines[1:] if "setosa" not in ln)]))
    code, ev, _ = _run(capsys, "eval", "m.safetensors", "--data", "part.csv")
    assert code == 0 and ev["rows"] == 100
    confusion = torch.tensor(ev["confusion"])
    assert int(confusion[0].sum()) == 0 and int(confusion[1:].sum()) == 100  # ids stay in training order


def test_eval_feature_count_mismatch_is_a_clear_error(capsys):
    assert _run(capsys, "train", "--dataset", "xor", "--epochs", "1", "--out", "m.safetensors")[0] == 0
    code, _, err = _run(capsys, "eval", "m.safetensors", "--data", str(bundled_path("iris")))
    line = _one_error_line(err)
    assert code == 2 and "4 feature columns" in line and "trained on 2" in line


def test_eval_missing_model_file(capsys):
    code, _, err = _run(capsys, "eval", "nothing.safetensors", "--data", "xor")
    assert code == 2 and "nothing.safetensors" in _one_error_line(err) and "not found" in err


# ------------------------------------------------------------------------------------------------ check

def test_check_prints_every_function_ok(capsys):
    code = main(["check", "--device", "cpu"])
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    reports = [ln for ln in out if "gradcheck" in ln and not ln.startswith(" ")]
    assert len(reports) == 15 and all(ln.rstrip().endswith(" OK") for ln in reports)
    assert out[-1] == "15/15 Functions OK on cpu"


def test_check_exits_1_when_a_function_fails(capsys, monkeypatch):
    real = bpcore.testing.check_all

    def one_broken(device):
        reports = real(device)
        return [*reports[:-1], bpcore.testing.CheckReport("broken", False, None, None)]

    monkeypatch.setattr(bpcore.testing, "check_all", one_broken)
    assert main(["check", "--device", "cpu"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "14/15 Functions OK on cpu"
