"""Experiment config: defaults, round trips through TOML/JSON, and ConfigError messages that name the key."""

from __future__ import annotations

import dataclasses
import json
import os

import pytest

from bpcore.config import (
    DataSpec,
    Experiment,
    ModelSpec,
    TrainSpec,
    experiment_from_json,
    experiment_to_json,
    load_experiment,
    save_experiment,
)
from bpcore.errors import ConfigError

CUSTOM = Experiment(
    DataSpec(source="csv:data/my file.csv", split=(0.8, 0.2, 0.0), standardise=False, target="label", seed=3),
    ModelSpec(hidden=(16, 4, 2), activation=("relu", "tanh", "sigmoid"), output="softmax", init_seed=7),
    TrainSpec(optimizer="adam", lr=0.003, patience=20, clip_norm=1.5, time_limit=60.0, device="cuda:1",
              dtype="float64", checkpoint_every=10, loss_goal=0.0),
)


def test_defaults_are_the_documented_ones() -> None:
    exp = Experiment()
    assert exp.data.source == "spirals" and exp.data.n_samples == 400 and exp.data.split == (0.7, 0.15, 0.15)
    assert exp.model.hidden == (8, 8) and exp.model.activations == ("tanh", "tanh") and exp.model.output == "auto"
    assert exp.training.optimizer == "sgd" and exp.training.lr == 0.3 and exp.training.epochs == 500
    assert exp.training.patience is None and exp.training.dtype == "float32"


@pytest.mark.parametrize("exp", [Experiment(), CUSTOM], ids=["defaults", "custom"])
@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_round_trip_through_files(tmp_path, exp: Experiment, suffix: str) -> None:
    path = tmp_path / f"exp{suffix}"
    save_experiment(exp, path)
    back = load_experiment(path)
    if exp.data.is_csv:  # a relative csv: path comes back as a path that names the same file from anywhere
        assert os.path.abspath(back.data.csv_path) == os.path.abspath(exp.data.csv_path)
        exp = exp.replace(data={"source": back.data.source})
    assert back == exp
    assert hash(back) == hash(exp)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temp file left behind


def test_json_string_round_trip_keeps_unset_keys_as_null() -> None:
    s = experiment_to_json(CUSTOM)
    assert json.loads(s)["training"]["min_grad"] is None
    assert experiment_from_json(s) == CUSTOM


def test_to_dict_is_plain_and_omits_unset_keys() -> None:
    d = CUSTOM.to_dict()
    assert d["model"]["hidden"] == [16, 4, 2] and isinstance(d["data"]["split"], list)
    assert "min_grad" not in d["training"] and d["training"]["patience"] == 20
    assert Experiment.from_dict(d) == CUSTOM
    assert json.loads(json.dumps(d)) == d


def test_toml_file_is_readable_by_hand(tmp_path) -> None:
    path = tmp_path / "exp.toml"
    path.write_text('[training]\nlr = 1  # an int where a float is expected\nepochs = 5\n[model]\nhidden = []\n')
    exp = load_experiment(path)
    assert exp.training.lr == 1.0 and isinstance(exp.training.lr, float)
    assert exp.model.hidden == () and exp.model.activations == ()
    assert exp.data == DataSpec()


def test_lists_become_tuples_when_constructed_directly() -> None:
    spec = ModelSpec(hidden=[3, 2], activation=["relu", "identity"])  # type: ignore[arg-type]
    assert spec.hidden == (3, 2) and spec.activation == ("relu", "identity")


def test_replace_merges_into_a_section() -> None:
    exp = Experiment().replace(training={"lr": 0.5, "patience": 3}, model=ModelSpec(hidden=(4,)))
    assert exp.training.lr == 0.5 and exp.training.patience == 3 and exp.training.epochs == 500
    assert exp.model.hidden == (4,)
    assert exp.replace(training={"patience": None}).training.patience is None
    with pytest.raises(ConfigError, match=r"unknown key 'training\.lrr'"):
        exp.replace(training={"lrr": 1})
    with pytest.raises(ConfigError, match=r"training\.lr must be a number in \[1e-10, 1e\+10\], got -1\.0"):
        exp.replace(training={"lr": -1})
    with pytest.raises(ConfigError, match="unknown key 'train'"):
        exp.replace(train={"lr": 1})


