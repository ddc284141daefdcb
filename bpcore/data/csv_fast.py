"""The fast path of CSV import for large all-numeric files: pyarrow's reader on one run of lines per core,
each straight into its own rows of the float64 feature matrix and the target column.

read_csv tries it first for files of FAST_BYTES or more. The delimiter and the header are decided by the checked
reader's own code on the file's first SAMPLE_BYTES, so both paths read a file the same way; whenever the fast
path meets anything it would read differently or anything wrong (a cell that is not a number, a ragged row, an
empty cell, NaN or Inf, space-aligned columns, blank lines before the first row, a trailing delimiter, a byte-order
mark), it refuses and read_csv reads the file with the checked reader, whose messages name the row and column.
A file whose sample holds only integers is parsed as int32 first (twice as fast; a cell that is not one sends
it to the float64 parse). Memory: the returned arrays, the file's bytes and one block of rows per thread (never
a table of text cells, nor a second copy of the matrix).
"""

from __future__ import annotations

import os
import queue
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import TYPE_CHECKING

import numpy as np

from bpcore.data.csv_table import _BOM, MAX_CSV_BYTES, Table, table_from_text
from bpcore.errors import DataError
from bpcore.safe_io import open_regular

if TYPE_CHECKING:
    import pyarrow as pa

FAST_BYTES = 4 << 20  # smaller files gain little: the checked reader takes well under a second for them
SAMPLE_BYTES = 1 << 20  # the head of the file whose rows decide the delimiter and the header
SAMPLE_ROWS = 1000
BLOCK_BYTES = 4 << 20  # pyarrow's block: the rows parsed and converted at a time
PARTS = max(1, min(os.cpu_count() or 1, 8))  # runs of lines parsed on threads of their own, one per core


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


def _integers(head: bytes, delimiter: str) -> bool:
    """Whether the sample's bytes hold only integer cells: such files are parsed as int32 (about twice as fast
    as float64; every int32 is a float64 exactly)."""
    return re.fullmatch(rb"[0-9\-\r\n" + re.escape(delimiter.encode()) + rb"]*", head) is not None


