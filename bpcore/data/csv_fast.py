"""The fast path of CSV import for large all-numeric files: pyarrow's reader on one run of lines per core,
each straight into its own rows of the float64 feature matrix and the target column.

read_csv tries it first for files of FAST_BYTES or more. The delimiter and the header are decided by the checked
reader's own code on the file's first SAMPLE_ROWS lines, so both paths read a file the same way; whenever the fast
path meets anything it would read differently or anything wrong (a cell that is not a number, a ragged row, an
empty cell, NaN or Inf, space-aligned columns, blank lines before the first row, a trailing delimiter, a byte-order
mark), it refuses and read_csv reads the file with the checked reader, whose messages name the row and column.
A file whose sample holds only integers is parsed as int32 first (twice as fast; a cell that is not one sends
it to the float64 parse). Memory: the returned arrays, the file's bytes and one block of rows per thread (never
a table of text cells, nor a second copy of the matrix).
"""

from __future__ import annotations

import ctypes
import importlib.util
import mmap
import os
import queue
import re
import sys
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import chain, pairwise
from typing import TYPE_CHECKING

import numpy as np

from bpcore.data.csv_table import _BOM, _SAMPLE_LINES, MAX_CSV_BYTES, Table, table_from_text
from bpcore.errors import DataError
from bpcore.safe_io import open_regular

if TYPE_CHECKING:
    import pyarrow as pa

FAST_BYTES = 4 << 20  # smaller files gain little: the checked reader takes well under a second for them
SAMPLE_BYTES = 1 << 20  # the head of the file: integers only in it → int32 parse first
SAMPLE_ROWS = _SAMPLE_LINES  # the rows after the first line that decide the delimiter and the header, as the
# checked reader's delimiter rule reads them (parsing the whole head's 577 MNIST rows took 0.09 s)
BLOCK_BYTES = 4 << 20  # pyarrow's block: the rows parsed and converted at a time
AHEAD_BLOCKS = 4  # blocks a run may parse before the main thread has its rows ready
PARTS = max(1, min(os.cpu_count() or 1, 8))  # runs of lines parsed on threads of their own, one per core


class Refused(Exception):
    """The fast path does not read this file (the checked reader will, or will say what is wrong)."""


def _sample(head: bytes, path: str, rows: int) -> Table:
    """The checked reader's Table of the head's first line and `rows` lines after it (as many as the head holds):
    its delimiter, header and widths. Every cell of a file the fast path reads is a number, and on such rows the
    checked reader's header rule gives the same answer for any number of them; its delimiter rule reads the
    first SAMPLE_ROWS lines when none is blank (a blank one in the sample is refused)."""
    if head.startswith(_BOM):
        raise Refused("byte-order mark")
    end = 0
    for _ in range(rows + 1):
        at = head.find(b"\n", end)
        if at < 0:
            break
        end = at + 1
    if end == 0:
        raise Refused("no complete line in the sample")
    try:
        sample = table_from_text(path, head[:end].decode("utf-8"), max_rows=rows)
    except (UnicodeDecodeError, DataError) as e:  # the checked reader reports it, at its place in the file
        raise Refused(str(e)) from None
    width = len(sample.names)
    if sample.delimiter == " " or sample.first_line != 1 or not sample.rows \
            or any(len(r) != width for r in sample.rows) \
            or sample.lines[-1] - sample.lines[0] + 1 != len(sample.lines):
        raise Refused("a layout the fast reader would read differently")
    return sample


def head_table(source: str | os.PathLike, max_rows: int) -> Table:
    """The Table of a large file's first lines (at most `max_rows` data rows): a preview without reading the
    whole file. Refused for a file under FAST_BYTES, or one whose head the checked reader must see whole."""
    fd, path, size = open_regular(source, what="CSV file", error=DataError, limit=MAX_CSV_BYTES)
    with os.fdopen(fd, "rb") as f:
        if size < FAST_BYTES:
            raise Refused("small file")
        sample = _sample(f.read(SAMPLE_BYTES), path, max_rows)
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


def _fill(part: pa.Buffer, delimiter: str, names: list[str], kind: pa.DataType, j: int, place: Future,
          done: list[int], slot: int, stop: threading.Event, blocks: queue.SimpleQueue) -> None:
    """Parse one run of lines into its rows of X and y, counting its rows in done[slot], putting `slot` in
    `blocks` after each block and None when it ends, however it ends. `place` gives those rows (X, y) once the
    main thread has counted the lines (the first block is parsed meanwhile); more rows than that: Refused."""
    import pyarrow as pa
    import pyarrow.csv as pc

    try:
        reader = pc.open_csv(
            pa.BufferReader(part),
            read_options=pc.ReadOptions(column_names=names, block_size=BLOCK_BYTES, use_threads=False),
            parse_options=pc.ParseOptions(delimiter=delimiter),
            convert_options=pc.ConvertOptions(column_types=dict.fromkeys(names, kind), null_values=[],
                                              strings_can_be_null=False, quoted_strings_can_be_null=False))
        ahead: list[np.ndarray] = []  # blocks parsed before the rows are known (at most AHEAD_BLOCKS)
        X = y = None
        n = 0
        for batch in chain(reader, [None]):
            if stop.is_set():
                return
            if batch is not None:
                ahead.append(np.asarray(batch.to_tensor()))  # (m, D + 1) row-major in `kind`
                if X is None and len(ahead) < AHEAD_BLOCKS and not place.done():
                    continue
            if X is None:
                X, y = place.result()
            for rows in ahead:  # copied into X row by row
                m = len(rows)
                if n + m > len(X):
                    raise Refused("more rows than lines")
                y[n:n + m] = rows[:, j]
                X[n:n + m, :j], X[n:n + m, j:] = rows[:, :j], rows[:, j + 1:]
                if kind != pa.int32() and not (np.isfinite(X[n:n + m]).all() and np.isfinite(y[n:n + m]).all()):
                    raise Refused("NaN / Inf / empty cells: the checked reader names the cell")
                n += m
                done[slot] = n
                blocks.put(slot)
            ahead.clear()
    finally:
        blocks.put(None)


