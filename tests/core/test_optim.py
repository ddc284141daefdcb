"""bpcore.optim.GradientDescent: eq. 10 exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.optim import optimizer as torch_optimizer

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


def test_equals_plain_sgd():
    """Five steps of bpcore's network and optimizer against torch's SGD on the same weights: the two
    gradients come from different code (hand-written backward vs autograd), so agree to float32 rounding."""
    a, b = MLP([3, 5, 2], seed=0), MLP([3, 5, 2], seed=0)
    x, t = torch.randn(8, 3), torch.randint(0, 2, (8,))
    opt_a = GradientDescent(a.parameters(), lr=0.1)
    opt_b = torch.optim.SGD(b.parameters(), lr=0.1, foreach=True)
    for _ in range(5):
        for m, opt in ((a, opt_a), (b, opt_b)):
            opt.zero_grad()
            m.loss(m(x), t).backward()
            opt.step()
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-6, atol=1e-7)


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


def _hook_cases():
    """(name, register(opt, hook) -> handle): every place torch lets a caller hook an optimizer's step."""
    return [
        ("own pre", lambda opt, hook: opt.register_step_pre_hook(hook)),
        ("own post", lambda opt, hook: opt.register_step_post_hook(hook)),
        ("global pre", lambda opt, hook: torch_optimizer.register_optimizer_step_pre_hook(hook)),
        ("global post", lambda opt, hook: torch_optimizer.register_optimizer_step_post_hook(hook)),
    ]


@pytest.mark.parametrize(("where", "register"), _hook_cases(), ids=[c[0] for c in _hook_cases()])
def test_step_hooks_run_once_per_step_and_after_removal_never(where, register):
    """The step skips torch's wrapper when nothing listens; a registered hook must still see every step."""
    W = torch.ones(2, requires_grad=True)
    opt = GradientDescent([W], lr=0.5)
    seen = []
    handle = register(opt, lambda o, args, kwargs: seen.append((o, W.detach().clone())))
    try:
        for _ in range(2):
            W.grad = torch.ones(2)
            opt.step()
    finally:
        handle.remove()
    W.grad = torch.ones(2)
    opt.step()
    assert [o for o, _ in seen] == [opt, opt]
    # a pre hook sees W before the update, a post hook after it
    expected = [1.0, 0.5] if "pre" in where else [0.5, 0.0]
    assert [w[0].item() for _, w in seen] == expected
    assert W[0].item() == -0.5


def test_step_pre_hook_can_replace_the_closure():
    W = torch.ones(1, requires_grad=True)
    opt = GradientDescent([W], lr=1.0)
    opt.register_step_pre_hook(lambda o, args, kwargs: ((o, lambda: torch.tensor(7.0)), kwargs))
    W.grad = torch.ones(1)
    assert opt.step(lambda: torch.tensor(3.0)).item() == 7.0


def test_step_shows_in_the_profiler():
    W = torch.ones(2, requires_grad=True)
    opt = GradientDescent([W], lr=0.5)
    W.grad = torch.ones(2)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        opt.step()
    assert "Optimizer.step#GradientDescent.step" in {e.key for e in prof.key_averages()}
    assert torch.equal(W.detach(), torch.full((2,), 0.5))


TORCH_OPTIMIZERS = {
    "momentum": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, fused=True),
    "nesterov": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, fused=True),
    "adam": lambda ps: torch.optim.Adam(ps, lr=0.01, fused=True),
    "adam, for-loop": lambda ps: torch.optim.Adam(ps, lr=0.01, foreach=False),
    "gradient descent": lambda ps: GradientDescent(ps, lr=0.1),
}


@pytest.mark.parametrize("kind", list(TORCH_OPTIMIZERS))
def test_quiet_step_is_the_step(kind):
    """Three steps through quiet_step and through opt.step() from the same start: the same update (the same
    code runs, torch's wrapper aside), to float32 rounding."""
    from bpcore.optim import quiet_step

    g = torch.Generator().manual_seed(0)
    start, grads = torch.randn(10, generator=g), [torch.randn(10, generator=g) for _ in range(3)]
    W = {}
    for way in ("quiet", "step"):
        p = torch.nn.Parameter(start.clone())
        opt = TORCH_OPTIMIZERS[kind]([p])
        for grad in grads:
            p.grad = grad.clone()
            quiet_step(opt) if way == "quiet" else opt.step()
        W[way] = p.detach()
    assert not torch.equal(W["quiet"], start)
    torch.testing.assert_close(W["quiet"], W["step"], rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("kind", list(TORCH_OPTIMIZERS))
def test_quiet_step_still_calls_hooks_and_shows_in_the_profiler(kind):
    from bpcore.optim import quiet_step

    p = torch.nn.Parameter(torch.ones(3))
    opt = TORCH_OPTIMIZERS[kind]([p])
    seen = []
    handle = opt.register_step_post_hook(lambda o, args, kwargs: seen.append(o))
    p.grad = torch.ones(3)
    quiet_step(opt)
    handle.remove()
    quiet_step(opt)
    assert seen == [opt]
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        quiet_step(opt)
    assert f"Optimizer.step#{type(opt).__name__}.step" in {e.key for e in prof.key_averages()}
