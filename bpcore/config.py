"""One experiment description (data, model, training): the single source of truth for the CLI, the GUI and files.

Each section is a frozen dataclass whose type hints drive conversion: `from_dict` and direct construction both
coerce lists to tuples and ints to floats, reject bools where numbers are expected, and check ranges, raising
`ConfigError` with the dotted key (``training.lr must be > 0, got -1``).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Union

from bpcore.backprop import HIDDEN_ACTIVATIONS
from bpcore.errors import ConfigError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

__all__ = [
    "BUNDLED_SOURCES",
    "OPTIMIZERS",
    "OUTPUT_CHOICES",
    "SCHEDULES",
    "TOY_SOURCES",
    "DataSpec",
    "Experiment",
    "ModelSpec",
    "TrainSpec",
    "experiment_from_json",
    "experiment_to_json",
    "load_experiment",
    "save_experiment",
    "validate",
]

TOY_SOURCES: tuple[str, ...] = ("xor", "circles", "spirals", "gaussians", "moons", "plane", "sine")
BUNDLED_SOURCES: tuple[str, ...] = ("iris", "wine", "breast_cancer", "digits")
OUTPUT_CHOICES: tuple[str, ...] = ("auto", "softmax", "sigmoid", "identity")
OPTIMIZERS: tuple[str, ...] = ("sgd", "momentum", "nesterov", "adam")
SCHEDULES: tuple[str, ...] = ("constant", "step", "cosine")
DTYPES: tuple[str, ...] = ("float32", "float64")
_DEVICE = re.compile(r"cpu|cuda(:\d+)?")


# ------------------------------------------------------------------------------------------- type coercion

def _describe(hint: Any) -> str:
    """A type hint in words, for error messages: 'a number', 'a list of integers', …"""
    if hint is type(None):
        return "null"
    if hint is bool:
        return "true or false"
    if hint is int:
        return "an integer"
    if hint is float:
        return "a number"
    if hint is str:
        return "a string"
    args = typing.get_args(hint)
    if _is_union(hint):
        return " or ".join(_describe(a) for a in args)
    if typing.get_origin(hint) is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_describe(args[0]).split(' ', 1)[-1]}s"
        return f"a list of {len(args)} {_describe(args[0]).split(' ', 1)[-1]}s"
    return str(hint)


def _is_union(hint: Any) -> bool:
    return typing.get_origin(hint) in (Union, types.UnionType)


class _Mismatch(Exception):
    """Internal: a value does not fit a type hint."""


def _coerce(value: Any, hint: Any) -> Any:
    """`value` converted to `hint` (list → tuple, int → float), or _Mismatch."""
    if _is_union(hint):
        for arm in typing.get_args(hint):
            try:
                return _coerce(value, arm)
            except _Mismatch:
                pass
        raise _Mismatch
    if hint is type(None):
        if value is None:
            return None
        raise _Mismatch
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise _Mismatch
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        raise _Mismatch
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise _Mismatch
    if hint is str:
        if isinstance(value, str):
            return value
        raise _Mismatch
    if typing.get_origin(hint) is tuple:
        if not isinstance(value, (list, tuple)):
            raise _Mismatch
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(v, args[0]) for v in value)
        if len(value) != len(args):
            raise _Mismatch
        return tuple(_coerce(v, a) for v, a in zip(value, args, strict=True))
    raise TypeError(f"config: unsupported type hint {hint!r}")  # a programming error, not a user's


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


class _Section:
    """Mixin for the spec dataclasses: type coercion in __post_init__, then the section's range checks."""

    SECTION: ClassVar[str] = ""

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            try:
                coerced = _coerce(value, hints[f.name])
            except _Mismatch:
                raise ConfigError(
                    f"{self._key(f.name)} must be {_describe(hints[f.name])}, got {value!r} ({type(value).__name__})"
                ) from None
            if isinstance(coerced, float) and not math.isfinite(coerced):
                raise ConfigError(f"{self._key(f.name)} must be a finite number, got {value!r}")
            object.__setattr__(self, f.name, coerced)
        self._check()

    def _key(self, name: str) -> str:
        return f"{self.SECTION}.{name}"

    def _fail(self, name: str, rule: str) -> typing.NoReturn:
        raise ConfigError(f"{self._key(name)} must be {rule}, got {getattr(self, name)!r}")

    def _require(self, name: str, ok: bool, rule: str) -> None:
        if not ok:
            self._fail(name, rule)

    def _choice(self, name: str, choices: tuple[str, ...]) -> None:
        self._require(name, getattr(self, name) in choices, "one of " + ", ".join(choices))

    def _optional(self, name: str, test: typing.Callable[[Any], bool], rule: str) -> None:
        value = getattr(self, name)
        if value is not None:
            self._require(name, test(value), rule + " (or unset)")

    def _check(self) -> None:
        """Range checks of the section; overridden."""


# ------------------------------------------------------------------------------------------------ sections

