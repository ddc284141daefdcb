"""Hostile files (issue 9, items 4, 5, 8, 9, 10 — the "files & data" part): every path that is not a usable file,
every malformed model-file field and every confusing CSV gets a typed error whose message names the place.

Rows are tables: one case per row, each asserting the exact error type and the path / key / row it names.
A test that could hang (a FIFO, /dev/zero) runs under a 10 s alarm, so a regression fails instead of hanging.
"""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import numpy as np
import pytest
import safetensors.torch
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bpcore.config
import bpcore.data.csv_table
import bpcore.files
import bpcore.safe_io
from bpcore.cli import main
from bpcore.config import Experiment, load_experiment, save_experiment
from bpcore.data import preview_csv, read_csv
from bpcore.errors import ConfigError, DataError, ModelFileError
from bpcore.files import FORMAT, load_model_file, remove_stale_temps, save_model_file
from bpcore.nn import MLP
from bpcore.safe_io import MAX_JSON_DEPTH, check_depth, load_json
from bpcore.session import Session, load_model, save_model
from bpcore.train import setup

SIZES = (2, 4, 3)


pytestmark = pytest.mark.usefixtures("ten_seconds")  # tests/conftest.py: a blocking read fails, never hangs


def _model(path: Path, extra: dict | None = None, output: str = "softmax") -> Path:
    sizes = SIZES if output == "softmax" else (2, 4, 1)
    save_model(path, MLP(list(sizes), ["tanh"], output), extra=extra)
    return path


def _csv(path: Path) -> Path:
    path.write_text("x,y,label\n0,1,a\n1,0,b\n1,1,a\n0,0,b\n")
    return path


# ----------------------------------------------------------------------------- files that are not files (item 4)

READERS = [  # (suffix, reader, error type)
    (".csv", lambda p: read_csv(p), DataError),
    (".csv", lambda p: preview_csv(p), DataError),
    (".safetensors", lambda p: load_model_file(p), ModelFileError),
    (".safetensors", lambda p: load_model(p), ModelFileError),
    (".toml", lambda p: load_experiment(p), ConfigError),
    (".json", lambda p: load_experiment(p), ConfigError),
]
READER_IDS = ["read_csv", "preview_csv", "load_model_file", "load_model", "experiment.toml", "experiment.json"]


def _fifo(tmp_path: Path, suffix: str) -> Path:
    path = tmp_path / f"pipe{suffix}"
    os.mkfifo(path)
    return path


def _dev_zero(tmp_path: Path, suffix: str) -> Path:
    path = tmp_path / f"zero{suffix}"  # the suffix decides the experiment format, so link /dev/zero under it
    path.symlink_to("/dev/zero")
    return path


def _folder(tmp_path: Path, suffix: str) -> Path:
    path = tmp_path / f"folder{suffix}"
    path.mkdir()
    return path


NOT_FILES = [  # (maker, words the message must hold)
    (_fifo, "is a FIFO (named pipe), not a regular file"),
    (_dev_zero, "is a character device, not a regular file"),
    (_folder, "is a folder"),
]


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"), reason="POSIX only")
@pytest.mark.parametrize(("make", "words"), NOT_FILES, ids=["fifo", "dev-zero", "folder"])
@pytest.mark.parametrize(("suffix", "read", "error"), READERS, ids=READER_IDS)
def test_paths_that_are_not_regular_files_are_refused(tmp_path, make, words, suffix, read, error) -> None:
    path = make(tmp_path, suffix)
    with pytest.raises(error) as info:
        read(path)
    assert type(info.value) is error
    msg = str(info.value)
    assert str(path) in msg and words in msg, msg


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only")
@pytest.mark.parametrize(("suffix", "read", "error"), READERS, ids=READER_IDS)
def test_a_fifo_swapped_in_after_the_check_is_caught_on_the_open_descriptor(tmp_path, monkeypatch, suffix, read,
                                                                            error) -> None:
    # The path is stat'ed first, then opened without blocking and fstat'ed: make the first look see a regular
    # file (as if the FIFO replaced it right after), so only the check of the opened descriptor can refuse it.
    regular = _csv(tmp_path / "regular.txt")
    path = _fifo(tmp_path, suffix)
    real_stat = os.stat
    monkeypatch.setattr(bpcore.safe_io.os, "stat", lambda p, *a, **k: real_stat(regular) if str(p) == str(path)
                        else real_stat(p, *a, **k))
    with pytest.raises(error) as info:
        read(path)
    assert f"{path}: is a FIFO (named pipe), not a regular file" in str(info.value)


