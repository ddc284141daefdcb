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
import reprlib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Union

from bpcore.atomic import atomic_write_bytes
from bpcore.errors import ConfigError

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

__all__ = [
    "BUNDLED_SOURCES",
    "LIMITS",
    "OPTIMIZERS",
    "OUTPUT_CHOICES",
    "SCHEDULES",
    "TOY_SOURCES",
    "DataSpec",
    "Experiment",
    "Limit",
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
_DEVICE = re.compile(r"cpu|cuda(:\d{1,4})?")


# ------------------------------------------------------------------------------------------------- ranges
# Every number a user can type has its range here, once: the sections' checks, config.validate (live setters),
# the CLI flags, main.py's options and the window's spin boxes all read this table.

MAX_SEED = 2**63 - 1  # TOML integers are signed 64-bit; torch.Generator.manual_seed takes a uint64
MAX_ROWS = 10_000_000  # rows of a toy set and a mini-batch: 10^7 × a few float64 columns stays < 1 GB
MAX_UNITS = 1_000_000  # units of one hidden layer (the memory estimate of bpcore.train.setup judges the whole)
MAX_LAYERS = 100  # hidden layers
MAX_EPOCHS = 1_000_000_000  # fits the window's 32-bit spin boxes
MAX_THREADS = os.cpu_count() or 1  # torch.set_num_threads(99999) crashes the process; more than cores never helps
# μ and λ: a float32 run multiplies them with gradients and weights of order 1e-3..1e3; beyond 1e10 (or below
# 1e-10 for μ) the product overflows float32 (max 3.4e38) after a few steps or rounds away entirely (ulp(1) is
# 1.2e-7), so a typo like 1e300 is refused rather than turned into inf. 1e9 stays allowed: it shows divergence.
MAX_RATE = 1e10
MIN_LR = 1e-10
MAX_LOSS = 1e30  # goals and thresholds compared with float32 losses and norms (float32 max 3.4e38)
MAX_SECONDS = 1e9  # about 31 years
MAX_NOISE = 1e3  # toy-set noise; the points themselves lie in about [-1, 1]
MIN_WINDOW, MAX_WINDOW = 200, 8192  # main.py --size: a 8192² window grabs to a 256 MB picture


@dataclass(frozen=True)
class Limit:
    """The range of one number: lo..hi, each end closed unless marked open; `integer` for counts and seeds."""

    lo: float
    hi: float
    integer: bool = False
    lo_open: bool = False
    hi_open: bool = False

    def __contains__(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if isinstance(value, float) and not math.isfinite(value):
            return False
        above = value > self.lo if self.lo_open else value >= self.lo
        below = value < self.hi if self.hi_open else value <= self.hi
        return above and below

    def __str__(self) -> str:
        return (f"{'an integer' if self.integer else 'a number'} in {'(' if self.lo_open else '['}"
                f"{_number(self.lo)}, {_number(self.hi)}{')' if self.hi_open else ']'}")


def _number(v: float) -> str:
    if isinstance(v, int) or (float(v).is_integer() and abs(v) < 1e7):
        return str(int(v))
    return f"{v:g}"


LIMITS: dict[str, Limit] = {
    "data.n_samples": Limit(4, MAX_ROWS, integer=True),
    "data.noise": Limit(0.0, MAX_NOISE),
    "data.seed": Limit(0, MAX_SEED, integer=True),
    "model.hidden": Limit(1, MAX_UNITS, integer=True),  # each layer
    "model.init_seed": Limit(0, MAX_SEED, integer=True),
    "training.lr": Limit(MIN_LR, MAX_RATE),
    "training.momentum": Limit(0.0, 1.0, hi_open=True),
    "training.l2": Limit(0.0, MAX_RATE),
    "training.batch_size": Limit(1, MAX_ROWS, integer=True),
    "training.epochs": Limit(1, MAX_EPOCHS, integer=True),
    "training.step_size": Limit(1, MAX_EPOCHS, integer=True),
    "training.gamma": Limit(0.0, 1.0, lo_open=True),
    "training.time_limit": Limit(0.0, MAX_SECONDS, lo_open=True),
    "training.loss_goal": Limit(0.0, MAX_LOSS),
    "training.min_grad": Limit(0.0, MAX_LOSS, lo_open=True),
    "training.patience": Limit(1, MAX_EPOCHS, integer=True),
    "training.clip_norm": Limit(0.0, MAX_LOSS, lo_open=True),
    "training.seed": Limit(0, MAX_SEED, integer=True),
    "training.checkpoint_every": Limit(1, MAX_EPOCHS, integer=True),
    "training.eval_every": Limit(1, MAX_EPOCHS, integer=True),
    # settings outside an experiment, checked by validate() like the others
    "run.threads": Limit(1, MAX_THREADS, integer=True),
    "run.pace": Limit(0.1, 1000.0),  # epochs per second at most (the window's speed control); None: no limit
    "window.width": Limit(MIN_WINDOW, MAX_WINDOW, integer=True),
    "window.height": Limit(MIN_WINDOW, MAX_WINDOW, integer=True),
}


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


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlevel = 3


def _show(value: Any) -> str:
    """A user's value for a message, cut short: huge ints, long strings and deep or long lists stay one line."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 100:
        digits = int(value.bit_length() * math.log10(2)) + 1  # str() refuses ints over 4300 digits
        return f"{'-' if value < 0 else ''}an integer of about {digits} digits"
    return _REPR.repr(value)


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
            try:
                return float(value) + 0.0  # -0.0 becomes 0.0: numpy refuses a noise scale of -0.0 ("scale < 0")
            except OverflowError:  # an int beyond float64: the finite check names it
                return math.inf if value > 0 else -math.inf
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


def _optional_hint(cls: type, name: str) -> bool:
    hint = _hints(cls)[name]
    return _is_union(hint) and type(None) in typing.get_args(hint)


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
                    f"{self._key(f.name)} must be {_describe(hints[f.name])}, got {_show(value)} "
                    f"({type(value).__name__})"
                ) from None
            if isinstance(coerced, float) and not math.isfinite(coerced):
                raise ConfigError(f"{self._key(f.name)} must be a finite number, got {_show(value)}")
            object.__setattr__(self, f.name, coerced)
            self._in_range(f.name)
        self._check()

    def _in_range(self, name: str) -> None:
        """The LIMITS rule of one key (each element of a list; an unset value passes)."""
        limit = LIMITS.get(self._key(name))
        value = getattr(self, name)
        if limit is None or value is None:
            return
        for v in value if isinstance(value, tuple) else (value,):
            if v not in limit:
                rule = f"a list, each item {limit}" if isinstance(value, tuple) else str(limit)
                self._fail(name, rule + (" (or unset)" if _optional_hint(type(self), name) else ""))

    def _key(self, name: str) -> str:
        return f"{self.SECTION}.{name}"

    def _fail(self, name: str, rule: str) -> typing.NoReturn:
        raise ConfigError(f"{self._key(name)} must be {rule}, got {_show(getattr(self, name))}")

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
        self._require("hidden", len(self.hidden) <= MAX_LAYERS, f"a list of at most {MAX_LAYERS} layer sizes")
        from bpcore.backprop import HIDDEN_ACTIVATIONS  # here, not at the top: `import bpcore.config` stays torch-free

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
    eval_every: int = 1  # loss and score of train/val/test every N epochs (and at the last); 1: every epoch

    def _check(self) -> None:
        self._choice("optimizer", OPTIMIZERS)
        self._choice("schedule", SCHEDULES)
        self._require("device", _DEVICE.fullmatch(self.device) is not None, "'cpu', 'cuda' or 'cuda:N'")
        self._choice("dtype", DTYPES)


# ---------------------------------------------------------------------------------------------- experiment

_SECTIONS: dict[str, type[_Section]] = {"data": DataSpec, "model": ModelSpec, "training": TrainSpec}


def validate(key: str, value: Any) -> Any:
    """One setting checked by its own rules (a live setter's or a command line's entry point):
    ``validate("training.lr", 0.1)`` returns the coerced value or raises the same ConfigError a file or a CLI
    flag would get; ``run.threads`` and ``window.width``/``window.height`` are checked against LIMITS alone."""
    section, _, name = key.partition(".")
    cls = _SECTIONS.get(section)
    if cls is not None and name in _hints(cls):
        return getattr(cls(**{name: value}), name)
    limit = LIMITS.get(key)
    if limit is None or cls is not None:
        raise ConfigError(f"unknown setting {_show(key)}")
    if limit.integer and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{key} must be an integer, got {_show(value)} ({type(value).__name__})")
    if value not in limit:
        raise ConfigError(f"{key} must be {limit}, got {_show(value)}")
    return value


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

MAX_EXPERIMENT_BYTES = 1 << 20  # an experiment file is a few hundred bytes; anything past 1 MiB is refused unread


def experiment_to_json(exp: Experiment) -> str:
    """The experiment as JSON text (unset keys written as null)."""
    return json.dumps(exp.to_dict(include_none=True), indent=2)


def _parse_json(text: str, what: str = "JSON") -> Any:
    """JSON text as a value, nesting bounded; ConfigError with line and column when malformed."""
    from bpcore.safe_io import load_json

    try:
        return load_json(text)
    except json.JSONDecodeError as e:
        raise ConfigError(f"malformed {what} at line {e.lineno}, column {e.colno}: {e.msg}") from None
    except ValueError as e:  # nested too deeply
        raise ConfigError(f"malformed {what}: {e}") from None


def _parse_toml(text: str) -> Any:
    """TOML text as a dict, nesting bounded; ConfigError when malformed."""
    from bpcore.safe_io import check_depth

    try:
        d = tomllib.loads(text)
    except ValueError as e:  # TOMLDecodeError, or int() refusing a number of more than 4300 digits
        raise ConfigError(f"malformed TOML: {e}") from None
    except RecursionError:  # tomllib is pure Python: deep inline arrays/tables stop at the recursion limit
        d = None
    try:
        if d is None:
            raise ValueError("nested too deeply")
        check_depth(d)
    except ValueError as e:
        raise ConfigError(f"malformed TOML: {e}") from None
    return d


def experiment_from_json(s: str) -> Experiment:
    """Parse JSON text made by `experiment_to_json` (or by hand); ConfigError when malformed."""
    return Experiment.from_dict(_parse_json(s, "experiment JSON"))


def _format(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ConfigError(f"{path}: an experiment file must end in .toml or .json, not {path.suffix or '(none)'!r}")
    return suffix[1:]


def _resolve_csv(exp: Experiment, path: Path) -> Experiment:
    """A relative ``csv:`` path is relative to the experiment file's folder (so the file works from anywhere)."""
    rel = exp.data.csv_path
    if rel is None:
        return exp
    csv = Path(os.path.expanduser(rel.strip()))
    if csv.is_absolute() or path.parent == Path("."):
        return exp if str(csv) == rel else exp.replace(data={"source": f"csv:{csv}"})
    return exp.replace(data={"source": f"csv:{path.parent / csv}"})


def _relocate_csv(exp: Experiment, path: Path) -> Experiment:
    """The inverse of `_resolve_csv` for saving: a relative ``csv:`` path (relative to the working folder) is
    written relative to the experiment file's folder when the data lies inside it, else as an absolute path, so
    the saved file names the same data wherever it is loaded from."""
    rel = exp.data.csv_path
    if rel is None or Path(os.path.expanduser(rel.strip())).is_absolute():
        return exp
    data = os.path.abspath(os.path.expanduser(rel.strip()))
    folder = os.path.abspath(path.parent)
    try:
        inside = os.path.commonpath([data, folder]) == folder
    except ValueError:  # another drive (Windows)
        inside = False
    moved = os.path.relpath(data, folder) if inside else data
    return exp if moved == rel else exp.replace(data={"source": f"csv:{moved}"})


def load_experiment(path: str | os.PathLike[str]) -> Experiment:
    """Read an experiment from a .toml or .json file; ConfigError naming the file when it cannot be used.

    Only a regular file of at most MAX_EXPERIMENT_BYTES is read. A relative ``csv:<path>`` source is taken
    relative to the experiment file's folder, and the experiment returned holds that resolved path.
    """
    from bpcore.safe_io import read_regular

    path = Path(path)
    kind = _format(path)
    data = read_regular(path, what="experiment file", error=ConfigError, limit=MAX_EXPERIMENT_BYTES)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: not a UTF-8 text file (byte {e.start})") from None
    try:
        d = _parse_toml(text) if kind == "toml" else _parse_json(text)
        return _resolve_csv(Experiment.from_dict(d), path)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None


def save_experiment(exp: Experiment, path: str | os.PathLike[str]) -> None:
    """Write an experiment to a .toml or .json file atomically (the old file survives a crash).

    A relative ``csv:`` path is rewritten so that `load_experiment` finds the same file (see `_relocate_csv`).
    """
    import tomli_w

    path = Path(path)
    kind = _format(path)
    exp = _relocate_csv(exp, path)
    if kind == "toml":
        text = tomli_w.dumps(exp.to_dict())
    else:
        text = experiment_to_json(exp) + "\n"
    try:
        atomic_write_bytes(path, text.encode("utf-8"))
    except OSError as e:
        raise ConfigError(f"{path}: cannot write experiment file: {e.strerror or e}") from None
