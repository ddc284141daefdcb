"""Stage two of CSV import: a Table of text cells -> a checked Dataset (read_csv), or a preview for the GUI.

Error messages name the file, the row as the 1-based line number an editor shows (header and blank lines
count), and the column by 1-based position and name. The ``target`` argument itself is a Python index:
0-based, negative counts from the end.

Task rule for ``task="auto"``: a target with any non-numeric cell is a class label; a numeric target is a
class id when every value is an integer, there are at most 20 distinct values and at least two rows per
distinct value on average (2 * n_unique <= N); anything else is a regression target.
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np

from bpcore.data import csv_fast
from bpcore.data.csv_table import Table, is_number, quote, read_table
from bpcore.data.dataset import Dataset
from bpcore.errors import DataError

TaskArg = Literal["auto", "classification", "regression"]
MAX_AUTO_CLASSES = 20


def _where(t: Table, i: int, j: int) -> str:
    return f"{t.path}: row {t.lines[i]}, column {j + 1} {t.names[j]!r}"


def _columns(t: Table, limit: int = 30) -> str:
    listed = ", ".join(f"{j} = {name!r}" for j, name in enumerate(t.names[:limit]))
    return listed + (f", ... ({len(t.names)} columns)" if len(t.names) > limit else "")


def _target_index(t: Table, target: str | int | None) -> int:
    m = len(t.names)
    if target is None:
        return m - 1
    if isinstance(target, str):
        hits = [j for j, name in enumerate(t.names) if name == target]
        hits = hits or [j for j, name in enumerate(t.names) if name.casefold() == target.strip().casefold()]
        if len(hits) > 1:
            cols = ", ".join(str(j + 1) for j in hits)
            raise DataError(f"{t.path}: target column name {target!r} is ambiguous (columns {cols})")
        if not hits:
            raise DataError(f"{t.path}: no target column named {target!r}; available (index = name): "
                            f"{_columns(t)}")
        return hits[0]
    try:
        if isinstance(target, bool):
            raise TypeError
        k = operator.index(target)
    except TypeError:
        raise DataError(f"{t.path}: target must be a column name or index, got {target!r}") from None
    if not -m <= k < m:
        raise DataError(f"{t.path}: target column index {target!r} is out of range for {m} columns; "
                        f"available (index = name): {_columns(t)}")
    return k % m


def _feature_table(t: Table, target: str | int | None) -> int:
    """The target column's index, once the table is known to have a feature column besides it."""
    j = _target_index(t, target)
    if len(t.names) < 2:
        raise DataError(f"{t.path}: no feature column: the file has a single column {t.names[0]!r} "
                        "(the target)")
    return j


def _check_shape(t: Table) -> None:
    m = len(t.names)
    for i, row in enumerate(t.rows):
        if len(row) != m:
            what = "the header" if t.has_header else f"row {t.first_line}"
            fields = "field" if len(row) == 1 else "fields"
            raise DataError(f"{t.path}: row {t.lines[i]} has {len(row)} {fields}, expected {m} (as in {what})")


def _bad_feature(t: Table, feats: list[int], i: int) -> DataError:
    row = t.rows[i]
    for j in feats:
        if not row[j]:
            return DataError(f"{_where(t, i, j)}: empty cell (missing values are not supported)")
        if not is_number(row[j]):
            if not any(is_number(r[k]) for k in feats for r in t.rows):
                names = ", ".join(repr(t.names[k]) for k in feats[:6]) + (", ..." if len(feats) > 6 else "")
                return DataError(f"{t.path}: no numeric feature column (feature columns: {names}); "
                                 f"e.g. row {t.lines[i]} has {quote(row[j])} in column {j + 1}")
            hint = " (use a point as the decimal mark)" if is_number(row[j].replace(",", ".", 1)) else ""
            return DataError(f"{_where(t, i, j)}: non-numeric value {quote(row[j])} in a feature column{hint}")
    return DataError(f"{t.path}: row {t.lines[i]}: cannot read the row")  # not reached: float() failed above


def _features(t: Table, target: int) -> np.ndarray:
    feats = [j for j in range(len(t.names)) if j != target]
    X = np.empty((len(t.rows), len(feats)), dtype=np.float64)
    for i, row in enumerate(t.rows):
        try:
            X[i] = [float(row[j]) for j in feats]
        except ValueError:
            raise _bad_feature(t, feats, i) from None
    bad = ~np.isfinite(X)
    if bad.any():
        i, k = np.argwhere(bad)[0]
        j = feats[k]
        raise DataError(f"{_where(t, i, j)}: value {quote(t.rows[i][j])} is not a finite number "
                        "(NaN and Inf are not allowed)")
    return X


