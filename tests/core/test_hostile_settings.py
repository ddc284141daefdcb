"""Hostile settings (issue 9, items 3, 6, 8 and their rows of 10): every number a user types has one range in
bpcore.config.LIMITS, shared by experiment files, config.validate (live setters), CLI flags and main.py; runs
that cannot fit in memory are refused before allocating; empty split parts work for regression; faults during
a run keep the work; the CLI's exit codes tell a crash, a user error, a divergence and an interrupt apart."""

from __future__ import annotations

import errno
import json
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bpcore.files
from bpcore.cli import EXIT_CRASH, EXIT_DIVERGED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USER_ERROR, main
from bpcore.config import LIMITS, DataSpec, Experiment, ModelSpec, TrainSpec, validate
from bpcore.data import Dataset
from bpcore.errors import ConfigError, DataError
from bpcore.session import load_model
from bpcore.train import Trainer, setup

BIG = 10**5000  # str() refuses ints this long: messages must still be one short line


def _id(v: object) -> str:
    if isinstance(v, int) and v.bit_length() > 100:
        return f"int of {v.bit_length()} bits"
    return str(v)[:24]

# ------------------------------------------------------------------------------------------ the ranges

# (dotted key, value, the start of the message after the key)
BAD_SETTINGS = [
    ("data.n_samples", 3, "must be an integer in [4, "),
    ("data.n_samples", 10**12, "must be an integer in [4, "),
    ("data.n_samples", 2.7, "must be an integer, got 2.7 (float)"),
    ("data.noise", 1e300, "must be a number in [0, 1000]"),
    ("data.noise", -0.1, "must be a number in [0, 1000]"),
    ("data.seed", 2**64, "must be an integer in [0, 9223372036854775807], got 18446744073709551616"),
    ("data.seed", -1, "must be an integer in [0, "),
    ("data.seed", BIG, "must be an integer in [0, 9223372036854775807], got an integer of about 5001 digits"),
    ("model.hidden", (10**7,), "must be a list, each item an integer in [1, 1000000]"),
    ("model.hidden", (8, 0), "must be a list, each item an integer in [1, "),
    ("model.hidden", (4,) * 101, "must be a list of at most 100 layer sizes"),
    ("model.init_seed", 2**63, "must be an integer in [0, 9223372036854775807]"),
    ("training.lr", 1e300, "must be a number in [1e-10, 1e+10], got 1e+300"),
    ("training.lr", 0.0, "must be a number in [1e-10, 1e+10]"),
    ("training.lr", -0.0, "must be a number in [1e-10, 1e+10]"),
    ("training.lr", math.inf, "must be a finite number, got inf"),
    ("training.lr", math.nan, "must be a finite number, got nan"),
    ("training.lr", 10**400, "must be a finite number, got an integer of about 401 digits"),
    ("training.lr", "abc", "must be a number, got 'abc' (str)"),
    ("training.momentum", 1.0, "must be a number in [0, 1)"),
    ("training.l2", 1e300, "must be a number in [0, 1e+10]"),
    ("training.l2", -1e-9, "must be a number in [0, 1e+10]"),
    ("training.batch_size", 2.7, "must be an integer, got 2.7 (float)"),
    ("training.batch_size", "abc", "must be an integer, got 'abc' (str)"),
    ("training.batch_size", 0, "must be an integer in [1, 10000000]"),
    ("training.batch_size", 10**8, "must be an integer in [1, 10000000]"),
    ("training.epochs", 0, "must be an integer in [1, 1000000000]"),
    ("training.epochs", 2**40, "must be an integer in [1, 1000000000]"),
    ("training.step_size", 0, "must be an integer in [1, 1000000000]"),
    ("training.gamma", 0.0, "must be a number in (0, 1]"),
    ("training.time_limit", 1e300, "must be a number in (0, 1e+09] (or unset)"),
    ("training.loss_goal", 1e300, "must be a number in [0, 1e+30] (or unset)"),
    ("training.min_grad", 0.0, "must be a number in (0, 1e+30] (or unset)"),
    ("training.patience", 0, "must be an integer in [1, 1000000000] (or unset)"),
    ("training.clip_norm", -1.0, "must be a number in (0, 1e+30] (or unset)"),
    ("training.seed", 2**64 + 5, "must be an integer in [0, 9223372036854775807]"),
    ("training.checkpoint_every", 0, "must be an integer in [1, 1000000000] (or unset)"),
    ("training.eval_every", 0, "must be an integer in [1, 1000000000]"),
    ("training.device", "cuda:99999999999999999999", "must be 'cpu', 'cuda' or 'cuda:N'"),
    ("run.threads", 99999, "must be an integer in [1, "),
    ("run.threads", 0, "must be an integer in [1, "),
    ("run.threads", "4", "must be an integer, got '4' (str)"),
    ("run.pace", 0.0, "must be a number in [0.1, 1000]"),
    ("run.pace", 1e4, "must be a number in [0.1, 1000]"),
    ("run.pace", float("nan"), "must be a number in [0.1, 1000]"),
    ("window.width", 100000, "must be an integer in [200, 8192]"),
    ("window.height", True, "must be an integer, got True (bool)"),
]


