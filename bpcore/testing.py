"""Check a hand-written backward: gradcheck, gradgradcheck and an optional reference, in one call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor

__all__ = ["CheckReport", "check_all", "check_function"]


@dataclass(frozen=True)
class CheckReport:
    """What check_function found. `ok` is True when every check that ran passed."""

    name: str
    gradcheck: bool
    gradgradcheck: bool | None  # None: the Function is once-differentiable (see `notes`)
    reference_error: float | None  # max |fn − reference| over outputs and input gradients
    notes: list[str] = field(default_factory=list)
    tolerance: float = 1e-10

    @property
    def ok(self) -> bool:
        ref_ok = self.reference_error is None or self.reference_error <= self.tolerance
        return self.gradcheck and self.gradgradcheck is not False and ref_ok

    def __str__(self) -> str:
        gg = {True: "pass", False: "FAIL", None: "once-differentiable"}[self.gradgradcheck]
        ref = "—" if self.reference_error is None else f"{self.reference_error:.2e}"
        line = (f"{self.name:<24} gradcheck {'pass' if self.gradcheck else 'FAIL':<5} "
                f"gradgradcheck {gg:<20} reference max err {ref:<9} {'OK' if self.ok else 'FAILED'}")
        return "\n".join([line, *("    " + n for n in self.notes)])


def _first_line(e: Exception) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0] if text else ''}"


def _outputs_and_grads(fn: Callable, inputs: Sequence) -> list[Tensor]:
    inputs = [x.detach().clone().requires_grad_(x.requires_grad) if isinstance(x, Tensor) else x
              for x in inputs]
    out = fn(*inputs)
    outs = list(out) if isinstance(out, tuple | list) else [out]
    diff = [x for x in inputs if isinstance(x, Tensor) and x.requires_grad]
    g = torch.Generator(device="cpu").manual_seed(0)
    seeds = [torch.randn(o.shape, generator=g, dtype=o.dtype).to(o.device) for o in outs]
    grads = torch.autograd.grad(outs, diff, seeds, allow_unused=True)
    return [o.detach() for o in outs] + [torch.zeros_like(x) if gr is None else gr for x, gr in
                                         zip(diff, grads, strict=True)]


def check_function(
    fn: Callable, *inputs, reference: Callable | None = None, name: str | None = None,
    atol: float = 1e-7, rtol: float = 1e-5, tolerance: float = 1e-10,
) -> CheckReport:
    """gradcheck + gradgradcheck (or a note that fn is once-differentiable) + optional reference.

    Use float64 inputs with requires_grad=True on those to differentiate. `reference` is an
    independent implementation (e.g. torch's own); outputs and input gradients must agree to `tolerance`.
    """
    name = name or getattr(fn, "__name__", type(fn).__name__)
    notes: list[str] = []
    try:
        gc = bool(torch.autograd.gradcheck(fn, inputs, atol=atol, rtol=rtol))
    except Exception as e:  # gradcheck reports a wrong backward by raising; keep its message
        gc = False
        notes.append("gradcheck: " + _first_line(e))
    gg: bool | None
    try:
        gg = bool(torch.autograd.gradgradcheck(fn, inputs, atol=atol, rtol=rtol))
    except Exception as e:
        msg = str(e)
        if "once-differentiable" in msg or "once_differentiable" in msg or "does not require grad" in msg:
            gg = None
            notes.append("once-differentiable: " + _first_line(e))
        else:
            gg = False
            notes.append("gradgradcheck: " + _first_line(e))
    err = None
    if reference is not None:
        ours, theirs = _outputs_and_grads(fn, inputs), _outputs_and_grads(reference, inputs)
        if len(ours) != len(theirs) or any(a.shape != b.shape for a, b in zip(ours, theirs, strict=False)):
            err = float("inf")
            notes.append("reference: outputs or gradients differ in number or shape")
        else:
            err = max((float((a - b).abs().max()) if a.numel() else 0.0 for a, b in
                       zip(ours, theirs, strict=True)), default=0.0)
    return CheckReport(name, gc, gg, err, notes, tolerance)


def check_all(device: str | torch.device = "cpu", batch: int = 3) -> list[CheckReport]:
    """check_function on every Function of bpcore.functional against torch's own implementation."""
    import torch.nn.functional as F

    from bpcore import functional as BF

    g = torch.Generator().manual_seed(0)

    def rand(*shape: int, grad: bool = True) -> Tensor:
        return torch.randn(*shape, generator=g, dtype=torch.float64).to(device).requires_grad_(grad)

    h, W, z = rand(batch, 4), rand(5, 3), rand(batch, 3)
    t_cls = torch.randint(0, 3, (batch,), generator=g).to(device)
    t_bin = torch.rand(batch, 3, generator=g, dtype=torch.float64).to(device)
    probs = torch.softmax(rand(batch, 3, grad=False), 1).requires_grad_()
    p_bin = torch.rand(batch, 3, generator=g, dtype=torch.float64).mul(0.8).add(0.1).to(device).requires_grad_()
    Ws = [rand(5, 6), rand(7, 3)]
    cases = [
        ("linear", BF.linear, (h, W), lambda h, W: F.linear(h, W[:-1].mT, W[-1])),
        ("sigmoid", BF.sigmoid, (z,), torch.sigmoid),
        ("tanh", BF.tanh, (z,), torch.tanh),
        ("relu", BF.relu, (z,), torch.relu),
        ("leaky_relu", BF.leaky_relu, (z,), F.leaky_relu),
        ("softplus", BF.softplus, (z,), F.softplus),
        ("identity", BF.identity, (z,), lambda z: z * 1),
        ("softmax", BF.softmax, (z,), lambda z: torch.softmax(z, -1)),
        ("cross_entropy", BF.cross_entropy, (z, t_cls), F.cross_entropy),
        ("binary_cross_entropy", BF.binary_cross_entropy, (z, t_bin), F.binary_cross_entropy_with_logits),
        ("mse", BF.mse, (z, t_bin), F.mse_loss),
        ("nll", BF.nll, (probs, t_cls), lambda o, t: F.nll_loss(torch.log(o), t)),
        ("bernoulli_nll", BF.bernoulli_nll, (p_bin, t_bin), F.binary_cross_entropy),
        ("mlp", lambda x, W0, W1: BF.mlp(x, [W0, W1], ["tanh"]), (h, *Ws),
         lambda x, W0, W1: F.linear(torch.tanh(F.linear(x, W0[:-1].mT, W0[-1])), W1[:-1].mT, W1[-1])),
        ("mlp_loss", lambda x, W0, W1: BF.mlp_loss(x, [W0, W1], ["tanh"], t_cls), (h, *Ws),
         lambda x, W0, W1: F.cross_entropy(
             F.linear(torch.tanh(F.linear(x, W0[:-1].mT, W0[-1])), W1[:-1].mT, W1[-1]), t_cls)),
    ]
    return [check_function(fn, *args, reference=ref, name=name) for name, fn, args, ref in cases]