@dataclass(frozen=True)
class DataSpec(_Section):
    """Where the data comes from and how it is split: a toy set, a bundled set or ``csv:<path>``."""

    SECTION: ClassVar[str] = "data"

    source: str = "spirals"
    n_samples: int = 400
    noise: float = 0.1
    seed: int = 0
    split: tuple[float, float, float] = (0.7, 0.15, 0.15)
    standardise: bool = True
    target: str | int | None = None
    task: str = "auto"  # CSV only: auto | classification | regression

    def _check(self) -> None:
        self._choice("task", ("auto", "classification", "regression"))
        known = (*TOY_SOURCES, *BUNDLED_SOURCES)
        if not (self.source in known or (self.source.startswith("csv:") and self.source[4:].strip())):
            self._fail("source", f"one of {', '.join(known)} or 'csv:<path>'")
        self._require("n_samples", self.n_samples >= 4, ">= 4")
        self._require("noise", self.noise >= 0, ">= 0")
        self._require("split", all(s >= 0 for s in self.split), "three fractions >= 0")
        self._require("split", self.split[0] > 0, "three fractions with train > 0")
        self._require("split", abs(sum(self.split) - 1.0) <= 1e-6, "three fractions that sum to 1")

    @property
    def is_csv(self) -> bool:
        """True when the source is a CSV file (``csv:<path>``)."""
        return self.source.startswith("csv:")

    @property
    def csv_path(self) -> str | None:
        """The path of a ``csv:<path>`` source, else None."""
        return self.source[4:] if self.is_csv else None


@dataclass(frozen=True)
class ModelSpec(_Section):
    """The network: hidden layer sizes, their activations and the output kind."""

    SECTION: ClassVar[str] = "model"

    hidden: tuple[int, ...] = (8, 8)
    activation: str | tuple[str, ...] = "tanh"
    output: str = "auto"
    init_seed: int = 0

    def _check(self) -> None:
        self._require("hidden", all(h >= 1 for h in self.hidden), "a list of layer sizes, each >= 1")
        names = (self.activation,) if isinstance(self.activation, str) else self.activation
        for name in names:
            if name not in HIDDEN_ACTIVATIONS:
                raise ConfigError(
                    f"model.activation: unknown activation {name!r}; choose one of {', '.join(HIDDEN_ACTIVATIONS)}"
                )
        if not isinstance(self.activation, str) and len(self.activation) != len(self.hidden):
            raise ConfigError(
                f"model.activation lists {len(self.activation)} activations but model.hidden has "
                f"{len(self.hidden)} layers; give one name, or one per hidden layer"
            )
        self._choice("output", OUTPUT_CHOICES)

    @property
    def activations(self) -> tuple[str, ...]:
        """One activation name per hidden layer."""
        if isinstance(self.activation, str):
            return (self.activation,) * len(self.hidden)
        return self.activation


@dataclass(frozen=True)
class TrainSpec(_Section):
    """How to train: optimizer (sgd = plain gradient descent, eq. 10), schedule, stopping rules, device."""

    SECTION: ClassVar[str] = "training"

    optimizer: str = "sgd"
    lr: float = 0.3
    momentum: float = 0.9
    l2: float = 0.0
    batch_size: int = 32
    epochs: int = 500
    schedule: str = "constant"
    step_size: int = 100
    gamma: float = 0.5
    time_limit: float | None = None
    loss_goal: float | None = None
    min_grad: float | None = None
    patience: int | None = None
    clip_norm: float | None = None
    seed: int = 0
    device: str = "cpu"
    dtype: str = "float32"
    checkpoint_every: int | None = None

    def _check(self) -> None:
        self._choice("optimizer", OPTIMIZERS)
        self._require("lr", self.lr > 0, "> 0")
        self._require("momentum", 0 <= self.momentum < 1, "in [0, 1)")
        self._require("l2", self.l2 >= 0, ">= 0")
        self._require("batch_size", self.batch_size >= 1, ">= 1")
        self._require("epochs", self.epochs >= 1, ">= 1")
        self._choice("schedule", SCHEDULES)
        self._require("step_size", self.step_size >= 1, ">= 1")
        self._require("gamma", 0 < self.gamma <= 1, "in (0, 1]")
        self._optional("time_limit", lambda v: v > 0, "> 0")
        self._optional("loss_goal", lambda v: v >= 0, ">= 0")
        self._optional("min_grad", lambda v: v > 0, "> 0")
        self._optional("patience", lambda v: v >= 1, ">= 1")
        self._optional("clip_norm", lambda v: v > 0, "> 0")
        self._require("device", _DEVICE.fullmatch(self.device) is not None, "'cpu', 'cuda' or 'cuda:N'")
        self._choice("dtype", DTYPES)
        self._optional("checkpoint_every", lambda v: v >= 1, ">= 1")


# ---------------------------------------------------------------------------------------------- experiment

_SECTIONS: dict[str, type[_Section]] = {"data": DataSpec, "model": ModelSpec, "training": TrainSpec}