@pytest.mark.parametrize(("key", "value", "message"), BAD_SETTINGS, ids=_id)
def test_validate_refuses_with_the_dotted_key(key, value, message):
    with pytest.raises(ConfigError) as info:
        validate(key, value)
    assert str(info.value).startswith(f"{key} {message}"), str(info.value)
    assert len(str(info.value)) < 200 and "\n" not in str(info.value)


@pytest.mark.parametrize(("key", "value", "message"),
                         [row for row in BAD_SETTINGS if not row[0].startswith(("run.", "window."))],
                         ids=_id)
def test_experiment_files_get_the_same_error(key, value, message):
    section, name = key.split(".")
    with pytest.raises(ConfigError) as info:
        Experiment.from_dict({section: {name: list(value) if isinstance(value, tuple) else value}})
    assert str(info.value).startswith(f"{key} {message}"), str(info.value)


@pytest.mark.parametrize("key", ["data.noise", "training.l2", "training.momentum", "training.loss_goal"])
def test_negative_zero_is_zero(key):
    value = validate(key, -0.0)
    assert value == 0.0 and math.copysign(1.0, value) == 1.0


def test_a_toy_set_with_noise_negative_zero_draws(capsys, in_tmp):
    code, (res,), _ = _run(capsys, *QUICK, "--noise", "-0.0")
    assert code == EXIT_OK and res["epochs"] == 2


def test_every_limit_has_a_row():
    assert set(LIMITS) <= {key for key, _, _ in BAD_SETTINGS}


def _inside_and_outside(limit) -> tuple[list[float], list[float]]:
    """Values at both ends of a range that must pass, and values just beyond them that must fail."""
    step = 1 if limit.integer else max(abs(limit.hi), 1.0) * 1e-6
    lo_in = limit.lo + (step if limit.lo_open else 0)
    hi_in = limit.hi - (step if limit.hi_open else 0)
    lo_out = limit.lo if limit.lo_open else limit.lo - max(step, abs(limit.lo) * 1e-6)
    hi_out = limit.hi if limit.hi_open else limit.hi + step
    cast = int if limit.integer else float
    return [cast(lo_in), cast(hi_in)], [cast(lo_out), cast(hi_out)]


@pytest.mark.parametrize("key", sorted(LIMITS))
def test_both_ends_of_every_range(key):
    inside, outside = _inside_and_outside(LIMITS[key])
    for v in inside:
        value = (v,) if key == "model.hidden" else v
        assert validate(key, value) == value
    for v in outside:
        with pytest.raises(ConfigError, match=rf"^{key} must be"):
            validate(key, (v,) if key == "model.hidden" else v)


# ---------------------------------------------------------------------------------------- memory