CLI_CASES = [  # (argv with {path} and {csv} and {model}, suffix of the hostile path)
    (["eval", "{path}", "--data", "{csv}"], ".safetensors"),
    (["eval", "{model}", "--data", "{path}"], ".csv"),
    (["train", "{path}", "--epochs", "1"], ".toml"),
    (["train", "{path}", "--epochs", "1"], ".json"),
]


@pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"), reason="POSIX only")
@pytest.mark.parametrize(("make", "words"), NOT_FILES, ids=["fifo", "dev-zero", "folder"])
@pytest.mark.parametrize(("argv", "suffix"), CLI_CASES, ids=["eval-model", "eval-data", "train-toml", "train-json"])
def test_cli_answers_one_line_exit_2_naming_the_path(tmp_path, monkeypatch, capsys, make, words, argv,
                                                     suffix) -> None:
    monkeypatch.chdir(tmp_path)
    path = make(tmp_path, suffix)
    model = _model(tmp_path / "m.safetensors", output="softmax")
    filled = [a.format(path=path, csv=_csv(tmp_path / "d.csv"), model=model) for a in argv]
    code = main(filled)
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("bpcore: error: ") and str(path) in lines[0] and words in lines[0]


CAPS = [  # (suffix, module, cap name, reader, error type, valid file maker)
    (".csv", bpcore.data.csv_table, "MAX_CSV_BYTES", read_csv, DataError, _csv),
    (".safetensors", bpcore.files, "MAX_MODEL_BYTES", load_model_file, ModelFileError, _model),
    (".toml", bpcore.config, "MAX_EXPERIMENT_BYTES", load_experiment, ConfigError,
     lambda p: save_experiment(Experiment(), p) or p),
]


@pytest.mark.parametrize(("suffix", "module", "cap", "read", "error", "make"), CAPS, ids=["csv", "model", "experiment"])
def test_files_over_the_cap_are_refused_before_reading(tmp_path, monkeypatch, suffix, module, cap, read, error,
                                                        make) -> None:
    path = make(tmp_path / f"big{suffix}")
    read(path)  # fits under the real cap
    monkeypatch.setattr(module, cap, path.stat().st_size - 1)
    with pytest.raises(error) as info:
        read(path)
    assert type(info.value) is error
    assert str(path) in str(info.value) and "more than the" in str(info.value), str(info.value)


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
@pytest.mark.parametrize(("module", "cap", "read", "error"), [(c[1], c[2], c[3], c[4]) for c in CAPS],
                         ids=["csv", "model", "experiment"])
def test_a_file_that_grows_past_the_cap_while_read_is_refused(tmp_path, monkeypatch, module, cap, read,
                                                               error) -> None:
    # /proc/self/status is a regular file whose stat size is 0 but which yields ~1 KiB: it "grows" while read.
    assert os.stat("/proc/self/status").st_size == 0
    monkeypatch.setattr(module, cap, 100)
    suffix = {"MAX_EXPERIMENT_BYTES": ".toml"}.get(cap, "")
    path = tmp_path / f"status{suffix}"
    path.symlink_to("/proc/self/status")
    with pytest.raises(error) as info:
        read(path)
    assert type(info.value) is error
    assert str(path) in str(info.value) and "grew past 100 bytes while being read" in str(info.value)


# ---------------------------------------------------------------------------- nesting and metadata size (item 4)

DEEP = 100_000


def _deep_json(depth: int = DEEP) -> str:
    return "[" * depth + "]" * depth


def test_json_depth_bound_counts_levels_exactly() -> None:
    assert check_depth(load_json(_deep_json(MAX_JSON_DEPTH))) == MAX_JSON_DEPTH
    with pytest.raises(ValueError, match=f"nested more than {MAX_JSON_DEPTH} levels deep"):
        load_json(_deep_json(MAX_JSON_DEPTH + 1))
    assert check_depth({"a": [1, {"b": []}]}) == 4 and check_depth(7) == 0