def test_unknown_key_lists_the_known_ones_and_suggests() -> None:
    with pytest.raises(ConfigError) as info:
        Experiment.from_dict({"training": {"lrr": 0.1}})
    msg = str(info.value)
    assert msg.startswith("unknown key 'training.lrr' (known: optimizer, lr, momentum,")
    assert "did you mean 'lr'?" in msg
    with pytest.raises(ConfigError, match=r"unknown key 'modle' \(known: data, model, training"):
        Experiment.from_dict({"modle": {}})


OUT_OF_RANGE = [
    ("data", "source", "blobs", "data.source must be one of xor, circles"),
    ("data", "source", "csv:", "or 'csv:<path>'"),
    ("data", "n_samples", 3, r"data.n_samples must be an integer in \[4, 10000000\], got 3"),
    ("data", "noise", -0.1, r"data.noise must be a number in \[0, 1000\], got -0.1"),
    ("data", "split", [0.5, 0.6, -0.1], "data.split must be three fractions >= 0"),
    ("data", "split", [0.0, 0.5, 0.5], "data.split must be three fractions with train > 0"),
    ("data", "split", [0.7, 0.2, 0.2], "data.split must be three fractions that sum to 1"),
    ("data", "task", "ranking", "data.task must be one of auto, classification, regression"),
    ("model", "hidden", [8, 0], r"model.hidden must be a list, each item an integer in \[1, 1000000\], got \(8, 0\)"),
    ("model", "activation", "swish", "model.activation: unknown activation 'swish'"),
    ("model", "activation", ["tanh", "gelu"], "model.activation: unknown activation 'gelu'"),
    ("model", "output", "softplus", "model.output must be one of auto, softmax, sigmoid, identity"),
    ("training", "optimizer", "rmsprop", "training.optimizer must be one of sgd, momentum, nesterov, adam"),
    ("training", "lr", -1, r"training.lr must be a number in \[1e-10, 1e\+10\], got -1.0"),
    ("training", "lr", 0, r"training.lr must be a number in \[1e-10, 1e\+10\], got 0.0"),
    ("training", "lr", float("nan"), "training.lr must be a finite number, got nan"),
    ("training", "momentum", 1.0, r"training.momentum must be a number in \[0, 1\), got 1.0"),
    ("training", "momentum", -0.1, r"training.momentum must be a number in \[0, 1\)"),
    ("training", "l2", -1e-4, r"training.l2 must be a number in \[0, 1e\+10\]"),
    ("training", "batch_size", 0, r"training.batch_size must be an integer in \[1, 10000000\], got 0"),
    ("training", "epochs", 0, r"training.epochs must be an integer in \[1, 1000000000\], got 0"),
    ("training", "schedule", "linear", "training.schedule must be one of constant, step, cosine"),
    ("training", "step_size", 0, r"training.step_size must be an integer in \[1, "),
    ("training", "gamma", 0, r"training.gamma must be a number in \(0, 1\]"),
    ("training", "gamma", 1.5, r"training.gamma must be a number in \(0, 1\]"),
    ("training", "time_limit", 0, r"training.time_limit must be a number in \(0, 1e\+09\] \(or unset\), got 0.0"),
    ("training", "loss_goal", -1, r"training.loss_goal must be a number in \[0, 1e\+30\] \(or unset\)"),
    ("training", "min_grad", 0, r"training.min_grad must be a number in \(0, 1e\+30\]"),
    ("training", "patience", 0, r"training.patience must be an integer in \[1, 1000000000\] \(or unset\)"),
    ("training", "clip_norm", -2, r"training.clip_norm must be a number in \(0, 1e\+30\]"),
    ("training", "device", "gpu", "training.device must be 'cpu', 'cuda' or 'cuda:N', got 'gpu'"),
    ("training", "device", "cuda:x", "training.device must be 'cpu', 'cuda' or 'cuda:N'"),
    ("training", "dtype", "float16", "training.dtype must be one of float32, float64"),
    ("training", "checkpoint_every", 0, r"training.checkpoint_every must be an integer in \[1, "),
    ("training", "eval_every", 0, r"training.eval_every must be an integer in \[1, "),
]


