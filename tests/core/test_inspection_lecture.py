"""Issue 12: the inspector's numbers under every convention, against numpy derivations written here by hand.

Softmax as its K×K Jacobian and as the closed form o − onehot(t), a saturated sigmoid output in float32 and float64,
MSE and BCE with B > 1 and K > 1, the sum/mean switch, hidden-layer chain rules, the backward pass stepped layer by
layer, and the displayed update against the update the trainer applied (Adam, momentum, L2, schedule, clipping).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bpcore.config import DataSpec, Experiment, ModelSpec, TrainSpec
from bpcore.errors import ConfigError
from bpcore.inspect import softmax_jacobian
from bpcore.inspection import InspectorSession, UpdateRule
from bpcore.train import Trainer

# the lecture-sized 2-3-2 example (tests/core/test_inspect.py): sigmoid hidden layer, biases last (eq. 11)
W1 = np.array([[0.5, -0.3, 0.8], [0.2, 0.7, -0.6], [0.1, -0.2, 0.05]])
W2 = np.array([[0.9, -0.4], [-0.5, 0.6], [0.3, 0.2], [0.05, -0.1]])
X = np.array([[0.7, -1.2], [0.3, 0.4], [-1.0, 0.5], [1.5, 0.2], [0.0, -0.3]])
T = np.array([1, 0, 1, 0, 1])
# float64 numbers of size ~1 through a few dozen operations in two code paths (torch and numpy): they differ by a
# few ulp (2.2e-16 each); 1e-12 leaves ~10⁴ ulp of slack and still catches any wrong factor (1/B, 2, 1/K)
TOL = 1e-12


def sig(z):
    return 1 / (1 + np.exp(-z))


def hidden(x):
    """h^(1) = [σ(W1ᵀ [x, 1]), 1] by hand (eq. 3, 11)."""
    o1 = sig(np.hstack([x, np.ones((len(x), 1))]) @ W1)
    return o1, np.hstack([o1, np.ones((len(x), 1))])


def traced(output, W_out, targets, rows, reduction="mean", dtype=torch.float64):
    s = InspectorSession()
    s.set_source([torch.tensor(W1, dtype=dtype), torch.tensor(W_out, dtype=dtype)], ["sigmoid"], output, X,
                 targets, 0.5)
    s.select(rows[0], batch=len(rows) > 1, size=len(rows))
    s.set_reduction(reduction)
    s.backward()
    return s.trace()


# 1. softmax ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [[0], [1, 2, 3]])
def test_softmax_delta_is_the_jacobian_product_and_the_closed_form(rows):
    t = traced("softmax", W2, T, rows)
    _, h1 = hidden(X[rows])
    z = h1 @ W2
    o = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    B, K = len(rows), 2
    onehot = np.eye(K)[T[rows]]
    grad_o = -onehot / (B * o)  # ∇_o J of J = −(1/B) Σ log o_t
    for r in range(B):
        Jac = np.diag(o[r]) - np.outer(o[r], o[r])  # ∂o/∂z, by hand
        assert np.abs(t.jacobian(r) - Jac).max() < TOL
        jac_form = Jac.T @ grad_o[r]  # δ = (∂o/∂z)ᵀ ∇_o J
        closed = (o[r] - onehot[r]) / B  # δ = o − onehot(t), ÷ B
        assert np.abs(jac_form - closed).max() < TOL
        assert np.abs(t.layers[-1].delta[r] - closed).max() < TOL
        assert np.abs(t.layers[-1].grad_o[r] - grad_o[r]).max() < TOL
        # the elementwise eq. 8 would be wrong here: ∇_o J ⊙ o' has a zero where δ has not
        assert np.abs(grad_o[r] * o[r] * (1 - o[r]) - closed).max() > 0.01
        for j in range(K):
            c = t.chain_rule(2, j, sample=r)
            assert abs(c["delta_j"] - closed[j]) < TOL and not c["fused"]
    assert np.abs(softmax_jacobian(o[0]).sum(0)).max() < TOL  # columns sum to 0: Σ_k o_k = 1


# 2. saturation ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("target", [0.0, 1.0])
def test_saturated_sigmoid_output_has_finite_factors_whose_product_is_delta(dtype, target):
    # one output unit with z = 38.7 for row 0: σ(z) rounds to 1 (in float64 too), o (1 − o) to 0
    _, h1 = hidden(X[:1])
    w = np.array([[0.0], [0.0], [0.0], [38.7 - 0.0]])
    w[0, 0] = 1.0
    w[-1, 0] = 38.7 - h1[0, 0]
    t = traced("sigmoid", w, np.array([target] * 5), [0], dtype=dtype)
    out = t.layers[-1]
    z = float(out.z[0, 0])
    assert abs(z - 38.7) < 1e-5
    for a in (out.o, out.do, out.grad_o, out.delta, out.grad_W):
        assert np.isfinite(a).all()
    expect_delta = sig(z) - target if target == 0 else -sig(-z)  # σ(z) − t, by hand without cancellation
    s, sn = sig(z), sig(-z)
    assert abs(out.do[0, 0] - s * sn) <= 1e-15 * s * sn
    assert abs(out.delta[0, 0] - expect_delta) <= 1e-6 * abs(expect_delta)  # float32 rounding of δ at most
    c = t.chain_rule(0, 0)
    assert not c["fused"] and np.isfinite(c["delta_j"])
    assert abs(c["delta_j"] - expect_delta) <= 1e-12 * abs(expect_delta)  # float64 factors from the float32 z
    # the displayed ① · ② equals the engine's δ to the engine's precision
    assert abs(c["product"] - c["grad_W_row"]) <= 4 * torch.finfo(dtype).eps * abs(c["grad_W_row"])


def test_chain_rule_falls_back_to_the_fused_form_when_the_factors_overflow():
    # z = 800: σ(−z) underflows even in float64, so ∇_o J = ∞ and o' = 0; δ = o − t is 1 (t = 0)
    w = np.zeros((4, 1))
    w[-1, 0] = 800.0
    t = traced("sigmoid", w, np.zeros(5), [0])
    c = t.chain_rule(3, 0)
    assert c["fused"] and c["delta_j"] == pytest.approx(1.0, abs=TOL) and c["product"] == pytest.approx(1.0)


# 4. conventions -----------------------------------------------------------------------------------------------


def test_mse_with_several_rows_and_outputs_is_the_mean_over_b_times_k():
    Wr = np.array([[0.3, -0.2], [0.1, 0.4], [-0.5, 0.2], [0.05, 0.1]])  # 3 hidden + bias -> K = 2 values
    Y = np.array([[0.5, -1.0], [1.0, 0.0], [-0.2, 0.3], [0.0, 0.0], [2.0, 1.0]])
    rows = [0, 1, 2]
    t = traced("identity", Wr, Y, rows)
    _, h1 = hidden(X[rows])
    o = h1 @ Wr
    B, K = 3, 2
    assert abs(t.loss - ((o - Y[rows]) ** 2).sum() / (B * K)) < TOL  # J = Σ (o − t)² / (B·K)
    grad_o = 2 * (o - Y[rows]) / (B * K)  # ∇_o J = 2 (o − t) / (B·K)
    assert np.abs(t.layers[-1].grad_o - grad_o).max() < TOL
    assert np.abs(t.layers[-1].delta - grad_o).max() < TOL  # o' = 1
    assert np.abs(t.layers[-1].grad_W - h1.T @ grad_o).max() < TOL  # eq. 9 summed over the rows


def test_bce_with_several_rows_is_the_mean_and_the_sum_switch_multiplies_by_b():
    Wb = np.array([[0.9], [-0.5], [0.3], [0.05]])
    Y = np.array([1.0, 0.0, 1.0, 0.0, 1.0])
    rows = [1, 2, 3, 4]
    _, h1 = hidden(X[rows])
    o = sig(h1 @ Wb)[:, 0]
    y = Y[rows]
    B = len(rows)
    J = -(y * np.log(o) + (1 - y) * np.log(1 - o))
    for reduction, scale in (("mean", 1 / B), ("sum", 1.0)):
        t = traced("sigmoid", Wb, Y, rows, reduction)
        assert t.reduction == reduction
        assert abs(t.loss - J.sum() * scale) < TOL
        grad_o = (o - y) / (o * (1 - o)) * scale
        assert np.abs(t.layers[-1].grad_o[:, 0] - grad_o).max() < TOL
        assert np.abs(t.layers[-1].delta[:, 0] - (o - y) * scale).max() < TOL
        assert np.abs(t.layers[-1].grad_W[:, 0] - h1.T @ (o - y) * scale).max() < TOL
    with pytest.raises(ConfigError, match="mean or the sum"):
        InspectorSession().set_reduction("median")


# 6. hidden layers, the lecture's order --------------------------------------------------------------------------


def test_hidden_layer_chain_rule_uses_w_tilde_times_delta():
    t = traced("softmax", W2, T, [2])
    o1, h1 = hidden(X[[2]])
    z = h1 @ W2
    o = np.exp(z) / np.exp(z).sum()
    delta2 = o - np.eye(2)[T[[2]]]
    W_tilde = W2[:-1]  # W without its bias row
    dJ_dh = W_tilde @ delta2[0]  # column form: W̃^(2) δ^(2)
    delta1 = dJ_dh * o1[0] * (1 - o1[0])
    h0 = np.append(X[2], 1.0)
    for i in range(3):
        for j in range(3):
            c = t.chain_rule(i, j, layer=1)
            assert abs(c["dJ_do"] - dJ_dh[j]) < TOL and abs(c["do_dz"] - o1[0, j] * (1 - o1[0, j])) < TOL
            assert abs(c["product"] - h0[i] * delta1[j]) < TOL and abs(c["grad_W_row"] - h0[i] * delta1[j]) < TOL


def test_backward_steps_layer_by_layer_from_the_output_down():
    s = InspectorSession()
    s.set_source([W1, W2], ["sigmoid"], "softmax", X, T, 0.5)
    s.forward()
    assert s.backward_layers() == 0 and s.stage() == "forward"
    s.backward_step()
    assert s.backward_layers() == 1 and s.stage() == "forward"  # δ^(2) shown, δ^(1) not yet
    s.backward_step()
    assert s.backward_layers() == 2 and s.stage() == "backward"
    s.update()
    s.backward_step()  # a new trace on the updated W: the backward starts again at the output
    assert s.backward_layers() == 1 and s.stage() == "forward"


# 3. the update shown is the update applied ---------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", ["adam", "momentum", "nesterov", "sgd"])
def test_displayed_update_equals_the_trainers_applied_update(optimizer):
    tr = Trainer(Experiment(data=DataSpec(source="moons", n_samples=120), model=ModelSpec(hidden=(4,)),
                            training=TrainSpec(dtype="float64", optimizer=optimizer, lr=0.05, l2=0.01,
                                               schedule="cosine", epochs=10, clip_norm=0.05, batch_size=16)))
    for _ in range(3):  # the optimizer carries state now
        tr.train_epoch()
    rule = UpdateRule.from_trainer(tr)
    assert rule.lr == pytest.approx(tr.base_lr * 0.5 * (1 + np.cos(np.pi * 3 / 10)), abs=1e-15)
    assert (rule.state is None) == (optimizer == "sgd")
    X_all, y_all = tr.rows()
    rows = list(range(16))
    s = InspectorSession()
    s.set_source(tr.net.weights, tr.net.activations, tr.output, X_all, y_all, tr.base_lr)
    s.set_rule(rule)
    s.select(0, batch=True, size=16)
    s.update()
    shown = [lt.update for lt in s.trace().layers]
    assert s.grad_norm() > 0.05  # clipping was active
    # the trainer's own step on the same rows, with the same μ
    before = tr.net.flat.clone()
    for group in tr.optimizer.param_groups if tr.optimizer is not None else ():
        group["lr"] = rule.lr
    x = torch.as_tensor(X_all[rows])
    with torch.no_grad():
        tr.net.step(x, torch.as_tensor(y_all[rows]))
        tr._update(rule.lr, tr.experiment.training)
    applied = (tr.net.flat - before).numpy()
    assert np.abs(np.concatenate([u.reshape(-1) for u in shown]) - applied).max() < TOL
    assert not rule.note()
    # the session's own copy walked the same step
    assert max(float((W - Wt).abs().max()) for W, Wt in zip(s.weights(), tr.net.weights, strict=True)) < TOL


def test_rule_without_optimizer_state_says_what_it_leaves_out():
    rule = UpdateRule("adam", lr=0.01)
    assert "not known" in rule.note() and "first step" in rule.note()
    s = InspectorSession()
    s.set_source([W1, W2], ["sigmoid"], "softmax", X, T, 0.5)
    s.set_rule(rule)
    s.update()
    g = np.concatenate([lt.grad_W.reshape(-1) for lt in s.trace().layers])
    step = np.concatenate([lt.update.reshape(-1) for lt in s.trace().layers])
    # a fresh Adam's first step is −μ g / (|g| + ε) elementwise (m̂ = g, v̂ = g²)
    assert np.abs(step - (-0.01 * g / (np.abs(g) + 1e-8))).max() < TOL
    with pytest.raises(ConfigError, match="optimizer"):
        UpdateRule("rmsprop")


def saturated_trainer() -> Trainer:
    """Sigmoid output trained hard (μ = 2, 1,500 epochs, float32): most rows end with |z^(L)| > 17, where σ(z)
    rounds to 1 (or 1 − σ(z) to 0) in float32 and o (1 − o) to 0."""
    tr = Trainer(Experiment(data=DataSpec(source="gaussians", n_samples=120),
                            model=ModelSpec(output="sigmoid", activation="relu"),
                            training=TrainSpec(lr=2.0, epochs=1500, dtype="float32", batch_size=8)))
    for _ in range(1500):
        tr.train_epoch()
    return tr


def test_no_nan_or_inf_anywhere_for_a_saturated_trained_network_every_row():
    tr = saturated_trainer()
    X_all, y_all = tr.rows()
    s = InspectorSession()
    s.set_source(tr.net.weights, tr.net.activations, tr.output, X_all, y_all, 2.0)
    saturated = 0
    eps = torch.finfo(torch.float32).eps
    for r in range(len(X_all)):
        s.select(r)
        s.backward()
        t = s.trace()
        for lt in t.layers:
            for a in (lt.h1, lt.z, lt.o, lt.do, lt.grad_o, lt.delta, lt.grad_W, lt.update):
                assert np.isfinite(a).all(), (r, lt.l)
        saturated += abs(float(t.layers[-1].z[0, 0])) > 17
        out = t.layers[-1]
        for i in range(out.h1.shape[1]):  # the chain-rule box of every output weight
            c = t.chain_rule(i, 0)
            assert not c["fused"] and np.isfinite(c["product"]), (r, i)
            # the window's verdict: equal to float32 rounding (64 ulp of the terms), never red
            terms = abs(c["dJ_do"] * c["do_dz"] * c["h_i"])
            assert abs(c["product"] - c["grad_W_row"]) <= 64 * eps * terms, (r, i)
        for lt in t.layers[:-1]:  # hidden layers: ① · ② of every neuron against the engine's δ, the same rule
            assert (np.abs(lt.grad_o * lt.do - lt.delta) <= 64 * eps * np.abs(lt.grad_o * lt.do)).all(), r
    assert saturated > len(X_all) // 2  # the case the test is about: σ(z) rounds to 1 for most rows


def test_softmax_chain_rule_in_float32_near_certainty_is_float32_rounding_not_a_difference():
    # o_t ≈ 0.9999: δ_t = o_t − 1 is a small difference, where factors from two different o (the float32 o and
    # the float64 o from z) would differ by far more than the float32 rounding of δ (the window showed "✗ 9.4e-09")
    s = InspectorSession()
    W_sharp = W2 * 40.0
    s.set_source([torch.tensor(W1, dtype=torch.float32), torch.tensor(W_sharp, dtype=torch.float32)], ["sigmoid"],
                 "softmax", X, T, 0.5)
    eps = torch.finfo(torch.float32).eps
    worst, certain = 0.0, 0
    for r in range(len(X)):
        s.select(r)
        s.backward()
        t = s.trace()
        out = t.layers[-1]
        certain += out.o.max() > 0.9999
        for i in range(out.h1.shape[1]):
            for j in range(out.delta.shape[1]):
                c = t.chain_rule(i, j)
                terms = float(np.sum(np.abs(c["dJ_do"] * c["do_dz"]))) * abs(c["h_i"])
                worst = max(worst, abs(c["product"] - c["grad_W_row"]) / (64 * eps * terms))
    assert certain >= 2  # the case the test is about
    assert worst <= 1.0, worst  # every entry equal to float32 rounding (the window's verdict stays green)