def _cuts(data: bytes, start: int, parts: int) -> list[int]:
    """Byte offsets that split data[start:] into `parts` runs of whole lines (each cut just after a newline)."""
    cuts = [start]
    for k in range(1, parts):
        at = data.find(b"\n", max(cuts[-1], start + (len(data) - start) * k // parts)) + 1
        if 0 < at < len(data):
            cuts.append(at)
    return [*dict.fromkeys(cuts), len(data)]


def _fill(part: pa.Buffer, delimiter: str, names: list[str], kind: pa.DataType, j: int, X: np.ndarray,
          y: np.ndarray, done: list[int], slot: int, stop: threading.Event, blocks: queue.SimpleQueue) -> None:
    """Parse one run of lines into its rows of X and y (rows X.shape[0] at most: Refused beyond), counting its
    rows in done[slot], putting `slot` in `blocks` after each block and None when it ends, however it ends."""
    import pyarrow as pa
    import pyarrow.csv as pc

    try:
        reader = pc.open_csv(
            pa.BufferReader(part),
            read_options=pc.ReadOptions(column_names=names, block_size=BLOCK_BYTES, use_threads=False),
            parse_options=pc.ParseOptions(delimiter=delimiter),
            convert_options=pc.ConvertOptions(column_types=dict.fromkeys(names, kind), null_values=[],
                                              strings_can_be_null=False, quoted_strings_can_be_null=False))
        n = 0
        for batch in reader:
            m = batch.num_rows
            if stop.is_set():
                return
            if n + m > len(X):
                raise Refused("more rows than lines")
            columns = [c.to_numpy(zero_copy_only=False) for c in batch.columns]
            y[n:n + m] = columns.pop(j)
            X[n:n + m] = np.stack(columns).T  # (D, m) in column order, then one transposing copy
            if kind != pa.int32() and not (np.isfinite(X[n:n + m]).all() and np.isfinite(y[n:n + m]).all()):
                raise Refused("NaN / Inf / empty cells: the checked reader names the cell")
            n += m
            done[slot] = n
            blocks.put(slot)
    finally:
        blocks.put(None)


def _read(data: bytes, sample: Table, j: int, kind: pa.DataType, parts: int,
          progress: Callable[[float], None] | None) -> tuple[np.ndarray, np.ndarray]:
    """Features and target of `data` (the file's bytes) with every column read as `kind`, the lines split into
    `parts` runs parsed on as many threads, each straight into its own rows of the matrix."""
    import pyarrow as pa

    start = data.find(b"\n") + 1 if sample.has_header else 0
    cuts = _cuts(data, start, parts)
    lines = [data.count(b"\n", a, b) + (data[b - 1:b] != b"\n") for a, b in pairwise(cuts)]
    rows = sum(lines)
    width = len(sample.names)
    X = np.empty((rows, width - 1), dtype=np.float64)
    y = np.empty(rows, dtype=np.float64)
    names = [f"c{k}" for k in range(width)]
    whole, done, stop, blocks = pa.py_buffer(data), [0] * len(lines), threading.Event(), queue.SimpleQueue()
    offsets = np.cumsum([0, *lines])
    with ThreadPoolExecutor(len(lines), thread_name_prefix="bpcore-csv") as pool:
        jobs = [pool.submit(_fill, whole.slice(a, b - a), sample.delimiter, names, kind, j,
                            X[offsets[k]:offsets[k + 1]], y[offsets[k]:offsets[k + 1]], done, k, stop, blocks)
                for k, (a, b) in enumerate(pairwise(cuts))]
        try:
            ended = 0
            while ended < len(jobs):  # the progress after each block, reported from this thread only
                if blocks.get() is None:
                    ended += 1
                elif progress is not None:
                    progress(sum(done) / rows)
            for job in jobs:
                job.result()
        except BaseException:
            stop.set()  # the other runs end at their next block
            raise
    if done != lines:  # blank lines (pyarrow skips them, as the checked reader does): close the gaps
        keep = np.concatenate([np.arange(o, o + n) for o, n in zip(offsets, done, strict=False)])
        X, y = X[keep], y[keep]
    if progress is not None and rows:
        progress(1.0)
    return X, y


def read_columns(source: str | os.PathLike, target: Callable[[Table], int],
                 progress: Callable[[float], None] | None = None) -> tuple[Table, np.ndarray, np.ndarray]:
    """(the sample Table with the column names, features (N, D) float64, target column (N,) float64) of an
    all-numeric CSV file; `target(sample)` picks the target column's index. Refused when the fast path does not
    read the file; DataError for a path that is not a readable regular file (as the checked reader says)."""
    try:
        import pyarrow as pa
    except ImportError:
        raise Refused("pyarrow is not installed") from None
    fd, path, size = open_regular(source, what="CSV file", error=DataError, limit=MAX_CSV_BYTES)
    with os.fdopen(fd, "rb") as f:
        if size < FAST_BYTES:
            raise Refused("small file")
        data = f.read(MAX_CSV_BYTES + 1)  # the size may have changed since it was checked
    if len(data) > MAX_CSV_BYTES:
        raise Refused("the file grew past the size limit")
    head = data[:SAMPLE_BYTES]
    sample = _sample(head, path)
    j = target(sample)
    body = head[head.find(b"\n") + 1:] if sample.has_header else head
    kinds = [pa.int32(), pa.float64()] if _integers(body, sample.delimiter) else [pa.float64()]
    parts = max(1, min(PARTS, len(data) // BLOCK_BYTES))
    for kind in kinds:
        try:
            X, y = _read(data, sample, j, kind, parts, progress)
            break
        except (pa.ArrowException, ValueError, Refused) as e:  # a cell, a row or a quote it cannot read
            if kind == kinds[-1]:
                raise Refused(str(e)) from None
    if len(y) == 0:
        raise Refused("no rows: the checked reader says so")
    return sample, X, y
