"""Views (drawing cost): images are coloured once per set_* into the pixels that are drawn, and equal data is
not coloured again. The colours are checked against pyqtgraph's own colour maps and level rule, the oracle
the views used before they coloured images themselves."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QWidget

from bpgui.views import ConfusionView, DecisionView, GradientView, LayerHeatmaps, MatrixHeatmap, NetworkDiagram, palette
from bpgui.views import colour_image as ci
from bpgui.views._style import step_up

MAPS = [palette.DIVERGING_MAP, palette.SEQUENTIAL_MAP, palette.VALUE_MAP]


def pg_table(name: str) -> np.ndarray:
    """pyqtgraph's 256-entry RGB table of a colour map (what ImageItem.setColorMap used)."""
    return palette.colormap(name).getLookupTable(nPts=256, alpha=False, mode=pg.ColorMap.BYTE)


def reference_rgb(values: np.ndarray, low: float, high: float, name: str = palette.DIVERGING_MAP) -> np.ndarray:
    """pyqtgraph's rule for a float image with levels (low, high) and a 256-entry table: entry
    floor((v - low) · 256 / (high - low)) clipped to 0…255, in float32 arithmetic as it computes it."""
    v = np.asarray(values, dtype=np.float32)
    t = np.clip((v - np.float32(low)) * np.float32(256 / (high - low)), 0, 255)
    return pg_table(name)[t.astype(np.intp)]


def show(qtbot, widget: QWidget, w: int = 600, h: int = 400) -> QWidget:
    qtbot.addWidget(widget)
    widget.resize(w, h)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


