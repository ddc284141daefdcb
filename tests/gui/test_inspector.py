"""InspectorPanel: the displayed numbers are bpcore.inspect's, the buttons reveal them stage by stage,
Check turns red on a wrong formula, exports round-trip and the trainer's weights are never written."""

from __future__ import annotations

import csv
import itertools
import json
import re

import numpy as np
import pyqtgraph as pg
import pytest
import torch
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QAbstractButton, QAbstractSpinBox, QTabBar, QTableView

from bpcore.inspect import trace
from bpgui.inspector import InspectorPanel
from bpgui.inspector.table import VALUE_ROLE

# the 2-3-2 network of tests/core/test_inspect.py: sigmoid hidden layer, softmax output, biases last (eq. 11)
W1 = np.array([[0.5, -0.3, 0.8], [0.2, 0.7, -0.6], [0.1, -0.2, 0.05]])
W2 = np.array([[0.9, -0.4], [-0.5, 0.6], [0.3, 0.2], [0.05, -0.1]])
X = np.array([[0.7, -1.2], [0.3, 0.4], [-1.0, 0.5], [1.5, 0.2], [0.0, -0.3]])
T = np.array([1, 0, 1, 0, 1])
LR = 0.5
RED = (176, 0, 32)  # _style.FAIL_COLOUR


def weights(dtype: torch.dtype = torch.float64) -> list[torch.Tensor]:
    return [torch.tensor(W1, dtype=dtype), torch.tensor(W2, dtype=dtype)]


def engine(Ws: list[torch.Tensor], rows: list[int], lr: float = LR):
    """The engine's own trace of the same rows, computed apart from the panel."""
    like = Ws[0]
    return trace(Ws, ["sigmoid"], "softmax", torch.as_tensor(X[rows], dtype=like.dtype),
                 torch.as_tensor(T[rows]), lr=lr)


@pytest.fixture
def live() -> list[torch.Tensor]:
    return weights()


@pytest.fixture
def panel(qtbot, live) -> InspectorPanel:
    p = InspectorPanel()
    qtbot.addWidget(p)
    p.set_source(live, ["sigmoid"], "softmax", X, T, LR, class_names=["a", "b"])
    p.resize(1400, 900)
    p.show()
    qtbot.waitExposed(p)
    return p


def click(qtbot, panel: InspectorPanel, name: str) -> None:
    button = panel.findChild(QAbstractButton, name)
    assert button is not None and button.isEnabled(), name
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def table(panel: InspectorPanel, layer: int, key: str) -> np.ndarray:
    """What a table shows, read back through its model: exact values, and the text checked against them."""
    view = panel.findChild(QTableView, f"table_{key}_{layer}")
    assert view is not None and not view.isHidden(), f"{key}^({layer}) is not revealed"
    m = view.model()
    values = np.array([[m.data(m.index(r, c), VALUE_ROLE) for c in range(m.columnCount())]
                       for r in range(m.rowCount())])
    text = np.array([[float(m.data(m.index(r, c))) for c in range(m.columnCount())] for r in range(m.rowCount())])
    np.testing.assert_allclose(text, values, rtol=1e-5, atol=1e-300)  # %.6g of the same number
    return values


def shown(panel: InspectorPanel, layer: int, key: str) -> bool:
    return panel.grid.card(layer, key).revealed()


def pixel(panel: InspectorPanel, x: int, y: int) -> tuple[int, int, int]:
    img: QImage = panel.grab().toImage()
    c = img.pixelColor(x, y)
    return c.red(), c.green(), c.blue()


# the three stages ----------------------------------------------------------------------------------------


