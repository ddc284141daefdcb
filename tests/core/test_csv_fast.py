"""The fast CSV path (pyarrow) reads every file exactly as the checked reader does, or refuses and lets it."""

from __future__ import annotations

import contextlib
import gc
import mmap
import os
import tempfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bpcore.data import csv_fast, read_csv
from bpcore.data.csv_fast import Refused
from bpcore.errors import DataError

pytest.importorskip("pyarrow")

rng = np.random.default_rng(0)
NUMBERS = rng.integers(0, 256, (300, 5))
LABELS = rng.integers(0, 3, 300)


def _csv(delimiter=",", header=True, target_first=False, fmt="{}", labels=None, edit=None):
    """The table as CSV text; `edit` {(data row, column): text} writes single cells differently."""
    rows = [[fmt.format(v) for v in r] for r in NUMBERS.tolist()]
    for (i, k), cell in (edit or {}).items():
        rows[i][k] = cell
    ys = [str(v) for v in (labels if labels is not None else LABELS.tolist())]
    names = [f"x{k}" for k in range(5)]
    lines = [[y, *r] if target_first else [*r, y] for r, y in zip(rows, ys, strict=True)]
    head = [["label", *names] if target_first else [*names, "label"]] if header else []
    return "\n".join(delimiter.join(r) for r in head + lines) + "\n"


def _late(cell: str, row: int = 280) -> str:
    """_csv() with the first cell of data row `row` (past the sample) written as `cell`."""
    return _csv(edit={(row, 0): cell})


def _lines_edited(edits) -> str:
    """_csv() with text lines (0: the header) rewritten by `edits` {line: function of the line}."""
    lines = _csv().split("\n")
    for k, edit in edits.items():
        lines[k] = edit(lines[k])
    return "\n".join(lines)


READABLE = {  # files the fast path reads itself
    "comma, header": (_csv(), {}),
    "semicolon": (_csv(";"), {}),
    "tab": (_csv("\t"), {}),
    "no header": (_csv(header=False), {}),
    "target first, by name": (_csv(target_first=True), {"target": "label"}),
    "target by index": (_csv(target_first=True), {"target": 0}),
    "decimals": (_csv(fmt="{}.25"), {}),
    "quoted numbers": (_csv(fmt='"{}"'), {}),
    "regression target": (_csv(labels=[f"{v / 7:.6f}" for v in range(300)]), {}),
    "spaces around cells": (_csv(fmt=" {} "), {}),
    "negative integers": (_csv(fmt="-{}"), {}),
    "a decimal after the sample": (_csv().replace("\n" + str(NUMBERS[280, 0]) + ",",
                                                  "\n" + str(NUMBERS[280, 0]) + ".5,", 1), {}),
    "past int32 after the sample": (_csv().replace("\n" + str(NUMBERS[280, 0]) + ",", "\n4294967296,", 1), {}),
    "a blank line inside": (_csv().replace("\n", "\n\n", 150).replace("\n\n", "\n", 149), {}),
    "blank lines at the end": (_csv() + "\n\n", {}),
    "CRLF line ends": (_csv().replace("\n", "\r\n"), {}),
    "spaces around a cell after the sample": (_late(f" {NUMBERS[280, 0]}\t"), {}),
    "a plus sign after the sample": (_late(f"+{NUMBERS[280, 0]}"), {}),
    "leading zeros after the sample": (_late(f"000{NUMBERS[280, 0]}"), {}),
    "a vertical tab before a cell after the sample": (_late(f"\x0b{NUMBERS[280, 0]}"), {}),
    "beyond int64 after the sample": (_late("99999999999999999999"), {}),
    "beyond 2**53 after the sample (rounded as float() does)": (_late("9007199254740993"), {}),
}

