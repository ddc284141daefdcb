"""The Output record: one place for each output kind's o, J, δ^(L), target form, units and task."""

from __future__ import annotations

import pytest
import torch

from bpcore import backprop as bp
from bpcore import functional as F


def _target(kind: str, B: int = 6, K: int = 3):
    g = torch.Generator().manual_seed(0)
    if kind == "softmax":
        return torch.randn(B, K, generator=g, dtype=torch.float64), torch.tensor([0, 1, 2, 0, 1, 2])
    if kind == "sigmoid":
        return torch.randn(B, 1, generator=g, dtype=torch.float64), torch.tensor([[0.0], [1.0]] * 3).double()
    return torch.randn(B, 2, generator=g, dtype=torch.float64), torch.randn(B, 2, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("name", bp.OUTPUTS)
def test_loss_and_delta_agree_with_autograd(name):
    kind = bp.output_kind(name)
    z, t = _target(name)
    J, delta = kind.loss_and_delta(z, t, "test")
    zz = z.clone().requires_grad_()
    J_ref = F.loss(name, zz, t)
    J_ref.backward()
    # float64, the same formulas through another code path: agreement to a few ulp of values of size ~1
    assert abs(float(J) - J_ref.item()) < 1e-12 and abs(float(kind.loss(z, t, "test")) - float(J)) < 1e-12
    assert (delta - zz.grad).abs().max() < 1e-12 and (kind.delta(z, t, "test") - delta).abs().max() < 1e-12
    assert torch.allclose(kind.o(z), bp.output(name, z))


@pytest.mark.parametrize("name,units,classes,task,target_shape", [
    ("softmax", 4, 4, "classification", (5,)),   # K units, K classes, int64 ids
    ("sigmoid", 1, 2, "classification", (5, 1)),  # one unit, two classes, a 0/1 column
    ("identity", 3, 0, "regression", (5, 3)),     # T units, values
])
def test_shapes_of_each_kind(name, units, classes, task, target_shape):
    kind = bp.output_kind(name)
    assert kind.units(4, 3) == units and kind.classes(units) == classes and kind.task == task
    assert kind.classifies == (task == "classification")
    y = torch.arange(5) % 2 if name != "identity" else torch.randn(5, 3, dtype=torch.float64)
    t = kind.targets(y, torch.float32, 5, 3)
    assert tuple(t.shape) == target_shape
    assert t.dtype == (torch.int64 if name == "softmax" else torch.float32)


def test_unknown_kind_names_the_choices():
    with pytest.raises(ValueError, match="softmax, sigmoid, identity"):
        bp.output_kind("tanh")


@pytest.mark.parametrize("name", bp.OUTPUTS)
def test_delta_is_the_chain_rule_of_its_parts(name):
    """δ^(L) = ∇_o J ⊙ o' (eq. 8) for elementwise outputs, (∂o/∂z)ᵀ ∇_o J for softmax, whose Jacobian
    diag(o) − o oᵀ has `do` as its diagonal: the record's pieces are one derivation."""
    kind = bp.output_kind(name)
    z, t = _target(name)
    o = kind.o(z)
    g = kind.grad_o(o, t, "test")
    if kind.coupled:
        jac = torch.diag_embed(o) - o.unsqueeze(2) * o.unsqueeze(1)  # (B, K, K), symmetric
        assert (torch.diagonal(jac, dim1=1, dim2=2) - kind.do(o)).abs().max() < 1e-15
        chain = (jac @ g.unsqueeze(2)).squeeze(2)
    else:
        chain = g * kind.do(o)
    # float64: the fused closed form and the product of the factors differ by rounding only
    assert (chain - kind.delta(z, t, "test")).abs().max() < 1e-12
