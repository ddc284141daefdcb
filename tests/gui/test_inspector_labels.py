"""Issue 12's bars in the window: every label true for every output kind (the banner and card texts read back and
the shown product checked against the shown δ), no NaN/inf for a saturated output, conventions where the numbers
are, the update card saying which step it applies, and the backward pass stepped layer by layer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PySide6.QtWidgets import QTableView

from bpcore.inspection import UpdateRule
from bpgui.inspector import InspectorPanel
from bpgui.inspector.table import VALUE_ROLE

W1 = np.array([[0.5, -0.3, 0.8], [0.2, 0.7, -0.6], [0.1, -0.2, 0.05]])
W2 = np.array([[0.9, -0.4], [-0.5, 0.6], [0.3, 0.2], [0.05, -0.1]])
X = np.array([[0.7, -1.2], [0.3, 0.4], [-1.0, 0.5], [1.5, 0.2], [0.0, -0.3]])
T = np.array([1, 0, 1, 0, 1])
Y2 = np.array([[0.5, -1.0], [1.0, 0.0], [-0.2, 0.3], [0.0, 0.0], [2.0, 1.0]])  # K = 2 regression targets
# the tables show float64 copies of float64 traces; products of two shown numbers against a third shown one agree
# to a few ulp of O(1) values: 1e-12 catches any missing factor (1/B, 2, 1/K) with ~10⁴ ulp of slack
TOL = 1e-12


def table(panel: InspectorPanel, layer: int, key: str) -> np.ndarray:
    view = panel.findChild(QTableView, f"table_{key}_{layer}")
    assert view is not None and not view.isHidden(), f"{key}^({layer}) is not revealed"
    m = view.model()
    return np.array([[m.data(m.index(r, c), VALUE_ROLE) for c in range(m.columnCount())]
                     for r in range(m.rowCount())])


def texts(panel: InspectorPanel) -> str:
    return " ".join([panel.grid.stage_label("backward"), panel.chain.text(),
                     *(panel.grid.card(l, k).symbol() for l in (1, 2) for k in ("grad_o", "do", "delta"))])


def make(qtbot, output: str, W_out: np.ndarray, targets: np.ndarray, rows: int = 1) -> InspectorPanel:
    p = InspectorPanel()
    qtbot.addWidget(p)
    p.set_source([torch.tensor(W1), torch.tensor(W_out)], ["sigmoid"], output, X, targets, 0.5)
    if rows > 1:
        p.set_batch_mode(True, rows)
    p.backward()
    return p


def test_softmax_labels_say_jacobian_and_the_shown_numbers_obey_them(qtbot):
    p = make(qtbot, "softmax", W2, T, rows=3)
    banner = p.grid.stage_label("backward")
    assert "diag(o) − o oᵀ" in banner and "onehot(t)" in banner and "∇<sub>o</sub> J ⊙ o'" not in banner
    assert "eq. 7–8" in p.grid.card(2, "delta").symbol() and "÷ B" in p.grid.card(2, "delta").symbol()
    grad_o, o, delta = table(p, 2, "grad_o"), table(p, 2, "o"), table(p, 2, "delta")
    B = 3
    for r in range(B):
        jac = np.diag(o[r]) - np.outer(o[r], o[r])  # the Jacobian the banner names, from the shown o
        assert np.abs(jac.T @ grad_o[r] - delta[r]).max() < TOL  # δ = (∂o/∂z)ᵀ ∇_o J
        assert np.abs((o[r] - np.eye(2)[T[r]]) / B - delta[r]).max() < TOL  # δ = o − onehot(t) ÷ B
    # the shown o' is the Jacobian's diagonal, and its elementwise product with ∇_o J is NOT δ (as the card says)
    assert np.abs(table(p, 2, "do") - o * (1 - o)).max() < TOL
    assert np.abs(grad_o * table(p, 2, "do") - delta).max() > 0.01
    assert "nan" not in texts(p) and "✗" not in texts(p)


@pytest.mark.parametrize("output,W_out,targets", [
    ("sigmoid", W2[:, :1], T.astype(float)),
    ("identity", W2, Y2),
])
def test_elementwise_labels_say_eq8_and_the_shown_product_is_the_shown_delta(qtbot, output, W_out, targets):
    p = make(qtbot, output, W_out, targets, rows=4)
    banner = p.grid.stage_label("backward")
    assert "∇<sub>o</sub> J ⊙ o' (eq. 8)" in banner and "diag(o)" not in banner
    assert p.grid.card(2, "delta").symbol().startswith("δ^(2) = ∇_o J ⊙ o' (eq. 8)")
    grad_o, do, delta = table(p, 2, "grad_o"), table(p, 2, "do"), table(p, 2, "delta")
    assert np.abs(grad_o * do - delta).max() < TOL
    o = table(p, 2, "o")
    t = targets[:4].reshape(4, -1)
    if output == "identity":  # MSE = Σ (o − t)² / (B·K): ∇_o J = 2 (o − t) / (B·K), said on the card
        assert "2 (o − t) / (B·K)" in p.grid.card(2, "grad_o").symbol()
        assert "includes 1/(B·K)" in p.grid.card(2, "delta").symbol()
        assert np.abs(grad_o - 2 * (o - t) / (4 * 2)).max() < TOL
        summary = p.summary.rows_label.text()
        assert "J = Σ (o − t)² / (B·K)" in summary
        assert abs(p.current_trace().loss - ((o - t) ** 2).sum() / (4 * 2)) < TOL
    else:
        assert "includes 1/B" in p.grid.card(2, "delta").symbol()
        assert np.abs(grad_o - (o - t) / (o * (1 - o) * 4)).max() < TOL
    # hidden layer: δ^(1) = (W̃^(2) δ^(2)) ⊙ o'(z^(1)) from the shown tables, W̃ = the shown W without its bias row
    p.update_weights()
    W_tilde = table(p, 2, "W")[:-1]
    assert np.abs((delta @ W_tilde.T) * table(p, 1, "do") - table(p, 1, "delta")).max() < TOL


def test_saturated_sigmoid_output_shows_no_nan_and_stays_green(qtbot):
    # row 0 reaches z = 38.7 in float32: σ(z) rounds to 1 and o (1 − o) to 0
    h1 = np.append(1 / (1 + np.exp(-(np.append(X[0], 1.0) @ W1))), 1.0)
    w = np.zeros((4, 1))
    w[-1, 0] = 38.7
    p = InspectorPanel()
    qtbot.addWidget(p)
    p.set_source([torch.tensor(W1, dtype=torch.float32), torch.tensor(w, dtype=torch.float32)], ["sigmoid"],
                 "sigmoid", X, np.ones(5), 2.0)
    p.backward()
    assert abs(float(h1 @ w[:, 0]) - 38.7) < 1e-12
    for key in ("o", "do", "grad_o", "delta", "grad_W"):
        assert np.isfinite(table(p, 2, key)).all(), key
    for i in range(4):
        p.chain.choose(i, 0)
        text = p.chain.text()
        assert "nan" not in text and "inf" not in text and "✗" not in text and "✓ equal" in text, text
    assert p.run_check(wait=True).ok


def test_float32_rounding_is_reported_with_its_tolerance_not_as_a_difference(qtbot):
    p = InspectorPanel()
    qtbot.addWidget(p)
    p.set_source([torch.tensor(W1, dtype=torch.float32), torch.tensor(W2[:, :1], dtype=torch.float32)],
                 ["sigmoid"], "sigmoid", X, T.astype(float), 0.5)
    p.backward()
    seen = []
    for layer in (1, 2):
        for i in range(3):
            p.chain.choose(i, 0, 0, layer)
            text = p.chain.text()
            assert "✗" not in text, text
            seen.append("equal to float32 rounding" in text and "tolerance" in text)
    assert any(seen)  # some entries differ in the last float32 digit: said as rounding, with the tolerance


def test_update_card_says_which_step_it_applies(qtbot):
    p = make(qtbot, "softmax", W2, T)
    assert "not the trainer's step" in p.grid.card(1, "update").symbol()
    assert "not given" in p.side.rule_text()
    p.set_rule(UpdateRule("adam", lr=0.01, l2=0.1, clip_norm=0.5))
    p.update_weights()
    title = p.grid.card(1, "update").symbol()
    assert title.startswith("ΔW = the trainer's step") and "λ = 0.1" in title and "Adam" in title
    assert "leaves out adam's state" in title and "first step" in title  # no optimizer state was given
    assert "clipped" in p.side.rule_text() and "Leaves out" in p.side.rule_text()
    assert p.lr() == 0.01  # the rule's (scheduled) μ
    # a fresh Adam's first step, by hand from the shown tables: g = ∇_W J + λ W (weight rows only), clipped to
    # norm 0.5, then m̂ = g and √v̂ = |g|, so ΔW = −μ g / (|g| + ε)
    gs = []
    for l in (1, 2):
        W = table(p, l, "W")
        gs.append(table(p, l, "grad_W") + 0.1 * np.vstack([W[:-1], np.zeros((1, W.shape[1]))]))
    norm = np.sqrt(sum((g ** 2).sum() for g in gs))
    assert norm > 0.5  # clipping is active
    for l, g in zip((1, 2), gs, strict=True):
        g = g * 0.5 / (norm + 1e-6)
        assert np.abs(table(p, l, "update") - (-0.01 * g / (np.abs(g) + 1e-8))).max() < TOL


def test_backward_one_layer_at_a_time_from_the_output_down(qtbot):
    p = make(qtbot, "softmax", W2, T)
    p.forward()
    p.show_layer(None)
    assert not p.grid.card(2, "delta").revealed() and not p.grid.card(1, "delta").revealed()
    p.backward_step()
    assert p.grid.card(2, "delta").revealed() and not p.grid.card(1, "delta").revealed()
    assert p.chain.layer_spin.value() == 2 and "dJ/dw" in p.chain.text()
    p.backward_step()
    assert p.grid.card(1, "delta").revealed() and p.stage() == "backward"
    assert p.chain.layer_spin.value() == 1  # the chain rule follows to the hidden layer
    assert "∂J/∂h<sub>1</sub><sup>(1)</sup>" in p.chain.text()
    c = p.chain.values()
    assert abs(c["product"] - table(p, 1, "grad_W")[0, 0]) < TOL


def test_lecture_notation_is_one_based_and_tables_show_no_minus_zero(qtbot):
    p = make(qtbot, "softmax", W2, T)
    m = p.findChild(QTableView, "table_grad_W_2").model()
    assert [m.headerData(k, pg_h()) for k in range(2)] == ["1", "2"]
    assert m.headerData(3, pg_v()) == "b"
    p.chain.choose(3, 1)
    assert "∂J/∂b<sub>2</sub> = δ<sub>2</sub> (eq. 12)" in p.chain.text()
    p.set_notation(False)
    m = p.findChild(QTableView, "table_grad_W_2").model()
    assert [m.headerData(k, pg_h()) for k in range(2)] == ["0", "1"]
    # −μ · 0 is −0.0 in IEEE arithmetic: a table shows it as "0"
    um = p.findChild(QTableView, "table_grad_o_2").model()
    um.set_array(np.array([[-0.0, 0.0, -1e-300]]), ["#0"], ["1", "2", "3"])
    assert [um.data(um.index(0, k)) for k in range(3)] == ["0", "0", "-1e-300"]


def pg_h():
    from PySide6.QtCore import Qt
    return Qt.Orientation.Horizontal


def pg_v():
    from PySide6.QtCore import Qt
    return Qt.Orientation.Vertical