REFUSED = {  # files the fast path leaves to the checked reader (same result, or the same error)
    "text labels": _csv(labels=[("cat", "dog")[v % 2] for v in range(300)]),
    "trailing delimiter": _csv().replace("\n", ",\n"),
    "blank lines first": "\n\n" + _csv(),
    "a blank line among the rows that decide the layout": _csv().replace("\n", "\n\n", 10).replace("\n\n", "\n", 9),
    "byte-order mark": "\ufeff" + _csv(),
    "space aligned": _csv(" ").replace(" ", "  "),
    "letter in row 201": _csv().replace("\n" + ",".join(map(str, NUMBERS[199])) + ",",
                                        "\n" + ",".join(map(str, NUMBERS[199]))[:-1] + "x,", 1),
    "nan cell": _csv().replace("\n" + str(NUMBERS[150, 0]) + ",", "\nnan,", 1),
    "empty cell": _csv().replace("\n" + str(NUMBERS[150, 0]) + ",", "\n,", 1),
    "ragged row": _csv().replace("\n" + str(NUMBERS[150, 0]) + ",", "\n", 1),
    "CR line ends (old Mac)": _csv().replace("\n", "\r"),
    "a lone carriage return inside a row after the sample": _late(f"{NUMBERS[280, 0]}\r"),
    "a row a cell short and the next a cell long (the counts balance)": _lines_edited(
        {281: lambda line: line.split(",", 1)[1], 282: lambda line: "7," + line}),
    "a NUL byte after the sample": _late(f"{NUMBERS[280, 0]}\x00"),
    "a blank cell after the sample (numpy reads 0)": _late(" "),
    "a lone minus after the sample (numpy reads 0)": _late("-"),
    "a sign apart from its digits after the sample (numpy reads -7)": _late("- 7"),
    "a trailing delimiter on one row after the sample": _lines_edited({281: lambda line: line + ","}),
    "more blank lines than rows fit the file": _csv().replace("\n" + str(NUMBERS[150, 0]) + ",",
                                                              "\n" * 1000 + str(NUMBERS[150, 0]) + ",", 1),
}


def _both(path, monkeypatch, **kw):
    """(the fast path's outcome, the checked reader's outcome): a Dataset or the DataError's message."""
    out = []
    for fast in (True, False):
        monkeypatch.setattr(csv_fast, "FAST_BYTES", 0 if fast else 1 << 62)
        try:
            out.append(read_csv(path, **kw))
        except DataError as e:
            out.append(str(e))
    return out


def _same(a, b):
    if isinstance(a, str) or isinstance(b, str):
        assert a == b
        return
    # both readers parse each cell with a correctly rounded decimal → float64 conversion: equal values
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)
    assert (a.name, a.feature_names, a.class_names) == (b.name, b.feature_names, b.class_names)


@pytest.mark.parametrize("parts", [1, 3])
@pytest.mark.parametrize("name", list(READABLE))
def test_fast_path_reads_like_the_checked_reader(name, parts, tmp_path, monkeypatch):
    """Also cut into pieces of lines parsed on threads as the file is read (PIECE_BYTES and READ_BYTES shrunk so
    a small file has several), and with a sample of the first lines only (an integer sample, a cell further
    down that is not an int32)."""
    text, kw = READABLE[name]
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode())
    monkeypatch.setattr(csv_fast, "FAST_BYTES", 0)
    monkeypatch.setattr(csv_fast, "SAMPLE_BYTES", 2000)
    monkeypatch.setattr(csv_fast, "PARTS", parts)
    monkeypatch.setattr(csv_fast, "PIECE_BYTES", 1000)
    monkeypatch.setattr(csv_fast, "READ_BYTES", 700)
    csv_fast.read_columns(path, lambda t: 0)  # taken, not refused
    fast, checked = _both(path, monkeypatch, **kw)
    _same(fast, checked)


@pytest.mark.parametrize("name", list(REFUSED))
def test_fast_path_refuses_and_the_checked_reader_answers(name, tmp_path, monkeypatch):
    path = tmp_path / "data.csv"
    path.write_text(REFUSED[name])
    monkeypatch.setattr(csv_fast, "FAST_BYTES", 0)
    with pytest.raises(Refused):
        csv_fast.read_columns(path, lambda t: len(t.names) - 1)
    fast, checked = _both(path, monkeypatch)
    _same(fast, checked)


