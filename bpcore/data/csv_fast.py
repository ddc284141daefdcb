"""The fast path of CSV import for large all-numeric files: pieces of a few megabytes of whole lines, parsed
on one thread per core as soon as they are read, each straight into its own rows of the float64 feature matrix
and the target column.

read_csv tries it first for files of FAST_BYTES or more. The delimiter and the header are decided by the checked
reader's own code on the file's first SAMPLE_ROWS lines, so both paths read a file the same way; whenever the fast
path meets anything it would read differently or anything wrong (a cell that is not a number, a ragged row, an
empty cell, NaN or Inf, space-aligned columns, blank lines before the first row or many of them, a trailing
delimiter, a byte-order mark, a file that grows while it is read), it refuses and read_csv reads the file with
the checked reader, whose messages name the row and column.

The parse: a file whose sample holds only integers goes through numpy's own text parse (np.fromstring into
int64, its rows checked line by line first; 0.45 s for MNIST's 108 MB on two cores, and pyarrow is not even
imported), then, for what that refuses (blank lines, quotes), through pyarrow's CSV reader as int32; anything
else through pyarrow's reader as float64. Memory: the returned arrays, the file's bytes and one piece's parse
per thread (never a table of text cells, nor a second copy of the matrix).
"""

from __future__ import annotations

import importlib
import mmap
import os
import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

import numpy as np

from bpcore.data.csv_table import _BOM, _SAMPLE_LINES, MAX_CSV_BYTES, Table, table_from_text
from bpcore.errors import DataError
from bpcore.safe_io import open_regular

if TYPE_CHECKING:
    import pyarrow as pa

FAST_BYTES = 4 << 20  # smaller files gain little: the checked reader takes well under a second for them
SAMPLE_BYTES = 1 << 20  # the head of the file: integers only in it → the integer parses first
SAMPLE_ROWS = _SAMPLE_LINES  # the rows after the first line that decide the delimiter and the header, as the
# checked reader's delimiter rule reads them (parsing the whole head's 577 MNIST rows took 0.09 s)
PIECE_BYTES = 4 << 20  # the text one thread parses at a time (one pyarrow block) straight into its rows
READ_BYTES = 4 << 20  # read at a time: the first pieces are parsed while the rest of the file is read
BLANK_LINES = 64  # lines that hold no row the fast path allows beyond its bound (more: the checked reader)
PARTS = max(1, min(os.cpu_count() or 1, 8))  # threads parsing pieces, one per core


class Refused(Exception):
    """The fast path does not read this file (the checked reader will, or will say what is wrong)."""


class NotIntegers(Refused):
    """A cell that is not an integer: the file is read as float64."""


class _Stopped(Refused):
    """A piece not parsed because another one failed first."""


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
    """Whether the sample's bytes hold only integer cells: such files are parsed as integers first (numpy's
    int64 parse, pyarrow's int32: twice as fast as float64; every integer up to 2**53 is a float64 exactly,
    and those past it round as float() rounds them)."""
    return re.fullmatch(rb"[0-9\-\r\n" + re.escape(delimiter.encode()) + rb"]*", head) is not None


def _lines(data: mmap.mmap, a: int, b: int) -> int:
    """Newlines in data[a:b], counted by numpy a megabyte at a time (the GIL is free meanwhile)."""
    v = np.frombuffer(data, dtype=np.uint8)
    return sum(int(np.count_nonzero(v[o:min(b, o + (1 << 20))] == 10)) for o in range(a, b, 1 << 20))


def _cut(data: mmap.mmap, pos: int, end: int, eof: bool) -> int:
    """The end of the next piece of data[pos:end] (just after a newline, about PIECE_BYTES on), or `pos` when the
    bytes read so far do not hold a whole one yet."""
    if end - pos < PIECE_BYTES:
        return end if eof else pos
    at = data.rfind(b"\n", pos, pos + PIECE_BYTES) + 1 or data.find(b"\n", pos + PIECE_BYTES, end) + 1
    return at or (end if eof else pos)


def _fill(parse: Callable[..., int], stop: threading.Event, *args) -> int:
    """One piece parsed on a pool thread: `parse(*args)`, the rows it held. A failure sets `stop`: the pieces
    after it are not parsed."""
    if stop.is_set():
        raise _Stopped("stopped")
    try:
        return parse(*args)
    except BaseException:
        stop.set()
        raise