def _class_name(v: float) -> str:
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def _target(t: Table, j: int, task: TaskArg) -> tuple[np.ndarray, tuple[str, ...] | None]:
    cells = [row[j] for row in t.rows]
    for i, c in enumerate(cells):
        if not c:
            raise DataError(f"{_where(t, i, j)}: empty target cell (missing values are not supported)")
    text = [i for i, c in enumerate(cells) if not is_number(c)]
    if text and task == "regression":
        i = text[0]
        raise DataError(f"{_where(t, i, j)}: target {quote(cells[i])} is not a number, "
                        "but a regression target must be")
    if text:  # class labels as text: ids in sorted order of the names
        classes = tuple(sorted(set(cells)))
        ids = {name: k for k, name in enumerate(classes)}
        y = np.asarray([ids[c] for c in cells], dtype=np.int64)
    else:
        values = np.asarray([float(c) for c in cells])
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            i = int(bad[0])
            raise DataError(f"{_where(t, i, j)}: target {quote(cells[i])} is not a finite number "
                            "(NaN and Inf are not allowed)")
        return _numeric_target(t, j, values, task)
    return _classes_of(t, j, y, classes)


def _numeric_target(t: Table, j: int, values: np.ndarray, task: TaskArg) -> tuple[np.ndarray, tuple | None]:
    """A finite numeric target column: class ids and names, or the regression column (see the task rule)."""
    uniq, y = np.unique(values, return_inverse=True)
    integral = bool(np.all(values == np.round(values)))
    as_classes = task == "classification" or (
        task == "auto" and integral and len(uniq) <= MAX_AUTO_CLASSES and 2 * len(uniq) <= len(values)
    )
    if not as_classes:
        return values.reshape(-1, 1), None
    return _classes_of(t, j, y, tuple(_class_name(float(v)) for v in uniq))


def _classes_of(t: Table, j: int, y: np.ndarray, classes: tuple[str, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    if len(classes) < 2:
        raise DataError(f"{t.path}: target column {j + 1} {t.names[j]!r} has a single class "
                        f"{quote(classes[0])}; classification needs at least two classes")
    return y.reshape(-1).astype(np.int64), classes


def read_csv(
    source: str | os.PathLike, target: str | int | None = None, *, task: TaskArg = "auto",
    progress: Callable[[float], None] | None = None,
) -> Dataset:
    """Load a numeric CSV file as a Dataset; the target column (name or index, default last) becomes y.
    `progress(fraction)` is called as a large file is read (the fast path's blocks)."""
    if task not in ("auto", "classification", "regression"):
        raise DataError(f"task must be 'auto', 'classification' or 'regression', got {task!r}")
    try:  # large all-numeric files: pyarrow, straight into the matrix (csv_fast); anything else: the checked reader
        sample, X, values = csv_fast.read_columns(source, lambda t: _feature_table(t, target), progress)
    except csv_fast.Refused:
        pass
    else:
        j = _target_index(sample, target)
        y, classes = _numeric_target(sample, j, values, task)
        features = tuple(name for k, name in enumerate(sample.names) if k != j)
        return Dataset(Path(sample.path).stem, X, y, features, classes, finite=True)  # checked block by block
    t = read_table(source)
    if not t.rows:
        raise DataError(f"{t.path}: the file has a header (row {t.first_line}) but no data rows")
    _check_shape(t)
    j = _feature_table(t, target)
    X = _features(t, j)
    y, classes = _target(t, j, task)
    features = tuple(name for k, name in enumerate(t.names) if k != j)
    return Dataset(Path(t.path).stem, X, y, features, classes)


def preview_csv(source: str | os.PathLike, n_rows: int = 20) -> tuple[list[str], list[list[str]]]:
    """Column names (the header, or col1, col2, ...) and the first n_rows data rows as text cells."""
    try:
        n = operator.index(n_rows)
    except TypeError:
        raise DataError(f"n_rows must be an integer >= 0, got {n_rows!r}") from None
    if n < 0:
        raise DataError(f"n_rows must be >= 0, got {n}")
    try:  # a large file: its first lines are enough (the whole file is read, and checked, on import)
        t = csv_fast.head_table(source, max_rows=n)
    except csv_fast.Refused:
        t = read_table(source, max_rows=n)
    return t.names, t.rows