@pytest.mark.parametrize("cell", [b"\xa0", b"\xc2\xa0", b"\xe2\x80\x83"])
def test_a_byte_outside_ascii_before_a_cell_is_left_to_the_checked_reader(cell, tmp_path, monkeypatch):
    """A Latin-1 no-break space (not UTF-8 at all), and UTF-8's no-break and em spaces: the C library's isspace,
    which numpy's integer parse calls, may skip such a byte in some locales; float() strips the UTF-8 ones."""
    path = tmp_path / "data.csv"
    path.write_bytes(_late("{}").encode().replace(b"{}", cell + str(NUMBERS[280, 0]).encode()))
    monkeypatch.setattr(csv_fast, "FAST_BYTES", 0)
    monkeypatch.setattr(csv_fast, "SAMPLE_BYTES", 2000)
    with pytest.raises(Refused):
        csv_fast.read_columns(path, lambda t: 5)
    fast, checked = _both(path, monkeypatch)
    _same(fast, checked)


@pytest.mark.parametrize("pad", [10, 3000])
def test_a_line_longer_than_a_piece_reads_as_in_the_checked_reader(pad, tmp_path, monkeypatch):
    """A line longer than PIECE_BYTES makes its piece longer (cut at the next newline), one longer than pyarrow's
    block (2 × PIECE_BYTES) too: the rows are the checked reader's."""
    path = tmp_path / "data.csv"
    path.write_text(_csv().replace("\n" + str(NUMBERS[150, 0]) + ",", "\n" + " " * pad + str(NUMBERS[150, 0]) + ",", 1))
    monkeypatch.setattr(csv_fast, "PIECE_BYTES", 1000)
    monkeypatch.setattr(csv_fast, "READ_BYTES", 700)
    fast, checked = _both(path, monkeypatch)
    _same(fast, checked)
    assert not isinstance(fast, str) and len(fast) == 300


@pytest.mark.parametrize("name,row,column", [("letter in row 201", 201, 5), ("nan cell", 152, 1),
                                             ("empty cell", 152, 1)])
def test_bad_cells_in_a_large_file_are_named_by_row_and_column(name, row, column, tmp_path, monkeypatch):
    path = tmp_path / "data.csv"
    path.write_text(REFUSED[name])
    monkeypatch.setattr(csv_fast, "FAST_BYTES", 0)
    with pytest.raises(DataError, match=rf"row {row}, column {column} "):
        read_csv(path)


def test_progress_reaches_one(tmp_path, monkeypatch):
    path = tmp_path / "data.csv"
    path.write_text(_csv())
    monkeypatch.setattr(csv_fast, "FAST_BYTES", 0)
    seen = []
    read_csv(path, progress=seen.append)
    assert seen and seen[-1] == 1.0 and seen == sorted(seen)


@pytest.mark.parametrize("name", ["comma, header", "no header", "semicolon"])
def test_preview_of_a_large_file_reads_its_head_like_the_whole_file(name, tmp_path, monkeypatch):
    from bpcore.data import preview_csv

    path = tmp_path / "data.csv"
    path.write_text(READABLE[name][0])
    monkeypatch.setattr(csv_fast, "FAST_BYTES", 1 << 62)
    whole = preview_csv(path, n_rows=20)
    monkeypatch.setattr(csv_fast, "FAST_BYTES", 0)
    monkeypatch.setattr(csv_fast, "SAMPLE_BYTES", 400)  # a head of a few lines
    head = preview_csv(path, n_rows=5)
    assert head[0] == whole[0] and head[1] == whole[1][:5]