class CountCalls:
    """Wraps colour_image.map_values and counts the calls (image work = colouring)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.n = 0
        real = ci.map_values

        def counted(*args, **kwargs):
            self.n += 1
            return real(*args, **kwargs)

        monkeypatch.setattr(ci, "map_values", counted)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(11)


# the colour tables and the mapping ------------------------------------------------------------------------


@pytest.mark.parametrize("name", MAPS)
def test_colour_table_is_the_colour_map_opaque_and_read_only(name):
    table = ci.colour_table(name)
    assert table.shape == (256,) and table.dtype == np.uint32 and not table.flags.writeable
    np.testing.assert_array_equal(ci.unpack_rgb(table), pg_table(name))
    assert np.all(table >> 24 == 255)  # opaque: premultiplied equals straight colour
    assert ci.colour_table(name) is table  # built once per map


# (value, low, high, table entry): ends, outside, zero at the centre, infinities, bin edges
MAPPING_ROWS = [
    pytest.param(-2.0, -2.0, 2.0, 0, id="low end"),
    pytest.param(2.0, -2.0, 2.0, 255, id="high end"),
    pytest.param(1.999, -2.0, 2.0, 255, id="just below high"),
    pytest.param(0.0, -2.0, 2.0, 128, id="zero of symmetric levels: centre entry"),
    pytest.param(-1e-6, -2.0, 2.0, 127, id="just below zero"),
    pytest.param(-7.0, -2.0, 2.0, 0, id="below low"),
    pytest.param(9.0, -2.0, 2.0, 255, id="above high"),
    pytest.param(np.inf, -2.0, 2.0, 255, id="+inf"),
    pytest.param(-np.inf, -2.0, 2.0, 0, id="-inf"),
    pytest.param(0.5, 0.0, 1.0, 128, id="share one half"),
    pytest.param(0.25, 0.0, 1.0, 64, id="bin edge"),
    pytest.param(0.0, 0.0, 1.0, 0, id="share zero"),
    pytest.param(1.0, 0.0, 1.0, 255, id="share one"),
]


@pytest.mark.parametrize(("value", "low", "high", "entry"), MAPPING_ROWS)
def test_map_values_picks_the_table_entry(value, low, high, entry):
    table = ci.colour_table(palette.DIVERGING_MAP)
    out = ci.map_values(np.array([[value]]), low, high, table)
    assert out.dtype == np.uint32 and out.shape == (1, 1)
    assert out[0, 0] == table[entry]


def test_zero_is_the_maps_centre_colour():
    # entry 128 sits at 128/255 of the map; one 255th from the centre moves CET-D1's channels by at most 2
    rgb = ci.unpack_rgb(ci.map_values(np.zeros((1, 1)), -3.0, 3.0, ci.colour_table(palette.DIVERGING_MAP)))[0, 0]
    centre = palette.colormap(palette.DIVERGING_MAP).map(0.5, mode=pg.ColorMap.BYTE)[:3]
    assert np.max(np.abs(rgb.astype(int) - np.asarray(centre, dtype=int))) <= 2
    assert rgb.min() >= 220  # the diverging map is near-white at 0


def test_nan_cells_are_transparent_and_the_rest_coloured(rng):
    v = rng.normal(size=(40, 30))
    v[3, 4] = v[0, 0] = np.nan
    out = ci.map_values(v, -2.0, 2.0, ci.colour_table(palette.DIVERGING_MAP))
    nan = np.isnan(v)
    assert np.all(out[nan] == ci.TRANSPARENT)
    np.testing.assert_array_equal(ci.unpack_rgb(out[~nan]), reference_rgb(v[~nan], -2.0, 2.0))
    assert np.isnan(v[3, 4])  # the caller's array is not written


@pytest.mark.parametrize("name", MAPS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_map_values_equals_pyqtgraphs_rule_on_realistic_weights(name, dtype, rng):
    w = rng.normal(0, 0.08, (513, 512)).astype(dtype)
    peak = step_up(float(np.abs(w).max()))
    out = ci.map_values(w, -peak, peak, ci.colour_table(name))
    np.testing.assert_array_equal(ci.unpack_rgb(out), reference_rgb(w, -peak, peak, name))


@pytest.mark.parametrize(
    ("rgba", "pixel"),
    [
        pytest.param((255, 0, 0, 255), 0xFFFF0000, id="opaque red"),
        pytest.param((0, 0, 255, 255), 0xFF0000FF, id="opaque blue"),
        pytest.param((200, 100, 50, 0), 0x00000000, id="transparent: premultiplied to zero"),
        pytest.param((200, 100, 50, 128), 0x80643219, id="half alpha: premultiplied, rounded"),
    ],
)
def test_pack_makes_premultiplied_argb32(rgba, pixel):
    assert ci.pack(np.array([rgba], dtype=np.uint8))[0] == pixel
    if rgba[3] == 255:
        np.testing.assert_array_equal(ci.unpack_rgb(ci.pack(np.array([rgba[:3]], dtype=np.uint8)))[0], rgba[:3])


# block averages (more cells than pixels) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "f", "out_shape"),
    [
        pytest.param((513, 512), (2, 2), (257, 256), id="513x512 by 2x2"),
        pytest.param((785, 10), (3, 1), (262, 10), id="785 rows by 3"),
        pytest.param((9, 8), (1, 1), (9, 8), id="no averaging"),
        pytest.param((5, 7), (5, 7), (1, 1), id="one block"),
    ],
)
def test_block_mean_keeps_every_row(shape, f, out_shape, rng):
    v = rng.normal(size=shape)
    out = ci.block_mean(v, *f)
    assert out.shape == out_shape
    fy, fx = f
    # the last (possibly smaller) block of rows holds the bias row: its mean, not dropped
    last = v[(out_shape[0] - 1) * fy :, :fx]
    assert out[-1, 0] == pytest.approx(last.mean(), rel=1e-5)  # float32 sums of ≤ 9 normal values: 1e-5 is ample
    assert out[0, 0] == pytest.approx(v[:fy, :fx].mean(), rel=1e-5)


def test_block_mean_leaves_out_nan_and_keeps_an_all_nan_block_nan():
    v = np.arange(16, dtype=float).reshape(4, 4)
    v[0, 0] = np.nan
    v[2:, 2:] = np.nan
    out = ci.block_mean(v, 2, 2)
    assert out[0, 0] == pytest.approx((1 + 4 + 5) / 3)
    assert np.isnan(out[1, 1]) and out[0, 1] == pytest.approx((2 + 3 + 6 + 7) / 4)


# MatrixHeatmap -------------------------------------------------------------------------------------------


def test_heatmap_pixels_are_the_matrix_through_the_diverging_map(qtbot, rng):
    hm = show(qtbot, MatrixHeatmap("W(1)"), 700, 600)
    m = rng.normal(0, 0.3, (9, 8))
    m[2, 3] = np.nan
    hm.set_matrix(m)
    peak = step_up(float(np.nanmax(np.abs(m))))
    assert hm.levels() == (-peak, peak) == hm._bar.levels()  # the colour bar shows the scale of the pixels
    pixels = hm._image.pixels()
    assert pixels.shape == m.shape and hm.drawn_factors() == (1, 1)
    ok = ~np.isnan(m)
    np.testing.assert_array_equal(ci.unpack_rgb(pixels[ok]), reference_rgb(m[ok], -peak, peak))
    assert pixels[2, 3] == ci.TRANSPARENT
    hm.show_cell(2, 3)
    assert hm.readout() == "i = 2, j = 3, value = nan"
    hm.show_cell(8, 1)
    assert hm.readout() == f"i = b (bias), j = 1, value = {m[8, 1]:.4g}"  # the real value, not a colour


@pytest.mark.parametrize(
    ("peak", "levels"),
    [
        pytest.param(0.93, 1.0, id="0.93 -> 1"),
        pytest.param(1.1, 1.2, id="1.1 -> 1.2"),
        pytest.param(4.9, 5.0, id="4.9 -> 5"),
        pytest.param(0.0031, 0.004, id="3.1e-3 -> 4e-3"),
        pytest.param(0.0, 1.0, id="all zero -> 1"),
    ],
)
def test_heatmap_levels_step_up_as_before(qtbot, peak, levels):
    hm = show(qtbot, MatrixHeatmap())
    m = np.zeros((4, 3))
    m[1, 2] = -peak
    hm.set_matrix(m)
    assert hm.levels() == pytest.approx((-levels, levels), rel=1e-12)
    assert hm._bar.levels() == pytest.approx((-levels, levels), rel=1e-12)
    centre = ci.colour_table(palette.DIVERGING_MAP)[128]
    assert hm._image.pixels()[0, 0] == centre  # zero is the centre colour at any levels


def test_heatmap_equal_data_does_no_image_work(qtbot, monkeypatch, rng):
    hm = show(qtbot, MatrixHeatmap())
    m = rng.normal(size=(65, 512)).astype(np.float32)
    calls = CountCalls(monkeypatch)
    hm.set_matrix(m)
    first = hm._image.pixels()
    assert calls.n == 1
    hm.set_matrix(m.copy(), title="W(1)")  # a new array with the same values, as each snapshot brings
    assert hm._image.pixels() is first and calls.n == 1
    assert hm.title() == "W(1)"  # the title still follows
    m2 = m.copy()
    m2[64, 7] += 1.0
    hm.set_matrix(m2)
    assert hm._image.pixels() is not first and calls.n == 2
    hm.show_cell(64, 7)
    assert hm.readout().endswith(f"value = {m2[64, 7]:.4g}")


def test_heatmap_changed_in_place_is_recoloured(qtbot, rng):
    hm = show(qtbot, MatrixHeatmap())
    m = rng.normal(size=(5, 4))
    hm.set_matrix(m)
    m[0, 0] = 50.0  # the caller reuses its array: the view kept a copy, so the change is seen
    hm.set_matrix(m)
    assert hm.levels() == (-50.0, 50.0)
    assert hm._image.pixels()[0, 0] == ci.colour_table(palette.DIVERGING_MAP)[255]


def test_big_matrix_in_few_pixels_is_averaged_and_readouts_stay_exact(qtbot, rng):
    hm = show(qtbot, MatrixHeatmap(), 260, 240)
    m = rng.normal(0, 0.1, (785, 512))
    hm.set_matrix(m)
    fy, fx = hm.drawn_factors()
    assert fy >= 2 and fx >= 2  # ~170 × 130 pixels of view for 785 × 512 cells
    pixels = hm._image.pixels()
    assert pixels.shape == (-(-785 // fy), -(-512 // fx))
    peak = hm.levels()[1]
    np.testing.assert_array_equal(ci.unpack_rgb(pixels), reference_rgb(ci.block_mean(m, fy, fx), -peak, peak))
    # the drawn blocks cover whole cells: the image spans fy·rows × fx·cols cells from (-0.5, -0.5)
    rect = hm._image.mapRectToParent(hm._image.boundingRect())
    assert (rect.left(), rect.top()) == (-0.5, -0.5)
    assert (rect.width(), rect.height()) == pytest.approx((pixels.shape[1] * fx, pixels.shape[0] * fy))
    hm.show_cell(784, 3)
    assert hm.readout() == f"i = b (bias), j = 3, value = {m[784, 3]:.4g}"
    hm.resize(1400, 1300)  # room for every cell: drawn in full again
    qtbot.waitUntil(lambda: hm.drawn_factors() == (1, 1))
    assert hm._image.pixels().shape == (785, 512)


def test_layer_and_gradient_heatmaps_colour_once_per_change(qtbot, monkeypatch, rng):
    lh = show(qtbot, LayerHeatmaps(), 900, 320)
    ws = [rng.normal(size=s) for s in [(3, 8), (9, 8), (9, 2)]]
    calls = CountCalls(monkeypatch)
    lh.set_matrices(ws, ["W(1)", "W(2)", "W(3)"])
    assert calls.n == 3
    ws2 = [w.copy() for w in ws]
    ws2[1][0, 0] = 3.0
    lh.set_matrices(ws2, ["W(1)", "W(2)", "W(3)"])
    assert calls.n == 4  # only the layer that changed
    gv = show(qtbot, GradientView(), 900, 600)
    gv.set_gradients(ws)
    gv.set_gradients([g.copy() for g in ws])
    assert calls.n == 7


# DecisionView, NetworkDiagram, ConfusionView ----------------------------------------------------------------


def test_decision_field_is_coloured_once_and_nan_shows_the_background(qtbot, rng):
    dv = show(qtbot, DecisionView())
    extent = (-1.0, 1.0, -1.0, 1.0)
    p1 = rng.random((30, 40))
    probs = np.stack([1 - p1, p1], axis=2)
    dv.set_probabilities(probs, extent)
    first = dv._field.pixels()
    colours = np.asarray(palette.class_colours(2), dtype=float) / 255
    expected = 1 - 0.45 * (1 - probs @ colours)  # tinted blend of the class colours
    np.testing.assert_allclose(dv.field_rgb() / 255, expected, atol=0.5 / 255 + 1e-6)  # rounded to 8 bits
    dv.set_probabilities(probs.copy(), extent)
    assert dv._field.pixels() is first  # same field: no image work
    dv.set_probabilities(probs, (-2.0, 2.0, -2.0, 2.0))
    assert dv._field.pixels() is not first  # a new extent is drawn
    probs[5, 6] = np.nan
    dv.set_probabilities(probs, extent)
    assert dv._field.pixels()[5, 6] == ci.TRANSPARENT
    assert np.all(dv._field.pixels()[~np.isnan(probs).any(axis=2)] >> 24 == 255)


def test_decision_field_after_a_curve_is_drawn_again(qtbot, rng):
    dv = show(qtbot, DecisionView())
    field = rng.random((10, 12))
    dv.set_field(field, (0, 1, 0, 1))
    dv.set_curve(np.linspace(0, 1, 5), np.zeros(5))
    assert dv.field_rgb() is None
    dv.set_field(field, (0, 1, 0, 1))  # same values, but the field was hidden: it must come back
    assert dv.field_rgb() is not None and dv.field_rgb().shape == (10, 12, 3)


def test_thumbnails_coloured_per_column_and_unchanged_columns_skipped(qtbot, monkeypatch, rng):
    nd = show(qtbot, NetworkDiagram(max_neurons=16), 700, 500)
    sizes = [2, 8, 8, 2]
    nd.set_architecture(sizes, ["tanh", "tanh", "softmax"])
    g = np.linspace(-1, 1, 20)
    ramps = np.stack(np.meshgrid(g, g))
    hidden = [np.tanh(rng.normal(size=(n, 1, 1)) * ramps[0] + rng.normal(size=(n, 1, 1)) * ramps[1]) for n in sizes[1:]]
    calls = CountCalls(monkeypatch)
    nd.set_thumbnails([ramps, *hidden])
    assert calls.n == 4  # one colouring per column, not per neuron
    for col, arr in enumerate([ramps, *hidden]):
        np.testing.assert_array_equal(ci.unpack_rgb(nd.thumbnail_pixels(col)), reference_rgb(arr, -1, 1))
        for k, item in enumerate(nd._thumb_items[col]):
            assert item.isVisible() and item.pixels().base is not None  # a view of the column's pixels
            np.testing.assert_array_equal(item.pixels(), nd.thumbnail_pixels(col)[k])
    before = [[item.pixels() for item in items] for items in nd._thumb_items]
    changed = [h.copy() for h in hidden]
    changed[1][0, 0, 0] = -changed[1][0, 0, 0] + 0.5
    nd.set_thumbnails([ramps.copy(), *changed])
    assert calls.n == 5  # only layer 2's column is coloured again
    after = [[item.pixels() for item in items] for items in nd._thumb_items]
    assert all(a is b for col in (0, 1, 3) for a, b in zip(after[col], before[col], strict=True))
    assert all(a is not b for a, b in zip(after[2], before[2], strict=True))


def test_confusion_colours_are_row_shares_and_equal_counts_skip(qtbot, monkeypatch):
    cv = show(qtbot, ConfusionView(), 400, 400)
    c = np.array([[50, 2, 3], [4, 40, 6], [0, 0, 0]])
    calls = CountCalls(monkeypatch)
    cv.set_matrix(c)
    shares = np.array([[50 / 55, 2 / 55, 3 / 55], [4 / 50, 40 / 50, 6 / 50], [0, 0, 0]])
    np.testing.assert_allclose(cv.shares(), shares, rtol=1e-12)  # same division, float64
    np.testing.assert_array_equal(
        ci.unpack_rgb(cv._image.pixels()), reference_rgb(shares, 0, 1, palette.SEQUENTIAL_MAP)
    )
    first = cv._image.pixels()
    cv.set_matrix(c.copy())
    assert calls.n == 1 and cv._image.pixels() is first
    cv.set_matrix(c, ["a", "b", "c"])  # new names: rebuilt, coloured again
    assert calls.n == 2 and cv.cell_texts()[0][0] == "50"


def test_loss_curves_equal_history_is_not_drawn_again(qtbot):
    from bpgui.views import LossPlot

    lp = show(qtbot, LossPlot())
    e = np.arange(1, 101, dtype=float)
    hist = {"epoch": e, "train_loss": 1 / e, "val_loss": 1.1 / e}
    lp.set_history(hist, best_epoch=90)
    first = lp.curves()["train_loss"].xData
    lp.set_history({k: v.copy() for k, v in hist.items()}, best_epoch=90)
    assert lp.curves()["train_loss"].xData is first  # same history: no setData
    lp.set_history(hist, best_epoch=95)  # only the marker moved: drawn again
    assert lp._best_lines[0].value() == 95
    hist["train_loss"][-1] = 0.5  # the caller changed its array in place: seen (the view kept a copy)
    lp.set_history(hist, best_epoch=95)
    assert lp.curves()["train_loss"].yData[-1] == 0.5
    lp.clear()
    assert lp.curves()["train_loss"].xData is None and not lp._best_lines[0].isVisible()


@pytest.mark.parametrize("which", ["loss", "gradients"])
def test_long_curves_are_drawn_through_about_two_points_per_pixel_column(qtbot, which, rng):
    """100,000 epochs in a 600-pixel plot: peak downsampling keeps each pixel column's min and max (the same
    envelope), not pyqtgraph's default 5 samples per column (2-pixel pens stroked through them took a quarter of
    the GUI thread while training)."""
    n = 100_000
    e = np.arange(1, n + 1, dtype=float)
    if which == "loss":
        from bpgui.views import LossPlot

        view = show(qtbot, LossPlot())
        view.set_history({"epoch": e, "train_loss": 1 / e + rng.random(n) * 0.01})
        plot, curve = view._loss, view.curves()["train_loss"]
    else:
        view = show(qtbot, GradientView())
        view.set_delta_history(e, np.abs(rng.normal(size=(n, 2))))
        plot, curve = view._delta.getPlotItem(), view._curves[0]
    qtbot.wait(50)
    drawn = curve.curve.getData()[0]
    width = plot.getViewBox().width()
    assert width > 100 and len(drawn) <= 2 * width + 8 and drawn[-1] >= n - n / width
