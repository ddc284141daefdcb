"""bpcore.inspect: every displayed number of eq. (5)–(12) against independent numpy formulas."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bpcore.config import DataSpec, Experiment, ModelSpec, TrainSpec
from bpcore.inspect import check, field, trace
from bpcore.train import Trainer

# a 2-3-2 network, sigmoid hidden layer, softmax output; biases in the last rows (eq. 11)
W1 = np.array([[0.5, -0.3, 0.8], [0.2, 0.7, -0.6], [0.1, -0.2, 0.05]])
W2 = np.array([[0.9, -0.4], [-0.5, 0.6], [0.3, 0.2], [0.05, -0.1]])
X = np.array([[0.7, -1.2]])
T = 1
LR = 0.5


def _numpy_reference():
    """The derivation by hand in numpy, independent of torch and of bpcore."""
    h0 = np.append(X[0], 1.0)  # eq. 11
    z1 = W1.T @ h0  # eq. 3
    o1 = 1 / (1 + np.exp(-z1))
    do1 = o1 * (1 - o1)
    h1 = np.append(o1, 1.0)
    z2 = W2.T @ h1
    o2 = np.exp(z2 - z2.max()) / np.exp(z2 - z2.max()).sum()
    onehot = np.eye(2)[T]
    grad_o2 = -onehot / o2  # ∇_o J of J = −log o_t
    delta2 = o2 - onehot  # eq. 8 for softmax + cross-entropy
    gW2 = np.outer(h1, delta2)  # eq. 9; last row = δ (eq. 12)
    grad_h1 = W2[:-1] @ delta2
    delta1 = grad_h1 * do1  # hidden-layer recursion
    gW1 = np.outer(h0, delta1)
    return dict(h0=h0, z1=z1, o1=o1, do1=do1, h1=h1, z2=z2, o2=o2, grad_o2=grad_o2, delta2=delta2, gW2=gW2,
                grad_h1=grad_h1, delta1=delta1, gW1=gW1, loss=-np.log(o2[T]))


@pytest.fixture
def traced():
    Ws = [torch.tensor(W1), torch.tensor(W2)]
    return trace(Ws, ["sigmoid"], "softmax", torch.tensor(X), torch.tensor([T]), lr=LR)


def test_every_number_matches_hand_formulas(traced):
    r = _numpy_reference()
    hidden, out = traced.layers
    pairs = [
        (hidden.h1[0], r["h0"]), (hidden.z[0], r["z1"]), (hidden.o[0], r["o1"]), (hidden.do[0], r["do1"]),
        (hidden.grad_o[0], r["grad_h1"]), (hidden.delta[0], r["delta1"]), (hidden.grad_W, r["gW1"]),
        (out.h1[0], r["h1"]), (out.z[0], r["z2"]), (out.o[0], r["o2"]), (out.grad_o[0], r["grad_o2"]),
        (out.delta[0], r["delta2"]), (out.grad_W, r["gW2"]), (out.grad_W[-1], r["delta2"]),
        (hidden.update, -LR * r["gW1"]), (out.W_next, W2 - LR * r["gW2"]), (out.W, W2),
    ]
    for ours, ref in pairs:
        assert ours.shape == ref.shape
        assert np.abs(ours - ref).max() < 1e-12
    assert abs(traced.loss - r["loss"]) < 1e-12
    assert hidden.activation == "sigmoid" and out.activation == "softmax" and out.l == 2


def test_eq5_product_for_one_weight(traced):
    r = _numpy_reference()
    i, j = 1, 0
    c = traced.chain_rule(i, j)
    o = r["o2"]
    # ① ∇_o J, ② the Jacobian column ∂o/∂z_j = o (e_j − o_j), ③ h_i
    assert np.abs(c["dJ_do"] - r["grad_o2"]).max() < 1e-12
    assert np.abs(c["do_dz"] - o * (np.eye(2)[j] - o[j])).max() < 1e-12
    assert abs(c["h_i"] - r["h1"][i]) < 1e-15  # numpy vs torch forward: a few float64 ulp at most
    assert abs(c["product"] - r["gW2"][i, j]) < 1e-12
    assert abs(c["product"] - c["grad_W_row"]) < 1e-12


def test_eq5_elementwise_output():
    Ws = [torch.tensor(W1), torch.tensor(W2[:, :1])]
    t = trace(Ws, ["tanh"], "sigmoid", torch.tensor(X), torch.tensor([[1.0]]), lr=0.1)
    c = t.chain_rule(2, 0)
    o = t.layers[-1].o[0, 0]
    assert abs(c["dJ_do"] - (o - 1) / (o * (1 - o))) < 1e-12 and abs(c["do_dz"] - o * (1 - o)) < 1e-12
    assert abs(c["product"] - t.layers[-1].grad_W[2, 0]) < 1e-12


def test_batch_gradient_is_sum_of_per_sample_outer_products():
    g = torch.Generator().manual_seed(0)
    Ws = [torch.randn(3, 4, generator=g, dtype=torch.float64), torch.randn(5, 3, generator=g, dtype=torch.float64)]
    x = torch.randn(6, 2, generator=g, dtype=torch.float64)
    t = trace(Ws, ["tanh"], "softmax", x, torch.tensor([0, 1, 2, 0, 1, 2]))
    for layer in t.layers:
        assert np.abs(layer.per_sample_grad_W.sum(0) - layer.grad_W).max() < 1e-14


def test_inspection_equals_trainer_gradients():
    tr = Trainer(Experiment(data=DataSpec(source="iris"), model=ModelSpec(hidden=(5, 4)),
                            training=TrainSpec(dtype="float64")))
    p = tr.parts["train"]
    x1, target = p.x1[:20], p.target[:20]
    with torch.no_grad():
        tr.net.step(x1, target)
    t = trace(tr.net.weights, tr.net.activations, tr.output, x1[:, :-1], target)
    # Different code paths (the trainer's flat buffer vs the inspector's per-layer tensors) may sum the batch in
    # another order: float64 values of size ~1 then differ by a few ulp (2.2e-16 each), never more than 1e-13.
    for layer, G in zip(t.layers, tr.net.grads, strict=True):
        assert np.abs(layer.grad_W - G.numpy()).max() < 1e-13


@pytest.mark.parametrize("dtype,bound", [(torch.float64, 1e-8), (torch.float32, 1e-3)])
def test_check_against_autograd_and_finite_differences(dtype, bound):
    g = torch.Generator().manual_seed(1)
    Ws = [torch.randn(3, 4, generator=g).to(dtype), torch.randn(5, 2, generator=g).to(dtype)]
    x = torch.randn(4, 2, generator=g).to(dtype)
    c = check(Ws, ["sigmoid"], "softmax", x, torch.tensor([0, 1, 1, 0]))
    assert c.ok and c.autograd_error < 1e-6 and c.finite_difference_error < bound


def test_check_catches_wrong_gradients(monkeypatch):
    from bpcore import backprop as bp

    Ws = [torch.tensor(W1), torch.tensor(W2)]
    monkeypatch.setitem(bp.ACTIVATIONS, "sigmoid", bp.Activation("sigmoid", torch.sigmoid, lambda o: o,
                                                                 torch.sigmoid_))
    c = check(Ws, ["sigmoid"], "softmax", torch.tensor(X), torch.tensor([T]))
    assert not c.ok and c.finite_difference_error > 1e-3


def test_field_shapes_and_values():
    g = torch.Generator().manual_seed(0)
    Ws = [torch.randn(3, 5, generator=g), torch.randn(6, 4, generator=g), torch.randn(5, 3, generator=g)]
    f = field(Ws, ["tanh", "relu"], "softmax", (-2, 2, -1, 1), resolution=30)
    assert f.output.shape == (30, 30, 3) and np.allclose(f.output.sum(-1), 1)
    assert [h.shape for h in f.hidden] == [(5, 30, 30), (4, 30, 30)]
    x, y = f.xs[7], f.ys[11]
    o1 = torch.tanh(torch.tensor([x, y], dtype=torch.float32) @ Ws[0][:-1] + Ws[0][-1])
    assert np.allclose(f.hidden[0][:, 11, 7], o1.numpy(), atol=1e-6)
    one_d = field([torch.randn(2, 3), torch.randn(4, 1)], ["tanh"], "identity", (-1, 1, 0, 0), resolution=50)
    assert one_d.output.shape == (1, 50, 1) and one_d.hidden[0].shape == (3, 1, 50)