def _raw_model(path: Path, **metadata: str) -> Path:
    tensors = {f"W{l}": torch.zeros(SIZES[l] + 1, SIZES[l + 1]) for l in range(len(SIZES) - 1)}
    meta = {"format": FORMAT, "sizes": json.dumps(list(SIZES)), "activations": '["tanh"]', "output": "softmax",
            **metadata}
    safetensors.torch.save_file(tensors, str(path), metadata=meta)
    return path


DEEP_CASES = [  # (file name, content writer, reader, error, words)
    ("exp.json", lambda p: p.write_text('{"data": ' + _deep_json() + "}"), load_experiment, ConfigError,
     "malformed JSON: nested more than"),
    ("exp.toml", lambda p: p.write_text("[data]\nsplit = " + "[" * 5000 + "]" * 5000 + "\n"), load_experiment,
     ConfigError, "malformed TOML: nested"),
    ("exp2.toml", lambda p: p.write_text("[data]\nx = " + "{a = " * 40 + "1" + "}" * 40 + "\n"), load_experiment,
     ConfigError, f"nested more than {MAX_JSON_DEPTH} levels deep"),
    ("long.toml", lambda p: p.write_text("[training]\nseed = " + "1" * 5000 + "\n"), load_experiment, ConfigError,
     "malformed TOML: Exceeds the limit (4300 digits)"),
    ("long.json", lambda p: p.write_text('{"training": {"seed": ' + "1" * 5000 + "}}"), load_experiment,
     ConfigError, "malformed JSON: Exceeds the limit (4300 digits)"),
    ("long.safetensors", lambda p: _raw_model(p, extra='{"epoch": ' + "1" * 5000 + "}"), load_model_file,
     ModelFileError, "metadata 'extra' cannot be used: Exceeds the limit"),
    ("m.safetensors", lambda p: _raw_model(p, extra='{"history": ' + _deep_json() + "}"), load_model_file,
     ModelFileError, "metadata 'extra' cannot be used: nested more than"),
    ("m2.safetensors", lambda p: _raw_model(p, experiment=_deep_json()), load_model_file, ModelFileError,
     "bad experiment description: malformed experiment JSON: nested more than"),
]


@pytest.mark.parametrize(("name", "write", "read", "error", "words"), DEEP_CASES,
                         ids=[c[0] for c in DEEP_CASES])
def test_deeply_nested_files_are_typed_errors_not_recursion(tmp_path, name, write, read, error, words) -> None:
    path = tmp_path / name
    write(path)
    with pytest.raises(error) as info:
        read(path)
    assert type(info.value) is error
    assert str(path) in str(info.value) and words in str(info.value), str(info.value)


def _many_tensors(path: Path, n: int) -> Path:
    """A valid safetensors file with W0, W1 and n extra empty tensors, its header written directly (fast)."""
    header: dict = {"__metadata__": {"format": FORMAT, "sizes": json.dumps(list(SIZES)),
                                     "activations": '["tanh"]', "output": "softmax"}}
    offset = 0
    for l in range(len(SIZES) - 1):
        size = 4 * (SIZES[l] + 1) * SIZES[l + 1]
        header[f"W{l}"] = {"dtype": "F32", "shape": [SIZES[l] + 1, SIZES[l + 1]],
                           "data_offsets": [offset, offset + size]}
        offset += size
    junk = ",".join(f'"junk{i}":{{"dtype":"F32","shape":[0],"data_offsets":[{offset},{offset}]}}' for i in range(n))
    text = (json.dumps(header)[:-1] + "," + junk + "}").encode()
    text += b" " * (-len(text) % 8)
    path.write_bytes(len(text).to_bytes(8, "little") + text + bytes(offset))
    return path


def test_many_extra_tensors_are_refused_from_the_header_with_a_short_message(tmp_path, monkeypatch) -> None:
    path = _many_tensors(tmp_path / "many.safetensors", 100_000)
    loaded = []
    monkeypatch.setattr(safetensors.torch, "load", lambda data: loaded.append(1))  # must never be reached
    with pytest.raises(ModelFileError) as info:
        load_model_file(path)
    msg = str(info.value)
    assert str(path) in msg and "(100002 in all)" in msg and "'junk99999'" in msg, msg
    assert len(msg) < 400 + len(str(path)), len(msg)  # was ~2 MB: every name listed, after loading all tensors
    assert loaded == []