def test_a_layer_too_large_for_memory_is_refused_before_allocating(monkeypatch):
    def no_allocation(*args, **kwargs):
        raise AssertionError("MLP allocated although the run cannot fit")

    monkeypatch.setattr(setup, "MLP", no_allocation)
    exp = Experiment(DataSpec(source="xor", n_samples=40), ModelSpec(hidden=(1_000_000, 1_000_000)))
    with pytest.raises(ConfigError) as info:
        Trainer(exp)
    message = str(info.value)
    assert message.startswith("model.hidden and data.n_samples: the network 2-1000000-1000000-2 on 40 rows")
    # ((2+1)·10^6 + (10^6+1)·10^6 + (10^6+1)·2) weights × 4 bytes × 6 copies / 2^30 = 22351.9 GiB
    assert "weights, gradients and optimizer state 22351.9 GiB" in message and "GiB is free on cpu" in message


def test_many_rows_are_refused_when_memory_is_short(monkeypatch):
    # 30 MiB free: drawing 2·10^5 rows (25.6 MB) fits, the run (rows on the device, activations: 34 MB) does not
    monkeypatch.setattr(setup, "available_bytes", lambda device: 30 * 1024**2)
    exp = Experiment(DataSpec(source="sine", n_samples=200_000), ModelSpec(hidden=(8,)))
    with pytest.raises(ConfigError, match=r"^model\.hidden and data\.n_samples: the network 1-8-1 on 200000 rows "
                                          r"would need about 0\.\d GiB .* but 0\.0 GiB is free on cpu"):
        Trainer(exp)


def test_a_toy_set_too_large_for_memory_is_refused_before_drawing(monkeypatch):
    monkeypatch.setattr(setup, "available_bytes", lambda device: 1024**2)  # 1 MiB free
    monkeypatch.setattr(setup, "load_dataset", lambda *a, **k: pytest.fail("drawn although it cannot fit"))
    with pytest.raises(ConfigError, match=r"^data\.n_samples: 10000 rows of 'moons' would need about 0\.0 GiB "
                                          r"but 0\.0 GiB is free; draw fewer rows"):
        setup.load_data(DataSpec(source="moons", n_samples=10_000))  # 10^4 × 128 bytes = 1.2 MiB


@pytest.mark.parametrize(("setter", "key", "value"), [
    ("set_lr", "training.lr", math.inf), ("set_lr", "training.lr", 1e300), ("set_lr", "training.lr", "abc"),
    ("set_batch_size", "training.batch_size", 2.7), ("set_batch_size", "training.batch_size", 10**8),
])
def test_live_setters_get_the_same_rule_as_files(setter, key, value):
    trainer = Trainer(Experiment(DataSpec(source="xor", n_samples=20), ModelSpec(hidden=(2,))))
    with pytest.raises(ConfigError) as live:
        getattr(trainer, setter)(value)
    with pytest.raises(ConfigError) as checked:
        validate(key, value)
    assert str(live.value) == str(checked.value) and str(live.value).startswith(key)


def test_memory_estimate_counts_weights_copies_and_rows():
    # 2-8-2: (2+1)·8 + (8+1)·2 = 42 weights; float32 × (6 copies + 0 for sgd, 3 for adam)
    assert setup.estimate_bytes([2, 8, 2], 100, 32, "sgd", 4)["weights"] == 42 * 4 * 6
    assert setup.estimate_bytes([2, 8, 2], 100, 32, "adam", 4)["weights"] == 42 * 4 * 9
    # rows: 100 × (2 + 1 + 2) columns × (3 float64 + 3 float32 copies); activations 3·32·10·4 + 2·100·8·4
    assert setup.estimate_bytes([2, 8, 2], 100, 32, "sgd", 4)["data"] == 100 * 5 * 36 + 3840 + 6400


# ------------------------------------------------------------------------------ empty parts of a split