def _put(rows: np.ndarray, j: int, X: np.ndarray, y: np.ndarray) -> None:
    """Parsed rows (m, D + 1) into the first m rows of X (every column but j) and y (column j)."""
    m = len(rows)
    y[:m] = rows[:, j]
    X[:m, :j], X[:m, j:] = rows[:, :j], rows[:, j + 1:]


def _parse_ints(text: np.ndarray, delimiter: int, width: int, j: int, X: np.ndarray, y: np.ndarray) -> int:
    """A piece of whole lines of integers (bytes as uint8) into X and y, one row per line, by numpy's own text
    parse (np.fromstring, GIL free; 18 ms for 4 MB of MNIST, pyarrow's int32 reader 28 ms with its tensor).

    The parse sees the piece as one run of cells (its newlines made delimiters) and reads a blank cell or a
    lone sign as 0 and "- 5" as -5, so the text is checked first: width − 1 delimiters on every line (a blank
    line, a ragged row, a trailing delimiter: Refused), a carriage return only before a newline (the checked
    reader splits lines at a lone one), ASCII only, one run of digits in every cell and a digit right after
    every sign (NotIntegers otherwise, as for a cell the parse cannot read — a decimal, a quote, NaN — and for
    one at the ends of int64, where numpy clips a longer integer). What it reads then, ASCII digits with a sign
    and whitespace around, float() reads the same, and int64 → float64 rounds as float() does."""
    ends = np.flatnonzero(text == 10)
    if len(text) and text[-1] != 10:  # the file's last line, without its newline
        ends = np.append(ends, len(text))
    starts = np.concatenate(([0], ends[:-1] + 1))
    if len(ends) and (np.add.reduceat(text == delimiter, starts, dtype=np.int32) != width - 1).any():
        raise Refused("a blank line, a trailing delimiter or a row of another width")
    returns = np.flatnonzero(text[:-1] == 13)
    if (text[returns + 1] != 10).any():
        raise Refused("a carriage return inside a line")
    if len(text) and text.max() >= 0x80:  # the C library's isspace, which skips blanks before a number, may
        raise NotIntegers("a byte outside ASCII")  # take one for a space in some locales (Latin-1's 0xA0)
    digit = (text - 48) < 10  # uint8 arithmetic: only "0".."9" land below 10
    runs = int(digit[0]) + np.count_nonzero(digit[1:] > digit[:-1]) if len(text) else 0
    signs = np.flatnonzero((text == 45) | (text == 43))
    if runs != len(ends) * width or not digit[np.minimum(signs + 1, len(text) - 1)].all():
        raise NotIntegers("a cell without digits, with two runs of them, or a sign apart from its digits")
    cells = text.copy()
    cells[ends[ends < len(text)]] = delimiter
    try:
        v = np.fromstring(cells, dtype=np.int64, sep=chr(delimiter))
    except ValueError as e:
        raise NotIntegers(str(e)) from None
    if v.size != len(ends) * width:  # numpy before 2.? stops at a cell it cannot read (with a warning)
        raise NotIntegers("a cell that is not an integer")
    if v.size and (v.min() == _INT64[0] or v.max() == _INT64[1]):
        raise NotIntegers("an integer beyond int64")
    _put(v.reshape(len(ends), width), j, X, y)
    return len(ends)


_INT64 = (np.iinfo(np.int64).min, np.iinfo(np.int64).max)


def _parse_arrow(piece: pa.Buffer, options: tuple, j: int, checked: bool, X: np.ndarray, y: np.ndarray) -> int:
    """A piece of whole lines into X and y through pyarrow's reader: the rows it held (fewer than its lines
    when some are blank; more: Refused); `checked`: NaN, Inf and empty cells refused (float64 columns)."""
    import pyarrow as pa
    import pyarrow.csv as pc

    n = 0
    try:
        for batch in pc.open_csv(pa.BufferReader(piece), *options):
            rows = np.asarray(batch.to_tensor(row_major=False))  # (m, D + 1), a column after another: numpy's
            # transposing copy into X is faster than pyarrow's row-major tensor and a second copy (2.4 / 2.9 ms)
            m = len(rows)
            if n + m > len(X):
                raise Refused("more rows than lines")
            _put(rows, j, X[n:], y[n:])
            if checked and not (np.isfinite(X[n:n + m]).all() and np.isfinite(y[n:n + m]).all()):
                raise Refused("NaN / Inf / empty cells: the checked reader names the cell")
            n += m
    except pa.ArrowException as e:  # a cell, a row or a quote it cannot read
        raise Refused(str(e)) from None
    return n


