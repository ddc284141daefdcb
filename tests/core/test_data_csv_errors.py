"""read_csv on bad input: every case is a DataError whose message names the file, row and column."""

from __future__ import annotations

import re

import pytest

from bpcore.data import preview_csv, read_csv
from bpcore.errors import DataError

# (id, file bytes, read_csv kwargs, regexes that must all appear in the message)
CASES = [
    ("empty", b"", {}, [r"the file is empty"]),
    ("blank lines only", b"\n  \n\r\n", {}, [r"the file is empty"]),
    ("bom only", b"\xef\xbb\xbf", {}, [r"the file is empty"]),
    ("header only", b"x,y,t\n\n", {}, [r"header \(row 1\) but no data rows"]),
    ("all text", b"name,t\nfoo,a\nbar,b\n", {}, [r"no numeric feature column"]),
    ("target is the only column", b"t\n1\n2\n", {}, [r"no feature column", r"single column 't'"]),
    ("short row", b"x,y,t\n1,2,a\n3,4\n5,6,b\n", {}, [r"row 3 has 2 fields, expected 3 \(as in the header\)"]),
    ("long row", b"1,2,a\n3,4,b\n5,6,7,b\n", {}, [r"row 3 has 4 fields, expected 3 \(as in row 1\)"]),
    ("text in feature", b"x,y,t\n1,2,a\n3,oops,b\n", {}, [r"row 3, column 2 'y'", r"non-numeric value 'oops'"]),
    ("decimal comma", b"x;y;t\n1;2,5;a\n3;4;b\n", {}, [r"row 2, column 2 'y'", r"'2,5'", r"decimal mark"]),
    ("empty feature cell", b"x,y,t\n1,,a\n3,4,b\n", {}, [r"row 2, column 2 'y'", r"empty cell"]),
    ("row of empty cells", b"x,y,t\n1,2,a\n,,\n3,4,b\n", {}, [r"row 3, column 1 'x'", r"empty cell"]),
    ("nan feature", b"x,y,t\n1,2,a\nNaN,4,b\n", {}, [r"row 3, column 1 'x'", r"'NaN' is not a finite"]),
    ("inf feature", b"x,y,t\n1,-inf,a\n2,4,b\n", {}, [r"row 2, column 2 'y'", r"'-inf'", r"NaN and Inf"]),
    ("overflow feature", b"x,y,t\n1,1e999,a\n2,4,b\n", {}, [r"row 2, column 2 'y'", r"'1e999'"]),
    ("nan target", b"x,t\n1,0.5\n2,nan\n", {}, [r"row 3, column 2 't'", r"not a finite"]),
    ("empty target", b"x,t\n1,a\n2,\n3,b\n", {}, [r"row 3, column 2 't'", r"empty target cell"]),
    ("single class", b"x,y,t\n1,2,a\n3,4,a\n", {}, [r"column 3 't'", r"single class 'a'"]),
    ("single numeric class", b"x,t\n1,1\n2,1\n3,1\n", {"task": "classification"}, [r"single class '1'"]),
    ("unknown target name", b"x,y,t\n1,2,a\n3,4,b\n", {"target": "label"},
     [r"no target column named 'label'", r"0 = 'x', 1 = 'y', 2 = 't'"]),
    ("target index out of range", b"x,y,t\n1,2,a\n3,4,b\n", {"target": 3},
     [r"index 3 is out of range for 3 columns", r"2 = 't'"]),
    ("negative index out of range", b"x,y,t\n1,2,a\n3,4,b\n", {"target": -4}, [r"index -4 is out of range"]),
    ("ambiguous target name", b"x,t,t\n1,2,a\n3,4,b\n", {"target": "t"}, [r"ambiguous \(columns 2, 3\)"]),
    ("target of wrong type", b"x,t\n1,a\n2,b\n", {"target": 1.5}, [r"target must be a column name or index"]),
    ("text target for regression", b"x,y,t\n1,2,a\n3,4,b\n", {"task": "regression"},
     [r"row 2, column 3 't'", r"'a' is not a number"]),
    ("bad task", b"x,t\n1,a\n2,b\n", {"task": "clustering"}, [r"task must be"]),
    ("latin-1 byte", b"x,y,t\n1,2,a\n3,4,\xe9t\xe9\n", {}, [r"not UTF-8", r"0xe9 at byte offset 16 \(line 3\)"]),
    ("utf-16 file", "x,t\n1,a\n".encode("utf-16"), {}, [r"not UTF-8", r"byte offset 0 \(line 1\)"]),
    ("blank lines count", b"x,y,t\n\n1,2,a\n\n3,bad,b\n", {}, [r"row 5, column 2 'y'"]),
    ("crlf lines", b"x,y,t\r\n1,2,a\r\n3,bad,b\r\n", {}, [r"row 3, column 2 'y'"]),
    ("multi-line quoted label", b'x,y,t\n1,2,"a\nb"\n3,bad,c\n', {}, [r"row 4, column 2 'y'"]),
    ("no header", b"1,2,a\n3,x,b\n", {}, [r"row 2, column 2 'col2'"]),
    ("bom before header", b"\xef\xbb\xbfx,y,t\n1,2,a\n3,?,b\n", {}, [r"row 3, column 2 'y'"]),
]


@pytest.mark.parametrize("content, kwargs, patterns", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_csv_raises_data_error_naming_the_place(tmp_path, content, kwargs, patterns):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(DataError) as info:
        read_csv(path, **kwargs)
    message = str(info.value)
    if "task" not in kwargs or kwargs["task"] != "clustering":
        assert str(path) in message
    for pattern in patterns:
        assert re.search(pattern, message), f"{pattern!r} not in {message!r}"


def test_long_cell_is_quoted_truncated(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("x,t\n1,a\n" + "z" * 500 + ",b\n")
    with pytest.raises(DataError, match=r"row 3, column 1 'x'") as info:
        read_csv(path)
    assert "'zzzz" in str(info.value) and "..." in str(info.value) and "z" * 100 not in str(info.value)


def test_missing_file_folder_and_bad_path(tmp_path):
    with pytest.raises(DataError, match=r"nope\.csv: CSV file not found"):
        read_csv(tmp_path / "nope.csv")
    with pytest.raises(DataError, match="is a folder"):
        read_csv(tmp_path)
    with pytest.raises(DataError, match="expected a file path"):
        read_csv(42)  # type: ignore[arg-type]
    with pytest.raises(DataError, match="cannot read"):
        read_csv("a\0b.csv")


def test_preview_raises_the_same_errors_for_unreadable_files(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"x,t\n\xff\n")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    for path, pattern in [(bad, r"not UTF-8.*line 2"), (empty, "empty"), (tmp_path / "no.csv", "not found")]:
        with pytest.raises(DataError, match=pattern):
            preview_csv(path)
    with pytest.raises(DataError, match="n_rows"):
        preview_csv(bad, n_rows=-1)
