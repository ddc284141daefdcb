"""bpcore.lesson: a hand-typed or file lesson becomes the inspector's source, and every refusal names its key."""

from __future__ import annotations

import numpy as np
import pytest

from bpcore.errors import DataError
from bpcore.inspection import InspectorSession
from bpcore.lesson import Lesson, lesson_from_text, load_lesson, parse_matrix, save_lesson

W1 = "0.5 -0.3 0.8\n0.2, 0.7, -0.6\n0.1 −0.2 0.05"  # spaces, commas and a typographic minus, as people type
W2 = "0.9 -0.4\n-0.5 0.6\n0.3 0.2\n0.05 -0.1"


def test_typed_matrices_parse_and_the_lesson_inspects_like_the_lecture_example(tmp_path):
    lesson = lesson_from_text([W1, W2], ["sigmoid"], "softmax", "0.7 -1.2\n0.3 0.4", "1\n0", 0.5)
    assert lesson.weights[0][2, 1] == -0.2 and lesson.t.dtype == np.int64 and lesson.x.shape == (2, 2)
    s = InspectorSession()
    s.set_source(*lesson.source())
    s.backward()
    # δ^(2) of row 0 by hand: softmax(z) − onehot(1), z = [σ(W1ᵀ [x, 1]), 1] W2 (eq. 3, 8, 11)
    h = 1 / (1 + np.exp(-(np.array([0.7, -1.2, 1.0]) @ lesson.weights[0])))
    z = np.append(h, 1.0) @ lesson.weights[1]
    o = np.exp(z) / np.exp(z).sum()
    assert np.abs(s.trace().layers[-1].delta[0] - (o - [0, 1])).max() < 1e-12
    path = tmp_path / "lesson.json"
    save_lesson(lesson, path)
    again = load_lesson(path)
    for a, b in zip(again.weights, lesson.weights, strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(again.x, lesson.x) and np.array_equal(again.t, lesson.t) and again.lr == 0.5


@pytest.mark.parametrize("kwargs,match", [
    ({"weights": ["0.5 x 0.8\n0.2 0.7 -0.6\n0.1 -0.2 0.05", W2]}, r"W\^\(1\), line 1: 'x' is not a number"),
    ({"weights": ["0.5 -0.3 0.8\n0.2 0.7\n0.1 -0.2 0.05", W2]}, r"W\^\(1\), line 2: 2 numbers, but line 1 has 3"),
    ({"weights": [W1, "0.9 -0.4\n0.05 -0.1"]}, r"W\^\(2\) needs 4 rows"),
    ({"x": "0.7 -1.2 3"}, r"x must be 1 to 64 rows of 2 inputs"),
    ({"t": "1\n2"}, r"softmax targets t are class ids"),
    ({"t": "1"}, r"t needs one target per row of x \(2\)"),
    ({"activations": ["swish"]}, r"activation 'swish' is not one of"),
])
def test_refusals_name_the_matrix_line_or_key(kwargs, match):
    args = {"weights": [W1, W2], "activations": ["sigmoid"], "output": "softmax", "x": "0.7 -1.2\n0.3 0.4",
            "t": "1\n0", "lr": 0.5} | kwargs
    with pytest.raises(DataError, match=match):
        lesson_from_text(**args)


def test_lesson_files_are_checked(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"W": [[[1, 2]]], "output": "softmax"}')
    with pytest.raises(DataError, match="missing key"):
        load_lesson(bad)
    bad.write_text("{not json")
    with pytest.raises(DataError, match="not a lesson file"):
        load_lesson(bad)
    with pytest.raises(DataError, match="not found"):
        load_lesson(tmp_path / "none.json")
    with pytest.raises(DataError, match="at most 16 units"):
        Lesson((np.zeros((3, 20)),), (), "identity", np.zeros((1, 2)), np.zeros((1, 20)))
    with pytest.raises(DataError, match="no numbers"):
        parse_matrix("  \n ", "x")