@pytest.mark.parametrize("split", [(0.8, 0.2, 0.0), (1.0, 0.0, 0.0), (0.5, 0.0, 0.5)])
def test_regression_trains_with_empty_parts(split):
    exp = Experiment(DataSpec(source="sine", n_samples=40, split=split), ModelSpec(hidden=(4,)),
                     TrainSpec(epochs=3))
    trainer = Trainer(exp)
    for name, fraction in zip(("train", "val", "test"), split, strict=True):
        part = trainer.parts[name]
        assert (len(part) == 0) == (fraction == 0)
        assert tuple(part.target.shape) == (len(part), 1)
    snap = trainer.run()
    assert snap.state == "finished" and snap.epoch == 3
    for name, fraction in zip(("val", "test"), split[1:], strict=True):
        assert math.isnan(trainer.evaluate(name)["loss"]) == (fraction == 0)


@pytest.mark.parametrize("rows", [1, 2])
@pytest.mark.parametrize("targets", [1, 2])
def test_tiny_regression_sets_train(rows, targets):
    X = np.arange(rows, dtype=float).reshape(rows, 1)
    ds = Dataset("tiny", X, np.ones((rows, targets)), ("x",))
    trainer = Trainer(Experiment(model=ModelSpec(hidden=(2,)), training=TrainSpec(epochs=2)), ds)
    assert len(trainer.parts["train"]) == rows  # every row trains: val and test are empty
    assert tuple(trainer.parts["val"].target.shape) == (0, targets)
    assert trainer.run().epoch == 2


def test_no_row_left_to_train_on_is_a_data_error():
    empty = Dataset("empty", np.zeros((0, 2)), np.zeros((0, 1)), ("a", "b"))
    with pytest.raises(DataError, match=r"data set 'empty' has no rows, so data\.split leaves nothing to train on"):
        setup.split_for(Experiment(), empty)


# ----------------------------------------------------------------------------------------------- CLI