def test_pca_of_a_large_set_fits_on_evenly_spaced_rows(monkeypatch):
    """Above PCA_ROWS rows the axes come from a subsample: the scores then match the full PCA's up to the
    subsample's estimation error (500 of 3,000 rows, variances 25 / 4 / 1: measured 0.9 % of the range on the
    first axis, 6.2 % of its own on the second; the bounds leave a factor of two)."""
    from bpcore.data import projection

    g = np.random.default_rng(1)
    X = g.normal(size=(3000, 6)) * np.array([5.0, 2.0, 1, 1, 1, 1])
    full = projection.project_2d(X)
    monkeypatch.setattr(projection, "PCA_ROWS", 500)
    sub = projection.project_2d(X)
    assert np.abs(sub[:, 0] - full[:, 0]).max() < 0.02 * np.abs(full[:, 0]).max()  # same axes and signs
    assert np.abs(sub[:, 1] - full[:, 1]).max() < 0.12 * np.abs(full[:, 1]).max()


@pytest.mark.parametrize("where", ["allocating the matrix", "reporting progress", "giving out the second piece"])
def test_a_failure_in_the_main_thread_ends_every_thread(where, tmp_path, monkeypatch):
    """The threads parse pieces while the main thread reads on and gives out more; whatever stops the main
    thread then (no memory for the matrix, a progress callback that raises, no thread for the next piece) must
    end them too, and drop the pieces not begun."""
    import faulthandler
    import threading
    import time

    path = tmp_path / "data.csv"
    path.write_text(_csv())
    monkeypatch.setattr(csv_fast, "FAST_BYTES", 0)
    monkeypatch.setattr(csv_fast, "PARTS", 3)
    monkeypatch.setattr(csv_fast, "PIECE_BYTES", 1000)
    monkeypatch.setattr(csv_fast, "READ_BYTES", 1000)

    def fail(*_):
        time.sleep(0.2)  # the threads are parsing the first pieces by now
        raise MemoryError(where)

    if where == "allocating the matrix":
        monkeypatch.setattr(csv_fast, "_matrix", fail)
    if where == "giving out the second piece":

        class Pool(csv_fast.ThreadPoolExecutor):
            def submit(self, *args, **kwargs):
                self.given = getattr(self, "given", 0) + (args[0] is csv_fast._fill)
                if self.given == 2:
                    fail()
                return super().submit(*args, **kwargs)

        monkeypatch.setattr(csv_fast, "ThreadPoolExecutor", Pool)
    faulthandler.dump_traceback_later(60, exit=True)  # a thread left waiting would hang the suite: end it loudly
    try:
        with pytest.raises(MemoryError, match=where):
            csv_fast.read_columns(path, lambda t: 0, progress=fail if where == "reporting progress" else None)
    finally:
        faulthandler.cancel_dump_traceback_later()
    assert not [t.name for t in threading.enumerate() if t.name.startswith("bpcore-csv")]  # every thread ended


def _resident(addr: int) -> int | None:
    """Resident bytes of the mapping that holds `addr` (/proc/self/smaps), None when nothing is mapped there: the
    matrix's own pages, which the process's RSS (moved by everything else the suite holds) cannot tell apart."""
    inside = False
    with open("/proc/self/smaps") as f:
        for line in f:
            first = line.split(maxsplit=1)[0]
            if not first.endswith(":"):  # a mapping's header: "start-end perms offset dev inode [path]"
                lo, hi = (int(v, 16) for v in first.split("-"))
                inside = lo <= addr < hi
            elif inside and first == "Rss:":
                return int(line.split()[1]) * 1024
    return None