HUGE = 200_000
LONG_VALUES = [  # (metadata, words): megabytes in one metadata entry give a message of a few hundred characters
    ({"sizes": json.dumps([2] * HUGE)}, "hidden layers (sizes [2, 2, 2"),
    ({"sizes": json.dumps("x" * HUGE)}, "sizes must be a list of at least two layer sizes"),
    ({"activations": json.dumps(["tanh"] * HUGE)}, "need 1 activations, got 200000"),
    ({"activations": json.dumps(["g" * HUGE])}, "unknown activation 'ggg"),
    ({"activations": json.dumps({"a": "b" * HUGE})}, "activations must be a list of names"),
    ({"output": "s" * HUGE}, "unknown output 'sss"),
    ({"format": "f" * HUGE}, "not a Backprop Lab model (format 'fff"),
]


@pytest.mark.parametrize(("metadata", "words"), LONG_VALUES, ids=[w.split(" (")[0][:30] for _, w in LONG_VALUES])
def test_megabytes_of_metadata_give_a_short_message(tmp_path, metadata: dict, words: str) -> None:
    path = _raw_model(tmp_path / "long.safetensors", **metadata)
    with pytest.raises(ModelFileError) as info:
        load_model_file(path)
    msg = str(info.value)
    assert str(path) in msg and words in msg and len(msg) < 400 + len(str(path)), msg[:1000]


def test_a_header_longer_than_the_bound_is_refused_unparsed(tmp_path, monkeypatch) -> None:
    path = _model(tmp_path / "m.safetensors", extra={"note": "x" * 5000})
    monkeypatch.setattr(bpcore.files, "MAX_HEADER_BYTES", 4096)
    with pytest.raises(ModelFileError, match=r"header of \d+ bytes is longer than the 4096 bytes allowed") as info:
        load_model_file(path)
    assert str(path) in str(info.value)


# ------------------------------------------------------------------------------ metadata schema (item 5)

GOOD_EXTRA = {"dataset": "toy", "task": "classification", "feature_names": ["x", "y"],
              "class_names": ["a", "b", "c"], "standardise": {"mean": [0.5, -1.0], "std": [2.0, 0.25]},
              "history": {"epoch": [1.0, 2.0], "train_loss": [0.9, None]}, "epoch": 2, "step": 14}

BAD_EXTRA = [  # (replaced fields, key the message names, words)
    ({"history": [1, 2]}, "extra.history", "must be an object of series"),
    ({"history": {"train_loss": "0.5"}}, "extra.history.train_loss", "must be a list of numbers"),
    ({"history": {"train_loss": [0.5, "x"]}}, "extra.history.train_loss[1]", "must be a number"),
    ({"history": {"train_loss": [0.5, True]}}, "extra.history.train_loss[1]", "must be a number"),
    ({"history": {"train_loss": [1e999]}}, "extra.history.train_loss[0]", "must be a finite number"),
    ({"history": {"epoch": [1.0, 2.5]}}, "extra.history.epoch[1]", "must be a whole number"),
    ({"history": {"epoch": [-1.0]}}, "extra.history.epoch[0]", "must be a whole number"),
    ({"history": {"val loss\n": ["x"]}}, "extra.history['val loss\\n'][0]", "must be a number"),
    ({"history": {"epoch": [1.0, 2.0], "train_loss": [0.1]}}, "extra.history.train_loss",
     "holds 1 values but extra.history.epoch holds 2"),
    ({"epoch": -7}, "extra.epoch", "must be a whole number in [0, 2**53], got -7"),
    ({"epoch": 2.5}, "extra.epoch", "must be a whole number >= 0, got float 2.5"),
    ({"epoch": True}, "extra.epoch", "got boolean True"),
    ({"step": "14"}, "extra.step", "got string '14'"),
    ({"step": 2**60}, "extra.step", "must be a whole number in [0, 2**53]"),
    ({"class_names": 5}, "extra.class_names", "must be a list of class names, got int 5"),
    ({"class_names": ["a", "b"]}, "extra.class_names", "lists 2 class names but the network has 3"),
    ({"class_names": ["a", 1, "c"]}, "extra.class_names[1]", "must be a string, got int 1"),
    ({"class_names": ["a", "b", "a"]}, "extra.class_names", "names 'a' twice"),
    ({"feature_names": ["x"]}, "extra.feature_names", "lists 1 feature names but the network has 2"),
    ({"feature_names": "xy"}, "extra.feature_names", "must be a list of feature names"),
    ({"standardise": {"mean": [0, 0], "std": [1, 0]}}, "extra.standardise.std[1]",
     "is 0.0; a stored standard deviation must be > 0"),
    ({"standardise": {"mean": [0, 0], "std": [-1, 1]}}, "extra.standardise.std[0]", "must be > 0"),
    ({"standardise": {"mean": [0, 0]}}, "extra.standardise", "has no 'std' entry"),
    ({"standardise": {"mean": [0, 0, 0], "std": [1, 1]}}, "extra.standardise.mean",
     "holds 3 values but the network has 2 inputs"),
    ({"standardise": {"mean": [0, None], "std": [1, 1]}}, "extra.standardise.mean[1]", "must be a number"),
    ({"standardise": {"mean": [0, 0], "std": [1, 1], "var": [1, 1]}}, "extra.standardise", "unknown entry 'var'"),
    ({"standardise": [0, 1]}, "extra.standardise", "must be an object"),
    ({"task": "banana"}, "extra.task", "must be 'classification' or 'regression'"),
    ({"task": "regression"}, "extra.task", "is 'regression' but the network's output is 'softmax'"),
    ({"dataset": 5}, "extra.dataset", "must be a string, got int"),
]