@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _run(capsys, *argv: str) -> tuple[int, list[dict], list[str]]:
    """Exit code, JSON lines on stdout, stderr lines."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err.strip().splitlines()


QUICK = ("train", "--dataset", "xor", "--samples", "40", "--epochs", "2", "--quiet")

# (extra flags, what the one error line must contain)
CLI_USER_ERRORS = [
    (["--threads", "99999"], "argument --threads: run.threads must be an integer in [1, "),
    (["--threads", "2.5"], "argument --threads: run.threads must be an integer, got 2.5"),
    (["--seed", str(2**64)], "--seed: data.seed must be an integer in [0, 9223372036854775807]"),
    (["--seed", "-3"], "--seed: data.seed must be an integer in [0, "),
    (["--lr", "1e300"], "--lr: training.lr must be a number in [1e-10, 1e+10], got 1e+300"),
    (["--lr", "inf"], "--lr: training.lr must be a finite number, got inf"),
    (["--l2", "1e300"], "--l2: training.l2 must be a number in [0, 1e+10]"),
    (["--batch-size", "2.7"], "--batch-size: training.batch_size must be an integer, got 2.7 (float)"),
    (["--batch-size", "abc"], "--batch-size: training.batch_size must be an integer, got 'abc' (str)"),
    (["--epochs", "0"], "--epochs: training.epochs must be an integer in [1, "),
    (["--patience", "-1"], "--patience: training.patience must be an integer in [1, "),
    (["--samples", str(10**12)], "--samples: data.n_samples must be an integer in [4, 10000000]"),
    (["--noise", "nan"], "--noise: data.noise must be a finite number"),
    (["--checkpoint-every", "0"], "--checkpoint-every: training.checkpoint_every must be an integer in [1, "),
    (["--eval-every", "0"], "--eval-every: training.eval_every must be an integer in [1, "),
    (["--layers", "1000000,1000000"], "model.hidden and data.n_samples: the network 2-1000000-1000000-2"),
    (["--layers", "10000000"], "--layers: model.hidden must be a list, each item an integer in [1, 1000000]"),
    (["--split", "0.8,0.2"], "--split: data.split must be a list of 3 numbers"),
    (["--out", "."], "cannot write model file .: it is a folder"),
]


@pytest.mark.parametrize(("flags", "needle"), CLI_USER_ERRORS, ids=lambda v: str(v)[:30])
def test_cli_user_errors_are_one_line_exit_2(capsys, in_tmp, flags, needle):
    code, results, err = _run(capsys, *QUICK, *flags)
    assert code == EXIT_USER_ERROR and results == []
    assert len(err) == 1 and err[0].startswith("bpcore: error: ") and needle in err[0], err
    assert not list(in_tmp.iterdir())  # nothing written


@pytest.mark.parametrize("split", ["0.8,0.2,0", "1,0,0"])
def test_cli_regression_with_empty_parts(capsys, in_tmp, split):
    code, (res,), err = _run(capsys, "train", "--dataset", "sine", "--samples", "40", "--split", split,
                             "--epochs", "2", "--quiet")
    assert code == EXIT_OK and err == []
    assert res["test_loss"] is None and res["test_r2"] is None and math.isfinite(res["train_loss"])


@pytest.mark.parametrize("rows", ["x,y\n1.0,2.0\n", "x,y\n1.0,2.0\n2.0,3.5\n"], ids=["1 row", "2 rows"])
def test_cli_tiny_csv(capsys, in_tmp, rows):
    (in_tmp / "tiny.csv").write_text(rows)
    code, (res,), err = _run(capsys, "train", "--dataset", "tiny.csv", "--epochs", "2", "--quiet")
    assert code == EXIT_OK and err == [] and res["val_loss"] is None and math.isfinite(res["train_loss"])


def test_help_documents_the_exit_codes(capsys):
    assert main(["--help"]) == EXIT_OK
    out = capsys.readouterr().out
    for code, words in ((EXIT_OK, "success"), (EXIT_CRASH, "internal error"), (EXIT_USER_ERROR, "user error"),
                        (EXIT_DIVERGED, "diverged"), (EXIT_INTERRUPTED, "interrupted")):
        assert any(line.split()[:1] == [str(code)] and words in line for line in out.splitlines()), (code, out)
    assert len({EXIT_OK, EXIT_CRASH, EXIT_USER_ERROR, EXIT_DIVERGED, EXIT_INTERRUPTED}) == 5


def test_a_crash_exits_1_with_the_cause_last(capsys, in_tmp, monkeypatch):
    def crash(self, *args, **kwargs):
        raise RuntimeError("simulated bug\nsecond line")

    monkeypatch.setattr(Trainer, "run", crash)
    code, results, err = _run(capsys, *QUICK)
    assert code == EXIT_CRASH and results == []
    assert err[0] == "Traceback (most recent call last):"  # a bug: the traceback is what a report needs
    assert err[-1].startswith("bpcore: internal error") and err[-1].endswith("RuntimeError: simulated bug second line")


@pytest.mark.parametrize("where", ["load_data", "split_for", "build_model"])
def test_ctrl_c_during_start_up_exits_130_with_one_line(capsys, in_tmp, monkeypatch, where):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(setup, where, interrupted)
    code, results, err = _run(capsys, *QUICK)
    assert (code, results, err) == (EXIT_INTERRUPTED, [], ["bpcore: interrupted"])


def _full_disk(monkeypatch, fail_final: bool) -> list[str]:
    """atomic_write_bytes raising ENOSPC for checkpoints (and the final save if fail_final); returns the calls."""
    calls: list[str] = []
    original = bpcore.files.atomic_write_bytes

    def write(path, data):
        calls.append(str(path))
        if fail_final or len(calls) <= 2:  # the checkpoints of epochs 2 and 4 (6 is the last epoch)
            raise OSError(errno.ENOSPC, "No space left on device")
        original(path, data)

    monkeypatch.setattr(bpcore.files, "atomic_write_bytes", write)
    return calls


def test_a_full_disk_costs_checkpoints_not_the_run(capsys, in_tmp, monkeypatch):
    calls = _full_disk(monkeypatch, fail_final=False)
    code, (res,), err = _run(capsys, *QUICK[:-3], "--epochs", "6", "--checkpoint-every", "2", "--quiet",
                             "--out", "m.safetensors")
    assert code == EXIT_OK and res["epochs"] == 6 and res["state"] == "finished"
    assert len(calls) == 3  # two failed checkpoints, then the final save
    assert len(err) == 2
    for epoch, line in zip((2, 4), err, strict=True):
        assert line.startswith(f"bpcore: checkpoint at epoch {epoch} not written (cannot write model file")
        assert "No space left on device" in line and line.endswith("training goes on")
    assert load_model(in_tmp / "m.safetensors").extra["epoch"] == 6


def test_a_full_disk_at_the_final_save_is_a_one_line_error(capsys, in_tmp, monkeypatch):
    calls = _full_disk(monkeypatch, fail_final=True)
    code, results, err = _run(capsys, *QUICK[:-3], "--epochs", "6", "--checkpoint-every", "2", "--quiet",
                              "--out", "m.safetensors")
    assert code == EXIT_USER_ERROR and results == [] and len(calls) == 3  # the final save was still tried
    assert err[-1] == "bpcore: error: cannot write model file m.safetensors: No space left on device"
    assert len(err) == 3 and not (in_tmp / "m.safetensors").exists()


@pytest.mark.parametrize("flags", [
    ("--dataset", "sine", "--layers", "8", "--activation", "relu", "--lr", "1e8", "--batch-size", "10"),
    ("--dataset", "spirals", "--lr", "1e9"),
], ids=["sine NaN", "spirals lr 1e9"])
def test_divergence_exits_3_with_the_step_and_finite_weights(capsys, in_tmp, flags):
    code, (res,), err = _run(capsys, "train", *flags, "--epochs", "60", "--quiet", "--out", "d.safetensors")
    assert code == EXIT_DIVERGED and res["state"] == "diverged"
    assert res["reason"].startswith("diverged at epoch") and "step" in res["reason"]
    assert err == [f"bpcore: {res['reason']}"]
    model = load_model(in_tmp / "d.safetensors").model  # loading checks that every weight is finite
    assert all(bool(W.isfinite().all()) for W in model.weights)


# ------------------------------------------------------------------------------------------ main.py

@pytest.mark.parametrize(("size", "needle"), [
    ("99999x10", "window.width must be an integer in [200, 8192], got 99999"),
    ("800x10", "window.height must be an integer in [200, 8192], got 10"),
    ("abc", "WIDTHxHEIGHT"),
    ("800x600x3", "WIDTHxHEIGHT"),
    ("1e3x800", "WIDTHxHEIGHT"),
], ids=lambda v: str(v)[:12])
def test_main_py_size_has_a_range(capsys, size, needle):
    from bpgui.app import parse_args

    with pytest.raises(SystemExit) as info:
        parse_args(["--size", size])
    assert info.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"bpgui: error: argument --size: {needle}"), err


@pytest.mark.parametrize(("argv", "target", "task"), [
    (["--target", "label"], "label", None),
    (["--target", "0"], 0, None),
    (["--target", "-1"], -1, None),
    (["--task", "classification"], None, "classification"),
    (["--target", "y", "--task", "regression"], "y", "regression"),
], ids=lambda v: " ".join(v) if isinstance(v, list) else None)
def test_main_py_takes_the_csv_target_and_task_as_bpcore_train_does(argv, target, task):
    """The window's command line names a CSV's target column as `bpcore train --target` does (MNIST's label is
    the first column, not the default last) and reaches the experiment the window opens with."""
    from bpgui.app import parse_args
    from bpgui.automation import experiment_from_args

    args = parse_args(["--dataset", "csv:data.csv", *argv])
    assert (args.target, args.task) == (target, task)
    data = experiment_from_args(args).data
    assert data.source == "csv:data.csv" and data.target == target and data.task == (task or "auto")


def test_main_py_task_is_one_of_three(capsys):
    from bpgui.app import parse_args

    with pytest.raises(SystemExit) as info:
        parse_args(["--task", "clustering"])
    assert info.value.code == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("bpgui: error: argument --task: data.task must be one of"), err


def test_main_py_size_accepts_its_range():
    from bpgui.app import parse_args

    assert parse_args(["--size", "200x8192"]).size == "200x8192"
    assert parse_args([]).size == "1600x1000"


# ------------------------------------------------------------------------------ random experiment dicts

_KEYS = {"data": [f for f in DataSpec.__dataclass_fields__], "model": [f for f in ModelSpec.__dataclass_fields__],
         "training": [f for f in TrainSpec.__dataclass_fields__]}
_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, 4, 2**63 - 1, 2**63, 2**64, 10**400, -1]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e300, -1e300, math.nan, -0.0, 0.0, 1e-320, 0.3, 0.7, 0.15, 1.0]),
    st.text(max_size=12), st.sampled_from(["tanh", "relu", "adam", "sgd", "cpu", "cuda:1", "spirals", "csv:a.csv",
                                           "auto", "float64", "step", "identity", "softmax"]),
)
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=12)


@st.composite
def _experiment_dicts(draw) -> object:
    if draw(st.integers(0, 9)) == 0:  # now and then, not a table at all, or unknown sections
        return draw(_values)
    d: dict = {}
    for section, keys in _KEYS.items():
        if draw(st.booleans()):
            table = {key: draw(_values) for key in draw(st.lists(st.sampled_from(keys), max_size=6, unique=True))}
            if draw(st.integers(0, 9)) == 0:
                table[draw(st.text(max_size=8))] = draw(_values)
            d[section] = table if draw(st.integers(0, 19)) else draw(_values)
    return d


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_experiment_dicts())
def test_random_experiment_dicts_give_a_config_error_or_a_valid_experiment(d):
    try:
        exp = Experiment.from_dict(d)
    except ConfigError as e:
        message = str(e)
        assert message and "\n" not in message and len(message) < 1500
        return
    # valid: every number is inside its range, and the experiment survives a round trip through a dict
    for section in ("data", "model", "training"):
        for key, value in exp.to_dict()[section].items():
            limit = LIMITS.get(f"{section}.{key}")
            if limit is not None:
                assert all(v in limit for v in (value if isinstance(value, list) else [value]))
    assert Experiment.from_dict(exp.to_dict()) == exp


def test_the_cli_module_imports_without_torch():
    """torch is imported inside main(), under its Ctrl+C handler (start-up interrupted: 130, one line). The
    package's own __init__ is bypassed here: it imports torch itself (see bpcore/__init__.py)."""
    import subprocess
    import sys
    from pathlib import Path

    package = Path(__file__).resolve().parents[2] / "bpcore"
    code = ("import sys, types; p = types.ModuleType('bpcore'); p.__path__ = [sys.argv[1]]; "
            "sys.modules['bpcore'] = p; import bpcore.cli; print(sorted({'torch', 'numpy'} & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code, str(package)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


_CTRL_C_IN_IMPORT = """
import builtins, os, runpy, signal, sys
real_import = builtins.__import__
def hooked(name, *args, **kwargs):  # Ctrl+C arrives while torch (seconds of start-up) is being imported
    if name == "torch" and "torch" not in sys.modules:
        builtins.__import__ = real_import
        os.kill(os.getpid(), signal.SIGINT)
    return real_import(name, *args, **kwargs)
builtins.__import__ = hooked
sys.argv = ["bpcore", "train", "--dataset", "xor", "--epochs", "1", "--quiet"]
runpy.run_module("bpcore", run_name="__main__", alter_sys=True)
"""


def test_ctrl_c_while_importing_torch_exits_130_with_one_line(tmp_path):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _CTRL_C_IN_IMPORT], capture_output=True, text=True, timeout=120,
                         cwd=tmp_path)
    assert (out.returncode, out.stderr.strip().splitlines()) == (EXIT_INTERRUPTED, ["bpcore: interrupted"])
