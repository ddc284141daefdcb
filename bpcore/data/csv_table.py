"""Stage one of CSV import: bytes -> UTF-8 text -> delimiter -> rows of cells with line numbers -> header.

Nothing here interprets numbers beyond telling numeric cells from text; ``csv_reader`` turns the table
into a Dataset. Every failure a user can cause is a DataError naming the file (and line where there is
one). Lines are numbered from 1 as an editor shows them, counting the header and blank lines.

Delimiter: the one of , ; tab | space that splits the first 50 non-blank lines into the most consistent
number of fields (>= 2), then the most numeric cells (csv.Sniffer's guess breaks ties).

Header: the first row is a header when none of its cells is a finite number and the rows below hold numbers
(for an all-text table, csv.Sniffer.has_header decides). A first row with numbers in it is a header only when
no data row could look like it: its non-empty cells are distinct, at least one cell has the other type than
the column below it (a name over a column of numbers, or a number over a column of text labels), and every
number that sits over a column of numbers belongs to a run of consecutive integers counting up by one (column
numbers such as ``0,1,...,63,digit`` or years ``2019,2020``). So ``x,y,2020`` over numeric features and text
labels, and ``0,1,2,digit`` or ``2019,2020,t`` over numbers, are headers, while ``1,x,3`` or ``x,2,a`` over
numbers are data rows with a typo (reported, never dropped): a single number over numbers could be either.

Blank lines are skipped anywhere; a row of empty fields is kept. A quoted field that is never closed is
reported at the row and column where its quote opened.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import math
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from bpcore.errors import DataError
from bpcore.safe_io import read_regular

DELIMITERS = (",", ";", "\t", "|", " ")  # preference order when two delimiters fit equally well
_BOM = b"\xef\xbb\xbf"
_SAMPLE_LINES = 50  # non-blank lines used to pick the delimiter
_HEADER_ROWS = 1000  # data rows looked at to decide whether the first row is a header
MAX_CSV_BYTES = 256 << 20  # larger files are refused before reading (parsed cells take ~10x the bytes in memory)
_SNIFF_CHARS = 4096  # csv.Sniffer's regexes are quadratic in the sample length: keep its sample short


@dataclass
class Table:
    """A parsed CSV file: column names, data rows of stripped cells, and each row's 1-based line number."""

    path: str
    names: list[str]
    has_header: bool
    rows: list[list[str]]
    lines: list[int]
    delimiter: str
    first_line: int  # line of the first non-blank row (the header when there is one)


def is_number(cell: str) -> bool:
    """True if float() accepts the cell (NaN and Inf included; they are rejected later with a location)."""
    try:
        float(cell)
    except ValueError:
        return False
    return True


def quote(cell: str, limit: int = 40) -> str:
    """The cell as a quoted string for an error message, shortened to about ``limit`` characters."""
    return repr(cell if len(cell) <= limit else cell[: limit - 3] + "...")


def _read_text(source: str | os.PathLike) -> tuple[str, str]:
    data = read_regular(source, what="CSV file", error=DataError, limit=MAX_CSV_BYTES)  # checks the path too
    path = os.fsdecode(os.fspath(source))
    skip = len(_BOM) if data.startswith(_BOM) else 0
    try:
        text = data[skip:].decode("utf-8")
    except UnicodeDecodeError as e:
        offset = skip + e.start
        head = data[:offset]
        line = head.count(b"\n") + head.count(b"\r") - head.count(b"\r\n") + 1
        raise DataError(
            f"{path}: not UTF-8 text: byte 0x{data[offset]:02x} at byte offset {offset} (line {line}); "
            "save the file as UTF-8"
        ) from None
    return path, text


def _space_lines(lines: Iterable[str]) -> Iterator[str]:
    # Space-separated files often align columns with runs of blanks: drop leading/trailing blanks.
    for line in lines:
        yield line.strip(" \t\r\n")


def _reader(lines: Iterable[str], delimiter: str, strict: bool = False) -> Iterator[list[str]]:
    if delimiter == " ":
        return csv.reader(_space_lines(lines), delimiter=" ", skipinitialspace=True, strict=strict)
    return csv.reader(lines, delimiter=delimiter, strict=strict)


def _check_quotes_closed(path: str, lines: list[str], start: int, delimiter: str, n_fields: int) -> None:
    """DataError when the last record (from line `start`) opens a quoted field that the file never closes.

    The lenient reader takes everything after such a quote, to the end of the file, as one cell; a strict
    reader of that last record alone tells it apart ("unexpected end of data").
    """
    try:
        for _ in _reader(lines[start - 1:], delimiter, strict=True):
            pass
    except csv.Error as e:
        if "unexpected end of data" in str(e):
            raise DataError(
                f'{path}: row {start}, column {n_fields}: a quoted field opens here (") and is never closed, '
                "so the rest of the file would be read as one cell; add the closing quote"
            ) from None


def _sniff_sample(lines: list[str]) -> str:
    text = "".join(lines)[:_SNIFF_CHARS]
    cut = max(text.rfind("\n"), text.rfind("\r"))
    return text[: cut + 1] if cut > 0 else text


