"""The derivation as code: every derivative formula of the lecture, written once.

Each activation φ sits next to its derivative o' (written from the output o, as ATen does), the linear
layer z = [h, 1] W (eq. 11) sits next to ∇_W J = [h, 1]ᵀ δ (eq. 9, 12), and the output δ of eq. 8 sits
next to its losses. The autograd Functions (`bpcore.functional`), the fused network Function, the
graph-free trainer step (`bpcore.train`) and the inspector (`bpcore.inspect`) all call these; none has
maths of its own.

Batches are rows: h is (B, D_in), W is (D_in + 1, D_out) with the biases b as its last row, z is (B, D_out).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import torch
import torch.nn.functional as F
from torch import Tensor

# ---------------------------------------------------------------------------------------------- layer
# z = Wᵀ h with h redefined as (h_1 … h_D 1)ᵀ (eq. 11): batched, z = [h, 1] W.


def augment(h: Tensor) -> Tensor:
    """[h, 1]: the input with the constant 1 appended that multiplies the bias row of W (eq. 11)."""
    return F.pad(h, (0, 1), value=1.0)


def augment_pays(weights: Sequence[Tensor], widest: int = 64) -> bool:
    """Whether to carry [h, 1] through the network: for narrow layers one matmul per z and per ∇_W saves
    more Python-level operations than the copy costs; for wide layers the copy and the odd row length
    (D + 1) slow the matrix products down, so z = h W[:-1] + W[-1] is used instead (measured in
    benchmarks/bench_trainer.py)."""
    return max(max(W.shape) for W in weights) <= widest


def linear(h: Tensor, W: Tensor) -> Tensor:
    """z = [h, 1] W (eq. 3, 11); h may already carry its appended 1."""
    return h @ W if h.shape[-1] == W.shape[0] else torch.addmm(W[-1], h, W[:-1])


def grad_W(h: Tensor, delta: Tensor, out: Tensor | None = None, augmented: bool = True) -> Tensor:
    """∇_W J = Σ_batch h δᵀ = [h, 1]ᵀ δ (eq. 9); its last row, Σ_batch δ, is ∇_b J (eq. 12).

    With `augmented` h already carries its 1 and this is one matmul; otherwise the rows are written apart.
    Without `out` and with `augmented` it is differentiable (the per-layer Function's double backward).
    """
    if out is None and augmented:
        return torch.mm(delta.mT, h).mT.contiguous() if _narrow_output(h, delta) else h.mT @ delta
    if out is None:
        out = delta.new_empty(h.shape[-1] + 1, delta.shape[-1])
    rows = out if augmented else out[:-1]
    if _narrow_output(h, delta):
        # MKL forms a tall, narrow hᵀ δ 2–3× slower than its transpose δᵀ h; the copy costs less than that
        rows.copy_(torch.mm(delta.mT, h).mT)
    else:
        torch.mm(h.mT, delta, out=rows)
    if not augmented:
        torch.sum(delta, 0, out=out[-1])
    return out


def _narrow_output(h: Tensor, delta: Tensor) -> bool:
    """Whether ∇_W is narrow (≤ 16 outputs) over a long product (B · D_in ≥ 2¹⁶), on the CPU (measured in
    benchmarks/bench_layouts.py: e.g. B 256, 512 → 10 takes 64 µs direct, 32 µs transposed + copy)."""
    return h.numel() >= 1 << 16 and delta.shape[-1] <= 16 and delta.is_cpu


def update(W: Tensor | list[Tensor], grad: Tensor | list[Tensor], lr: float) -> None:
    """W ← W − μ ∇_W J (eq. 10), in place; lists of tensors are updated in one fused call."""
    if isinstance(W, Tensor):
        W.sub_(grad, alpha=lr)
    else:
        torch._foreach_sub_(W, grad, alpha=lr)


def grad_h(delta: Tensor, W: Tensor) -> Tensor:
    """∂J/∂h = δ W[:-1]ᵀ: the error sent back to the layer below (the bias row has no input)."""
    return delta @ W[:-1].mT


# ------------------------------------------------------------------------------------------ activations


@dataclass(frozen=True)
class Activation:
    """An elementwise φ with its derivative o' = dφ/dz written from the output o = φ(z).

    `dphi` is the formula; `back(g, o)` computes δ = g ⊙ o' with it in one pass over memory: for sigmoid,
    tanh and ReLU that is ATen's fused kernel of exactly this product (tests assert back(g, o) = g ⊙ dphi(o)).
    `back_(g, o)` writes the same δ over g, for a g nobody else holds (the network's own ∂J/∂h).
    """

    name: str
    phi: Callable[[Tensor], Tensor]
    dphi: Callable[[Tensor], Tensor]  # o -> o' (eq. 5 ②)
    phi_: Callable[[Tensor], Tensor]  # in-place φ, for buffers nobody else holds
    fused_back: Callable[[Tensor, Tensor], Tensor] | None = None  # (g, o) -> g ⊙ o' in one kernel
    fused_back_: Callable[[Tensor, Tensor], Tensor] | None = None  # the same, written over g
    back: Callable[[Tensor, Tensor], Tensor] = field(init=False, repr=False, compare=False)
    back_: Callable[[Tensor, Tensor], Tensor] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # δ = g ⊙ o' (eq. 8 and the hidden-layer recursion), bound once: it runs per layer per step
        object.__setattr__(self, "back", self.fused_back or (lambda g, o: g * self.dphi(o)))
        object.__setattr__(self, "back_", self.fused_back_ or (lambda g, o: g.mul_(self.dphi(o))))


def leaky_relu(z: Tensor, negative_slope: float = 0.01) -> Tensor:
    """o = z for z > 0, else negative_slope · z."""
    return F.leaky_relu(z, negative_slope)


def leaky_relu_back(g: Tensor, o: Tensor, negative_slope: float = 0.01) -> Tensor:
    """g ⊙ o' with o' = 1 where o > 0, else negative_slope (for a slope > 0, o > 0 exactly when z > 0)."""
    return torch.where(o > 0, g, g * negative_slope)


_aten = torch.ops.aten


def _over_g(op, *args) -> Callable[[Tensor, Tensor], Tensor]:
    """ATen's g ⊙ o' kernel `op` writing its result over g (its grad_input overload): no new buffer."""
    return lambda g, o: op.grad_input(g, o, *args, grad_input=g)


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        # o = 1/(1+e^−z):  o' = o (1 − o)
        Activation("sigmoid", torch.sigmoid, lambda o: o * (1 - o), torch.sigmoid_,
                   _aten.sigmoid_backward, _over_g(_aten.sigmoid_backward)),
        # o = tanh z:  o' = 1 − o²
        Activation("tanh", torch.tanh, lambda o: 1 - o * o, torch.tanh_,
                   _aten.tanh_backward, _over_g(_aten.tanh_backward)),
        # o = max(z, 0):  o' = [o > 0]
        Activation("relu", torch.relu, lambda o: (o > 0).to(o.dtype), torch.relu_,
                   partial(_aten.threshold_backward.default, threshold=0), _over_g(_aten.threshold_backward, 0)),
        # o = z if z > 0 else 0.01 z:  o' = 1 if o > 0 else 0.01
        Activation("leaky_relu", leaky_relu, lambda o: leaky_relu_back(torch.ones_like(o), o),
                   lambda z: F.leaky_relu_(z, 0.01), leaky_relu_back),
        # o = log(1 + e^z):  o' = σ(z) = 1 − e^−o
        Activation("softplus", F.softplus, lambda o: -torch.expm1(-o), F.softplus),
        # o = z:  o' = 1
        Activation("identity", lambda z: z, torch.ones_like, lambda z: z, lambda g, o: g, lambda g, o: g),
    )
}

HIDDEN_ACTIVATIONS: tuple[str, ...] = tuple(ACTIVATIONS)
OUTPUTS: tuple[str, ...] = ("softmax", "sigmoid", "identity")


def activation(name: str) -> Activation:
    """Look up an elementwise activation by name (ValueError listing the valid names)."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}") from None


def softmax(z: Tensor, log: bool = False) -> Tensor:
    """o = softmax(z) (or log o) over the classes, the last dimension."""
    if _few_classes(z):
        # ATen's last-dimension kernel loops scalar-wise below 16 classes; the same reduction taken over
        # dim 0 of zᵀ runs vectorised across the batch, up to 3× faster (benchmarks/bench_layouts.py)
        return (torch.log_softmax if log else torch.softmax)(z.mT, 0).mT
    return (torch.log_softmax if log else torch.softmax)(z, -1)


def _few_classes(z: Tensor) -> bool:
    return z.dim() == 2 and z.shape[1] < 16 and z.numel() >= 1024 and z.is_cpu


def softmax_back(g: Tensor, o: Tensor) -> Tensor:
    """Softmax Jacobian-vector product Jᵀ g = o ⊙ (g − ⟨g, o⟩), without building the Jacobian."""
    return o * (g - (g * o).sum(-1, keepdim=True))


# ------------------------------------------------------------------------------------------------ losses
# J_ML of eq. 1 as a mean over the batch: the negative log-likelihood of the targets.


def log_softmax_nll(z: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """J = −mean_i log o_i,t_i with log o = log softmax(z), stable for any z; returns J and log o."""
    log_o = softmax(z, log=True)
    return F.nll_loss(log_o, target), log_o


def cross_entropy(z: Tensor, target: Tensor) -> Tensor:
    """J = −mean_i log softmax(z)_i,t_i = mean_i (log Σ_k e^{z_ik} − z_i,t_i), stable for any z."""
    return log_softmax_nll(z, target)[0]


def onehot_delta(o: Tensor, target: Tensor) -> Tensor:
    """δ^(L) = (o − onehot(t)) / B for class probabilities o (B, K), written into o."""
    o.scatter_(1, target.unsqueeze(1), -1.0, reduce="add")
    return o.div_(len(target))


def cross_entropy_delta(z: Tensor, target: Tensor) -> Tensor:
    """δ^(L) = (softmax(z) − onehot(t)) / B (eq. 8 with o = softmax, simplified). Not differentiable."""
    return onehot_delta(softmax(z), target)


def binary_cross_entropy(z: Tensor, target: Tensor) -> Tensor:
    """J = mean (softplus(z) − t z): sigmoid + Bernoulli negative log-likelihood on logits."""
    return (F.softplus(z) - target * z).mean()


def binary_cross_entropy_delta(z: Tensor, target: Tensor) -> Tensor:
    """δ^(L) = (σ(z) − t) / n (eq. 8 with o = σ, simplified)."""
    return (torch.sigmoid(z) - target) / target.numel()


def mse(o: Tensor, target: Tensor) -> Tensor:
    """J = mean (o − t)² (Gaussian negative log-likelihood up to constants)."""
    return (o - target).square().mean()


def mse_grad(o: Tensor, target: Tensor) -> Tensor:
    """∇_o J = 2 (o − t) / n; with o = z this is δ^(L) itself (o' = 1)."""
    return 2 * (o - target) / target.numel()


def nll(o: Tensor, target: Tensor) -> Tensor:
    """J = −mean_i log o_i,t_i for class probabilities o (the general form of eq. 1)."""
    return -torch.log(o.gather(1, target[:, None])).mean()


def nll_grad(o: Tensor, target: Tensor) -> Tensor:
    """∇_o J = −onehot(t) / (B o): only the target's probability is pulled up."""
    g = torch.zeros_like(o)
    rows = torch.arange(len(target), device=o.device)
    g[rows, target] = -1 / (len(target) * o[rows, target])
    return g


def bernoulli_nll(o: Tensor, target: Tensor) -> Tensor:
    """J = −mean (t log o + (1 − t) log(1 − o)) for probabilities o."""
    return -(target * torch.log(o) + (1 - target) * torch.log1p(-o)).mean()


def bernoulli_nll_grad(o: Tensor, target: Tensor) -> Tensor:
    """∇_o J = (o − t) / (o (1 − o) n)."""
    return (o - target) / (o * (1 - o) * target.numel())


# Output kind -> (fused loss on logits z, its δ^(L)); `predict` applies the output activation.
LOSSES: dict[str, tuple[Callable[[Tensor, Tensor], Tensor], Callable[[Tensor, Tensor], Tensor]]] = {
    "softmax": (cross_entropy, cross_entropy_delta),
    "sigmoid": (binary_cross_entropy, binary_cross_entropy_delta),
    "identity": (mse, mse_grad),
}


def output(name: str, z: Tensor) -> Tensor:
    """o = output activation of z^(L): softmax, sigmoid or identity."""
    if name == "softmax":
        return softmax(z)
    if name == "sigmoid":
        return torch.sigmoid(z)
    if name == "identity":
        return z
    raise ValueError(f"unknown output {name!r}; choose one of {', '.join(OUTPUTS)}")


# ------------------------------------------------------------------------------------- the whole network


def forward_pass(x: Tensor, weights: Sequence[Tensor], activations: Sequence[str]) -> tuple[list, list, Tensor]:
    """Run the network. Returns the layer inputs [h^(0), …, h^(L−1)], the hidden outputs
    [o^(1), …, o^(L−1)] and the logits z^(L). If x comes augmented ([x, 1], see `augment` and
    `augment_pays`) every layer input keeps its appended 1 (eq. 11); otherwise none does."""
    keep_one = x.shape[-1] == weights[0].shape[0]
    h, hs, os = x, [x], []
    for W, name in zip(weights[:-1], activations, strict=True):
        o = ACTIVATIONS[name].phi_(linear(h, W))
        h = augment(o) if keep_one else o
        hs.append(h)
        os.append(o)
    return hs, os, linear(h, weights[-1])


def backward_pass(
    hs: Sequence[Tensor],
    os: Sequence[Tensor],
    weights: Sequence[Tensor],
    activations: Sequence[str],
    delta: Tensor,
    *,
    want: Sequence[bool] | None = None,
    out: Sequence[Tensor] | None = None,
    need_input_grad: bool = False,
    deltas: list[Tensor] | None = None,
) -> tuple[list[Tensor | None], Tensor | None]:
    """Backpropagate δ^(L) through the network: ∇_W J per layer and, when asked, ∂J/∂x.

    `hs`, `os` come from forward_pass. `want[l]` False skips layer l's ∇_W; `out[l]` is a buffer to
    write it into; `deltas`, when given, collects δ^(L), δ^(L−1), …, δ^(1) from the top down.
    """
    grads: list[Tensor | None] = [None] * len(weights)
    backs = [ACTIVATIONS[name].back_ for name in activations]  # over ∂J/∂h, which grad_h made fresh
    augmented = hs[0].shape[-1] == weights[0].shape[0]
    for l in range(len(weights) - 1, -1, -1):
        if deltas is not None:
            deltas.append(delta)
        if want is None or want[l]:
            # eq. 9, 12: ∇_W J = [h, 1]ᵀ δ
            grads[l] = grad_W(hs[l], delta, None if out is None else out[l], augmented)
        if l == 0:
            break
        # hidden-layer recursion: δ^(l) = (δ^(l+1) W^(l+1)[:-1]ᵀ) ⊙ φ'(z^(l))
        delta = backs[l - 1](grad_h(delta, weights[l]), os[l - 1])
    return grads, grad_h(delta, weights[0]) if need_input_grad else None