def test_buttons_reveal_stages_and_tables_equal_the_engine(qtbot, panel, live):
    panel.select_sample(2)
    ref = engine(weights(), [2])
    assert not any(shown(panel, 2, k) for k in ("h1", "z", "delta", "grad_W"))

    click(qtbot, panel, "forwardButton")
    assert panel.stage() == "forward"
    hid, out = ref.layers
    np.testing.assert_array_equal(table(panel, 1, "h1"), hid.h1.T)  # h^(0) = [x, 1] as a column (eq. 11)
    np.testing.assert_array_equal(table(panel, 1, "h1")[:, 0], [-1.0, 0.5, 1.0])
    np.testing.assert_array_equal(table(panel, 1, "z"), hid.z)
    np.testing.assert_array_equal(table(panel, 2, "o"), out.o)
    assert not shown(panel, 2, "delta") and not shown(panel, 2, "W_next")

    click(qtbot, panel, "backwardButton")
    assert panel.stage() == "backward"
    for layer, lt in ((1, hid), (2, out)):
        np.testing.assert_array_equal(table(panel, layer, "delta"), lt.delta)
        np.testing.assert_array_equal(table(panel, layer, "grad_W"), lt.grad_W)
        np.testing.assert_array_equal(table(panel, layer, "do"), lt.do)
        np.testing.assert_array_equal(table(panel, layer, "grad_o"), lt.grad_o)
    np.testing.assert_array_equal(table(panel, 2, "grad_W")[-1], out.delta[0])  # bias row = δ (eq. 12)
    assert not shown(panel, 1, "update")

    click(qtbot, panel, "updateButton")
    assert panel.stage() == "update"
    for layer, lt in ((1, hid), (2, out)):
        np.testing.assert_array_equal(table(panel, layer, "update"), lt.update)
        np.testing.assert_array_equal(table(panel, layer, "W"), lt.W)
        np.testing.assert_array_equal(table(panel, layer, "W_next"), lt.W_next)
        np.testing.assert_allclose(table(panel, layer, "update"), -LR * lt.grad_W, rtol=0, atol=1e-15)
    # the panel's copy took the step; the trainer's weights did not
    for W, lt in zip(panel.weights(), ref.layers, strict=True):
        np.testing.assert_array_equal(W.numpy(), lt.W_next)
    for W, W0 in zip(live, weights(), strict=True):
        assert torch.equal(W, W0)


def test_titles_name_the_symbols_and_equations(panel):
    def titles():
        return {(l, k): panel.grid.card(l, k).symbol() for l in (1, 2)
                for k in ("h1", "z", "do", "grad_o", "delta", "grad_W", "update", "W_next")}

    t = titles()  # lecture notation, the default
    assert t[1, "h1"] == "h^(0) = [x, 1] (eq. 11)"
    assert t[1, "z"] == "z^(1) = W^(1)ᵀ h^(0) (eq. 3)"
    assert t[2, "do"].startswith("∂o/∂z = diag(o) − o oᵀ") and "eq. 5 ②" in t[2, "do"]
    assert t[1, "delta"] == "δ^(1) = (W̃^(2) δ^(2)) ⊙ o'(z^(1)) · includes 1/B"
    assert t[1, "grad_o"].startswith("∂J/∂h^(1) = W̃^(2) δ^(2), W̃ = W without its bias row")
    assert t[2, "delta"].startswith("δ^(2) = (∂o/∂z)ᵀ ∇_o J = o − onehot(t) ÷ B (eq. 7–8")
    assert t[2, "grad_o"] == "∇_o J = −onehot(t) / (B o) (eq. 5 ①) · includes 1/B"
    assert t[2, "grad_W"] == "∇_W J = h δᵀ (eq. 9); bias row: ∂J/∂b_j = δ_j (eq. 12)"
    assert t[1, "update"].startswith("−μ h δᵀ (eq. 10), μ = 0.5 — not the trainer's step")
    panel.set_notation(False)  # the code's notation
    t = titles()
    assert t[1, "delta"] == "δ^(1) = (δ^(2) W^(2)[:-1]ᵀ) ⊙ φ'(z^(1))"
    assert t[2, "grad_W"] == "∇_W J = h δᵀ (eq. 9), bias row = δ (eq. 12)"
    panel.set_reduction("sum")
    t = titles()
    assert t[2, "grad_o"] == "∇_o J = −onehot(t) / o (eq. 5 ①) · J summed over the rows (eq. 1)"
    assert "÷ B" not in t[2, "delta"] and "B × the step" in t[1, "update"]


