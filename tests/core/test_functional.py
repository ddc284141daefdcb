"""Every Function of bpcore.functional: gradcheck, agreement with torch to 1e-12, edge cases."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.autograd import gradcheck, gradgradcheck

from bpcore import backprop as bp
from bpcore import functional as BF

f64 = torch.float64

ACTIVATIONS = {
    "sigmoid": (BF.sigmoid, torch.sigmoid),
    "tanh": (BF.tanh, torch.tanh),
    "relu": (BF.relu, torch.relu),
    "leaky_relu": (BF.leaky_relu, F.leaky_relu),
    "softplus": (BF.softplus, F.softplus),
    "identity": (BF.identity, lambda z: z * 1),
    "softmax": (BF.softmax, lambda z: torch.softmax(z, -1)),
}


def _make(shape, device, contiguous, seed=0, dtype=f64):
    g = torch.Generator().manual_seed(seed)
    if contiguous:
        t = torch.randn(*shape, generator=g, dtype=dtype)
    else:  # the transpose of a (D, B) tensor: same values layout-wise, strided
        t = torch.randn(*reversed(shape), generator=g, dtype=dtype).mT
        assert not t.is_contiguous() or 1 in shape
    return t.to(device).requires_grad_()


def _grads(fn, *xs):
    out = fn(*xs)
    g = torch.Generator().manual_seed(1)
    seed = torch.randn(out.shape, generator=g, dtype=out.dtype).to(out.device)
    return out, torch.autograd.grad(out, [x for x in xs if x.requires_grad], seed)


@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("contiguous", [True, False])
def test_linear_gradcheck_and_gradgradcheck(device, batch, contiguous):
    h = _make((batch, 4), device, contiguous)
    W = _make((5, 3), device, True, seed=1)
    assert gradcheck(BF.linear, (h, W))
    assert gradgradcheck(BF.linear, (h, W))


@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("contiguous", [True, False])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_gradcheck_and_gradgradcheck(device, name, batch, contiguous):
    z = _make((batch, 4), device, contiguous)
    fn = ACTIVATIONS[name][0]
    assert gradcheck(fn, (z,))
    assert gradgradcheck(fn, (z,))


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_activation_matches_torch_to_1e12(device, name):
    z = _make((6, 5), device, True)
    ours, theirs = ACTIVATIONS[name]
    o1, (g1,) = _grads(ours, z)
    o2, (g2,) = _grads(theirs, z)
    assert (o1 - o2).abs().max() < 1e-12
    assert (g1 - g2).abs().max() < 1e-12


@pytest.mark.parametrize("name", [n for n in bp.ACTIVATIONS])
def test_derivative_written_from_output(name):
    """o' read off o equals the derivative autograd finds for torch's own φ."""
    z = torch.linspace(-4, 4, 81, dtype=f64).requires_grad_()
    ref = torch.autograd.grad(bp.ACTIVATIONS[name].phi(z).sum(), z)[0]
    o = bp.ACTIVATIONS[name].phi(z.detach())
    assert (bp.ACTIVATIONS[name].dphi(o) - ref).abs().max() < 1e-12


def test_leaky_relu_slope_is_used_and_validated():
    z = torch.tensor([[-2.0, 3.0]], dtype=f64, requires_grad=True)
    BF.leaky_relu(z, 0.2).sum().backward()
    assert z.grad.tolist() == [[0.2, 1.0]]
    with pytest.raises(ValueError, match="negative_slope"):
        BF.leaky_relu(z, 0.0)


@pytest.mark.parametrize("batch", [1, 5])
@pytest.mark.parametrize("contiguous", [True, False])
def test_linear_matches_torch_linear(device, batch, contiguous):
    h = _make((batch, 4), device, contiguous)
    W = _make((5, 3), device, True, seed=1)
    z1, (gh1, gW1) = _grads(BF.linear, h, W)
    W_t = W.detach()[:-1].mT.clone().requires_grad_()
    b = W.detach()[-1].clone().requires_grad_()
    z2, (gh2, gWt, gb) = _grads(F.linear, h, W_t, b)
    assert (z1 - z2).abs().max() < 1e-12
    assert (gh1 - gh2).abs().max() < 1e-12
    assert (gW1[:-1] - gWt.mT).abs().max() < 1e-12
    assert (gW1[-1] - gb).abs().max() < 1e-12  # eq. 12: the bias gradient is Σ δ


def test_linear_bias_row_gradient_is_sum_of_delta():
    h = torch.randn(7, 3, dtype=f64)
    W = torch.randn(4, 2, dtype=f64, requires_grad=True)
    delta = torch.randn(7, 2, dtype=f64)
    (gW,) = torch.autograd.grad(BF.linear(h, W), W, delta)
    assert torch.allclose(gW[-1], delta.sum(0), rtol=0, atol=1e-14)  # eq. 12
    assert torch.allclose(gW[:-1], h.T @ delta, rtol=0, atol=1e-14)  # eq. 9


@pytest.mark.parametrize("augmented", [True, False])
@pytest.mark.parametrize("with_out", [True, False])
def test_grad_W_narrow_output_path_is_eq_9(augmented, with_out):
    """A narrow ∇_W over a long product is formed as (δᵀ h)ᵀ (faster on CPU); it is still [h, 1]ᵀ δ."""
    g = torch.Generator().manual_seed(5)
    h = torch.randn(256, 300, generator=g, dtype=f64)
    delta = torch.randn(256, 3, generator=g, dtype=f64)
    assert bp._narrow_output(h, delta)
    expected = bp.augment(h).mT @ delta
    h_in = bp.augment(h) if augmented else h
    out = torch.full((301, 3), float("nan"), dtype=f64) if with_out else None
    gW = bp.grad_W(h_in, delta, out, augmented=augmented)
    assert gW.shape == (301, 3) and gW.is_contiguous()
    assert (gW - expected).abs().max() < 1e-12
    if with_out:
        assert gW.data_ptr() == out.data_ptr()


def test_linear_computes_only_requested_gradients():
    h = torch.randn(3, 4, dtype=f64)
    W = torch.randn(5, 2, dtype=f64, requires_grad=True)
    z = BF.linear(h, W)
    assert z.grad_fn is not None
    (gW,) = torch.autograd.grad(z.sum(), [W])
    assert gW.shape == W.shape


LOSSES = {
    "cross_entropy": (BF.cross_entropy, F.cross_entropy, "cls"),
    "binary_cross_entropy": (BF.binary_cross_entropy, F.binary_cross_entropy_with_logits, "soft"),
    "mse": (BF.mse, F.mse_loss, "soft"),
}


def _target(kind, batch, device, k=3):
    g = torch.Generator().manual_seed(7)
    if kind == "cls":
        return torch.randint(0, k, (batch,), generator=g).to(device)
    return torch.rand(batch, k, generator=g, dtype=f64).to(device)


@pytest.mark.parametrize("batch", [1, 6])
@pytest.mark.parametrize("contiguous", [True, False])
@pytest.mark.parametrize("name", LOSSES)
def test_losses_gradcheck_and_match_torch(device, name, batch, contiguous):
    ours, theirs, kind = LOSSES[name]
    z = _make((batch, 3), device, contiguous)
    t = _target(kind, batch, device)
    assert gradcheck(ours, (z, t))
    J1, (g1,) = _grads(ours, z, t)
    J2, (g2,) = _grads(theirs, z, t)
    assert abs(J1.item() - J2.item()) < 1e-12
    assert (g1 - g2).abs().max() < 1e-12


def test_cross_entropy_delta_is_softmax_minus_onehot_over_B():
    z = torch.randn(4, 3, dtype=f64, requires_grad=True)
    t = torch.tensor([0, 2, 1, 2])
    BF.cross_entropy(z, t).backward()
    expected = (torch.softmax(z.detach(), 1) - F.one_hot(t, 3)) / 4
    assert (z.grad - expected).abs().max() < 1e-15


def test_soft_targets_get_gradients():
    z = torch.randn(4, 3, dtype=f64, requires_grad=True)
    t = torch.rand(4, 3, dtype=f64, requires_grad=True)
    assert gradcheck(BF.binary_cross_entropy, (z, t))
    assert gradcheck(BF.mse, (z, t))
    assert gradgradcheck(BF.mse, (z, t))


@pytest.mark.parametrize("name", LOSSES)
def test_losses_stable_for_extreme_logits(name):
    ours, theirs, kind = LOSSES[name]
    z = torch.tensor([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 1000.0]], dtype=torch.float32,
                     requires_grad=True)
    t = torch.tensor([1, 0]) if kind == "cls" else torch.tensor([[1.0, 0.0, 0.5], [0.0, 1.0, 1.0]])
    J = ours(z, t)
    J.backward()
    assert torch.isfinite(J) and torch.isfinite(z.grad).all()
    if name != "mse":
        assert abs(J.item() - theirs(z.detach(), t).item()) < 1e-3 * max(1.0, abs(J.item()))


@pytest.mark.parametrize(
    "output,loss_name,fused,kind",
    [("softmax", "nll", BF.cross_entropy, "cls"),
     ("sigmoid", "bernoulli_nll", BF.binary_cross_entropy, "soft"),
     ("identity", "mse", BF.mse, "soft")],
)
def test_general_output_form_equals_fused_form(output, loss_name, fused, kind):
    """eq. 8: δ = ∇_o J ⊙ o' through the output activation equals the simplified fused δ."""
    z = torch.randn(6, 3, dtype=f64, requires_grad=True)
    t = _target(kind, 6, "cpu")
    J_general = BF.output_loss(z, t, output, loss_name)
    (d_general,) = torch.autograd.grad(J_general, z)
    J_fused = fused(z, t)
    (d_fused,) = torch.autograd.grad(J_fused, z)
    assert abs(J_general.item() - J_fused.item()) < 1e-12
    assert (d_general - d_fused).abs().max() < 1e-12