def test_good_metadata_comes_back_typed(tmp_path) -> None:
    s = load_model(_model(tmp_path / "m.safetensors", GOOD_EXTRA))
    info = s.info
    assert (info.epoch, info.step, info.dataset, info.task) == (2, 14, "toy", "classification")
    assert info.class_names == ("a", "b", "c") and info.feature_names == ("x", "y")
    assert info.standardise.mean == (0.5, -1.0) and info.standardise.std == (2.0, 0.25)
    assert s.history["epoch"].tolist() == [1.0, 2.0] and s.history["train_loss"][0] == 0.9
    assert np.isnan(s.history["train_loss"][1])
    assert s.extra["standardise"] == {"mean": [0.5, -1.0], "std": [2.0, 0.25]} and "history" not in s.extra
    assert info.has_standardise
    bare = load_model(_model(tmp_path / "bare.safetensors", {"standardise": None})).info
    assert bare.has_standardise and bare.standardise is None and bare.history == {} and bare.epoch is None
    assert not load_model(_model(tmp_path / "none.safetensors")).info.has_standardise


@pytest.mark.parametrize(("fields", "key", "words"), BAD_EXTRA, ids=[f"{r[1]}:{r[2][:24]}" for r in BAD_EXTRA])
def test_wrong_metadata_names_file_and_key(tmp_path, fields: dict, key: str, words: str) -> None:
    path = _model(tmp_path / "m.safetensors", {**GOOD_EXTRA, **fields})
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    msg = str(info.value)
    assert msg.startswith(f"model file {path}: {key} "), msg
    assert words in msg, msg


def test_class_names_on_a_regression_model_are_refused(tmp_path) -> None:
    path = _model(tmp_path / "r.safetensors", {"class_names": ["a", "b"]}, output="identity")
    with pytest.raises(ModelFileError, match=r"extra\.class_names is given but the network predicts values"):
        load_model(path)


def _eval(capsys, model: Path, data: Path) -> tuple[int, str]:
    code = main(["eval", str(model), "--data", str(data)])
    return code, capsys.readouterr().err


def test_eval_with_a_zero_std_blames_the_model_file(tmp_path, capsys) -> None:
    data = _csv(tmp_path / "d.csv")
    extra = {"standardise": {"mean": [0.0, 0.0], "std": [1.0, 0.0]}, "class_names": ["a", "b"]}
    save_model(tmp_path / "m.safetensors", MLP([2, 4, 2], ["tanh"], "softmax"), extra=extra)
    code, err = _eval(capsys, tmp_path / "m.safetensors", data)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert f"{tmp_path / 'm.safetensors'}: extra.standardise.std[1] is 0.0" in err, err


@pytest.mark.parametrize(("extra", "key"), [({"class_names": 5}, "extra.class_names"),
                                            ({"feature_names": [1, 2]}, "extra.feature_names[0]")],
                         ids=["class_names", "feature_names"])