def validate(key: str, value: Any) -> Any:
    """One setting checked by its section's own rules (a live setter's entry point): ``validate("training.lr",
    0.1)`` returns the coerced value or raises the same ConfigError a file or a CLI flag would get."""
    section, _, name = key.partition(".")
    cls = _SECTIONS.get(section)
    if cls is None or name not in _hints(cls):
        raise ConfigError(f"unknown setting {key!r}")
    return getattr(cls(**{name: value}), name)


def _unknown(key: str, name: str, known: list[str]) -> ConfigError:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return ConfigError(f"unknown key {key!r} (known: {', '.join(known)}{hint})")


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@dataclass(frozen=True)
class Experiment:
    """A whole experiment: data, model and training sections."""

    data: DataSpec = field(default_factory=DataSpec)
    model: ModelSpec = field(default_factory=ModelSpec)
    training: TrainSpec = field(default_factory=TrainSpec)

    def __post_init__(self) -> None:
        for name, cls in _SECTIONS.items():
            if not isinstance(getattr(self, name), cls):
                raise ConfigError(f"{name} must be a {cls.__name__}, got {type(getattr(self, name)).__name__}")

    def to_dict(self, include_none: bool = False) -> dict[str, dict[str, Any]]:
        """A plain dict of sections (tuples → lists); unset (None) keys are left out unless include_none."""
        return {
            name: {
                f.name: _plain(getattr(spec, f.name))
                for f in dataclasses.fields(spec)
                if include_none or getattr(spec, f.name) is not None
            }
            for name in _SECTIONS
            for spec in (getattr(self, name),)
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Experiment:
        """Build from a dict of sections; missing keys take defaults, unknown keys and wrong types are errors."""
        if not isinstance(d, Mapping):
            raise ConfigError(f"an experiment must be a table of sections, got {type(d).__name__}")
        for name in d:
            if name not in _SECTIONS:
                raise _unknown(str(name), str(name), list(_SECTIONS))
        sections = {name: _section_from_dict(spec_cls, d.get(name, {})) for name, spec_cls in _SECTIONS.items()}
        return cls(**sections)

    def replace(self, **sections: Mapping[str, Any] | _Section) -> Experiment:
        """A copy with sections replaced: a spec object, or a dict of keys merged into the current section."""
        d = self.to_dict(include_none=True)
        specs: dict[str, _Section] = {}
        for name, value in sections.items():
            if name not in _SECTIONS:
                raise _unknown(name, name, list(_SECTIONS))
            if isinstance(value, _SECTIONS[name]):
                specs[name] = value
            elif isinstance(value, Mapping):
                specs[name] = _section_from_dict(_SECTIONS[name], {**d[name], **value})
            else:
                raise ConfigError(
                    f"{name} must be a {_SECTIONS[name].__name__} or a dict of keys, got {type(value).__name__}"
                )
        return dataclasses.replace(self, **specs)


def _section_from_dict(spec_cls: type[_Section], values: Any) -> _Section:
    section = spec_cls.SECTION
    if not isinstance(values, Mapping):
        raise ConfigError(f"{section} must be a table of keys, got {type(values).__name__}")
    known = [f.name for f in dataclasses.fields(spec_cls)]  # type: ignore[arg-type]
    for key in values:
        if key not in known:
            raise _unknown(f"{section}.{key}", str(key), known)
    return spec_cls(**values)


# --------------------------------------------------------------------------------------------------- files

def experiment_to_json(exp: Experiment) -> str:
    """The experiment as JSON text (unset keys written as null)."""
    return json.dumps(exp.to_dict(include_none=True), indent=2)


def experiment_from_json(s: str) -> Experiment:
    """Parse JSON text made by `experiment_to_json` (or by hand); ConfigError when malformed."""
    try:
        d = json.loads(s)
    except json.JSONDecodeError as e:
        raise ConfigError(f"malformed experiment JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    return Experiment.from_dict(d)


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ConfigError(f"{path}: an experiment file must end in .toml or .json, not {path.suffix or '(none)'!r}")
    return suffix[1:]


def load_experiment(path: str | os.PathLike[str]) -> Experiment:
    """Read an experiment from a .toml or .json file; ConfigError naming the file when it cannot be used."""
    path = Path(path)
    kind = _format(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: experiment file not found") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not a UTF-8 text file (byte {e.start})") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read experiment file: {e.strerror or e}") from None
    if kind == "toml":
        try:
            d = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: malformed TOML: {e}") from None
    else:
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{path}: malformed JSON at line {e.lineno}, column {e.colno}: {e.msg}") from None
    try:
        return Experiment.from_dict(d)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None


def save_experiment(exp: Experiment, path: str | os.PathLike[str]) -> None:
    """Write an experiment to a .toml or .json file atomically (the old file survives a crash)."""
    import tomli_w

    from bpcore.files import atomic_write_bytes  # files.py imports this module, so import it late

    path = Path(path)
    if _format(path) == "toml":
        text = tomli_w.dumps(exp.to_dict())
    else:
        text = experiment_to_json(exp) + "\n"
    try:
        atomic_write_bytes(path, text.encode("utf-8"))
    except OSError as e:
        raise ConfigError(f"{path}: cannot write experiment file: {e.strerror or e}") from None