def _matrix(rows: int, cols: int) -> np.ndarray:
    """np.zeros((rows, cols)) mapped on pages of the usual size as it is written (rows may be far more than
    the file holds: pages never written cost nothing). numpy would ask for huge pages for a large array; where
    one must first be made (memory compacted, or backed by a virtual machine's host) the first writes stall:
    376 MB took 0.1–0.9 s to fill here."""
    n = rows * cols * 8
    return np.frombuffer(_private(n), dtype=np.float64).reshape(rows, cols) if n else np.zeros((rows, cols))


def _private(n: int) -> mmap.mmap:
    """n zero bytes of anonymous memory, mapped as they are first written. Private: Python's default, a shared
    mapping, is backed by shmem, whose page faults and unmapping took twice as long here."""
    return mmap.mmap(-1, n, flags=mmap.MAP_PRIVATE | getattr(mmap, "MAP_ANONYMOUS", 0)) if os.name != "nt" \
        else mmap.mmap(-1, n)


class _Reading:
    """One read of a file: its bytes as they arrive, cut into pieces of whole lines as soon as they are read
    (kept for a second pass), each piece knowing its first row in the matrix."""

    def __init__(self, f, size: int) -> None:
        self.f = f
        self.data = _private(size + 1)  # one byte more: a file that grew is noticed (bytearray(n) would
        # write n zeros first: 0.05 s for 108 MB, the pages then written again as the file is read into them)
        self.got, self.eof = 0, False
        self.cut: list[tuple[int, int, int, int]] = []  # (start, end, first row, lines) of each piece

    def read(self, upto: int) -> None:
        """Read on until `upto` bytes are in, or the file ends."""
        view = memoryview(self.data)
        while self.got < upto and not self.eof:
            n = self.f.readinto(view[self.got:min(len(view), self.got + READ_BYTES)])
            self.got += n
            self.eof = n == 0
        if self.got == len(self.data):
            raise Refused("the file grew while it was read")

    def pieces(self, start: int) -> Iterator[tuple[int, int, int, int]]:
        """Each piece of the text from byte `start` on, in order: those cut already, then new ones as the file is
        read on."""
        k = 0
        while True:
            if k == len(self.cut):
                a, row = (self.cut[-1][1], self.cut[-1][2] + self.cut[-1][3]) if self.cut else (start, 0)
                while (b := _cut(self.data, a, self.got, self.eof)) == a and not self.eof:
                    self.read(self.got + READ_BYTES)
                if b == a:
                    return
                self.cut.append((a, b, row, _lines(self.data, a, b) + (self.data[b - 1] != 10)))
            yield self.cut[k]
            k += 1