def _pick_delimiter(lines: list[str]) -> str:
    sample = [ln for ln in lines[: 4 * _SAMPLE_LINES] if ln.strip()][:_SAMPLE_LINES]
    sniffed = None
    with contextlib.suppress(csv.Error):
        sniffed = csv.Sniffer().sniff(_sniff_sample(sample), delimiters="".join(DELIMITERS)).delimiter
    best, best_score = DELIMITERS[0], None
    for rank, d in enumerate(DELIMITERS):
        try:
            rows = [[c.strip() for c in r] for r in _reader(sample, d)]
        except csv.Error:
            continue
        rows = [r for r in rows if any(r)]
        if not rows:
            continue
        width, count = Counter(len(r) for r in rows).most_common(1)[0]
        if width < 2:
            continue
        cells = [c for r in rows[1:] for c in r] or rows[0]
        numeric = sum(is_number(c) for c in cells) / len(cells)
        score = (count / len(rows), numeric, d == sniffed, -rank)
        if best_score is None or score > best_score:
            best, best_score = d, score
    return best


def _parse_rows(path: str, lines: list[str], delimiter: str, limit: int | None) -> tuple[list, list]:
    rows: list[list[str]] = []
    starts: list[int] = []
    reader = _reader(lines, delimiter)
    last: tuple[int, int] | None = None  # (line, fields) of the last record read, blank or not
    while limit is None or len(rows) < limit:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            if last is not None:
                _check_quotes_closed(path, lines, last[0], delimiter, last[1])
            break
        except csv.Error as e:
            raise DataError(f"{path}: row {start}: cannot parse the line ({e})") from None
        last = (start, len(row))
        cells = [c.strip() for c in row]
        if len(cells) > 1 or (cells and cells[0]):  # blank lines (anywhere) are not rows; ",," is
            rows.append(cells)
            starts.append(start)
    if rows and all(len(r) >= 2 and r[-1] == "" for r in rows):
        rows = [r[:-1] for r in rows]  # every row ends in a delimiter: a trailing delimiter, not a column
    return rows, starts


def _is_finite_number(cell: str) -> bool:
    return is_number(cell) and math.isfinite(float(cell))


def _column_kinds(body: list[list[str]], width: int) -> list[str]:
    """'number', 'text' or 'mixed' per column, from the non-empty cells of the rows below the first.

    A column with a single text cell below is 'mixed': one odd cell is as likely a typo as a label column.
    """
    kinds = []
    for j in range(width):
        cells = [r[j] for r in body[:_HEADER_ROWS] if j < len(r) and r[j]]
        numeric = sum(is_number(c) for c in cells)
        text = len(cells) - numeric
        kinds.append("number" if cells and not text else "text" if text >= 2 and not numeric else "mixed")
    return kinds


def _numbered_header(first: list[str], body: list[list[str]]) -> bool:
    # A first row holding numbers is a header only when it cannot be a data row: its named cells are distinct,
    # one of its cells has the other type than the column below (text over numbers, or a number over
    # labels), and the numbers over columns of numbers, if any, are a run of column numbers (1, 2, 3 / 2019, 2020).
    named = [c for c in first if c]
    if not body or len(set(named)) != len(named):
        return False
    cells = [(c, kind) for c, kind in zip(first, _column_kinds(body, len(first)), strict=True) if c]
    if not any((kind == "number") != is_number(c) for c, kind in cells if kind != "mixed"):
        return False
    over_numbers = [float(c) for c, kind in cells if kind == "number" and is_number(c)]
    if not over_numbers:
        return True
    return len(over_numbers) >= 2 and all(math.isfinite(v) and v.is_integer() for v in over_numbers) and all(
        b - a == 1 for a, b in itertools.pairwise(over_numbers))


def _detect_header(first: list[str], body: list[list[str]], sample: str) -> bool:
    # A header has no number in it (a column named "nan" or "inf" counts as text) and sits on top of rows
    # with numbers; or it names columns with numbers in a way no data row looks (_numbered_header). Any other
    # first row holding a number is data, so a typo there is reported, not dropped.
    if any(_is_finite_number(c) for c in first if c):
        return _numbered_header(first, body)
    if not body or any(is_number(c) for r in body[:_HEADER_ROWS] for c in r if c):
        return True
    try:  # an all-text table: let the csv module's heuristics decide
        return csv.Sniffer().has_header(sample)
    except Exception:  # the heuristic is best effort; any failure means "no header"
        return False


def read_table(source: str | os.PathLike, max_rows: int | None = None) -> Table:
    """Read and split a CSV file into a Table (at most ``max_rows`` data rows after the header)."""
    path, text = _read_text(source)
    return table_from_text(path, text, max_rows)


def table_from_text(path: str, text: str, max_rows: int | None = None) -> Table:
    """read_table of a file's text (or of its first lines: the fast reader's sample)."""
    if not text.strip():
        raise DataError(f"{path}: the file is empty")
    lines = io.StringIO(text, newline="").readlines()
    delimiter = _pick_delimiter(lines)
    limit = None if max_rows is None else max(max_rows, _HEADER_ROWS) + 1
    rows, starts = _parse_rows(path, lines, delimiter, limit)
    if not rows:
        raise DataError(f"{path}: the file is empty (it has only blank lines)")
    has_header = _detect_header(rows[0], rows[1:], _sniff_sample(lines[: 4 * _SAMPLE_LINES]))
    if has_header:
        names = [c or f"col{j + 1}" for j, c in enumerate(rows[0])]
        body, body_lines = rows[1:], starts[1:]
    else:
        names = [f"col{j + 1}" for j in range(len(rows[0]))]
        body, body_lines = rows, starts
    if max_rows is not None:
        body, body_lines = body[:max_rows], body_lines[:max_rows]
    return Table(path, names, has_header, body, body_lines, delimiter, starts[0])
