"""The fast path of CSV import for large all-numeric files: pyarrow's multithreaded reader, straight into the
float64 feature matrix and the target column.

read_csv tries it first for files of FAST_BYTES or more. The delimiter and the header are decided by the checked
reader's own code on the file's first SAMPLE_BYTES, so both paths read a file the same way; whenever the fast
path meets anything it would read differently or anything wrong (a cell that is not a number, a ragged row, an
empty cell, NaN or Inf, space-aligned columns, blank lines before the first row, a trailing delimiter, a byte-order
mark), it refuses and read_csv reads the file with the checked reader, whose messages name the row and column.
Memory: the returned arrays plus one block of rows at a time (never a table of text cells, nor a second copy of
the matrix).
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np

from bpcore.data.csv_table import _BOM, MAX_CSV_BYTES, Table, table_from_text
from bpcore.errors import DataError
from bpcore.safe_io import open_regular

FAST_BYTES = 4 << 20  # smaller files gain little: the checked reader takes well under a second for them
SAMPLE_BYTES = 1 << 20  # the head of the file whose rows decide the delimiter and the header
SAMPLE_ROWS = 1000
BLOCK_BYTES = 4 << 20  # pyarrow's block: the rows parsed (in parallel) and converted at a time
_COUNT_CHUNK = 16 << 20


class Refused(Exception):
    """The fast path does not read this file (the checked reader will, or will say what is wrong)."""


def _sample(head: bytes, path: str) -> Table:
    if head.startswith(_BOM):
        raise Refused("byte-order mark")
    cut = head.rfind(b"\n")
    if cut < 0:
        raise Refused("no complete line in the sample")
    try:
        text = head[: cut + 1].decode("utf-8")
        sample = table_from_text(path, text, max_rows=SAMPLE_ROWS)
    except (UnicodeDecodeError, DataError) as e:  # the checked reader reports it, at its place in the file
        raise Refused(str(e)) from None
    width = len(sample.names)
    if sample.delimiter == " " or sample.first_line != 1 or not sample.rows \
            or any(len(r) != width for r in sample.rows):
        raise Refused("a layout the fast reader would read differently")
    return sample


def head_table(source: str | os.PathLike, max_rows: int) -> Table:
    """The Table of a large file's first lines (at most `max_rows` data rows): a preview without reading the
    whole file. Refused for a file under FAST_BYTES, or one whose head the checked reader must see whole."""
    fd, path, size = open_regular(source, what="CSV file", error=DataError, limit=MAX_CSV_BYTES)
    with os.fdopen(fd, "rb") as f:
        if size < FAST_BYTES:
            raise Refused("small file")
        sample = _sample(f.read(SAMPLE_BYTES), path)
    sample.rows, sample.lines = sample.rows[:max_rows], sample.lines[:max_rows]
    return sample


def _lines(f) -> int:
    """Newlines in the file, +1 when its last line has none: at least the number of rows."""
    f.seek(0)
    n, last = 0, b"\n"
    while chunk := f.read(_COUNT_CHUNK):
        n += chunk.count(b"\n")
        last = chunk[-1:]
    f.seek(0)
    return n + (last != b"\n")


def read_columns(source: str | os.PathLike, target: Callable[[Table], int],
                 progress: Callable[[float], None] | None = None) -> tuple[Table, np.ndarray, np.ndarray]:
    """(the sample Table with the column names, features (N, D) float64, target column (N,) float64) of an
    all-numeric CSV file; `target(sample)` picks the target column's index. Refused when the fast path does not
    read the file; DataError for a path that is not a readable regular file (as the checked reader says)."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pc
    except ImportError:
        raise Refused("pyarrow is not installed") from None
    fd, path, size = open_regular(source, what="CSV file", error=DataError, limit=MAX_CSV_BYTES)
    with os.fdopen(fd, "rb") as f:
        if size < FAST_BYTES:
            raise Refused("small file")
        sample = _sample(f.read(SAMPLE_BYTES), path)
        width, j = len(sample.names), target(sample)
        rows = _lines(f)
        X = np.empty((rows, width - 1), dtype=np.float64)
        y = np.empty(rows, dtype=np.float64)
        names = [f"c{k}" for k in range(width)]
        try:
            reader = pc.open_csv(
                pa.PythonFile(f, mode="r"),
                read_options=pc.ReadOptions(skip_rows=int(sample.has_header), column_names=names,
                                            block_size=BLOCK_BYTES),
                parse_options=pc.ParseOptions(delimiter=sample.delimiter),
                convert_options=pc.ConvertOptions(column_types=dict.fromkeys(names, pa.float64()),
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False))
            n = 0
            for batch in reader:
                m = batch.num_rows
                if n + m > rows:
                    raise Refused("more rows than lines")
                block = X[n:n + m]
                for k, column in enumerate(batch.columns):  # column by column: no (m, D) temporary
                    values = column.to_numpy(zero_copy_only=False)
                    if k == j:
                        y[n:n + m] = values
                    else:
                        block[:, k - (k > j)] = values
                n += m
                if progress is not None:
                    progress(n / rows)
        except (pa.ArrowException, ValueError) as e:  # a cell, a row or a quote it cannot read
            raise Refused(str(e)) from None
    X, y = X[:n], y[:n]
    if n == 0 or not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise Refused("no rows, or NaN / Inf / empty cells: the checked reader names the cell")
    return sample, X, y