@pytest.mark.skipif(not os.path.exists("/proc/self/smaps"), reason="reads the mappings from /proc/self/smaps")
def test_the_matrix_is_zeroed_writable_takes_pages_as_written_and_is_given_back():
    """The read's float64 matrix is sized for the most rows the file could hold, so only the pages written may
    be resident (a file of short rows leaves most of it untouched); private (a shared mapping is shmem, slower to
    fault and to unmap), and unmapped once the array is dropped."""
    X = csv_fast._matrix(4096, 2048)  # 64 MiB
    addr = X.ctypes.data
    assert X.shape == (4096, 2048) and X.dtype == np.float64 and X.flags.c_contiguous and X.flags.writeable
    assert _resident(addr) == 0 and _private(addr)
    assert not X.any()
    assert _resident(addr) == 0  # read, never written: the zero page, no memory of its own
    X[:256] = 1.0  # 256 rows of 16 KiB: 4 MiB
    X[-1, -1] = 2.5
    written = (4 << 20) + mmap.PAGESIZE  # where transparent huge pages are "always", up to 2 MiB more at each end
    assert written <= _resident(addr) <= written + 2 * (2 << 20)
    assert X.sum() == 256 * 2048 + 2.5
    del X
    gc.collect()
    assert _resident(addr) is None
    assert csv_fast._matrix(0, 5).shape == (0, 5)


def _private(addr: int) -> bool:
    with open("/proc/self/maps") as f:
        for line in f:
            span, perms = line.split()[:2]
            lo, hi = (int(v, 16) for v in span.split("-"))
            if lo <= addr < hi:
                return perms == "rw-p"
    return False


GROWN = {  # what the file holds beyond the size it had when opened → what the reader does
    "as large as opened": (0, None),
    "grew by a byte": (1, "grew"),
    "grew by a megabyte": (1 << 20, "grew"),
}


