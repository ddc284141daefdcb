"""A lesson: a small network, its inputs x and targets t, typed by hand or read from a small JSON file.

For teaching the derivation on a network the class can compute by hand (up to 2-3-2): the weights W^(l) with
their bias rows last (eq. 11), the hidden activations, the output kind, the rows x and their targets t, and μ.
The inspector takes it as it takes a trainer's weights (InspectorSession.set_source(*lesson.source())).

File form (JSON, at most 64 KiB)::

    {"activations": ["sigmoid"], "output": "softmax", "lr": 0.5,
     "W": [[[0.5, -0.3, 0.8], [0.2, 0.7, -0.6], [0.1, -0.2, 0.05]],
           [[0.9, -0.4], [-0.5, 0.6], [0.3, 0.2], [0.05, -0.1]]],
     "x": [[0.7, -1.2], [0.3, 0.4]], "t": [1, 0]}

Matrices typed by hand are rows of numbers, one row per line, separated by spaces or commas (`parse_matrix`).
Every refusal is a DataError naming the key (or the line) and what was expected.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from bpcore import backprop as bp
from bpcore.atomic import atomic_write_bytes
from bpcore.errors import DataError
from bpcore.safe_io import load_json, read_regular

__all__ = ["LESSON_LIMIT", "MAX_ROWS", "MAX_UNITS", "Lesson", "lesson_from_text", "load_lesson", "parse_matrix",
           "save_lesson"]

LESSON_LIMIT = 64 * 1024  # bytes: a lesson is a handful of numbers
MAX_UNITS = 16  # per layer: a network to compute by hand
MAX_ROWS = 64


def parse_matrix(text: str, what: str) -> np.ndarray:
    """Rows of numbers, one per line (spaces or commas between them) as a float64 (rows, cols) array.

    DataError naming `what` and the line when a number does not parse or the rows differ in length."""
    rows = []
    for n, line in enumerate(text.strip().splitlines(), start=1):
        parts = [p for p in re.split(r"[,\s;]+", line.strip()) if p]
        if not parts:
            continue
        try:
            row = [float(p.replace("−", "-")) for p in parts]
        except ValueError:
            bad = next(p for p in parts if not _is_number(p.replace("−", "-")))
            raise DataError(f"{what}, line {n}: {bad!r} is not a number") from None
        if rows and len(row) != len(rows[0]):
            raise DataError(f"{what}, line {n}: {len(row)} numbers, but line 1 has {len(rows[0])}")
        rows.append(row)
    if not rows:
        raise DataError(f"{what}: no numbers given")
    a = np.array(rows, dtype=np.float64)
    if not np.isfinite(a).all():
        raise DataError(f"{what}: every number must be finite")
    return a


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Lesson:
    """A hand-sized network with its rows: W^(1) … W^(L) (biases last, eq. 11), x (B, D_0) and t."""

    weights: tuple[np.ndarray, ...]
    activations: tuple[str, ...]
    output: str
    x: np.ndarray
    t: np.ndarray  # class ids (softmax), 0/1 (sigmoid) or values (identity; (B,) or (B, K))
    lr: float = 0.5
    class_names: tuple[str, ...] | None = field(default=None)

    def __post_init__(self) -> None:
        _validate(self)

    def source(self) -> tuple[list[np.ndarray], list[str], str, np.ndarray, np.ndarray, float]:
        """The arguments of InspectorSession.set_source / InspectorPanel.set_source (copies)."""
        return ([W.copy() for W in self.weights], list(self.activations), self.output, self.x.copy(),
                self.t.copy(), self.lr)

    def to_json(self) -> str:
        """The file form (see the module docstring)."""
        doc = {"activations": list(self.activations), "output": self.output, "lr": self.lr,
               "W": [W.tolist() for W in self.weights], "x": self.x.tolist(), "t": self.t.tolist()}
        return json.dumps(doc, indent=1)

    @classmethod
    def from_mapping(cls, doc: object, where: str = "lesson") -> Lesson:
        """A lesson from the parsed JSON form; DataError naming the key otherwise."""
        if not isinstance(doc, dict):
            raise DataError(f"{where}: expected an object with keys W, activations, output, x, t")
        missing = [k for k in ("W", "output", "x", "t") if k not in doc]
        if missing:
            raise DataError(f"{where}: missing key(s) {', '.join(missing)}")
        try:
            Ws = tuple(np.array(W, dtype=np.float64) for W in doc["W"])
        except (TypeError, ValueError):
            raise DataError(f"{where}: W must be a list of matrices (lists of rows of numbers)") from None
        try:
            x = np.array(doc["x"], dtype=np.float64)
            t = np.array(doc["t"], dtype=np.float64)
        except (TypeError, ValueError):
            raise DataError(f"{where}: x and t must be lists of numbers") from None
        acts = doc.get("activations", ["sigmoid"] * (len(Ws) - 1))
        if not isinstance(acts, list) or not all(isinstance(a, str) for a in acts):
            raise DataError(f"{where}: activations must be a list of names")
        lr = doc.get("lr", 0.5)
        if not isinstance(lr, (int, float)) or isinstance(lr, bool):
            raise DataError(f"{where}: lr must be a number")
        output = doc["output"]
        if not isinstance(output, str):
            raise DataError(f"{where}: output must be a name")
        return cls(Ws, tuple(acts), output, x, t, float(lr))


def _validate(lesson: Lesson) -> None:
    Ws, acts = lesson.weights, lesson.activations
    if not Ws:
        raise DataError("lesson: W needs at least one matrix W^(1)")
    if lesson.output not in bp.OUTPUTS:
        raise DataError(f"lesson: output must be one of {', '.join(bp.OUTPUTS)}, got {lesson.output!r}")
    if len(acts) != len(Ws) - 1:
        raise DataError(f"lesson: {len(Ws)} weight matrices need {len(Ws) - 1} hidden activation(s), "
                        f"got {len(acts)}")
    for a in acts:
        if a not in bp.ACTIVATIONS:
            raise DataError(f"lesson: activation {a!r} is not one of {', '.join(bp.ACTIVATIONS)}")
    for l, W in enumerate(Ws, start=1):
        if W.ndim != 2 or W.shape[0] < 2 or W.shape[1] < 1:
            raise DataError(f"lesson: W^({l}) must be a matrix of at least 2 rows (inputs and the bias row b, "
                            f"eq. 11), got shape {W.shape}")
        if max(W.shape) > MAX_UNITS + 1:
            raise DataError(f"lesson: W^({l}) is {W.shape[0]} × {W.shape[1]}; a lesson network has at most "
                            f"{MAX_UNITS} units per layer")
        if not np.isfinite(W).all():
            raise DataError(f"lesson: W^({l}) has a number that is not finite")
        if l > 1 and W.shape[0] != Ws[l - 2].shape[1] + 1:
            raise DataError(f"lesson: W^({l}) needs {Ws[l - 2].shape[1] + 1} rows (the {Ws[l - 2].shape[1]} "
                            f"units of layer {l - 1} and the bias row), got {W.shape[0]}")
    d_in = Ws[0].shape[0] - 1
    x = lesson.x
    if x.ndim == 1 and d_in == x.shape[0]:
        object.__setattr__(lesson, "x", x.reshape(1, -1))
        x = lesson.x
    if x.ndim != 2 or x.shape[1] != d_in or not 1 <= len(x) <= MAX_ROWS:
        raise DataError(f"lesson: x must be 1 to {MAX_ROWS} rows of {d_in} inputs (W^(1) has {d_in} + 1 rows), "
                        f"got shape {x.shape}")
    if not np.isfinite(x).all():
        raise DataError("lesson: x has a number that is not finite")
    t, K = lesson.t, Ws[-1].shape[1]
    kind = bp.output_kind(lesson.output)
    if t.ndim == 0:
        t = t.reshape(1)
        object.__setattr__(lesson, "t", t)
    if len(t) != len(x):
        raise DataError(f"lesson: t needs one target per row of x ({len(x)}), got {len(t)}")
    if kind.coupled:
        if t.ndim != 1 or not np.all(t == np.round(t)) or t.min() < 0 or t.max() >= K:
            raise DataError(f"lesson: softmax targets t are class ids 1 per row in 0…{K - 1}, got {t.tolist()}")
        object.__setattr__(lesson, "t", t.astype(np.int64))
    elif kind.classifies:
        if K != 1 or not np.isin(t, (0.0, 1.0)).all():
            raise DataError(f"lesson: a sigmoid output has 1 unit and targets 0 or 1, got {K} unit(s) and "
                            f"{t.tolist()}")
    else:
        width = 1 if t.ndim == 1 else t.shape[1]
        if width != K:
            raise DataError(f"lesson: an identity output with {K} unit(s) needs {K} target value(s) per row, "
                            f"got {width}")
    if not (math.isfinite(lesson.lr) and lesson.lr > 0):
        raise DataError(f"lesson: lr (μ) must be a finite number > 0, got {lesson.lr!r}")


def load_lesson(path: str | os.PathLike[str]) -> Lesson:
    """Read a lesson file (JSON, ≤ 64 KiB, a regular file); DataError naming the file and the key otherwise."""
    raw = read_regular(path, what="lesson file", error=DataError, limit=LESSON_LIMIT)
    try:
        doc = load_json(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise DataError(f"{os.fspath(path)}: not a lesson file (JSON: {e})") from None
    return Lesson.from_mapping(doc, os.fspath(path))


def save_lesson(lesson: Lesson, path: str | os.PathLike[str]) -> None:
    """Write the lesson as JSON, atomically."""
    atomic_write_bytes(path, lesson.to_json().encode())


def lesson_from_text(weights: Sequence[str], activations: Sequence[str], output: str, x: str, t: str,
                     lr: float) -> Lesson:
    """A lesson from matrices typed as text (parse_matrix), as a lesson editor collects them."""
    Ws = tuple(parse_matrix(w, f"W^({l})") for l, w in enumerate(weights, start=1))
    X = parse_matrix(x, "x")
    T = parse_matrix(t, "t")
    if T.shape[1] == 1 or (T.shape[0] == 1 and T.shape[1] == len(X) and len(X) > 1):
        T = T.reshape(-1)
    return Lesson(Ws, tuple(activations), output, X, T, float(lr))
