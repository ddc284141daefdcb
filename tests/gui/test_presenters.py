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
    ("plane", 1, "regression", "set_values"),             # predicted values, levels = the targets' range
    ("line", 1, "regression", "set_curve"),
])
def test_decision_picks_the_view_method_for_the_output(kind, k, task, method):
    f = field(k, ny=1 if kind == "line" else 20)
    got = presenters.decision(snap(ViewData(field=f)), layout(kind), task)
    assert got is not None and got[0] == method
    if task == "regression" and kind == "plane":
        values, extent, levels = got[1]
        assert np.array_equal(values, f.output[..., 0])  # the network's values, not rescaled per frame
        lay = layout(kind)
        assert levels == (lay.values.min(), lay.values.max()) and extent == lay.extent
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


def test_projected_regression_colours_the_shown_rows_by_their_predicted_value():
    lay = layout("projected", n=1500, d=5, labels=False)
    rows = presenters.shown_rows(lay)
    predicted = np.linspace(-1.0, 2.0, len(rows), dtype=np.float32)
    method, (xy, values, held_out, levels) = presenters.decision(snap(ViewData(predicted=predicted)), lay,
                                                                  "regression")
    assert method == "set_value_points" and np.array_equal(values, predicted)
    assert np.array_equal(xy, lay.xy[rows]) and levels == presenters.value_levels(lay)
    assert np.array_equal(held_out, lay.held_out[rows])
    assert presenters.decision_request(types.SimpleNamespace(task="regression", parts={"test": [1]}),
                                       lay).rows.shape == (len(rows), 5)


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


def trainer(task: str, target=None, name: str = "plane", features=("x1", "x2")) -> types.SimpleNamespace:
    return types.SimpleNamespace(task=task, experiment=types.SimpleNamespace(data=types.SimpleNamespace(target=target)),
                                 dataset=types.SimpleNamespace(name=name, feature_names=features))


def test_value_levels_are_the_targets_range_and_never_empty():
    lay = layout("plane")
    regression = Layout("plane", lay.inputs, lay.xy, None, np.array([3.0, -2.0, np.nan, 7.5]), lay.held_out[:4],
                        None, lay.extent)
    assert presenters.value_levels(regression) == (-2.0, 7.5)  # NaN left out
    flat = Layout("plane", lay.inputs, lay.xy, None, np.full(4, 5.0), lay.held_out[:4], None, lay.extent)
    assert presenters.value_levels(flat) == (4.5, 5.5)  # one value: a span around it, not a zero division


def test_regression_axes_and_colour_bar_name_the_target():
    plane, line, projected = layout("plane"), layout("line", d=1), layout("projected", d=5)
    assert presenters.axis_labels(trainer("regression"), plane) == ("x1", "x2")
    assert presenters.axis_labels(trainer("regression", "price", features=("area",)), line) == \
        ("area", "price (target)")
    assert presenters.axis_labels(trainer("regression", 3, features=tuple("abcde")), projected) == \
        ("PC 1 of the 5 inputs", "PC 2")
    assert presenters.value_scale_label(trainer("regression"), plane) == "predicted y (samples: target)"
    assert presenters.value_scale_label(trainer("regression", "price"), projected) == "target price"
    assert presenters.value_scale_label(trainer("regression"), line) is None  # the vertical axis is the scale
    assert presenters.value_scale_label(trainer("classification"), plane) is None


def test_confusion_is_unavailable_for_a_regression_and_says_why():
    assert presenters.confusion_unavailable(trainer("classification")) is None
    why = presenters.confusion_unavailable(trainer("regression", "price", name="houses"))
    assert "houses is a regression" in why and "price" in why
