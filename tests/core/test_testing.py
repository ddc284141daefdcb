"""bpcore.testing.check_function: catches wrong backwards, passes the engine's own Functions."""

from __future__ import annotations

import torch

from bpcore import functional as BF
from bpcore.testing import check_all, check_function


class _WrongTanh(torch.autograd.Function):
    """tanh with a deliberately wrong derivative (o' = 1 − o instead of 1 − o²)."""

    @staticmethod
    def forward(ctx, z):
        o = torch.tanh(z)
        ctx.save_for_backward(o)
        return o

    @staticmethod
    def backward(ctx, g):
        (o,) = ctx.saved_tensors
        return g * (1 - o)


def _z():
    return torch.randn(3, 4, dtype=torch.float64, requires_grad=True)


def test_catches_a_wrong_backward():
    report = check_function(_WrongTanh.apply, _z(), reference=torch.tanh, name="wrong_tanh")
    assert not report.ok
    assert report.gradcheck is False
    assert report.reference_error > 1e-3  # the gradients differ from torch's
    assert "FAILED" in str(report) and "gradcheck" in str(report)


def test_passes_a_correct_function_with_double_backward():
    report = check_function(BF.tanh, _z(), reference=torch.tanh)
    assert report.ok and report.gradcheck and report.gradgradcheck is True
    assert report.reference_error < 1e-12


def test_states_once_differentiable():
    t = torch.tensor([0, 1, 2])
    report = check_function(BF.cross_entropy, _z()[:, :3].detach().requires_grad_(), t)
    assert report.ok and report.gradgradcheck is None
    assert "once-differentiable" in str(report)


def test_every_engine_function_passes():
    reports = check_all("cpu")
    assert len(reports) == 15
    bad = [str(r) for r in reports if not r.ok]
    assert not bad, "\n".join(bad)
    assert max(r.reference_error for r in reports) < 1e-12
