"""read_csv and preview_csv on good files: delimiters, headers, labels, task rule, target choice."""

from __future__ import annotations

import numpy as np
import pytest

from bpcore.data import preview_csv, read_csv


@pytest.fixture
def write(tmp_path):
    def _write(text: str | bytes, name: str = "data.csv"):
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
        return path

    return _write


@pytest.mark.parametrize(
    "text",
    [
        "a;b;label\n1.5;2;dog\n3;-4e1;cat\n5;6;dog\n",
        "a\tb\tlabel\n1.5\t2\tdog\n3\t-4e1\tcat\n5\t6\tdog\n",
        "a|b|label\n1.5|2|dog\n3|-4e1|cat\n5|6|dog\n",
        "  a     b  label\n1.5     2    dog\n  3  -4e1    cat\n  5     6    dog\n",
        "a,b,label\r\n1.5,2,dog\r\n3,-4e1,cat\r\n5,6,dog\r\n\r\n\n",
        '\ufeff"a","b","label"\n"1.5","2","dog"\n3,-4e1,"cat"\n5, 6 ,dog\n',
        "a,b,label,\n1.5,2,dog,\n3,-4e1,cat,\n5,6,dog,\n",
    ],
    ids=["semicolon", "tab", "pipe", "aligned spaces", "crlf + trailing blank lines", "bom + quotes", "trailing comma"],
)
def test_same_table_in_every_dialect(write, text):
    ds = read_csv(write(text))
    assert ds.feature_names == ("a", "b") and ds.class_names == ("cat", "dog")
    assert ds.X.tolist() == [[1.5, 2.0], [3.0, -40.0], [5.0, 6.0]]
    assert ds.y.tolist() == [1, 0, 1] and ds.y.dtype == np.int64 and ds.name == "data"


def test_no_header_gets_generated_names_and_keeps_first_row(write):
    ds = read_csv(write("1,2,b\n3,4,a\n5,6,c\n"))
    assert ds.feature_names == ("col1", "col2") and len(ds) == 3
    assert ds.X[0].tolist() == [1.0, 2.0] and ds.class_names == ("a", "b", "c") and ds.y.tolist() == [1, 0, 2]


def test_first_row_with_a_number_is_data_not_a_header(write):
    ds = read_csv(write("1,2,a\n3,4,b\n"))
    assert len(ds) == 2


def test_numeric_class_ids_sorted_by_value(write):
    ds = read_csv(write("x,y\n" + "".join(f"{i},{k}\n" for i, k in enumerate([10, 2, 2, 10, 7, 7]))))
    assert ds.task == "classification" and ds.class_names == ("2", "7", "10")
    assert ds.y.tolist() == [2, 0, 0, 2, 1, 1]


def test_quoted_label_with_delimiter_inside(write):
    ds = read_csv(write('x,y,label\n1,2,"red, dark"\n3,4,blue\n'))
    assert ds.class_names == ("blue", "red, dark") and ds.y.tolist() == [1, 0]


@pytest.mark.parametrize(
    "targets, task",
    [
        ([0, 1] * 5, "classification"),
        ([1.0, 2.0, 3.0] * 4, "classification"),  # integral floats are ids too
        ([0.5, 1.5] * 5, "regression"),
        (list(range(10)), "regression"),  # 10 distinct ids in 10 rows: fewer than 2 rows each
        (list(range(21)) * 3, "regression"),  # more than 20 distinct values
        (list(range(20)) * 2, "classification"),
    ],
)
def test_auto_task_rule(write, targets, task):
    text = "x,t\n" + "".join(f"{i},{t}\n" for i, t in enumerate(targets))
    ds = read_csv(write(text))
    assert ds.task == task
    if task == "regression":
        assert ds.y.shape == (len(targets), 1) and ds.y[:, 0].tolist() == [float(t) for t in targets]
    else:
        assert ds.n_classes == len(set(targets))


def test_forced_task(write):
    path = write("x,t\n1,0.5\n2,1.5\n3,0.5\n")
    ds = read_csv(path, task="classification")
    assert ds.class_names == ("0.5", "1.5") and ds.y.tolist() == [0, 1, 0]
    path = write("x,t\n1,0\n2,1\n3,0\n4,1\n")
    ds = read_csv(path, task="regression")
    assert ds.task == "regression" and ds.y[:, 0].tolist() == [0.0, 1.0, 0.0, 1.0]


def test_target_by_name_and_index(write):
    path = write("x,label,z\n1,a,10\n2,b,20\n3,a,30\n")
    for target in ("label", "LABEL", 1, -2):
        ds = read_csv(path, target)
        assert ds.feature_names == ("x", "z") and ds.X[:, 1].tolist() == [10.0, 20.0, 30.0]
        assert ds.class_names == ("a", "b")
    ds = read_csv(write("1,5,0.5\n2,6,1.5\n3,7,2.5\n"), target="col1")
    assert ds.feature_names == ("col2", "col3") and ds.task == "regression"


def test_unicode_names_and_labels(write):
    ds = read_csv(write("größe,höhe,art\n1,2,α\n3,4,β\n"))
    assert ds.feature_names == ("größe", "höhe") and ds.class_names == ("α", "β")


def test_preview_shows_header_and_first_rows(write):
    path = write("x,y,label\n" + "".join(f"{i},{i * 2},c{i % 2}\n" for i in range(50)))
    header, rows = preview_csv(path, n_rows=3)
    assert header == ["x", "y", "label"] and rows == [["0", "0", "c0"], ["1", "2", "c1"], ["2", "4", "c0"]]
    header, rows = preview_csv(write("1;2;a\n3;4;b\n", "plain.csv"))
    assert header == ["col1", "col2", "col3"] and rows == [["1", "2", "a"], ["3", "4", "b"]]
    # preview is lenient: read_csv is the one that reports the ragged row
    header, rows = preview_csv(write("x,y\n1,2\n3\n", "ragged.csv"))
    assert rows == [["1", "2"], ["3"]]
    assert preview_csv(path, n_rows=0) == (["x", "y", "label"], [])
