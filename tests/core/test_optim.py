"""bpcore.optim.GradientDescent: eq. 10 exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bpcore.nn import MLP
from bpcore.optim import GradientDescent


def test_step_is_eq10_exactly():
    """One layer, softmax + cross-entropy: backward gives ∇_W J = [h, 1]ᵀ δ (eq. 9, 12) with δ = (o − onehot)/B
    (eq. 8), both written out here in numpy; the step is then W ← W − μ h δᵀ (eq. 10), to float64 rounding."""
    g = torch.Generator().manual_seed(0)
    model = MLP([4, 3], [], seed=0, dtype=torch.float64)
    x = torch.randn(5, 4, generator=g, dtype=torch.float64)
    t = torch.tensor([0, 2, 1, 2, 0])
    (W,) = model.weights
    before = W.detach().numpy().copy()
    model.loss(model(x), t).backward()
    h = np.hstack([x.numpy(), np.ones((5, 1))])  # [x, 1] (eq. 11)
    z = h @ before
    o = np.exp(z - z.max(1, keepdims=True))
    o /= o.sum(1, keepdims=True)
    delta = (o - np.eye(3)[t.numpy()]) / 5
    grad = h.T @ delta  # Σ_batch h δᵀ
    np.testing.assert_allclose(W.grad.numpy(), grad, rtol=0, atol=1e-15)  # a few ulp of O(1) numbers
    GradientDescent([W], lr=0.25).step()
    np.testing.assert_allclose(W.detach().numpy(), before - 0.25 * grad, rtol=0, atol=1e-15)


def test_equals_plain_sgd_bit_for_bit():
    a, b = MLP([3, 5, 2], seed=0), MLP([3, 5, 2], seed=0)
    x, t = torch.randn(8, 3), torch.randint(0, 2, (8,))
    opt_a = GradientDescent(a.parameters(), lr=0.1)
    opt_b = torch.optim.SGD(b.parameters(), lr=0.1, foreach=True)
    for _ in range(5):
        for m, opt in ((a, opt_a), (b, opt_b)):
            opt.zero_grad()
            m.loss(m(x), t).backward()
            opt.step()
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_skips_parameters_without_gradient_and_validates_lr():
    W = torch.ones(2, 2, requires_grad=True)
    GradientDescent([W], lr=1.0).step()
    assert torch.equal(W, torch.ones(2, 2))
    with pytest.raises(ValueError, match="must be > 0"):
        GradientDescent([W], lr=0.0)


def test_closure_and_param_groups():
    W1 = torch.ones(2, requires_grad=True)
    W2 = torch.ones(2, dtype=torch.float64, requires_grad=True)
    opt = GradientDescent([{"params": [W1], "lr": 0.5}, {"params": [W2]}], lr=0.1)

    def closure():
        opt.zero_grad()
        J = (W1.sum() + W2.sum()) * 2
        J.backward()
        return J

    assert opt.step(closure).item() == 8.0
    assert torch.allclose(W1, torch.zeros(2)) and torch.allclose(W2, torch.full((2,), 0.8, dtype=torch.float64))