def test_general_form_with_any_activation():
    z = torch.randn(5, 2, dtype=f64, requires_grad=True)
    t = torch.rand(5, 2, dtype=f64)
    (d,) = torch.autograd.grad(BF.output_loss(z, t, "tanh", "mse"), z)
    o = torch.tanh(z.detach())
    assert (d - 2 * (o - t) / t.numel() * (1 - o * o)).abs().max() < 1e-15  # ∇_o J ⊙ o'
    with pytest.raises(ValueError, match="unknown loss"):
        BF.output_loss(z, t, "tanh", "hinge")


def test_nll_and_bernoulli_gradcheck():
    probs = torch.softmax(torch.randn(4, 3, dtype=f64), 1).requires_grad_()
    t = torch.tensor([0, 1, 2, 1])
    assert gradcheck(BF.nll, (probs, t))
    p = (torch.rand(4, 3, dtype=f64) * 0.8 + 0.1).requires_grad_()
    assert gradcheck(BF.bernoulli_nll, (p, torch.rand(4, 3, dtype=f64)))


def _per_layer(x, weights, acts):
    h = x
    for W, a in zip(weights[:-1], acts, strict=True):
        h = ACTIVATIONS[a][0](BF.linear(h, W))
    return BF.linear(h, weights[-1])