@pytest.mark.parametrize(("section", "key", "value", "message"), OUT_OF_RANGE, ids=lambda v: str(v)[:20])
def test_out_of_range_names_the_key(section: str, key: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Experiment.from_dict({section: {key: value}})


def test_every_checked_key_is_covered_by_the_table() -> None:
    covered = {(s, k) for s, k, _, _ in OUT_OF_RANGE}
    unchecked = {("data", "seed"), ("data", "standardise"), ("data", "target"), ("model", "init_seed"),
                 ("training", "seed")}
    every = {(name, f.name) for name, cls in (("data", DataSpec), ("model", ModelSpec), ("training", TrainSpec))
             for f in dataclasses.fields(cls)}
    assert every - unchecked == covered


def test_activation_list_length_must_match_hidden() -> None:
    with pytest.raises(ConfigError, match=r"model\.activation lists 3 activations but model\.hidden has 2 layers"):
        Experiment.from_dict({"model": {"hidden": [8, 8], "activation": ["relu", "relu", "tanh"]}})
    with pytest.raises(ConfigError, match=r"model\.activation lists 1 activations but model\.hidden has 0 layers"):
        ModelSpec(hidden=(), activation=("relu",))
    assert ModelSpec(hidden=(), activation="relu").activations == ()


WRONG_TYPES = [
    ("training", "lr", "0.1", "training.lr must be a number, got '0.1' (str)"),
    ("training", "lr", True, "training.lr must be a number, got True (bool)"),
    ("training", "epochs", 10.0, "training.epochs must be an integer, got 10.0 (float)"),
    ("training", "batch_size", False, "training.batch_size must be an integer, got False (bool)"),
    ("training", "patience", "5", "training.patience must be an integer or null"),
    ("data", "standardise", 1, "data.standardise must be true or false, got 1 (int)"),
    ("data", "split", [0.7, 0.3], "data.split must be a list of 3 numbers"),
    ("data", "split", "0.7,0.3,0", "data.split must be a list of 3 numbers"),
    ("data", "target", 1.5, "data.target must be a string or an integer or null"),
    ("data", "target", True, "data.target must be a string or an integer or null"),
    ("model", "hidden", 8, "model.hidden must be a list of integers, got 8 (int)"),
    ("model", "hidden", [8, "8"], "model.hidden must be a list of integers"),
    ("model", "activation", 3, "model.activation must be a string or a list of strings"),
    ("model", "output", None, "model.output must be a string, got None"),
]


@pytest.mark.parametrize(("section", "key", "value", "message"), WRONG_TYPES, ids=lambda v: str(v)[:20])
def test_wrong_types_name_the_key(section: str, key: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Experiment.from_dict({section: {key: value}})


def test_sections_must_be_tables() -> None:
    with pytest.raises(ConfigError, match="training must be a table of keys, got list"):
        Experiment.from_dict({"training": [1, 2]})
    with pytest.raises(ConfigError, match="an experiment must be a table of sections, got list"):
        Experiment.from_dict([])  # type: ignore[arg-type]


def test_target_accepts_a_name_or_an_index() -> None:
    assert DataSpec(target=2).target == 2
    assert DataSpec(target="species").target == "species"


def test_malformed_toml_names_the_file_and_line(tmp_path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[training]\nlr = 0.1\nepochs = = 3\n")
    with pytest.raises(ConfigError) as info:
        load_experiment(path)
    assert str(path) in str(info.value) and "malformed TOML" in str(info.value) and "line 3" in str(info.value)


def test_malformed_json_names_the_file_and_line(tmp_path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"training": {\n  "lr": 0.1,\n}}')
    with pytest.raises(ConfigError, match=r"broken\.json: malformed JSON at line 3, column 1"):
        load_experiment(path)


def test_bad_value_in_a_file_names_file_and_key(tmp_path) -> None:
    path = tmp_path / "exp.toml"
    path.write_text("[training]\nlr = -1\n")
    with pytest.raises(ConfigError, match=r"exp\.toml: training\.lr must be a number in \[1e-10, 1e\+10\], got -1\.0"):
        load_experiment(path)


def test_missing_unreadable_and_wrong_suffix_files(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.toml: experiment file not found"):
        load_experiment(tmp_path / "nope.toml")
    with pytest.raises(ConfigError, match=r"exp\.yaml: an experiment file must end in \.toml or \.json"):
        load_experiment(tmp_path / "exp.yaml")
    with pytest.raises(ConfigError, match=r"exp\.txt: an experiment file must end in \.toml or \.json"):
        save_experiment(Experiment(), tmp_path / "exp.txt")
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match=r"bin\.json: not a UTF-8 text file"):
        load_experiment(binary)


def test_save_is_atomic_when_writing_fails(tmp_path, monkeypatch) -> None:
    path = tmp_path / "exp.json"
    save_experiment(Experiment(), path)
    before = path.read_bytes()

    def fail(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(ConfigError, match=r"exp\.json: cannot write experiment file: No space left on device"):
        save_experiment(CUSTOM, path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["exp.json"]