def test_eval_with_wrong_names_is_one_line_naming_the_key(tmp_path, capsys, extra: dict, key: str) -> None:
    save_model(tmp_path / "m.safetensors", MLP([2, 4, 2], ["tanh"], "softmax"), extra=extra)
    code, err = _eval(capsys, tmp_path / "m.safetensors", _csv(tmp_path / "d.csv"))
    assert code == 2 and "Traceback" not in err and f"{key} " in err, err


# ------------------------------------------------- random metadata: only ModelFileError or a valid Session (item 10)

JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=True),
                      st.text(max_size=6))
JSON = st.recursive(JSON_LEAF, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                      st.dictionaries(st.text(max_size=6), kids, max_size=4)),
                    max_leaves=12)
NUMBERS = st.lists(st.one_of(st.floats(allow_nan=False), st.integers(-5, 5), st.none()), max_size=4)
SCHEMA_VALUES = {
    "history": st.one_of(JSON, st.dictionaries(st.sampled_from(["epoch", "train_loss", "val_loss", "x"]), NUMBERS,
                                               max_size=3)),
    "epoch": st.one_of(JSON, st.integers(-3, 10)),
    "step": st.one_of(JSON, st.integers(-3, 10)),
    "class_names": st.one_of(JSON, st.lists(st.text(max_size=3), min_size=2, max_size=4)),
    "feature_names": st.one_of(JSON, st.lists(st.text(max_size=3), min_size=2, max_size=2)),
    "standardise": st.one_of(JSON, st.fixed_dictionaries({"mean": NUMBERS, "std": NUMBERS})),
    "task": st.one_of(JSON, st.sampled_from(["classification", "regression"])),
    "dataset": JSON,
}
EXTRA = st.fixed_dictionaries({}, optional=SCHEMA_VALUES).flatmap(
    lambda d: st.dictionaries(st.text(max_size=5), JSON, max_size=2).map(lambda more: {**more, **d}))
METADATA_TEXT = st.one_of(JSON.map(json.dumps), st.text(max_size=20))
RAW_METADATA = st.fixed_dictionaries({}, optional={
    "format": st.one_of(st.just(FORMAT), st.text(max_size=8)),
    "sizes": st.one_of(st.just(json.dumps(list(SIZES))), METADATA_TEXT),
    "activations": st.one_of(st.just('["tanh"]'), METADATA_TEXT),
    "output": st.one_of(st.just("softmax"), st.text(max_size=8)),
    "experiment": st.one_of(st.just(bpcore.config.experiment_to_json(Experiment())), METADATA_TEXT),
    "extra": st.one_of(EXTRA.map(json.dumps), METADATA_TEXT),
})


NET = MLP(list(SIZES), ["tanh"], "softmax")  # one network for every example: the metadata is what varies


def _check_session(s: Session) -> None:
    assert isinstance(s, Session) and s.model.sizes == SIZES
    info = s.info
    assert info.epoch is None or (isinstance(info.epoch, int) and info.epoch >= 0)
    assert info.class_names is None or (len(info.class_names) == SIZES[-1] and all(isinstance(c, str)
                                                                                   for c in info.class_names))
    assert info.standardise is None or all(v > 0 and np.isfinite(v) for v in info.standardise.std)
    lengths = {len(v) for v in s.history.values()}
    assert len(lengths) <= 1


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(extra=EXTRA)
def test_random_extra_gives_a_valid_session_or_model_file_error(tmp_path, extra: dict) -> None:
    path = tmp_path / "m.safetensors"
    try:
        save_model(path, NET, extra=extra)
    except ModelFileError:  # e.g. a value JSON cannot write
        return
    try:
        s = load_model(path)
    except ModelFileError as e:
        assert str(path) in str(e)
        return
    _check_session(s)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(metadata=RAW_METADATA)
def test_random_raw_metadata_gives_a_valid_session_or_model_file_error(tmp_path, metadata: dict) -> None:
    path = tmp_path / "m.safetensors"
    tensors = {f"W{l}": torch.zeros(SIZES[l] + 1, SIZES[l + 1]) for l in range(len(SIZES) - 1)}
    safetensors.torch.save_file(tensors, str(path), metadata=metadata)
    try:
        s = load_model(path)
    except ModelFileError as e:
        assert str(path) in str(e) and len(str(e)) < 2000
        return
    _check_session(s)


# ------------------------------------------------------------------------------ CSV messages (item 9)