@pytest.mark.parametrize("acts", [("tanh", "relu"), ("sigmoid", "softplus"), ("leaky_relu", "identity")])
@pytest.mark.parametrize("batch", [1, 7])
def test_mlp_equals_per_layer_composition(device, acts, batch):
    g = torch.Generator().manual_seed(3)
    x = torch.randn(batch, 4, generator=g, dtype=f64).to(device).requires_grad_()
    Ws = [torch.randn(d_in + 1, d_out, generator=g, dtype=f64).to(device).requires_grad_()
          for d_in, d_out in [(4, 6), (6, 5), (5, 3)]]
    z1, g1 = _grads(lambda x, *W: BF.mlp(x, W, acts), x, *Ws)
    z2, g2 = _grads(lambda x, *W: _per_layer(x, W, acts), x, *Ws)
    assert (z1 - z2).abs().max() < 1e-12
    for a, b in zip(g1, g2, strict=True):
        assert (a - b).abs().max() < 1e-12


@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("contiguous", [True, False])
def test_mlp_gradcheck(batch, contiguous):
    x = _make((batch, 3), "cpu", contiguous)
    Ws = [_make((4, 5), "cpu", True, seed=1), _make((6, 2), "cpu", True, seed=2)]
    assert gradcheck(lambda x, W0, W1: BF.mlp(x, [W0, W1], ["tanh"]), (x, *Ws))


def test_mlp_without_hidden_layers_is_linear():
    x = torch.randn(3, 4, dtype=f64)
    W = torch.randn(5, 2, dtype=f64, requires_grad=True)
    assert (BF.mlp(x, [W], []) - BF.linear(x, W)).abs().max() < 1e-15
    assert gradcheck(lambda W: BF.mlp(x, [W], []), (W,))


def test_mlp_is_once_differentiable_and_says_so():
    x = torch.randn(3, 2, dtype=f64)
    W = torch.randn(3, 2, dtype=f64, requires_grad=True)
    z = BF.mlp(x, [W], [])
    with pytest.raises(RuntimeError, match="once-differentiable"):
        torch.autograd.grad(z.sum(), W, create_graph=True)


def test_mlp_detects_weights_changed_before_backward():
    x = torch.randn(3, 2)
    W = torch.randn(3, 2, requires_grad=True)
    z = BF.mlp(x, [W], [])
    with torch.no_grad():
        W.add_(1.0)
    with pytest.raises(RuntimeError, match="modified in place"):
        z.sum().backward()


