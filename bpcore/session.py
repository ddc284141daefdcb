"""Model and session files on top of bpcore.files: an MLP (and a run's history) in, out.

What a model file's ``extra`` may hold is a schema (`ModelInfo`): every field the CLI, the trainer or the
window reads from it — history, mean |δ| per layer and epoch (delta_history), best epoch, epoch, step,
feature and class names, standardisation statistics, data set name and task — is checked for type and range
when the file is loaded, and a wrong one is a ModelFileError naming the file and the key
(``extra.standardise.std[2]``). Keys the schema does not know are kept as they are.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bpcore import backprop as bp
from bpcore.config import Experiment
from bpcore.errors import ModelFileError
from bpcore.files import load_model_file, save_model_file
from bpcore.nn import MLP

__all__ = ["ModelInfo", "Session", "Standardisation", "load_model", "save_model", "save_session"]

TASKS = ("classification", "regression")
MAX_COUNT = 2**53  # epochs and steps: exact in a float64 and in JSON readers that use doubles
_INTEGER_SERIES = ("epoch",)  # history series whose values are counts


class _Bad(Exception):
    """A field of `extra` that does not fit the schema: the dotted key and what is wrong."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key} {problem}")


def _kind(v: Any) -> str:
    return "null" if v is None else {dict: "object", list: "list", str: "string", bool: "boolean"}.get(
        type(v), type(v).__name__)