def _read(reading: _Reading, pool: ThreadPoolExecutor, sample: Table, j: int, kind: str,
          progress: Callable[[float], None] | None) -> tuple[np.ndarray, np.ndarray]:
    """Features and target of the file with every column read as `kind` ("int64": numpy's parse; "int32",
    "float64": pyarrow's reader), its pieces parsed on the pool's threads as they are read. Whatever ends the
    pass early, no thread still parses when it returns."""
    width = len(sample.names)
    if kind == "int64":
        text = np.frombuffer(reading.data, dtype=np.uint8)

        def piece(a: int, b: int) -> tuple:  # _parse_ints' arguments before X and y
            return text[a:b], ord(sample.delimiter), width, j

        parse = _parse_ints
    else:
        try:
            import pyarrow as pa
            import pyarrow.csv as pc
        except ImportError as e:
            raise Refused(f"pyarrow cannot be imported: {e}") from None
        names = [f"c{k}" for k in range(width)]
        options = (pc.ReadOptions(column_names=names, block_size=2 * PIECE_BYTES, use_threads=False),
                   pc.ParseOptions(delimiter=sample.delimiter),
                   pc.ConvertOptions(column_types=dict.fromkeys(names, getattr(pa, kind)()), null_values=[],
                                     strings_can_be_null=False, quoted_strings_can_be_null=False))
        whole = pa.py_buffer(reading.data)

        def piece(a: int, b: int) -> tuple:  # _parse_arrow's arguments before X and y
            return whole.slice(a, b - a), options, j, kind == "float64"

        parse = _parse_arrow
    start = reading.data.find(b"\n") + 1 if sample.has_header else 0
    # a row holds `width` cells of a character at least and as many delimiters or line ends: no more rows than
    # this (and a few blank lines) fit the file; the matrix maps them all, and takes pages only for rows written
    bound = (len(reading.data) - start) // (2 * width) + BLANK_LINES
    X, y = _matrix(bound, width - 1), np.empty(bound, dtype=np.float64)
    stop, jobs = threading.Event(), []
    shown = 0  # pieces whose end was reported

    def report(finished: bool) -> None:  # the progress after each piece, in order, from this thread only
        nonlocal shown
        while shown < len(jobs) and (finished or jobs[shown].done()):
            jobs[shown].result()  # a piece's failure is raised here
            shown += 1
            if progress is not None:
                progress((reading.cut[shown - 1][1] - start) / max(1, len(reading.data) - 1 - start))

    try:
        for a, b, row, lines in reading.pieces(start):
            if row + lines > bound:
                raise Refused("more lines than rows fit the file (blank lines)")
            jobs.append(pool.submit(_fill, parse, stop, *piece(a, b), X[row:row + lines], y[row:row + lines]))
            report(False)
        report(True)
    except BaseException as e:
        stop.set()
        wait(jobs)  # a second pass, or the caller's error, must not meet a thread still writing
        if isinstance(e, _Stopped):  # an earlier piece began after a later one failed: that failure says why
            raise next((x for x in map(Future.exception, jobs) if x and not isinstance(x, _Stopped)), e) from None
        raise
    if progress is not None:
        progress(1.0)
    counts = [job.result() for job in jobs]
    rows = sum(lines for *_, lines in reading.cut)
    if sum(counts) == rows:
        return X[:rows], y[:rows]
    # blank lines (pyarrow skips them, as the checked reader does): the pieces' rows close up
    keep = np.concatenate([np.arange(row, row + n) for (_, _, row, _), n in zip(reading.cut, counts, strict=True)])
    return X[keep], y[keep]


def _kinds(body: bytes, delimiter: str) -> list[str]:
    """The parses to try in turn on a file whose sample (the head after the header) is `body`: integers only
    in it → numpy's int64 parse (not for a whitespace delimiter: its parse takes any run of whitespace for
    one), then pyarrow's int32 reader; float64 last, or only."""
    if not _integers(body, delimiter):
        return ["float64"]
    return ["int32", "float64"] if delimiter.isspace() else ["int64", "int32", "float64"]


def read_columns(source: str | os.PathLike, target: Callable[[Table], int],
                 progress: Callable[[float], None] | None = None) -> tuple[Table, np.ndarray, np.ndarray]:
    """(the sample Table with the column names, features (N, D) float64, target column (N,) float64) of an
    all-numeric CSV file; `target(sample)` picks the target column's index. Refused when the fast path does not
    read the file; DataError for a path that is not a readable regular file (as the checked reader says)."""
    fd, path, size = open_regular(source, what="CSV file", error=DataError, limit=MAX_CSV_BYTES)
    with os.fdopen(fd, "rb") as f, ThreadPoolExecutor(PARTS, thread_name_prefix="bpcore-csv") as pool:
        try:
            if size < FAST_BYTES:
                raise Refused("small file")
            reading = _Reading(f, size)
            reading.read(SAMPLE_BYTES)
            head = reading.data[:min(reading.got, SAMPLE_BYTES)]  # bytes
            sample = _sample(head, path, SAMPLE_ROWS)
            j = target(sample)
            kinds = _kinds(head[head.find(b"\n") + 1:] if sample.has_header else head, sample.delimiter)
            if kinds[0] != "int64":  # pyarrow first: imported on a thread while the file is read
                importing = pool.submit(importlib.import_module, "pyarrow.csv")
                while not importing.done() and not reading.eof:
                    reading.read(reading.got + READ_BYTES)
            not_ints = False
            for kind in kinds:
                if not_ints and kind == "int32":  # it would stop at the same cell
                    continue
                try:
                    X, y = _read(reading, pool, sample, j, kind, progress)
                    break
                except (ValueError, Refused) as e:
                    if kind == kinds[-1]:
                        raise Refused(str(e)) from None
                    not_ints = isinstance(e, NotIntegers)
        except BaseException:
            pool.shutdown(cancel_futures=True)  # the import, if that is still under way
            raise
    if len(y) == 0:
        raise Refused("no rows: the checked reader says so")
    return sample, X, y