def test_mlp_argument_errors():
    W = torch.randn(3, 2)
    with pytest.raises(ValueError, match="one activation per hidden layer"):
        BF.mlp(torch.randn(2, 2), [W, W], [])
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        BF.mlp(torch.randn(2, 2), [torch.randn(3, 2), W], ["swish"])


class _DropGrad(torch.autograd.Function):
    """Passes values through and sends back an undefined (None) gradient."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, g):
        return None


@pytest.mark.parametrize("fn", [BF.linear, BF.tanh, BF.softmax, BF.sigmoid, BF.identity, BF.leaky_relu])
def test_undefined_incoming_gradient_is_handled(fn):
    x = torch.randn(3, 4, dtype=f64, requires_grad=True)
    args = (x, torch.randn(5, 2, dtype=f64)) if fn is BF.linear else (x,)
    y = _DropGrad.apply(fn(*args))
    (gx,) = torch.autograd.grad(y.sum() + x.sum(), x)
    assert torch.equal(gx, torch.ones_like(x))


def test_undefined_gradient_into_mlp_and_losses():
    x = torch.randn(3, 2, dtype=f64, requires_grad=True)
    W = torch.randn(3, 2, dtype=f64, requires_grad=True)
    y = _DropGrad.apply(BF.cross_entropy(BF.mlp(x, [W], []), torch.tensor([0, 1, 1])))
    gx, gW = torch.autograd.grad(y + x.sum() + W.sum(), [x, W])
    assert torch.equal(gx, torch.ones_like(x)) and torch.equal(gW, torch.ones_like(W))


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16, torch.float16])
def test_low_precision_dtypes_run_and_agree(device, dtype):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(8, 3, generator=g).to(device, dtype)
    Ws = [torch.randn(4, 5, generator=g).to(device, dtype).requires_grad_(),
          torch.randn(6, 2, generator=g).to(device, dtype).requires_grad_()]
    t = torch.tensor([0, 1] * 4, device=device)
    J = BF.cross_entropy(BF.mlp(x, Ws, ["tanh"]), t)
    J.backward()
    ref = [W.detach().double().requires_grad_() for W in Ws]
    BF.cross_entropy(BF.mlp(x.double(), ref, ["tanh"]), t).backward()
    tol = 1e-5 if dtype == torch.float32 else 5e-2
    for W, R in zip(Ws, ref, strict=True):
        assert W.grad.dtype == dtype and W.grad.device.type == device
        assert (W.grad.double() - R.grad).abs().max() < tol



@pytest.mark.parametrize("name", list(bp.ACTIVATIONS))
def test_fused_backward_equals_the_written_formula(name):
    """back(g, o) (one kernel where ATen has it) is exactly g ⊙ dphi(o), the formula in the table."""
    act = bp.ACTIVATIONS[name]
    z = torch.linspace(-5, 5, 201, dtype=f64)
    o = act.phi(z)
    g = torch.randn(201, dtype=f64, generator=torch.Generator().manual_seed(0))
    assert (act.back(g, o) - g * act.dphi(o)).abs().max() < 1e-15
    # back_ writes the same δ over g and returns g itself
    g_ = g.clone()
    delta = act.back_(g_, o)
    assert delta.data_ptr() == g_.data_ptr()
    assert (delta - act.back(g, o)).abs().max() == 0


@pytest.mark.parametrize("shape", [(256, 10), (8, 3), (64, 40)])
def test_softmax_route_by_class_count_gives_torch_values(shape):
    """Few classes over a long batch take the transposed route (faster on CPU); values are torch's."""
    z = torch.randn(*shape, dtype=f64, generator=torch.Generator().manual_seed(4)) * 30
    assert bp._few_classes(z) == (shape == (256, 10))
    assert (bp.softmax(z) - torch.softmax(z, 1)).abs().max() < 1e-15
    assert (bp.softmax(z, log=True) - torch.log_softmax(z, 1)).abs().max() < 1e-13
    t = torch.randint(0, shape[1], (shape[0],), generator=torch.Generator().manual_seed(5))
    zg = z.clone().requires_grad_()
    BF.cross_entropy(zg, t).backward()
    assert (zg.grad - (torch.softmax(z, 1) - F.one_hot(t, shape[1])) / shape[0]).abs().max() < 1e-15
    assert abs(BF.cross_entropy(z, t).item() - F.cross_entropy(z, t).item()) < 1e-12