UNCLOSED = [  # (file text, row and column of the opening quote)
    ('x,y,t\n1,"2,a\n3,4,b\n5,6,c\n', "row 2, column 2"),
    ('x,y,t\n1,2,a\n3,4,"b\n', "row 3, column 3"),
    ('x,y,t\n1,2,a\n3,4,"b', "row 3, column 3"),
    ('x,y,t\n1,2,a\n3,4,b\n"\n', "row 4, column 1"),
    ('x;y;t\n1;2;a\n"3;4;b\n5;6;c\n', "row 3, column 1"),
    ('x y t\n1 2 a\n3 "4 b\n', "row 3, column 2"),
]


@pytest.mark.parametrize(("text", "where"), UNCLOSED, ids=[w + f" ({i})" for i, (_, w) in enumerate(UNCLOSED)])
@pytest.mark.parametrize("reader", [read_csv, preview_csv], ids=["read_csv", "preview_csv"])
def test_an_unclosed_quote_is_named_where_it_opened(tmp_path, reader, text: str, where: str) -> None:
    path = tmp_path / "q.csv"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        reader(path)
    assert type(info.value) is DataError
    assert f"{path}: {where}: a quoted field opens here" in str(info.value) and "never closed" in str(info.value)


HEADERS = [  # (file text, feature names read, rows read): a numbered header is a header, a typo row is data
    ("0,1,2,digit\n1,2,3,1\n3,4,5,0\n6,7,8,1\n", ("0", "1", "2"), 3),
    ("2019,2020,t\n1,2,3\n4,5,6\n7,8,9\n", ("2019", "2020"), 3),
    ("x,y,2020\n1,2,cat\n3,4,dog\n", ("x", "y"), 2),
    ("1,2,x\n1,2,cat\n3,4,dog\n", ("col1", "col2"), 3),  # no cell of another type than its column: data
    ("x,y,t\n1,2,a\n3,4,b\n", ("x", "y"), 2),
    ("1,2,a\n3,4,b\n", ("col1", "col2"), 2),
    ("1,2,3\n4,5,6\n7,8,9\n", ("col1", "col2"), 3),
    ("1,1,x\n1,2,3\n4,5,6\n", ("col1", "col2"), 3),  # "1" twice: not names, so data
]


@pytest.mark.parametrize(("text", "features", "rows"), HEADERS, ids=[t.split("\n")[0] for t, _, _ in HEADERS])
def test_numeric_header_cells_are_recognised_by_the_documented_rule(tmp_path, text, features, rows) -> None:
    path = tmp_path / "h.csv"
    path.write_text(text)
    ds = read_csv(path, task="regression") if text.startswith(("2019", "1,2,3")) else read_csv(path)
    assert ds.feature_names == features and len(ds) == rows


TYPO_ROWS = [  # a typo in the first row is reported there, never taken for a header and dropped
    ("1,x,3\n1,2,3\n4,5,6\n", "row 1, column 2 'col2'"),
    ("x,2,a\n1,2,a\n3,4,b\n", "row 1, column 1 'col1'"),
    ("1,2,a\n3,x,b\n", "row 2, column 2 'col2'"),
]


