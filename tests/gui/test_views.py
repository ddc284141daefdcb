"""Live views (bpgui.views): each widget takes realistic arrays, updates in place, and draws what it is given."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QCheckBox, QLabel, QWidget

from bpgui.views import (
    ConfusionView,
    CriteriaPanel,
    DataScatter,
    DecisionView,
    GradientView,
    LayerHeatmaps,
    LossPlot,
    MatrixHeatmap,
    NetworkDiagram,
    class_colours,
    palette,
)
from bpgui.views._style import step_up
from bpgui.views.colour_image import colour_table, unpack_rgb
from bpgui.views.criteria_view import progress_fraction


def reference_rgb(values: np.ndarray, low: float, high: float, name: str = palette.DIVERGING_MAP) -> np.ndarray:
    """The colours pyqtgraph's ImageItem gave these values with levels (low, high): table entry
    floor((v - low) · 256 / (high - low)) clipped to 0…255, computed in float32 as it does."""
    table = palette.colormap(name).getLookupTable(nPts=256, alpha=False, mode=pg.ColorMap.BYTE)
    v = np.asarray(values, dtype=np.float32)
    t = np.clip((v - np.float32(low)) * np.float32(256 / (high - low)), 0, 255)
    return table[t.astype(np.intp)]


# realistic data ------------------------------------------------------------------------------------------


def make_history(n: int, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], int]:
    """Loss/accuracy curves of a plausible run; the test set is measured every 10 epochs only."""
    e = np.arange(1, n + 1, dtype=float)
    train = 0.69 * np.exp(-e / (n / 6)) + 0.03 + 0.01 * rng.random(n)
    val = train + 0.02 + 0.08 * np.clip((e - n / 2) / n, 0, None) + 0.01 * rng.random(n)
    test = np.full(n, np.nan)
    test[::10] = val[::10] + 0.01
    hist = {"epoch": e, "train_loss": train, "val_loss": val, "test_loss": test}
    for split in ("train", "val", "test"):
        hist[f"{split}_score"] = np.clip(1.0 - hist[f"{split}_loss"] * 1.2, 0, 1)
    return hist, int(np.argmin(val)) + 1


def make_weights(sizes: list[int], rng: np.random.Generator) -> list[np.ndarray]:
    """Glorot-scaled (D_in + 1, D_out) matrices, last row = bias."""
    return [rng.normal(0, np.sqrt(2 / (a + b)), size=(a + 1, b)) for a, b in itertools.pairwise(sizes)]


def make_moons(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    t = rng.uniform(0, np.pi, n)
    labels = rng.integers(0, 2, n)
    x = np.where(labels == 0, np.cos(t), 1 - np.cos(t))
    y = np.where(labels == 0, np.sin(t), 0.5 - np.sin(t))
    return np.column_stack([x, y]) + rng.normal(0, 0.12, (n, 2)), labels


def hidden_outputs(weights: list[np.ndarray], grid: np.ndarray, shape: tuple[int, int]) -> list[np.ndarray]:
    """tanh outputs of every layer over a grid of inputs, as (n_neurons, ny, nx) thumbnails."""
    h, out = grid, []
    for w in weights:
        h = np.tanh(h @ w[:-1] + w[-1])
        out.append(h.T.reshape(-1, *shape))
    return out


def plane(extent: tuple[float, float, float, float], ny: int, nx: int) -> np.ndarray:
    x0, x1, y0, y1 = extent
    gx, gy = np.meshgrid(np.linspace(x0, x1, nx), np.linspace(y0, y1, ny))
    return np.column_stack([gx.ravel(), gy.ravel()])


def show(qtbot, widget: QWidget, w: int = 600, h: int = 400) -> QWidget:
    qtbot.addWidget(widget)
    widget.resize(w, h)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(7)


def _described(widget: QWidget) -> None:
    assert widget.objectName() and widget.accessibleName() and widget.toolTip()


# LossPlot ------------------------------------------------------------------------------------------------


def test_loss_plot_curves_legend_and_best_marker(qtbot, rng):
    w = show(qtbot, LossPlot())
    _described(w)
    hist, best = make_history(300, rng)
    w.set_history(hist, best)
    curves = w.curves()
    assert len(curves["train_loss"].xData) == 300
    np.testing.assert_array_equal(curves["val_loss"].yData, hist["val_loss"])
    assert w.legend_names() == ["train", "validation", "test", f"best validation: epoch {best}"]
    np.testing.assert_array_equal(curves["test_loss"].xData, hist["epoch"][::10])  # NaN epochs joined over
    line = w._best_lines[0]
    assert line.isVisible() and line.value() == best

    # second update: fewer epochs, test missing, validation empty, no best epoch
    items_before = list(curves.values())
    w.set_history({"epoch": np.arange(1, 51), "train_loss": hist["train_loss"][:50], "val_loss": np.array([])})
    assert list(w.curves().values()) == items_before  # same long-lived items
    assert len(w.curves()["train_loss"].xData) == 50
    assert w.curves()["test_loss"].xData is None  # empty
    assert w.legend_names() == ["train"]
    assert not line.isVisible()
    w.set_score_label("R²")
    assert w._score.getAxis("left").labelText == "R²"


def _scene_rect(item) -> tuple[float, float, float, float]:
    r = item.mapRectToScene(item.boundingRect())
    return r.left(), r.top(), r.right(), r.bottom()


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _shown_ticks(axis) -> list[float]:
    lo, hi = axis.range
    return [v for _spacing, values in axis.tickValues(lo, hi, axis.size().height()) for v in values]


def test_loss_plot_legend_and_best_epoch_stay_off_the_curves(qtbot, rng):
    """The legend (with the best epoch) sits above both plots: it covers no part of either plot area, so
    never the newest epochs (it sat in the loss plot's top-right corner, the marker's label on the line)."""
    w = show(qtbot, LossPlot(), 528, 412)  # the dock's size in the default window
    hist, best = make_history(300, rng)
    w.set_history(hist, best)
    qtbot.wait(10)
    legend = _scene_rect(w.legend_item())
    for plot in w.plot_items():
        assert not _overlap(legend, _scene_rect(plot.getViewBox())), (legend, _scene_rect(plot.getViewBox()))
    assert legend[0] >= 0 and legend[2] <= w.width()  # inside the widget: every entry readable
    # no text on the marker lines, where it covered the curves
    assert not any(isinstance(c, pg.InfLineLabel) for line in w._best_lines for c in line.childItems())
    assert "best validation: epoch" in w.legend_names()[-1]


def test_loss_plot_accuracy_axis_ends_at_one_and_resets_with_the_history(qtbot, rng):
    w = show(qtbot, LossPlot(), 528, 412)
    hist, best = make_history(300, rng)
    hist["train_score"][-50:] = 1.0  # a perfect training accuracy: the axis must still stop at 1
    w.set_history(hist, best)
    loss, score = w.plot_items()
    (_x0, x1), (s0, s1) = score.getViewBox().viewRange()
    assert 1.0 <= s1 <= 1.02 + 1e-9 and s0 >= -0.02 - 1e-9
    assert max(_shown_ticks(score.getAxis("left"))) <= 1.0 + 1e-9
    score.getViewBox().autoRange()  # the "A" button: the limits hold the axis at 1 (it showed 1.08)
    assert score.getViewBox().viewRange()[1][1] <= 1.02 + 1e-9
    assert max(_shown_ticks(score.getAxis("left"))) <= 1.0 + 1e-9
    assert x1 >= 300

    w.clear()  # Reset or a new data set: the axes start over, not at 300 epochs
    (_x0, x1), (_l0, l1) = loss.getViewBox().viewRange()
    assert x1 <= 10.5 and l1 <= 1.05
    assert w.legend_names() == [] and not w._best_lines[0].isVisible()
    w.set_history({"epoch": np.arange(1.0, 4.0), "train_loss": np.array([2.0, 1.5, 1.2]),
                   "train_score": np.array([0.5, 0.6, 0.7])})
    (_x0, x1), (_l0, l1) = loss.getViewBox().viewRange()
    assert x1 <= 10.5 and 2.0 <= l1 <= 2.6  # the new run's three epochs fill the plot

    w.set_score_label("R²")  # regression: R² may be far below 0, never above 1
    w.set_history({"epoch": np.arange(1.0, 4.0), "train_loss": np.array([2.0, 1.5, 1.2]),
                   "train_score": np.array([-7.5, -1.0, 0.99])})
    (_x0, _x1), (s0, s1) = score.getViewBox().viewRange()
    assert s0 <= -7.5 and 0.99 <= s1 <= 1.02 + 1e-9


def test_loss_plot_log_toggle_switches_axis_and_skips_non_positive(qtbot, rng):
    w = show(qtbot, LossPlot())
    hist, best = make_history(100, rng)
    hist["train_loss"][:5] = [0.0, -1.0, 0.5, 0.1, 0.01]
    w.set_history(hist, best)
    toggle = w.findChild(QCheckBox, "lossLogScale")
    assert toggle is not None and not w.log_scale()
    assert w._loss.getAxis("left").logMode is False
    qtbot.mouseClick(toggle, Qt.MouseButton.LeftButton)
    assert w.log_scale() and w._loss.getAxis("left").logMode is True
    _x, y = w.curves()["train_loss"].getData()
    assert np.isnan(y[0]) and np.isnan(y[1])  # 0 and -1 have no log
    np.testing.assert_allclose(y[2:5], np.log10([0.5, 0.1, 0.01]))
    w.set_log_scale(False)
    assert w._loss.getAxis("left").logMode is False


def test_loss_plot_downsamples_100k_epochs(qtbot, rng):
    w = show(qtbot, LossPlot())
    hist, best = make_history(100_000, rng)
    w.set_history(hist, best)
    qtbot.wait(50)
    x, _ = w.curves()["train_loss"].getData()
    assert len(w.curves()["train_loss"].xData) == 100_000
    assert 0 < len(x) < 10_000  # what is drawn is reduced to about the pixel width


# heatmaps ------------------------------------------------------------------------------------------------


def test_matrix_heatmap_symmetric_levels_bias_line_and_readout(qtbot, rng):
    hm = show(qtbot, MatrixHeatmap("W(1)"))
    _described(hm)
    m = rng.normal(size=(3, 8))
    m[0, 0], m[1, 1] = 3.0, -5.0
    hm.set_matrix(m)
    assert hm.levels() == (-5.0, 5.0)
    assert hm._bias_line.value() == pytest.approx(1.5)  # between input row 1 and the bias row 2
    assert hm.title() == "W(1)"

    big = rng.normal(size=(513, 512))
    big[100, 7] = np.nan  # not measured: ignored by the levels
    hm.set_matrix(big, title="W(2)")
    peak = np.nanmax(np.abs(big))
    assert hm.levels() == pytest.approx((-step_up(peak), step_up(peak)))  # max|M| rounded up to a step
    assert step_up(peak) >= peak and step_up(peak) <= 1.25 * peak
    assert hm._image.image.shape == (513, 512)
    assert hm._bias_line.value() == pytest.approx(511.5)
    assert hm.title() == "W(2)"

    # hover over cell (i=512 bias row, j=3) through the scene's mouse-move signal
    glw = hm.findChild(pg.GraphicsLayoutWidget)
    vb = glw.ci.getItem(0, 0).getViewBox()
    glw.scene().sigMouseMoved.emit(vb.mapViewToScene(QPointF(3.2, 511.9)))
    assert hm.readout() == f"i = b (bias), j = 3, value = {big[512, 3]:.4g}"


def test_layer_heatmaps_reuse_children_and_select_many_layers(qtbot, rng):
    lh = show(qtbot, LayerHeatmaps(max_side_by_side=4), 900, 300)
    _described(lh)
    mats = make_weights([2, 8, 8, 3], rng)
    lh.set_matrices(mats, ["W(1)", "W(2)", "W(3)"])
    first = lh.heatmaps()
    assert len(first) == 3 and lh.selected_layer() is None
    assert [h.title() for h in first] == ["W(1)", "W(2)", "W(3)"]
    mats2 = make_weights([5, 16, 4, 2], rng)
    lh.set_matrices(mats2, ["a", "b", "c"])
    assert lh.heatmaps() == first  # same widgets, new shapes
    assert first[1]._image.image.shape == (17, 4)
    peak = step_up(np.abs(mats2[2]).max())
    assert first[2].levels() == pytest.approx((-peak, peak))

    many = make_weights([2, 4, 4, 4, 4, 4, 2], rng)
    lh.set_matrices(many, [f"W({k + 1})" for k in range(6)])
    assert len(lh.heatmaps()) == 1 and lh.selected_layer() == 0
    lh.select_layer(4)
    peak = step_up(np.abs(many[4]).max())
    assert lh.heatmaps()[0].levels() == pytest.approx((-peak, peak))
    assert lh.heatmaps()[0].title() == "W(5)"
    with pytest.raises(ValueError):
        lh.set_matrices(many, ["only one"])


# GradientView --------------------------------------------------------------------------------------------


def test_gradient_view_titles_curves_per_layer_and_log_axis(qtbot, rng):
    gv = show(qtbot, GradientView())
    _described(gv)
    grads = [g * 1e-3 for g in make_weights([2, 8, 8, 2], rng)]
    gv.set_gradients(grads)
    assert [h.title() for h in gv.heatmaps().heatmaps()] == [f"∇W({k}) = h δᵀ (eq. 9)" for k in (1, 2, 3)]
    peak = step_up(np.abs(grads[0]).max())
    assert gv.heatmaps().heatmaps()[0].levels() == pytest.approx((-peak, peak))

    epochs = np.arange(1, 201)
    deltas = np.exp(-epochs[:, None] / np.array([30.0, 60.0, 90.0])) * 1e-2
    deltas[10, 0] = 0.0  # nothing flowed: a gap, not -inf
    gv.set_delta_history(epochs, deltas)
    curves = gv.delta_curves()
    assert len(curves) == 3
    assert gv.legend_names() == ["δ(1)", "δ(2)", "δ(3)"]
    assert gv.delta_plot().getAxis("left").logMode is True
    assert np.isnan(curves[0].yData[10]) and curves[0].yData[11] == deltas[11, 0]

    gv.set_gradients(make_weights([2, 4, 2], rng))
    gv.set_delta_history(epochs[:20], deltas[:20, :2])
    assert len(gv.delta_curves()) == 2 and len(gv.heatmaps().heatmaps()) == 2
    assert gv.legend_names() == ["δ(1)", "δ(2)"]


@pytest.mark.parametrize("layers", [3, 9])
def test_gradient_view_is_readable_in_the_bottom_dock_and_lists_every_layer(qtbot, rng, layers):
    """At the bottom dock's default size (1162 × 274) the heatmaps sat above the δ plot, ~30 px high, their
    axis titles cut; the δ legend, inside the plot, lost layers below its edge."""
    gv = show(qtbot, GradientView(), 1162, 250)
    sizes = [2] + [6] * (layers - 1) + [2]
    gv.set_gradients([g * 1e-3 for g in make_weights(sizes, rng)])
    epochs = np.arange(1, 101)
    gv.set_delta_history(epochs, np.exp(-epochs[:, None] / np.arange(20.0, 20.0 * (layers + 1), 20.0)))
    qtbot.wait(20)
    assert gv.side_by_side()
    assert gv.legend_names() == [f"δ({k})" for k in range(1, layers + 1)]
    plot = gv.delta_plot()
    legend = _scene_rect(gv.legend_item())
    assert not _overlap(legend, _scene_rect(plot.getViewBox()))  # above the curves, not over them
    assert legend[1] >= 0 and legend[3] <= gv._delta.height()  # every row inside the widget
    assert plot.getViewBox().height() >= 100
    for heatmap in gv.heatmaps().heatmaps():
        assert heatmap._plot.getViewBox().height() >= 100  # readable cells, not a 30 px strip
        axis = heatmap._plot.getAxis("left")
        assert axis.label.boundingRect().width() <= axis.height()  # the rotated axis title fits, uncut

    gv.resize(600, 700)  # a tall panel (floated, or docked at a side): heatmaps above the curves again
    qtbot.wait(20)
    assert not gv.side_by_side()


# DecisionView --------------------------------------------------------------------------------------------


def test_decision_view_field_points_and_curve(qtbot, rng):
    dv = show(qtbot, DecisionView())
    _described(dv)
    extent = (-1.5, 2.5, -1.0, 1.5)
    prob = np.zeros((40, 60))
    prob[:, 30:] = 1.0
    dv.set_field(prob, extent)
    rgb = dv.field_rgb()
    c0, c1 = (np.array(c) for c in class_colours(2))
    assert rgb.shape == (40, 60, 3) and rgb.dtype == np.uint8
    np.testing.assert_allclose(rgb[0, 0], 255 - 0.45 * (255 - c0), atol=1)  # tinted class-0 colour
    np.testing.assert_allclose(rgb[0, -1], 255 - 0.45 * (255 - c1), atol=1)
    r = dv._field.mapRectToParent(dv._field.boundingRect())
    assert (r.left(), r.right(), r.top(), r.bottom()) == pytest.approx((-1.5, 2.5, -1.0, 1.5))

    x, labels = make_moons(200, rng)
    is_test = np.arange(200) >= 150
    dv.set_points(x, labels, is_test, class_colours(2))
    spots = dv._points.points()
    assert len(spots) == 200
    assert spots[0].brush().color().alpha() == 230 and spots[199].brush().color().alpha() == 90  # filled/hollow

    rgb_field = rng.random((30, 30, 3))
    dv.set_field(rgb_field, extent)
    np.testing.assert_allclose(dv.field_rgb() / 255, rgb_field, atol=1 / 255)
    probs = rng.dirichlet(np.ones(3), size=(20, 25))
    dv.set_probabilities(probs, extent)
    assert dv.field_rgb().shape == (20, 25, 3)

    xs = np.linspace(-1, 1, 50)
    dv.set_curve(xs[::-1], np.sin(3 * xs[::-1]))
    assert dv.field_rgb() is None
    np.testing.assert_allclose(dv._curve.yData, np.sin(3 * xs))  # sorted by x
    dv.set_points(np.column_stack([xs, np.sin(3 * xs)]), None)
    assert len(dv._points.points()) == 50


def test_decision_view_regression_values_with_a_colour_bar(qtbot, rng):
    """A regression over the plane: the predicted values through the value colour map at the targets' levels,
    a colour bar with those levels and the target's name, samples in the colour of their target (it was one
    colour and no scale)."""
    dv = show(qtbot, DecisionView())
    extent = (-2.0, 2.0, -1.0, 1.0)
    gx, gy = np.meshgrid(np.linspace(-2, 2, 50), np.linspace(-1, 1, 30))
    values = 100 + 50 * gx + 10 * gy  # 0…200 over the plane
    levels = (20.0, 180.0)  # the targets' range: the field beyond it takes the end colours
    width_before = dv._plot.getViewBox().width()
    dv.set_values(values, extent, levels)
    dv.set_value_scale(levels, "predicted price")
    np.testing.assert_array_equal(dv.field_rgb(), reference_rgb(values, *levels, palette.VALUE_MAP))
    assert dv.value_scale() == (levels, "predicted price")
    qtbot.wait(10)
    assert dv._plot.getViewBox().width() < width_before - 10  # the bar takes its room beside the plot

    x = rng.uniform(-2, 2, (40, 2))
    targets = np.linspace(20, 180, 40)
    dv.set_value_points(x, targets, np.arange(40) >= 30, levels)
    table = reference_rgb(np.array([[20.0, 180.0]]), *levels, palette.VALUE_MAP)[0]
    spots = dv._points.points()
    assert spots[0].brush().color().getRgb()[:3] == tuple(table[0])  # the lowest target: the map's first colour
    middle = unpack_rgb(colour_table(palette.VALUE_MAP))[round((targets[20] - 20) / 160 * 255)]
    assert spots[20].brush().color().getRgb()[:3] == tuple(middle)
    assert spots[39].pen().color().getRgb()[:3] == tuple(table[1])  # a held-out sample: ring in its colour

    dv.set_value_scale(None)  # classification again: no bar, the plot gets its room back
    qtbot.wait(10)
    assert dv.value_scale() is None
    assert dv._plot.getViewBox().width() == pytest.approx(width_before, abs=2)
    dv.set_axis_labels("area", "price (target)")
    assert dv.axis_labels() == ("area", "price (target)")


# NetworkDiagram ------------------------------------------------------------------------------------------


def test_network_diagram_limits_neurons_and_colours_links(qtbot, rng):
    nd = show(qtbot, NetworkDiagram(max_neurons=16, max_links=200))
    _described(nd)
    sizes = [64, 512, 512, 10]
    nd.set_architecture(sizes, ["tanh", "tanh", "softmax"])
    assert nd.shown_neurons() == [16, 16, 16, 10]
    texts = [t.textItem.toPlainText() for t in nd._texts]
    assert "+ 48 more" in texts and texts.count("+ 496 more") == 2
    assert len(nd.link_items()) == 3 and all(len(c) == 8 for c in nd.link_items())

    weights = make_weights(sizes, rng)
    nd.set_weights(weights)
    assert [n + p for n, p in nd.drawn_links()] == [200, 200, 160]  # 16·16 capped at 200, 16·10 = 160
    positive = [np.abs(w) for w in weights]
    nd.set_weights(positive)
    assert all(neg == 0 for neg, _pos in nd.drawn_links())
    # strongest positive links sit in the last (widest) positive curve
    strongest = nd.link_items()[2][-1]
    assert strongest.opts["pen"].color().getRgb()[:3] == (192, 2, 6)
    assert len(strongest.xData) > 0
    # bias of neuron 0 in layer 1 negative -> blue border
    positive[0][-1, 0] = -1.0
    nd.set_weights(positive)
    pen = nd._neurons.points()[16].pen()
    assert pen.color().getRgb()[:3] == (33, 81, 219)
    with pytest.raises(ValueError):
        nd.set_weights(make_weights([64, 500, 512, 10], rng))


def test_network_diagram_thumbnails_and_hover(qtbot, rng):
    nd = show(qtbot, NetworkDiagram(max_neurons=16))
    sizes = [2, 8, 8, 2]
    nd.set_architecture(sizes, ["tanh", "tanh", "sigmoid"])
    assert nd.shown_neurons() == sizes and not any("more" in t.textItem.toPlainText() for t in nd._texts)
    weights = make_weights(sizes, rng)
    nd.set_weights(weights)
    assert [n + p for n, p in nd.drawn_links()] == [16, 64, 16]
    thumbs = hidden_outputs(weights, plane((-2, 2, -2, 2), 24, 24), (24, 24))
    nd.set_thumbnails(thumbs)
    assert nd._thumb_items[1][3].isVisible() and not nd._thumb_items[0][0].isVisible()
    assert not nd._detail.isVisibleTo(nd)  # the enlarged output appears on hover only

    seen = []
    nd.neuronHovered.connect(lambda c, k: seen.append((c, k)))
    glw = nd.findChild(pg.GraphicsLayoutWidget)
    scene_pos = nd._vb.mapViewToScene(nd.neuron_position(2, 5) + QPointF(0.1, -0.1))
    glw.scene().sigMouseMoved.emit(scene_pos)
    assert seen == [(2, 5)]
    assert nd.info_text() == f"layer 2 (tanh), neuron 5, bias b = {weights[1][-1, 5]:.3g}"
    # the enlarged output shows the hovered neuron's thumbnail pixels: its values through the diverging map
    np.testing.assert_array_equal(nd._detail_image.pixels(), nd.thumbnail_pixels(2)[5])
    np.testing.assert_array_equal(unpack_rgb(nd._detail_image.pixels()), reference_rgb(thumbs[1][5], -1, 1))
    assert nd._detail.isVisibleTo(nd)

    # a different architecture rebuilds; thumbnails including the input column are accepted
    nd.set_architecture([2, 4, 1], ["relu", "identity"])
    weights = make_weights([2, 4, 1], rng)
    nd.set_weights(weights)
    grid = plane((-1, 1, -1, 1), 8, 8)
    nd.set_thumbnails([grid.T.reshape(2, 8, 8), *hidden_outputs(weights, grid, (8, 8))])
    assert nd._thumb_items[0][1].isVisible() and len(nd._thumb_items) == 3


# ConfusionView, DataScatter, CriteriaPanel ---------------------------------------------------------------


def test_confusion_view_counts_and_accuracy(qtbot):
    cv = show(qtbot, ConfusionView(), 400, 400)
    _described(cv)
    c = np.array([[50, 2, 3], [4, 40, 6], [0, 5, 90]])
    cv.set_matrix(c, ["setosa", "versicolor", "virginica"])
    assert cv.cell_texts() == [[str(v) for v in row] for row in c]
    assert cv.accuracy() == pytest.approx(180 / 200)
    assert "90.0 %" in cv.title() and "180 / 200" in cv.title()
    assert cv.shares()[2, 2] == pytest.approx(90 / 95)  # colour = share of the true class
    np.testing.assert_array_equal(
        unpack_rgb(cv._image.pixels()), reference_rgb(cv.shares(), 0, 1, palette.SEQUENTIAL_MAP)
    )

    c5 = np.diag([10, 20, 30, 40, 50])
    c5[0, 4] = 7
    cv.set_matrix(c5)
    assert len(cv.cell_texts()) == 5 and cv.cell_texts()[0][4] == "7"
    assert cv.accuracy() == pytest.approx(150 / 157)


def test_confusion_view_says_why_there_is_no_matrix(qtbot):
    cv = show(qtbot, ConfusionView(), 400, 400)
    cv.set_matrix(np.array([[5, 1], [2, 7]]), ["a", "b"])
    cv.set_unavailable("No confusion matrix: sine is a regression")
    assert cv.unavailable() == "No confusion matrix: sine is a regression"
    note = cv.findChild(QLabel, "confusionUnavailable")
    assert note.isVisible() and "regression" in note.text()
    assert not cv._pw.isVisible()  # no empty class axes
    cv.set_unavailable(None)
    cv.set_matrix(np.array([[5, 1], [2, 7]]), ["a", "b"])
    assert cv._pw.isVisible() and not note.isVisible() and cv.cell_texts() == [["5", "1"], ["2", "7"]]


def test_data_scatter_click_emits_row_and_highlights(qtbot, rng):
    ds = show(qtbot, DataScatter())
    _described(ds)
    x, labels = make_moons(120, rng)
    ds.set_data(x, labels, ["inner", "outer"], is_test=np.arange(120) % 5 == 0)
    item = ds.points_item()
    assert len(item.points()) == 120
    ds.grab()
    atlas = len(item.fragmentAtlas)
    for _ in range(3):  # re-sending the same data reuses brushes, so the symbol atlas does not grow
        ds.set_data(x, labels, ["inner", "outer"], is_test=np.arange(120) % 5 == 0)
        ds.grab()
    assert len(item.fragmentAtlas) == atlas > 0
    with qtbot.waitSignal(ds.sampleClicked, timeout=1000) as blocker:
        item.sigClicked.emit(item, [item.points()[37]], None)
    assert blocker.args == [37] and ds.highlighted() == 37

    # a real mouse click on an isolated point
    x = np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]])
    ds.set_data(x, np.array([0, 1, 0]), None)
    ds._plot.setRange(xRange=(-0.5, 2.5), yRange=(-0.5, 1.5), padding=0)
    qtbot.wait(20)
    view = ds.findChild(pg.PlotWidget)
    scene_pt = item.mapToScene(QPointF(1.0, 1.0))
    vp = view.mapFromScene(scene_pt)
    with qtbot.waitSignal(ds.sampleClicked, timeout=1000) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(vp.x(), vp.y()))
    assert blocker.args == [1]
    ds.highlight(2)
    assert ds._marker.points()[0].pos() == QPointF(2.0, 0.0)

    ds.set_data(rng.normal(size=(50, 2)), rng.normal(size=50))  # regression target: colour by value
    assert len(item.points()) == 50 and ds.highlighted() == 2


def test_criteria_panel_progress_log_scale_and_met(qtbot):
    cp = show(qtbot, CriteriaPanel(), 500, 200)
    _described(cp)
    crit = [
        ("epochs", 250, 1000, False),
        ("loss goal", 0.1, 1e-3, False),
        ("min gradient", 1e-2, 1e-5, False),
        ("validation checks", 2, 6, False),
        ("time (s)", 12.5, None, False),
    ]
    cp.set_criteria(crit)
    assert [r[1] for r in cp.rows()] == [250, 0, 0, 333, 0]  # first loss/gradient values are the start
    crit[1] = ("loss goal", 1e-2, 1e-3, False)  # one decade of two
    crit[2] = ("min gradient", 1e-5, 1e-5, True)
    cp.set_criteria(crit)
    rows = cp.rows()
    assert rows[1][1] == 500 and rows[1][2] == "0.01 / 0.001"
    assert rows[2][0] == "✔ min gradient" and rows[2][1] == 1000 and rows[2][3]
    assert rows[4][2] == "12.5"
    assert progress_fraction(50, 100, 0) == (0.5, False)
    cp.set_criteria(crit[:2])
    assert len(cp.rows()) == 2


# rendering and timing ------------------------------------------------------------------------------------


def build_views(rng: np.random.Generator) -> dict[str, QWidget]:
    """Every view filled with realistic data, as the docs/img screenshots show them."""
    hist, best = make_history(400, rng)
    loss = LossPlot()
    loss.set_history(hist, best)
    loss.set_log_scale(True)

    sizes = [2, 8, 8, 2]
    weights = make_weights(sizes, rng)
    weights[0] *= 2.5
    heat = LayerHeatmaps()
    heat.set_matrices(weights, [f"W({k + 1})" for k in range(3)])

    grad = GradientView()
    grad.set_gradients([w * rng.normal(0, 1e-3, w.shape) for w in weights])
    epochs = np.arange(1, 301)
    decay = np.exp(-epochs[:, None] / np.array([40.0, 80.0, 160.0])) * np.array([1e-3, 1e-2, 1e-1])
    grad.set_delta_history(epochs, decay * (1 + 0.2 * rng.random((300, 3))))

    extent = (-1.5, 2.5, -1.2, 1.7)
    x, labels = make_moons(240, rng)
    grid = plane(extent, 120, 160)
    logit = 4 * (grid[:, 1] - 0.25 - 0.7 * np.sin(2.2 * (grid[:, 0] - 0.5)) / (1 + np.exp(-4 * grid[:, 0])))
    decision = DecisionView()
    decision.set_field((1 / (1 + np.exp(logit))).reshape(120, 160), extent)
    decision.set_points(x, labels, np.arange(240) % 4 == 0, class_colours(2))

    network = NetworkDiagram()
    network.set_architecture(sizes, ["tanh", "tanh", "softmax"])
    network.set_weights(weights)
    network.set_thumbnails(hidden_outputs(weights, plane(extent, 32, 32), (32, 32)))
    network.show_neuron(1, 2)

    big = NetworkDiagram()
    big.set_architecture([64, 512, 512, 10], ["relu", "relu", "softmax"])
    big.set_weights(make_weights([64, 512, 512, 10], rng))

    confusion = ConfusionView()
    confusion.set_matrix(np.array([[50, 2, 3], [4, 41, 6], [0, 5, 89]]), ["setosa", "versicolor", "virginica"])

    scatter = DataScatter()
    scatter.set_data(x, labels, ["class 0", "class 1"], np.arange(240) % 4 == 0)
    scatter.highlight(17)

    criteria = CriteriaPanel()
    start = [("epochs", 0, 1000, False), ("loss goal", 0.69, 1e-3, False), ("min gradient", 0.3, 1e-5, False)]
    criteria.set_criteria([*start, ("validation checks", 0, 6, False), ("time (s)", 0.0, None, False)])
    criteria.set_criteria(
        [
            ("epochs", 412, 1000, False),
            ("loss goal", 0.021, 1e-3, False),
            ("min gradient", 1e-5, 1e-5, True),
            ("validation checks", 2, 6, False),
            ("time (s)", 8.4, None, False),
        ]
    )
    return {
        "loss": loss,
        "heatmaps": heat,
        "gradients": grad,
        "decision": decision,
        "network": network,
        "network-large": big,
        "confusion": confusion,
        "scatter": scatter,
        "criteria": criteria,
    }


RENDER_SIZES = {"heatmaps": (900, 320), "gradients": (900, 600), "confusion": (460, 420), "criteria": (520, 200)}


def test_render_every_view_to_png(qtbot, tmp_path, rng):
    for name, widget in build_views(rng).items():
        show(qtbot, widget, *RENDER_SIZES.get(name, (600, 400)))
        qtbot.wait(10)
        path = tmp_path / f"views-{name}.png"
        assert widget.grab().save(str(path))
        img = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB32)
        assert (img.width(), img.height()) == RENDER_SIZES.get(name, (600, 400))
        ptr = img.constBits()
        pixels = np.frombuffer(ptr, dtype=np.uint8, count=img.sizeInBytes()).reshape(img.height(), -1, 4)
        assert len(np.unique(pixels[..., :3].reshape(-1, 3), axis=0)) > 20, f"{name} looks blank"


def test_update_times(qtbot, rng, capsys):
    hm = show(qtbot, MatrixHeatmap("W"))
    mats = [rng.normal(size=(513, 512)).astype(np.float32) for _ in range(4)]
    hm.set_matrix(mats[0])
    t0 = time.perf_counter()
    for k in range(40):
        hm.set_matrix(mats[k % 4])
    t_set = (time.perf_counter() - t0) / 40
    t0 = time.perf_counter()
    for k in range(20):
        hm.set_matrix(mats[k % 4])
        hm.grab()
    t_draw = (time.perf_counter() - t0) / 20

    nd = show(qtbot, NetworkDiagram())
    sizes = [64, 512, 512, 10]
    nd.set_architecture(sizes, ["relu", "relu", "softmax"])
    ws = [make_weights(sizes, rng) for _ in range(4)]
    nd.set_weights(ws[0])
    t0 = time.perf_counter()
    for k in range(40):
        nd.set_weights(ws[k % 4])
    n_set = (time.perf_counter() - t0) / 40
    t0 = time.perf_counter()
    for k in range(20):
        nd.set_weights(ws[k % 4])
        nd.grab()
    n_draw = (time.perf_counter() - t0) / 20
    with capsys.disabled():
        print(
            f"\nMatrixHeatmap.set_matrix 513x512: {1e3 * t_set:.2f} ms/call, with repaint {1e3 * t_draw:.2f} ms"
            f"\nNetworkDiagram.set_weights 64-512-512-10: {1e3 * n_set:.2f} ms/call, with repaint {1e3 * n_draw:.2f} ms"
        )