def _shown(v: Any, limit: int = 40) -> str:
    text = repr(v)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _count(v: Any, key: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise _Bad(key, f"must be a whole number >= 0, got {_kind(v)} {_shown(v)}")
    if not 0 <= v <= MAX_COUNT:
        raise _Bad(key, f"must be a whole number in [0, 2**53], got {_shown(v)}")
    return v


def _whole(v: Any, key: str) -> float:
    x = _number(v, key)
    if not (x.is_integer() and 0 <= x <= MAX_COUNT):
        raise _Bad(key, f"must be a whole number in [0, 2**53], got {_shown(v)}")
    return x


def _number(v: Any, key: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _Bad(key, f"must be a number, got {_kind(v)} {_shown(v)}")
    x = float(v)
    if not math.isfinite(x):
        raise _Bad(key, f"must be a finite number, got {_shown(v)}")
    return x


def _names(v: Any, key: str, want: int | None, what: str) -> tuple[str, ...]:
    if not isinstance(v, list):
        raise _Bad(key, f"must be a list of {what} names, got {_kind(v)} {_shown(v)}")
    for i, name in enumerate(v):
        if not isinstance(name, str):
            raise _Bad(f"{key}[{i}]", f"must be a string, got {_kind(name)} {_shown(name)}")
    if want is not None and len(v) != want:
        raise _Bad(key, f"lists {len(v)} {what} names but the network has {want}")
    if len(set(v)) != len(v):
        dup = next(name for i, name in enumerate(v) if name in v[:i])
        raise _Bad(key, f"names {dup!r} twice")
    return tuple(v)


def _series(v: Any, key: str, n_features: int) -> tuple[float, ...]:
    if not isinstance(v, list):
        raise _Bad(key, f"must be a list of {n_features} numbers, got {_kind(v)} {_shown(v)}")
    if len(v) != n_features:
        raise _Bad(key, f"holds {len(v)} values but the network has {n_features} inputs")
    return tuple(_number(x, f"{key}[{i}]") for i, x in enumerate(v))


@dataclass(frozen=True)
class Standardisation:
    """The training inputs' mean and standard deviation per feature: eval scales X as (X − mean) / std."""

    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def from_json(cls, v: Any, key: str, n_features: int) -> Standardisation:
        if not isinstance(v, dict):
            raise _Bad(key, f'must be an object {{"mean": [...], "std": [...]}}, got {_kind(v)} {_shown(v)}')
        for name in ("mean", "std"):
            if name not in v:
                raise _Bad(key, f"has no {name!r} entry")
        unknown = sorted(set(v) - {"mean", "std"})
        if unknown:
            raise _Bad(key, f"has an unknown entry {unknown[0]!r} (known: mean, std)")
        mean = _series(v["mean"], f"{key}.mean", n_features)
        std = _series(v["std"], f"{key}.std", n_features)
        for i, s in enumerate(std):
            if not s > 0:  # the data cannot be divided by it: the file is wrong, not the data
                raise _Bad(f"{key}.std[{i}]", f"is {s!r}; a stored standard deviation must be > 0")
        return cls(mean, std)

    def to_json(self) -> dict[str, list[float]]:
        return {"mean": list(self.mean), "std": list(self.std)}


@dataclass(frozen=True)
class ModelInfo:
    """The validated fields of a model file's ``extra`` (None where the file does not hold them)."""

    history: dict[str, np.ndarray] = field(default_factory=dict)  # series of one length, NaN for null
    delta_history: np.ndarray | None = None  # (epochs, L): mean |δ^(l)| per epoch, NaN for null
    best_epoch: int | None = None  # epoch of the lowest validation loss
    epoch: int | None = None
    step: int | None = None
    dataset: str | None = None
    task: str | None = None
    feature_names: tuple[str, ...] | None = None
    class_names: tuple[str, ...] | None = None
    standardise: Standardisation | None = None
    has_standardise: bool = False  # the key is present (null: trained without standardisation)

    @classmethod
    def from_extra(cls, extra: Mapping[str, Any], sizes: tuple[int, ...], output: str) -> ModelInfo:
        """Check `extra` against the schema for a network of these sizes and output; _Bad names the key."""
        n_in, n_out = sizes[0], sizes[-1]
        kw: dict[str, Any] = {}
        if extra.get("history") is not None:
            kw["history"] = _history(extra["history"])
        if extra.get("delta_history") is not None:
            rows = len(next(iter(kw.get("history", {}).values()), ()))
            kw["delta_history"] = _delta_history(extra["delta_history"], rows, len(sizes) - 1)
        for name in ("epoch", "step", "best_epoch"):
            if extra.get(name) is not None:
                kw[name] = _count(extra[name], f"extra.{name}")
        if extra.get("dataset") is not None:
            if not isinstance(extra["dataset"], str):
                raise _Bad("extra.dataset", f"must be a string, got {_kind(extra['dataset'])}")
            kw["dataset"] = extra["dataset"]
        task = extra.get("task")
        if task is not None:
            if task not in TASKS:
                raise _Bad("extra.task", f"must be 'classification' or 'regression', got {_shown(task)}")
            if task != bp.output_kind(output).task:
                raise _Bad("extra.task", f"is {task!r} but the network's output is {output!r}")
            kw["task"] = task
        if extra.get("feature_names") is not None:
            kw["feature_names"] = _names(extra["feature_names"], "extra.feature_names", n_in, "feature")
        if extra.get("class_names") is not None:
            want = bp.output_kind(output).classes(n_out)
            if not want:
                raise _Bad("extra.class_names", f"is given but the network predicts values (output {output!r})")
            kw["class_names"] = _names(extra["class_names"], "extra.class_names", want, "class")
        if "standardise" in extra:
            kw["has_standardise"] = True
            if extra["standardise"] is not None:
                kw["standardise"] = Standardisation.from_json(extra["standardise"], "extra.standardise", n_in)
        return cls(**kw)


def _delta_history(v: Any, rows: int, n_layers: int) -> np.ndarray:
    """(rows, n_layers) mean |δ| per epoch and layer: one list per history row, null for an unknown value."""
    key = "extra.delta_history"
    if not isinstance(v, list):
        raise _Bad(key, f"must be a list of per-epoch lists of {n_layers} numbers, got {_kind(v)} {_shown(v)}")
    if len(v) != rows:
        raise _Bad(key, f"holds {len(v)} epochs but extra.history holds {rows}")
    out = np.empty((rows, n_layers))
    for i, row in enumerate(v):
        if not isinstance(row, list) or len(row) != n_layers:
            raise _Bad(f"{key}[{i}]", f"must be a list of {n_layers} numbers (one per layer), got {_shown(row)}")
        for l, x in enumerate(row):
            out[i, l] = np.nan if x is None else _number(x, f"{key}[{i}][{l}]")
    return out


def _history(v: Any) -> dict[str, np.ndarray]:
    key = "extra.history"
    if not isinstance(v, dict):
        raise _Bad(key, f"must be an object of series (name: list of numbers), got {_kind(v)} {_shown(v)}")
    out: dict[str, np.ndarray] = {}
    length = None
    for name, series in v.items():
        k = f"{key}.{name}" if name.isidentifier() else f"{key}[{_shown(name)}]"
        if not isinstance(series, list):
            raise _Bad(k, f"must be a list of numbers, got {_kind(series)} {_shown(series)}")
        if length is not None and len(series) != length[1]:
            raise _Bad(k, f"holds {len(series)} values but {length[0]} holds {length[1]}")
        length = (k, len(series))
        values = np.empty(len(series))
        for i, x in enumerate(series):
            if x is None:
                values[i] = np.nan
            elif name in _INTEGER_SERIES:  # saved as floats (1.0, 2.0, ...) like every series
                values[i] = _whole(x, f"{k}[{i}]")
            else:
                values[i] = _number(x, f"{k}[{i}]")
        out[name] = values
    return out


@dataclass(frozen=True)
class Session:
    """What a session file holds: the model, its experiment and the training history so far.

    `extra` is the file's ``extra`` object without the history, every field the schema knows validated
    (`info` holds the same fields typed).
    """

    model: MLP
    experiment: Experiment | None
    history: dict[str, np.ndarray]
    extra: dict
    info: ModelInfo = field(default_factory=ModelInfo)
    grads: tuple[torch.Tensor, ...] | None = None  # ∇W^(l) of the last mini-batch (CPU), when the file has them

    @property
    def progress(self) -> dict[str, Any]:
        """The recorded run as bpcore.train.restore_progress takes it (keywords after the history)."""
        i = self.info
        return {"epoch": i.epoch, "step": i.step, "delta_history": i.delta_history, "best_epoch": i.best_epoch,
                "grads": self.grads}


def save_model(path: str | os.PathLike[str], model: MLP, experiment: Experiment | None = None,
               extra: dict | None = None, grads=None) -> None:
    """Write an MLP (and, for a session, the last mini-batch's ∇W per layer) as a safetensors model file (atomic;
    never pickle)."""
    save_model_file(path, [W.detach() for W in model.weights], model.sizes, model.activations, model.output,
                    experiment=experiment, extra=extra, grads=grads)


def load_model(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> Session:
    """Read a model or session file back into an MLP (ModelFileError on any problem, naming file and key)."""
    f = load_model_file(path)
    try:
        info = ModelInfo.from_extra(f.extra, f.sizes, f.output)
    except _Bad as e:
        raise ModelFileError(f"model file {Path(path)}: {e}") from None
    model = MLP(f.sizes, f.activations, f.output, dtype=f.weights[0].dtype, device=device)
    with torch.no_grad():
        for W, saved in zip(model.weights, f.weights, strict=True):
            W.copy_(saved)
    extra = {k: v for k, v in f.extra.items() if k not in ("history", "delta_history")}
    for name in ("feature_names", "class_names"):
        if getattr(info, name) is not None:
            extra[name] = list(getattr(info, name))
    if info.standardise is not None:
        extra["standardise"] = info.standardise.to_json()
    return Session(model, f.experiment, info.history, extra, info, f.grads)


def data_extra(trainer) -> dict[str, Any]:
    """What a model file needs besides the weights to be used on new data (`bpcore eval`, File ▸ Open model):
    the data set's name and task, its feature and class names and the standardisation statistics of the
    training inputs (null when trained without). The CLI and the window write the same fields."""
    split, ds = trainer.split, trainer.dataset
    stats = None if split.mean is None else Standardisation(tuple(split.mean.tolist()), tuple(split.std.tolist()))
    return {"dataset": ds.name, "task": ds.task, "standardise": None if stats is None else stats.to_json(),
            "feature_names": list(ds.feature_names),
            "class_names": None if ds.class_names is None else list(ds.class_names)}


def export_model(path: str | os.PathLike[str], trainer) -> None:
    """Write a Trainer's network, experiment and data description (`data_extra`) as a model file."""
    save_model(path, trainer.model, trainer.experiment, data_extra(trainer))


def _json_numbers(values: np.ndarray) -> list:
    """Floats as JSON numbers (Python's repr: they read back exactly), NaN and ±inf as null; nested lists kept."""
    return [None if not np.isfinite(x) else float(x) for x in values] if values.ndim == 1 else [
        _json_numbers(row) for row in values]


def save_session(path: str | os.PathLike[str], trainer, extra: dict | None = None) -> None:
    """Write a Trainer's model, experiment, data description (`data_extra`) and record: history, mean |δ| per
    layer and epoch, best epoch, epoch and step (NaN kept as null), and the last mini-batch's ∇W per layer
    (tensors G0 …, exact). The stopping criteria follow from the record and the experiment's limits
    (restore_progress rebuilds them)."""
    history, delta = trainer.history.views()
    record = {"history": {k: _json_numbers(v) for k, v in history.items()}, "delta_history": _json_numbers(delta),
              "best_epoch": trainer.best_epoch, "epoch": trainer.epoch, "step": trainer.step_count}
    save_model(path, trainer.model, trainer.experiment, {**data_extra(trainer), **(extra or {}), **record},
               grads=trainer.net.grads)