@pytest.mark.parametrize(("text", "where"), TYPO_ROWS, ids=[w for _, w in TYPO_ROWS])
def test_a_typo_in_the_first_row_is_reported_not_dropped(tmp_path, text: str, where: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(DataError, match="non-numeric value") as info:
        read_csv(path)
    assert f"{path}: {where}" in str(info.value)


# -------------------------------------------------------------- relative csv: paths in experiment files (item 9)

@pytest.mark.parametrize("suffix", [".toml", ".json"])
def test_relative_csv_path_is_resolved_against_the_experiment_folder(tmp_path, monkeypatch, suffix) -> None:
    folder = tmp_path / "project"
    (folder / "data").mkdir(parents=True)
    _csv(folder / "data" / "d.csv")
    exp_path = folder / f"exp{suffix}"
    exp_path.write_text('[data]\nsource = "csv:data/d.csv"\n' if suffix == ".toml"
                        else '{"data": {"source": "csv:data/d.csv"}}')  # written by hand, beside its data
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    exp = load_experiment(exp_path)
    assert exp.data.source == f"csv:{folder / 'data' / 'd.csv'}"
    assert len(setup.load_data(exp.data)) == 4
    (folder / "data" / "d.csv").unlink()
    with pytest.raises(DataError) as info:
        setup.load_data(exp.data)
    assert f"{folder / 'data' / 'd.csv'}: CSV file not found" in str(info.value)


@pytest.mark.parametrize(("where", "written"), [("runs", "csv:{data}"), (".", "csv:data/d.csv"),
                                               ("data", "csv:d.csv")], ids=["outside", "same-folder", "beside-data"])
def test_saved_relative_csv_path_names_the_same_file_from_anywhere(tmp_path, monkeypatch, where, written) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    data = _csv(tmp_path / "data" / "d.csv")
    exp_path = Path(where) / "exp.toml"
    exp_path.parent.mkdir(exist_ok=True)
    save_experiment(Experiment().replace(data={"source": "csv:data/d.csv"}), exp_path)  # relative to the cwd
    on_disk = bpcore.config.tomllib.loads(exp_path.read_text())["data"]["source"]
    assert on_disk == written.format(data=data)
    monkeypatch.chdir(tmp_path / "data")  # load it from somewhere else
    exp = load_experiment(tmp_path / exp_path)
    assert Path(exp.data.csv_path).resolve() == data.resolve()
    assert len(setup.load_data(exp.data)) == 4


def test_absolute_csv_path_is_kept(tmp_path) -> None:
    data = _csv(tmp_path / "d.csv")
    save_experiment(Experiment().replace(data={"source": f"csv:{data}"}), tmp_path / "sub.toml")
    assert load_experiment(tmp_path / "sub.toml").data.source == f"csv:{data}"


# --------------------------------------------------------------- stale temporary files of killed saves (item 8)

def _temp(folder: Path, name: str, age_s: float) -> Path:
    path = folder / name
    path.write_bytes(b"half a model")
    t = time.time() - age_s
    os.utime(path, (t, t))
    return path


def test_stale_temps_of_killed_saves_are_removed_on_the_next_save(tmp_path) -> None:
    hour = 3600
    ours_old = _temp(tmp_path, ".m.safetensors.0123456789ab.tmp", hour)
    ours_fresh = _temp(tmp_path, ".m.safetensors.fedcba987654.tmp", 5)  # a save that may be running now
    other_file = _temp(tmp_path, ".other.safetensors.0123456789ab.tmp", hour)
    not_pattern = _temp(tmp_path, ".m.safetensors.notours.tmp", hour)
    upper_hex = _temp(tmp_path, ".m.safetensors.0123456789AB.tmp", hour)
    target = _temp(tmp_path, "precious", hour)
    link = tmp_path / ".m.safetensors.aaaaaaaaaaaa.tmp"
    link.symlink_to(target)
    os.utime(link, (time.time() - hour,) * 2, follow_symlinks=False)
    _model(tmp_path / "m.safetensors")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert not ours_old.exists()
    for kept in (ours_fresh, other_file, not_pattern, upper_hex, target):
        assert kept.exists(), left
    assert link.is_symlink() and target.read_bytes() == b"half a model"
    assert "m.safetensors" in left and len(left) == 7, left


def test_remove_stale_temps_reports_what_it_removed(tmp_path) -> None:
    old = _temp(tmp_path, ".exp.toml.00000000000a.tmp", 2 * bpcore.files.STALE_TEMP_SECONDS)
    young = _temp(tmp_path, ".exp.toml.00000000000b.tmp", bpcore.files.STALE_TEMP_SECONDS / 2)
    assert remove_stale_temps(tmp_path / "exp.toml") == [old]
    assert young.exists() and stat.S_ISREG(young.stat().st_mode)
    save_experiment(Experiment(), tmp_path / "exp.toml")  # experiment saves clean up too, via atomic_write_bytes
    assert remove_stale_temps(tmp_path / "exp.toml", older_than=0) == [young]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp.toml"]


def test_save_model_file_still_refuses_a_folder_target(tmp_path) -> None:
    (tmp_path / "m.safetensors").mkdir()
    W = [torch.zeros(SIZES[l] + 1, SIZES[l + 1]) for l in range(len(SIZES) - 1)]
    with pytest.raises(ModelFileError, match="cannot write model file"):
        save_model_file(tmp_path / "m.safetensors", W, SIZES, ["tanh"], "softmax")