def test_elementwise_output_titles_use_eq_8(qtbot):
    p = InspectorPanel()
    qtbot.addWidget(p)
    p.set_source([torch.tensor(W1), torch.tensor(W2[:, :1])], ["tanh"], "sigmoid", X, T.astype(float), 0.1)
    p.step_all()
    assert p.grid.card(2, "delta").symbol() == "δ^(2) = ∇_o J ⊙ o' (eq. 8) · includes 1/B"
    lt = p.current_trace().layers[-1]
    np.testing.assert_allclose(table(p, 2, "delta"), table(p, 2, "grad_o") * table(p, 2, "do"), rtol=1e-12)
    c = p.chain.values()
    assert isinstance(c["dJ_do"], float) and abs(c["product"] - lt.grad_W[0, 0]) < 1e-15


def test_step_all_repeats_gradient_descent_on_the_panel_copy_only(qtbot, panel, live):
    losses = []
    for _ in range(5):
        click(qtbot, panel, "stepAllButton")
        losses.append(panel.current_trace().loss)
    assert all(b < a for a, b in itertools.pairwise(losses))  # eq. 10 walks downhill
    assert panel.stage() == "update"
    for W, W0 in zip(live, weights(), strict=True):
        assert torch.equal(W, W0)
    click(qtbot, panel, "resetWeightsButton")
    for W, W0 in zip(panel.weights(), live, strict=True):
        assert torch.equal(W, W0)
    assert panel.stage() == "backward"  # re-traced with the trainer's weights, update not applied yet


# chain rule ----------------------------------------------------------------------------------------------


def test_chain_rule_product_equals_gradient_entry(qtbot, panel):
    panel.select_sample(3)
    click(qtbot, panel, "backwardButton")
    box = panel.chain
    box.choose(2, 1)
    c = box.values()
    grad = table(panel, 2, "grad_W")
    assert abs(c["product"] - grad[2, 1]) < 1e-15 and abs(c["grad_W_row"] - grad[2, 1]) < 1e-15
    # softmax: ① and ② are vectors whose dot product is δ_j
    assert np.shape(c["dJ_do"]) == (2,) and abs(float(np.dot(c["dJ_do"], c["do_dz"])) - c["delta_j"]) < 1e-15
    text = box.text()
    assert text.count(f"{c['product']:.6g}") >= 2 and "✓ equal" in text
    assert panel.findChild(pg.QtWidgets.QLabel, "chainRuleNote").isVisibleTo(panel)
    # the chosen entry is selected in the output layer's ∇_W table
    view = panel.findChild(QTableView, "table_grad_W_2")
    assert (view.currentIndex().row(), view.currentIndex().column()) == (2, 1)
    box.choose(3, 0)  # the bias: h_3 = 1, the entry is δ_0 (eq. 12)
    assert box.values()["h_i"] == 1.0 and abs(box.values()["product"] - grad[3, 0]) < 1e-15


# gradient check ------------------------------------------------------------------------------------------


def test_check_passes_in_float32_and_stays_green(qtbot):
    p = InspectorPanel()
    qtbot.addWidget(p)
    p.set_source(weights(torch.float32), ["sigmoid"], "softmax", X, T, LR)
    p.resize(1400, 900)
    p.show()
    qtbot.waitExposed(p)
    with qtbot.waitSignal(p.checkFinished) as sig:
        click(qtbot, p, "checkButton")
    c = p.last_check()
    assert sig.args == [True] and c.ok and c.autograd_error < 1e-6 and c.finite_difference_error < 1e-3
    assert p.check_state() == "ok"
    text = p.banner.text()
    assert "max error vs autograd" in text and f"{c.autograd_error:.3g}" in text and "vs finite differences" in text
    r, g, b = pixel(p, 2, 450)  # the panel's frame
    assert not (r > 150 and g < 80 and b < 80)