def _matrix(rows: int, cols: int, text_bytes: int) -> np.ndarray:
    """np.empty((rows, cols)) for the cells of `text_bytes` of CSV text, on pages of the usual size, mapped in at
    once where the text can fill them.

    numpy asks for huge pages for a large array; where one must first be made (memory compacted, or backed by a
    virtual machine's host) the first writes stall: 376 MB took 0.1–0.9 s to fill here. On Linux the mapping is
    made with MAP_POPULATE, through ctypes so that the GIL is free meanwhile (the runs keep parsing): 0.10 s for
    376 MB against 0.18 s of page faults as the runs write. A cell takes 2 bytes of text at least (a digit and a
    delimiter) and 8 in the matrix: a matrix larger than 4 × the text counted blank lines as rows, and is mapped
    as it is written (as it is where MAP_POPULATE does not exist), so that a file of blank lines costs no memory."""
    n = rows * cols * 8
    if n == 0:
        return np.empty((rows, cols), dtype=np.float64)
    buf = _populated(n) if _LIBC is not None and n <= 4 * text_bytes else None
    return np.frombuffer(mmap.mmap(-1, n) if buf is None else buf, dtype=np.float64).reshape(rows, cols)


def _libc():
    if not sys.platform.startswith("linux") or not hasattr(mmap, "MAP_POPULATE"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mmap.restype, libc.munmap.restype = ctypes.c_void_p, ctypes.c_int
        libc.mmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                              ctypes.c_long)
        libc.munmap.argtypes = (ctypes.c_void_p, ctypes.c_size_t)
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _libc()
_MAP_FAILED = ctypes.c_void_p(-1).value


def _populated(n: int):
    """n zero bytes mapped with their pages in (a ctypes array; unmapped when it is collected), None if refused."""
    addr = _LIBC.mmap(None, n, mmap.PROT_READ | mmap.PROT_WRITE,
                      mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | mmap.MAP_POPULATE, -1, 0)
    if addr is None or addr == _MAP_FAILED:
        return None
    buf = (ctypes.c_char * n).from_address(addr)
    weakref.finalize(buf, _LIBC.munmap, addr, n).atexit = False  # at exit another thread may still read it
    return buf


def _read(data: bytes, sample: Table, j: int, kind: pa.DataType, parts: int,
          progress: Callable[[float], None] | None) -> tuple[np.ndarray, np.ndarray]:
    """Features and target of `data` (the file's bytes) with every column read as `kind`, the lines split into
    `parts` runs parsed on as many threads, each straight into its own rows of the matrix."""
    import pyarrow as pa

    start = data.find(b"\n") + 1 if sample.has_header else 0
    cuts = _cuts(data, start, parts)
    width = len(sample.names)
    names = [f"c{k}" for k in range(width)]
    whole, stop, blocks = pa.py_buffer(data), threading.Event(), queue.SimpleQueue()
    runs = list(pairwise(cuts))
    done, places = [0] * len(runs), [Future() for _ in runs]
    with ThreadPoolExecutor(len(runs), thread_name_prefix="bpcore-csv") as pool:
        jobs = []
        try:  # from the first submit on: a run started must be told its rows, or told to stop
            jobs.extend(pool.submit(_fill, whole.slice(a, b - a), sample.delimiter, names, kind, j, places[k],
                                    done, k, stop, blocks) for k, (a, b) in enumerate(runs))
            # the runs parse their first blocks while the lines are counted and the matrix allocated
            lines = [data.count(b"\n", a, b) + (data[b - 1:b] != b"\n") for a, b in runs]
            rows = sum(lines)
            X, y = _matrix(rows, width - 1, len(data) - start), np.empty(rows, dtype=np.float64)
            offsets = np.cumsum([0, *lines])
            for k, place in enumerate(places):
                place.set_result((X[offsets[k]:offsets[k + 1]], y[offsets[k]:offsets[k + 1]]))
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
            for place in places:
                if not place.done():
                    place.set_exception(Refused("stopped"))
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
    if importlib.util.find_spec("pyarrow") is None:
        raise Refused("pyarrow is not installed")
    fd, path, size = open_regular(source, what="CSV file", error=DataError, limit=MAX_CSV_BYTES)
    with os.fdopen(fd, "rb") as f, ThreadPoolExecutor(1, thread_name_prefix="bpcore-csv") as background:
        if size < FAST_BYTES:
            raise Refused("small file")
        importing = background.submit(importlib.import_module, "pyarrow.csv")  # while the file is read
        data = f.read(MAX_CSV_BYTES + 1)  # the size may have changed since it was checked
        try:
            importing.result()
        except ImportError as e:
            raise Refused(f"pyarrow cannot be imported: {e}") from None
    import pyarrow as pa

    if len(data) > MAX_CSV_BYTES:
        raise Refused("the file grew past the size limit")
    head = data[:SAMPLE_BYTES]
    sample = _sample(head, path, SAMPLE_ROWS)
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
