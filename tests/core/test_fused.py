"""bpcore.fused.mlp_loss and MLP.objective: the network and its loss as one Function."""

from __future__ import annotations

import pytest
import torch
from torch.autograd import gradcheck

from bpcore import functional as BF
from bpcore.nn import MLP

f64 = torch.float64


def _target(output: str, batch: int, k: int, g: torch.Generator) -> torch.Tensor:
    if output == "softmax":
        return torch.randint(0, k, (batch,), generator=g)
    return torch.rand(batch, k, generator=g, dtype=f64)


@pytest.mark.parametrize("output", ["softmax", "sigmoid", "identity"])
@pytest.mark.parametrize("sizes", [(3, 5, 4), (2, 8, 8, 3), (70, 20, 3)])  # last: [h, 1] carried or not
def test_objective_equals_loss_of_forward(output, sizes):
    """Same J and the same gradients (weights and input) as loss(mlp(x)), to 1e-12 in float64."""
    g = torch.Generator().manual_seed(7)
    model = MLP(sizes, "tanh", output, seed=1, dtype=f64)
    x = torch.randn(6, sizes[0], generator=g, dtype=f64, requires_grad=True)
    t = _target(output, 6, sizes[-1], g)
    J1 = model.loss(model(x), t)
    g1 = torch.autograd.grad(J1, [x, *model.parameters()])
    J2 = model.objective(x, t)
    g2 = torch.autograd.grad(J2, [x, *model.parameters()])
    assert abs(J1.item() - J2.item()) < 1e-12
    for a, b in zip(g1, g2, strict=True):
        assert (a - b).abs().max() < 1e-12


@pytest.mark.parametrize("output", ["softmax", "sigmoid", "identity"])
def test_mlp_loss_gradcheck(output):
    g = torch.Generator().manual_seed(8)
    x = torch.randn(4, 3, generator=g, dtype=f64, requires_grad=True)
    Ws = [torch.randn(4, 5, generator=g, dtype=f64, requires_grad=True),
          torch.randn(6, 2, generator=g, dtype=f64, requires_grad=True)]
    t = _target(output, 4, 2, g)
    assert gradcheck(lambda x, W0, W1: BF.mlp_loss(x, [W0, W1], ["sigmoid"], t, output), (x, *Ws))


def test_incoming_gradient_scales_delta():
    model = MLP((3, 4, 2), seed=0, dtype=f64)
    x, t = torch.randn(5, 3, dtype=f64), torch.tensor([0, 1, 1, 0, 1])
    (ga,) = torch.autograd.grad(3.0 * model.objective(x, t), [model.weights[0]])
    (gb,) = torch.autograd.grad(model.objective(x, t), [model.weights[0]])
    assert (ga - 3.0 * gb).abs().max() < 1e-14


def test_mlp_loss_refusals():
    x = torch.randn(3, 2, dtype=f64)
    W = torch.randn(3, 2, dtype=f64, requires_grad=True)
    t = torch.tensor([0, 1, 0])
    with pytest.raises(ValueError, match="unknown output"):
        BF.mlp_loss(x, [W], [], t, "tanh")
    with pytest.raises(ValueError, match="one activation per hidden layer"):
        BF.mlp_loss(x, [W], ["tanh"], t)
    with pytest.raises(ValueError, match="target as data"):
        BF.mlp_loss(x, [W], [], torch.rand(3, 2, dtype=f64, requires_grad=True), "identity")
    J = BF.mlp_loss(x, [W], [], t)
    with pytest.raises(RuntimeError, match="once-differentiable"):
        torch.autograd.grad(J, W, create_graph=True)
    J = BF.mlp_loss(x, [W], [], t)
    with torch.no_grad():
        W.add_(1.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        J.backward()


def test_objective_trains_with_gradient_descent():
    from bpcore.optim import GradientDescent

    g = torch.Generator().manual_seed(9)
    x = torch.randn(64, 2, generator=g)
    t = (x[:, 0] * x[:, 1] > 0).long()  # xor of the signs
    model = MLP((2, 8, 2), "tanh", seed=0)
    opt = GradientDescent(model.parameters(), lr=0.5)
    first = model.objective(x, t).item()
    for _ in range(300):
        opt.zero_grad()
        model.objective(x, t).backward()
        opt.step()
    assert model.objective(x, t).item() < 0.3 * first
