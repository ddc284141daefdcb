"""Fuzz read_csv: random bytes and CSV-like text give a valid Dataset or a DataError, never anything else."""

from __future__ import annotations

import os
import tempfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpcore.data import Dataset, preview_csv, read_csv
from bpcore.errors import DataError

NUMBERS = st.one_of(st.integers(-1000, 1000).map(str), st.floats(-1e6, 1e6).map(repr))
JUNK = st.one_of(
    st.sampled_from(["", " ", "nan", "inf", "-inf", "1e999", "a", '"', '"x,y"', "1,5", "é", "\x00", "1_0"]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=6),
)
LABELS = st.one_of(st.sampled_from(["cat", "dog", "0", "1", "2", "2.5", "α β"]), NUMBERS)
DELIMS = st.sampled_from([",", ";", "\t", "|", " ", "  "])
NEWLINES = st.sampled_from(["\n", "\r\n", "\r"])


@st.composite
def csv_like(draw) -> bytes:
    """Mostly well-formed tables (header or not, numeric features, a label column) with a few defects."""
    width, n_rows = draw(st.integers(1, 5)), draw(st.integers(0, 12))
    delim, newline = draw(DELIMS), draw(NEWLINES)
    rows = [[draw(NUMBERS) for _ in range(width - 1)] + [draw(LABELS)] for _ in range(n_rows)]
    if draw(st.booleans()):
        rows.insert(0, [draw(st.sampled_from(["x", "y", "t", "name", ""])) for _ in range(width)])
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):  # defects: a junk cell, a missing or an extra field
        if rows:
            row = rows[draw(st.integers(0, len(rows) - 1))]
            kind = draw(st.integers(0, 3))
            if kind == 3:  # a quote that opens a field (and, unless another quote follows, is never closed)
                k = draw(st.integers(0, len(row) - 1))
                row[k] = '"' + row[k]
            elif kind == 0:
                row[draw(st.integers(0, len(row) - 1))] = draw(JUNK)
            elif kind == 1 and len(row) > 1:
                row.pop()
            else:
                row.append(draw(NUMBERS))
    text = newline.join(delim.join(r) for r in rows) + draw(st.sampled_from(["", newline, newline * 3]))
    data = text.encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if draw(st.integers(0, 9)) == 0 and data:  # now and then one byte that breaks UTF-8
        k = draw(st.integers(0, len(data) - 1))
        data = data[:k] + b"\xff" + data[k:]
    return data


TARGETS = st.one_of(st.none(), st.integers(-6, 6), st.sampled_from(["col1", "t", "x"]))
TASKS = st.sampled_from(["auto", "classification", "regression"])


def _check(data: bytes, target, task) -> None:
    fd, name = tempfile.mkstemp(suffix=".csv")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            ds = read_csv(name, target, task=task)
        except DataError:
            pass
        else:
            assert isinstance(ds, Dataset) and len(ds) >= 1 and ds.X.dtype == np.float64
            assert ds.X.ndim == 2 and ds.X.shape[1] == len(ds.feature_names) >= 1
            assert np.isfinite(ds.X).all() and np.isfinite(ds.y).all()
            if ds.task == "classification":
                assert ds.y.shape == (len(ds),) and ds.n_classes >= 2 and ds.y.max() < ds.n_classes
                assert task != "regression"
            else:
                assert ds.y.shape == (len(ds), 1) and task != "classification"
        try:
            header, rows = preview_csv(name, n_rows=5)
        except DataError:
            pass
        else:
            assert len(rows) <= 5 and all(isinstance(c, str) for c in header)
    finally:
        os.unlink(name)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=csv_like(), target=TARGETS, task=TASKS)
def test_csv_like_text_gives_dataset_or_data_error(data, target, task):
    _check(data, target, task)


@settings(max_examples=80, deadline=None)
@given(data=st.binary(max_size=300), target=TARGETS, task=TASKS)
def test_random_bytes_give_dataset_or_data_error(data, target, task):
    _check(data, target, task)


@st.composite
def one_unclosed_quote(draw) -> tuple[str, int, int]:
    """A numeric table with a header and one opening quote at the start of one cell: (text, line, column)."""
    width, n_rows = draw(st.integers(2, 5)), draw(st.integers(3, 10))
    rows = [[f"c{j}" for j in range(width)]] + [[draw(NUMBERS) for _ in range(width)] for _ in range(n_rows)]
    i, j = draw(st.integers(0, n_rows)), draw(st.integers(0, width - 1))
    rows[i][j] = '"' + rows[i][j]
    return "\n".join(",".join(r) for r in rows) + draw(st.sampled_from(["", "\n"])), i + 1, j + 1


@settings(max_examples=100, deadline=None)
@given(case=one_unclosed_quote())
def test_an_unclosed_quote_is_reported_where_it_opened(tmp_path_factory, case):
    text, line, column = case
    path = tmp_path_factory.mktemp("q") / "q.csv"
    path.write_text(text)
    for read in (read_csv, preview_csv):
        try:
            read(path)
        except DataError as e:
            assert f"{path}: row {line}, column {column}: a quoted field opens here" in str(e), str(e)
        else:
            raise AssertionError(f"{read.__name__} read a file whose quote never closes:\n{text}")
