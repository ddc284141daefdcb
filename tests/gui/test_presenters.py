"""Presenters: what each view is handed for a snapshot, checked without any widget."""

from __future__ import annotations

import types

import numpy as np
import pytest

from bpcore.inspect import Field
from bpcore.train.views import ViewData
from bpgui import presenters
from bpgui.geometry import Layout


def layout(kind: str, n: int = 10, d: int = 2, labels: bool = True) -> Layout:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, d))
    y = (x[:, 0] > 0).astype(int)
    return Layout(kind, x, x[:, :2] if d >= 2 else np.c_[x[:, 0], x[:, 0]], y if labels else None, y.astype(float),
                  np.arange(n) % 3 == 0, ("a", "b") if labels else None, (-2.0, 2.0, -1.0, 1.0))


def snap(views) -> types.SimpleNamespace:
    return types.SimpleNamespace(views=views)


def field(k: int, ny: int = 20, nx: int = 20, hidden=(3,)) -> Field:
    rng = np.random.default_rng(1)
    out = rng.random((ny, nx, k)).astype(np.float32)
    return Field(np.linspace(-2, 2, nx), np.linspace(-1, 1, ny), out,
                 [rng.uniform(-1, 1, (h, ny // 2, nx // 2)).astype(np.float32) for h in hidden])


@pytest.mark.parametrize("kind,k,task,method", [
    ("plane", 2, "classification", "set_probabilities"),  # softmax: one probability per class
    ("plane", 1, "classification", "set_field"),          # sigmoid: P(class 1)
    ("plane", 1, "regression", "set_field"),              # output rescaled to [0, 1] for the colour map
    ("line", 1, "regression", "set_curve"),
])
def test_decision_picks_the_view_method_for_the_output(kind, k, task, method):
    f = field(k, ny=1 if kind == "line" else 20)
    got = presenters.decision(snap(ViewData(field=f)), layout(kind), task)
    assert got is not None and got[0] == method
    if task == "regression" and kind == "plane":
        values = got[1][0]
        assert values.min() == 0.0 and values.max() == 1.0  # the whole colour range is used
    if method == "set_curve":
        xs, ys = got[1]
        assert np.array_equal(xs, f.xs) and np.array_equal(ys, f.output[0, :, 0])


def test_nothing_to_draw_before_the_engine_sent_views():
    assert presenters.decision(snap(None), layout("plane"), "classification") is None
    assert presenters.thumbnails(snap(None), layout("plane")) is None


def test_projected_view_shows_the_engines_predictions_for_the_shown_rows():
    lay = layout("projected", n=1500, d=5)
    rows = presenters.shown_rows(lay)
    assert len(rows) == presenters.PROJECTED_POINTS and rows[0] == 0 and rows[-1] == 1499
    predicted = np.arange(len(rows)) % 2
    method, (xy, classes, held_out) = presenters.decision(snap(ViewData(predicted=predicted)), lay, "classification")
    assert method == "set_points" and np.array_equal(xy, lay.xy[rows]) and np.array_equal(classes, predicted)
    assert np.array_equal(held_out, lay.held_out[rows])
    # predictions for another set of rows (an older request) are not drawn against these points
    assert presenters.decision(snap(ViewData(predicted=predicted[:-1])), lay, "classification") is None


def test_thumbnails_are_inputs_hidden_and_outputs_in_unit_range():
    f = field(2, hidden=(3, 4))
    thumbs = presenters.thumbnails(snap(ViewData(field=f)), layout("plane"))
    assert [t.shape for t in thumbs] == [(2, 10, 10), (3, 10, 10), (4, 10, 10), (2, 10, 10)]
    assert all(t.min() >= -1 - 1e-6 and t.max() <= 1 + 1e-6 for t in thumbs)
    assert thumbs[0][0, 0, 0] == -1 and thumbs[0][0, 0, -1] == 1  # x ramp: left edge −1, right edge +1


@pytest.mark.parametrize("a,expected", [
    (np.array([0.0, 0.5, 1.0]), [-1.0, 0.0, 1.0]),    # probabilities / sigmoid: 2o − 1
    (np.array([0.0, 2.0, 4.0]), [-1.0, 0.0, 1.0]),    # ReLU outputs: scaled by the largest
    (np.array([-0.5, 0.0, 0.25]), [-0.5, 0.0, 0.25]),  # tanh: as is
    (np.array([-4.0, 0.0, 2.0]), [-1.0, 0.0, 0.5]),    # identity: divided by max |o|
])
def test_unit_scaling(a, expected):
    assert np.allclose(presenters.unit(a), expected)