def test_wrong_formula_turns_the_panel_red(qtbot, panel, monkeypatch):
    from bpcore import backprop as bp

    wrong = bp.Activation("sigmoid", torch.sigmoid, lambda o: o, torch.sigmoid_)  # o' = o: wrong
    monkeypatch.setitem(bp.ACTIVATIONS, "sigmoid", wrong)
    assert pixel(panel, 2, 450) != RED
    with qtbot.waitSignal(panel.checkFinished) as sig:
        click(qtbot, panel, "checkButton")
    assert sig.args == [False] and panel.check_state() == "fail"
    c = panel.last_check()
    worst = max(c.autograd_error, c.finite_difference_error)
    assert worst > 1e-3
    text = panel.banner.text()
    assert "FAILED" in text and f"by {worst - c.tolerance:.3g}" in text
    assert pixel(panel, 2, 450) == RED  # the frame
    assert pixel(panel.banner, 1, panel.banner.height() // 2) == RED  # the banner's border
    panel.select_sample(1)  # other rows: the verdict no longer applies
    assert panel.check_state() == "" and pixel(panel, 2, 450) != RED


# batch mode ----------------------------------------------------------------------------------------------


def test_batch_mode_shows_rows_and_the_sum_identity(qtbot, panel):
    panel.select_sample(1)
    panel.set_batch_mode(True, 3)
    assert panel.rows() == [1, 2, 3]
    click(qtbot, panel, "backwardButton")
    ref = engine(weights(), [1, 2, 3])
    for layer, lt in enumerate(ref.layers, start=1):
        np.testing.assert_array_equal(table(panel, layer, "h1"), lt.h1.T)  # one column per row
        np.testing.assert_array_equal(table(panel, layer, "delta"), lt.delta)  # one row per row
        np.testing.assert_array_equal(table(panel, layer, "grad_W"), lt.grad_W)
        np.testing.assert_allclose(table(panel, layer, "grad_W"), lt.per_sample_grad_W.sum(0), rtol=0, atol=1e-15)
    assert panel.findChild(QTableView, "table_h1_1").model().headerData(2, Qt.Orientation.Horizontal) == "#3"
    line = panel.batch_identity_text()
    assert "Σ<sub>i</sub> h<sub>i</sub> δ<sub>i</sub>ᵀ" in line and "B = 3" in line
    err = float(re.search(r"batch\| = <b>([^<]+)</b>", line).group(1))
    assert err < 1e-15
    assert panel.grid.card(2, "grad_W").symbol().startswith("∇_W J = Σ_i h_i δ_iᵀ")
    # the last rows: the batch is cut at the end of the data
    panel.select_sample(4)
    assert panel.rows() == [4]
    panel.set_batch_mode(False)
    assert panel.batch_identity_text() == ""


# exports -------------------------------------------------------------------------------------------------


# the check off the GUI thread -------------------------------------------------------------------------------


def _wide(width: int) -> list[torch.Tensor]:
    """2-width-width-2, tanh: about 2·width² weights, each needing two forward passes in the finite differences."""
    g = torch.Generator().manual_seed(0)
    return [torch.randn(3, width, generator=g, dtype=torch.float64) * 0.5,
            torch.randn(width + 1, width, generator=g, dtype=torch.float64) * 0.2,
            torch.randn(width + 1, 2, generator=g, dtype=torch.float64) * 0.2]


def test_check_runs_off_the_gui_thread_and_the_event_loop_keeps_turning(qtbot):
    from PySide6.QtCore import QTimer

    p = InspectorPanel()
    qtbot.addWidget(p)
    p.set_source(_wide(64), ["tanh", "tanh"], "softmax", X, T, LR)  # 4,482 weights: 8,964 forward passes
    p.set_batch_mode(True, 5)
    ticks_while_checking = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks_while_checking.append(p.checking()))
    timer.start()
    with qtbot.waitSignal(p.checkFinished, timeout=120_000) as sig:
        click(qtbot, p, "checkButton")
        # while it runs: the banner says so and nothing that would change W can be pressed
        assert p.checking() and p.check_state() == "checking" and "checking…" in p.banner.text()
        for name in ("updateButton", "stepAllButton", "resetWeightsButton", "checkButton"):
            assert not p.findChild(QAbstractButton, name).isEnabled(), name
        p.step_all()  # refused too when called directly
        assert p.stage() == "" and p.session.n_updates() == 0
    timer.stop()
    # a blocking check would have let the timer fire at most once, after it returned (not while checking)
    assert sum(ticks_while_checking) >= 3, ticks_while_checking
    assert sig.args == [True] and p.check_state() == "ok" and not p.checking()
    assert p.findChild(QAbstractButton, "stepAllButton").isEnabled()