@pytest.mark.parametrize("case", list(GROWN))
def test_a_file_that_grows_while_it_is_read_is_left_to_the_checked_reader(case, tmp_path):
    """The bytes are read into a buffer sized by the size on opening, one byte more: a file another program
    appends to meanwhile fills it, and the fast path refuses rather than read part of it."""
    extra, refused = GROWN[case]
    path = tmp_path / "data.csv"
    path.write_bytes(_csv().encode() + b"1,2,3,4,5,0\n" * (extra // 12 + (extra > 0)))
    size = path.stat().st_size - (extra // 12 + (extra > 0)) * 12
    with open(path, "rb") as f:
        reading = csv_fast._Reading(f, size)
        if refused:
            with pytest.raises(Refused, match=refused):
                reading.read(1 << 30)
        else:
            reading.read(1 << 30)
            assert reading.eof and reading.got == size


def test_a_failed_pass_returns_only_once_no_thread_writes(tmp_path, monkeypatch):
    """A pass that meets a cell it cannot read gives way to the next pass over the same matrix: the first pass's
    pieces still being parsed must have ended (and those not begun been dropped) before it does."""
    import threading
    import time

    path = tmp_path / "data.csv"
    path.write_text(READABLE["a decimal after the sample"][0])
    monkeypatch.setattr(csv_fast, "FAST_BYTES", 0)
    monkeypatch.setattr(csv_fast, "SAMPLE_BYTES", 2000)
    monkeypatch.setattr(csv_fast, "PARTS", 3)
    monkeypatch.setattr(csv_fast, "PIECE_BYTES", 500)
    fill, busy, passes, lock = csv_fast._fill, [], [], threading.Lock()

    def slow_fill(parse, stop, *args):
        with lock:
            if not passes or passes[-1][1] is not stop:  # a new pass has its own stop event
                assert not busy, "a piece of the previous pass is still being parsed"
                passes.append((parse.__name__, stop))
            busy.append(1)
        try:
            time.sleep(0.02)
            return fill(parse, stop, *args)
        finally:
            busy.pop()

    monkeypatch.setattr(csv_fast, "_fill", slow_fill)
    X = csv_fast.read_columns(path, lambda t: len(t.names) - 1)[1]
    assert [name for name, _ in passes] == ["_parse_ints", "_parse_arrow"]  # int64, then float64 (not int32)
    assert X[280, 0] == NUMBERS[280, 0] + 0.5 and not busy
    assert not [t.name for t in threading.enumerate() if t.name.startswith("bpcore-csv")]


PASSES = {  # file → the parses tried in turn, the last one reading it
    "comma, header": ["int64"],
    "negative integers": ["int64"],
    "CRLF line ends": ["int64"],
    "past int32 after the sample": ["int64"],
    "a plus sign after the sample": ["int64"],
    "tab": ["int32"],  # numpy's parse takes any run of whitespace for a tab
    "a blank line inside": ["int64", "int32"],  # numpy's refuses blank lines; pyarrow's skips them
    "a decimal after the sample": ["int64", "float64"],  # not an integer: int32 would stop there too
    "beyond int64 after the sample": ["int64", "float64"],
    "decimals": ["float64"],
    "spaces around cells": ["float64"],  # the sample's cells are not bare integers
}


@pytest.mark.parametrize("name", list(PASSES))
def test_each_file_is_read_by_the_first_parse_that_can(name, tmp_path, monkeypatch):
    """Integers go through numpy's parse (no pyarrow import, 0.45 s for MNIST against 0.55 s), what it refuses
    through pyarrow's reader; a file that is not integers skips the int32 pass."""
    path = tmp_path / "data.csv"
    path.write_text(READABLE[name][0])
    monkeypatch.setattr(csv_fast, "FAST_BYTES", 0)
    monkeypatch.setattr(csv_fast, "SAMPLE_BYTES", 2000)
    read, tried = csv_fast._read, []

    def record(reading, pool, sample, j, kind, progress):
        tried.append(kind)
        return read(reading, pool, sample, j, kind, progress)

    monkeypatch.setattr(csv_fast, "_read", record)
    csv_fast.read_columns(path, lambda t: 0)
    assert tried == PASSES[name]


DEFECTS = [" {v}", "{v} ", "+{v}", "0{v}", "{v}.5", "", '"{v}"', "{v}\r", "\x0b{v}", "{v}\x00", "1_0", "٣", "nan",
           "99999999999999999999", "9223372036854775807", "-9223372036854775808", "{v},{v}", "\n", "\n\n{v}",
           "-", "+", " ", "\t", "- 7", "+ 7", "-\t7", "7 8", "7-", "--7", "\x1c7", "\xa07"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_integer_files_with_defects_past_the_sample_read_as_the_checked_reader_reads_them(data):
    """Integer tables (numpy's parse first) with cells past the sample that it must read as float() does, or
    refuse: the fast path's Dataset equals the checked reader's, or both give the same error."""
    width, n_rows = data.draw(st.integers(2, 6)), data.draw(st.integers(55, 90))
    delim, newline = data.draw(st.sampled_from([",", ";", "|", "\t"])), data.draw(st.sampled_from(["\n", "\r\n"]))
    rows = [[str(data.draw(st.integers(-300, 300))) for _ in range(width)] for _ in range(n_rows)]
    for _ in range(data.draw(st.integers(1, 3))):
        row, col = data.draw(st.integers(52, n_rows - 1)), data.draw(st.integers(0, width - 1))
        rows[row][col] = data.draw(st.sampled_from(DEFECTS)).format(v=rows[row][col]).replace(",", delim)
    text = newline.join(delim.join(r) for r in [[f"c{k}" for k in range(width)], *rows]) + newline
    fd, name = tempfile.mkstemp(suffix=".csv")
    with os.fdopen(fd, "wb") as f:
        f.write(text.encode())
    out = []
    try:
        for fast in (True, False):
            with _patched(FAST_BYTES=0 if fast else 1 << 62, SAMPLE_BYTES=300, PIECE_BYTES=256, READ_BYTES=200):
                try:
                    out.append(read_csv(name, target=0))
                except DataError as e:
                    out.append(str(e))
    finally:
        os.unlink(name)
    _same(*out)


@contextlib.contextmanager
def _patched(**values):
    old = {k: getattr(csv_fast, k) for k in values}
    for k, v in values.items():
        setattr(csv_fast, k, v)
    try:
        yield
    finally:
        for k, v in old.items():
            setattr(csv_fast, k, v)