def test_a_check_result_for_changed_rows_or_weights_is_not_shown(qtbot):
    p = InspectorPanel()
    qtbot.addWidget(p)
    p.set_source(_wide(60), ["tanh", "tanh"], "softmax", X, T, LR)
    p.run_check()
    p.select_sample(3)  # the rows change while the check of row #0 runs
    assert p.wait_check() is None and p.last_check() is None
    assert p.check_state() == "" and "changed while checking" in p.banner.text()
    assert p.run_check(wait=True).ok and p.check_state() == "ok" and "row #3" in p.banner.text()


def test_a_check_that_raises_is_reported_in_the_banner_not_lost_in_its_thread(qtbot, panel, monkeypatch):
    from bpcore.inspection import CheckRequest

    def broken(self):
        raise FloatingPointError("non-finite J at row #0")

    monkeypatch.setattr(CheckRequest, "run", broken)
    assert panel.run_check(wait=True) is None
    assert panel.check_state() == "error" and "non-finite J at row #0" in panel.banner.text()
    assert not panel.checking() and panel.findChild(QAbstractButton, "stepAllButton").isEnabled()


def test_json_and_csv_exports_round_trip(qtbot, panel, tmp_path):
    panel.select_sample(2)
    click(qtbot, panel, "stepAllButton")
    t = panel.current_trace()
    panel.export_json(tmp_path / "step.json")
    doc = json.loads((tmp_path / "step.json").read_text(encoding="utf-8"))
    assert doc["rows"] == [2] and doc["stage"] == "update" and doc["lr"] == LR and doc["loss"] == t.loss
    q = doc["layers"][1]["quantities"]
    assert q["delta"]["symbol"].startswith("δ^(2)") and q["delta"]["shape"] == [1, 2]
    np.testing.assert_array_equal(q["delta"]["values"], t.layers[1].delta)
    np.testing.assert_array_equal(doc["layers"][0]["quantities"]["grad_W"]["values"], t.layers[0].grad_W)
    np.testing.assert_array_equal(q["W_next"]["values"], t.layers[1].W_next)
    assert doc["chain_rule"]["product"] == doc["chain_rule"]["grad_W_row"]

    panel.export_csv(tmp_path / "step.csv")
    with open(tmp_path / "step.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[:5] == ["layer", "quantity", "row", "col", "value"]
    got = {(int(r["layer"]), r["quantity"], int(r["row"]), int(r["col"])): float(r["value"]) for r in rows}
    assert got[2, "grad_W", 3, 1] == t.layers[1].grad_W[3, 1]
    assert got[1, "delta", 0, 2] == t.layers[0].delta[0, 2]
    assert got[1, "h1", 0, 2] == 1.0  # the appended 1 (eq. 11)
    keys = ("h1", "z", "o", "do", "grad_o", "delta", "grad_W", "update", "W")
    n_values = sum(np.size(getattr(lt, k)) for lt in t.layers for k in keys) + sum(lt.W_next.size for lt in t.layers)
    assert len(rows) == n_values

    panel.export_png(tmp_path / "panel.png")
    img = QImage(str(tmp_path / "panel.png"))
    assert (img.width(), img.height()) == (panel.width(), panel.height())


def test_export_writes_only_revealed_stages(qtbot, panel, tmp_path):
    with pytest.raises(RuntimeError, match="press Forward"):
        panel.export_json(tmp_path / "nothing.json")
    click(qtbot, panel, "forwardButton")
    panel.export_json(tmp_path / "fwd.json")
    doc = json.loads((tmp_path / "fwd.json").read_text(encoding="utf-8"))
    assert set(doc["layers"][0]["quantities"]) == {"h1", "z", "o"} and doc["chain_rule"] is None


# inputs and the widgets ------------------------------------------------------------------------------------


def test_rows_from_a_trainer_and_its_weights_stay_untouched(qtbot):
    from bpcore.config import DataSpec, Experiment, ModelSpec, TrainSpec
    from bpcore.train import Trainer

    tr = Trainer(Experiment(data=DataSpec(source="iris"), model=ModelSpec(hidden=(5,)),
                            training=TrainSpec(dtype="float64")))
    before = [W.clone() for W in tr.net.weights]
    p = InspectorPanel()
    qtbot.addWidget(p)
    part = tr.parts["train"]
    p.set_source(tr.net.weights, tr.net.activations, tr.output, part.x1[:, :-1].numpy(), part.target.numpy(),
                 tr.base_lr, class_names=tr.split.train.class_names)
    with qtbot.waitSignal(p.sampleChanged) as sig:
        p.select_sample(7)
    assert sig.args == [7]
    p.step_all()
    assert p.run_check() is None and p.check_state() == "checking"  # off the GUI thread: returns at once
    c = p.wait_check()
    assert p.check_state() == "ok" and c is p.last_check() and c.ok
    ref = trace(before, tr.net.activations, tr.output, part.x1[7:8, :-1], part.target[7:8], lr=tr.base_lr)
    for layer, lt in enumerate(ref.layers, start=1):
        np.testing.assert_array_equal(table(p, layer, "grad_W"), lt.grad_W)
    for W, W0 in zip(tr.net.weights, before, strict=True):
        assert torch.equal(W, W0)


def test_nothing_happens_before_a_source_and_bad_inputs_are_refused(qtbot):
    p = InspectorPanel()
    qtbot.addWidget(p)
    assert not p.findChild(QAbstractButton, "forwardButton").isEnabled()
    p.step_all()
    assert p.current_trace() is None and p.run_check() is None and p.stage() == ""
    with pytest.raises(ValueError, match=r"need X \(N, 2\)"):
        p.set_source(weights(), ["sigmoid"], "softmax", X[:, :1], T, LR)
    p.set_source(weights(), ["sigmoid"], "softmax", X[:0], T[:0], LR)  # no rows: nothing to press
    assert not p.findChild(QAbstractButton, "stepAllButton").isEnabled()
    p.step_all()
    assert p.current_trace() is None


def test_every_control_is_described_and_layers_can_be_chosen(qtbot, panel):
    kinds = (QAbstractButton, QAbstractSpinBox, QTableView, QTabBar, pg.PlotWidget)
    internal = ("qt_", "ScrollLeftButton", "ScrollRightButton")  # parts Qt builds inside tables and tab bars
    widgets = [w for k in kinds for w in panel.findChildren(k) if not w.objectName().startswith(internal)]
    assert len(widgets) > 40
    for w in widgets:
        assert w.objectName() and w.accessibleName() and w.toolTip(), w
    tabs = panel.findChild(QTabBar, "layerTabs")
    assert tabs.count() == 3 and panel.grid.shown_layer() == 2  # the output layer first (eq. 5–12)
    panel.show_layer(None)
    assert panel.grid.shown_layer() is None
    assert panel.grid.card(1, "z").isVisibleTo(panel) and panel.grid.card(2, "z").isVisibleTo(panel)
    panel.show_layer(1)
    assert not panel.grid.card(2, "z").isVisibleTo(panel)


def test_charts_update_in_place_and_hover_reads_values(qtbot, panel):
    click(qtbot, panel, "stepAllButton")
    card = panel.grid.card(2, "grad_W")
    items = list(card.plot.getPlotItem().items)
    assert card.plot.mode() == "heatmap"
    assert panel.grid.card(2, "delta").plot.mode() == "row-bars"
    assert panel.grid.card(2, "h1").plot.mode() == "column-bars"
    click(qtbot, panel, "stepAllButton")
    assert list(card.plot.getPlotItem().items) == items  # no item recreated
    g = panel.current_trace().layers[1].grad_W
    assert card.plot.readout(3, 1) == f"b, 2: {g[3, 1]:.6g}"  # lecture notation: column 2 is index 1
    # hovering cell (i = b, j = 1) of the heatmap shows its value above the chart
    vb = card.plot.getPlotItem().vb
    card.plot.scene().sigMouseMoved.emit(vb.mapViewToScene(QPointF(1.0, 3.0)))
    assert card.readout() == f"b, 2: {g[3, 1]:.6g}"
    bars = panel.grid.card(2, "delta").plot
    d = panel.current_trace().layers[1].delta
    bars.scene().sigMouseMoved.emit(bars.getPlotItem().vb.mapViewToScene(QPointF(0.0, 0.0)))
    assert panel.grid.card(2, "delta").readout() == f"#0, 1: {d[0, 0]:.6g}"
