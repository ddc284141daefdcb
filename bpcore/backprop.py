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

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from bpcore import guards

# ---------------------------------------------------------------------------------------------- layer
# z = Wᵀ h with h redefined as (h_1 … h_D 1)ᵀ (eq. 11): batched, z = [h, 1] W.


def augment(h: Tensor) -> Tensor:
    """[h, 1]: the input with the constant 1 appended that multiplies the bias row of W (eq. 11)."""
    return F.pad(h, (0, 1), value=1.0)


# A step's forward multiply-adds (batch × Σ D_in D_out) below which its Python-level operations, not its matrix
# products, set the pace: such a step runs on one thread (bpcore.train.threads) and carries [h, 1] (augment_pays).
SMALL_FLOPS = 1 << 20


def augment_pays(weights: Sequence[Tensor], batch_size: int = 32) -> bool:
    """Whether to carry [h, 1] through the network: one matmul per z and per ∇_W saves more Python-level
    operations than the copy costs while the work is small (measured: 13-64-3 at batch 32 trains 17 % faster,
    784-512-512-10 at 256 on one thread 2 % faster); on large products run by the thread pool the copy and the
    odd row length (D + 1) cost up to 5 %, so z = h W[:-1] + W[-1] is used there."""
    return batch_size * sum((W.shape[0] - 1) * W.shape[1] for W in weights) < SMALL_FLOPS


def linear(h: Tensor, W: Tensor) -> Tensor:
    """z = [h, 1] W (eq. 3, 11); h may already carry its appended 1."""
    return torch.mm(h, W) if h.shape[-1] == W.shape[0] else torch.addmm(W[-1], h, W[:-1])


def grad_W(h: Tensor, delta: Tensor, out: Tensor | None = None, augmented: bool = True) -> Tensor:
    """∇_W J = Σ_batch h δᵀ = [h, 1]ᵀ δ (eq. 9); its last row, Σ_batch δ, is ∇_b J (eq. 12).

    With `augmented` h already carries its 1 and this is one matmul; otherwise the rows are written apart.
    Without `out` and with `augmented` it is differentiable (the per-layer Function's double backward).
    """
    if out is None and augmented:
        return torch.mm(delta.mT, h).mT.contiguous() if _narrow_output(h, delta) else torch.mm(h.mT, delta)
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


def grad_h(delta: Tensor, W: Tensor, rows_T: Tensor | None = None) -> Tensor:
    """∂J/∂h = δ W[:-1]ᵀ: the error sent back to the layer below (the bias row has no input). `rows_T` is that
    W[:-1]ᵀ when the caller keeps the view (1.3 µs a call saved)."""
    return torch.mm(delta, W[:-1].mT if rows_T is None else rows_T)


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
    # φ in numpy, written over its argument: drawing only (bpcore.inspect.field), where torch's float32 tanh
    # took 13× numpy's time on the CPU (160 vs 13 µs for 80,000 values)
    np_phi_: Callable[[np.ndarray], np.ndarray] | None = None
    back: Callable[[Tensor, Tensor], Tensor] = field(init=False, repr=False, compare=False)
    back_: Callable[[Tensor, Tensor], Tensor] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # δ = g ⊙ o' (eq. 8 and the hidden-layer recursion), bound once: it runs per layer per step
        object.__setattr__(self, "back", self.fused_back or (lambda g, o: g * self.dphi(o)))
        object.__setattr__(self, "back_", self.fused_back_ or (lambda g, o: g.mul_(self.dphi(o))))


def _np_sigmoid_(z: np.ndarray) -> np.ndarray:
    """1 / (1 + e^−z) over z (e^−z overflowing to ∞ gives the limit 0)."""
    with np.errstate(over="ignore"):
        np.exp(np.negative(z, out=z), out=z)
    z += 1
    return np.reciprocal(z, out=z)


def _np_softmax_(z: np.ndarray) -> np.ndarray:
    """softmax over the last dimension of a (N, K) z, computed on zᵀ: numpy reduces over K < 16 classes
    element by element along the rows, ~20× slower than across them."""
    zt = np.ascontiguousarray(z.T)
    zt -= zt.max(0)
    np.exp(zt, out=zt)
    zt /= zt.sum(0)
    return zt.T


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
                   _aten.sigmoid_backward, _over_g(_aten.sigmoid_backward), _np_sigmoid_),
        # o = tanh z:  o' = 1 − o²
        Activation("tanh", torch.tanh, lambda o: 1 - o * o, torch.tanh_,
                   _aten.tanh_backward, _over_g(_aten.tanh_backward), lambda z: np.tanh(z, out=z)),
        # o = max(z, 0):  o' = [o > 0]
        Activation("relu", torch.relu, lambda o: (o > 0).to(o.dtype), torch.relu_,
                   partial(_aten.threshold_backward.default, threshold=0), _over_g(_aten.threshold_backward, 0),
                   lambda z: np.maximum(z, 0, out=z)),
        # o = z if z > 0 else 0.01 z:  o' = 1 if o > 0 else 0.01
        Activation("leaky_relu", leaky_relu, lambda o: leaky_relu_back(torch.ones_like(o), o),
                   lambda z: F.leaky_relu_(z, 0.01), leaky_relu_back, None, lambda z: np.maximum(z, 0.01 * z, out=z)),
        # o = log(1 + e^z):  o' = σ(z) = 1 − e^−o
        Activation("softplus", F.softplus, lambda o: -torch.expm1(-o), F.softplus, None, None,
                   lambda z: np.logaddexp(0, z, out=z)),
        # o = z:  o' = 1
        Activation("identity", lambda z: z, torch.ones_like, lambda z: z, lambda g, o: g, lambda g, o: g, lambda z: z),
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


def _class_ids(where: str, z: Tensor, target: Tensor) -> Tensor:
    """target as a (B, 1) index after the shape and dtype checks (ids are bounds-checked by the gather or
    scatter that uses it: on the CPU an id outside 0..K−1, −100 included, fails there, see `_translated`)."""
    if target.dtype != torch.int64 or target.ndim != 1 or z.ndim != 2 or target.shape[0] != z.shape[0] \
            or not target.is_cpu:  # the usual case costs these compares only
        guards.check_class_target(where, z, target)
    return target.unsqueeze(1)


def _translated(where: str, target: Tensor, k: int, error: Exception) -> Exception:
    """A gather/scatter bounds error turned into the ClassIdError naming the row (the caught error otherwise)."""
    if target.numel() and bool(((target < 0) | (target >= k)).any()):
        return guards.class_id_error(where, target, k)
    return error


# Below this mean J, −log o_t from log softmax may have lost digits (o_t ≈ 1: log Σ e^{z−m} rounds 1 + s
# to 1); at or above it that form is accurate (relative error ≤ eps / 0.1 ≈ 6e-7 in float32).
_SMALL_CE = 0.1


def _ce_rows(log_o_t: Tensor, rest: Tensor) -> Tensor:
    """J_i = −log o_t (from log o_t, (B, 1)) accurately: −log1p(−Σ_{k≠t} o_k) while o_t > ½ (no cancellation
    there), else −log o_t."""
    return torch.where(rest < 0.5, torch.log1p(-rest), log_o_t).neg_().squeeze(1)


def _ce_parts(where: str, z: Tensor, target: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """log o = log softmax(z), the (B, 1) ids, o with its target entries zeroed and Σ_{k≠t} o_k = 1 − o_t."""
    t1 = _class_ids(where, z, target)
    log_o = softmax(z, log=True)
    try:
        o = log_o.exp().scatter_(1, t1, 0.0)
    except (RuntimeError, IndexError) as e:
        raise _translated(where, target, z.shape[1], e) from None
    return log_o, t1, o, o.sum(1, keepdim=True)


def cross_entropy_rows(z: Tensor, target: Tensor, where: str = "cross_entropy") -> Tensor:
    """J_i = −log softmax(z)_i,t_i for each row, accurate in float32 wherever J_i is a normal number."""
    log_o, t1, _, rest = _ce_parts(where, z, target)
    return _ce_rows(log_o.gather(1, t1), rest)


def cross_entropy(z: Tensor, target: Tensor, where: str = "cross_entropy", refine: bool = True) -> Tensor:
    """J = −mean_i log softmax(z)_i,t_i = mean_i (log Σ_k e^{z_ik} − z_i,t_i), stable for any z and accurate
    when o_t ≈ 1 (then −log o_t = −log1p(−Σ_{k≠t} o_k), not the 0 that log softmax rounds to). Without `refine`
    a J below 0.1 keeps log softmax's digits (absolute error ≤ ~1e-7 in float32) at a third of the cost."""
    t1 = _class_ids(where, z, target)
    log_o = softmax(z, log=True)
    try:
        log_o_t = log_o.gather(1, t1)
    except (RuntimeError, IndexError) as e:
        raise _translated(where, target, z.shape[1], e) from None
    J = log_o_t.mean().neg_()
    if not refine or not float(J) < _SMALL_CE:
        return J
    o = log_o.exp().scatter_(1, t1, 0.0)  # the ids are in range: the gather checked them
    return _ce_rows(log_o_t, o.sum(1, keepdim=True)).mean()  # cross_entropy_rows on the same log o


def cross_entropy_and_delta(z: Tensor, target: Tensor, where: str = "cross_entropy",
                            mean: bool = True) -> tuple[Tensor, Tensor]:
    """J and δ^(L) = (o − onehot(t)) / B together (one log softmax for both); see `cross_entropy_delta`.
    Without `mean` δ^(L) is B times that (o − onehot(t)), for a caller that scales it anyway."""
    log_o, t1, o, rest = _ce_parts(where, z, target)
    J = F.nll_loss(log_o, target)  # every id is in range: the scatter above checked them
    if float(J) < _SMALL_CE:
        J = _ce_rows(log_o.gather(1, t1), rest).mean()
    delta = o.scatter_(1, t1, rest.neg_())
    return J, delta.div_(target.shape[0]) if mean else delta


def cross_entropy_delta(z: Tensor, target: Tensor, where: str = "cross_entropy") -> Tensor:
    """δ^(L) = (softmax(z) − onehot(t)) / B (eq. 8 with o = softmax, simplified). Not differentiable.

    The target's entry is written as o_t − 1 = −Σ_{k≠t} o_k: the sum of the other classes keeps the digits
    that o_t − 1 loses when o_t ≈ 1 (in float32 o_t rounds to 1 once 1 − o_t < 3e-8).
    """
    t1 = _class_ids(where, z, target)
    o = softmax(z)
    try:
        o.scatter_(1, t1, 0.0)
    except (RuntimeError, IndexError) as e:
        raise _translated(where, target, z.shape[1], e) from None
    return o.scatter_(1, t1, o.sum(1, keepdim=True).neg_()).div_(target.shape[0])


def binary_cross_entropy(z: Tensor, target: Tensor, where: str = "binary_cross_entropy") -> Tensor:
    """J = mean (t softplus(−z) + (1 − t) softplus(z)): sigmoid + Bernoulli negative log-likelihood on logits.

    Equal to softplus(z) − t z, without its cancellation for large z (both terms are ≥ 0 for t in [0, 1]);
    torch.lerp is exact at t = 0 and t = 1 and takes the non-cancelling branch in between.
    """
    guards.check_float_target(where, z, target)
    return binary_cross_entropy_elements(z, target).mean()


def binary_cross_entropy_elements(z: Tensor, target: Tensor) -> Tensor:
    """t softplus(−z) + (1 − t) softplus(z) per element, unchecked (the mean is `binary_cross_entropy`)."""
    return torch.lerp(F.softplus(z), F.softplus(-z), target)


def binary_cross_entropy_delta(z: Tensor, target: Tensor, where: str = "binary_cross_entropy") -> Tensor:
    """δ^(L) = ((1 − t) σ(z) − t σ(−z)) / n = (σ(z) − t) / n (eq. 8 with o = σ, simplified).

    Written with σ(−z) for the t part: σ(z) − 1 rounds to 0 in float32 once z ≳ 17, σ(−z) does not.
    """
    guards.check_float_target(where, z, target)
    return torch.lerp(torch.sigmoid(z), -torch.sigmoid(-z), target) / target.numel()  # differentiable


def mse(o: Tensor, target: Tensor, where: str = "mse") -> Tensor:
    """J = mean (o − t)² (Gaussian negative log-likelihood up to constants); o and t of one shape."""
    guards.check_float_target(where, o, target, "o")
    return (o - target).square().mean()


def mse_rows(o: Tensor, target: Tensor, where: str = "mse") -> Tensor:
    """J_i = mean_k (o_ik − t_ik)² for each row (their mean is `mse`: every row has the same K columns)."""
    guards.check_float_target(where, o, target, "o")
    return (o - target).square().mean(1)


def binary_cross_entropy_rows(z: Tensor, target: Tensor, where: str = "binary_cross_entropy") -> Tensor:
    """J_i of `binary_cross_entropy` for each row (mean over the row's outputs)."""
    guards.check_float_target(where, z, target)
    return binary_cross_entropy_elements(z, target).mean(1)


def mse_grad(o: Tensor, target: Tensor, where: str = "mse") -> Tensor:
    """∇_o J = 2 (o − t) / n; with o = z this is δ^(L) itself (o' = 1)."""
    guards.check_float_target(where, o, target, "o")
    return 2 * (o - target) / target.numel()


def nll(o: Tensor, target: Tensor, where: str = "nll") -> Tensor:
    """J = −mean_i log o_i,t_i for class probabilities o (the general form of eq. 1)."""
    t1 = _class_ids(where, o, target)
    try:
        return -torch.log(o.gather(1, t1)).mean()
    except (RuntimeError, IndexError) as e:
        raise _translated(where, target, o.shape[1], e) from None


def nll_grad(o: Tensor, target: Tensor, where: str = "nll") -> Tensor:
    """∇_o J = −onehot(t) / (B o): only the target's probability is pulled up."""
    t1 = _class_ids(where, o, target)
    try:
        return torch.zeros_like(o).scatter(1, t1, o.gather(1, t1).reciprocal() * (-1 / len(target)))
    except (RuntimeError, IndexError) as e:
        raise _translated(where, target, o.shape[1], e) from None


def bernoulli_nll(o: Tensor, target: Tensor, where: str = "bernoulli_nll") -> Tensor:
    """J = −mean (t log o + (1 − t) log(1 − o)) for probabilities o."""
    guards.check_float_target(where, o, target, "o")
    return -(target * torch.log(o) + (1 - target) * torch.log1p(-o)).mean()


def bernoulli_nll_grad(o: Tensor, target: Tensor, where: str = "bernoulli_nll") -> Tensor:
    """∇_o J = (o − t) / (o (1 − o) n)."""
    guards.check_float_target(where, o, target, "o")
    return (o - target) / (o * (1 - o) * target.numel())


def binary_cross_entropy_and_delta(z: Tensor, target: Tensor, where: str = "binary_cross_entropy"):
    """J and δ^(L) of the binary cross-entropy (see the two functions)."""
    return binary_cross_entropy(z, target, where), binary_cross_entropy_delta(z, target, where)


def mse_and_grad(o: Tensor, target: Tensor, where: str = "mse") -> tuple[Tensor, Tensor]:
    """J and ∇_o J of the mean squared error (o − t computed once)."""
    guards.check_float_target(where, o, target, "o")
    diff = o - target
    return diff.square().mean(), diff.mul_(2 / target.numel())


@dataclass(frozen=True)
class Output:
    """An output kind, everything about it in one place: o = output(z^(L)), the loss J of eq. 1 that goes with
    it and its δ^(L) of eq. 8 (each taking (z, target, where); `where` names the caller in messages of refused
    targets), both at once for a forward that knows a backward follows, the targets' form and the task.

    The trainer, the fused Functions, the inspector, the CLI and the window take these from `output_kind`,
    never by comparing names.
    """

    name: str
    o: Callable[[Tensor], Tensor]  # output activation of z^(L) (predictions)
    loss: Callable[..., Tensor]  # J(z, t): mean over the batch (eq. 1)
    delta: Callable[..., Tensor]  # δ^(L) = ∂J/∂z (eq. 8), not differentiable
    loss_and_delta: Callable[..., tuple[Tensor, Tensor]]  # (J, δ^(L)) from one pass
    task: str  # "classification" or "regression"
    target: str  # "class ids" (int64, (B,)), "0/1" (float, (B, 1)) or "values" (float, (B, T))
    loss_name: str  # for labels: "cross-entropy", "binary cross-entropy", "mean squared error"
    units: Callable[[int, int], int]  # (classes K, target columns T) -> units of the output layer
    classes: Callable[[int], int]  # units of the output layer -> classes it tells apart (0: values)
    targets: Callable[[Tensor, torch.dtype, int, int], Tensor]  # (y, dtype, rows, T) -> the loss's target
    grad_o: Callable[..., Tensor]  # ∇_o J (eq. 5 ①) of the same J written on o, (o, target, where)
    do: Callable[[Tensor], Tensor]  # o' (eq. 5 ②) from o; for softmax the diagonal of its Jacobian ∂o/∂z
    coupled: bool  # ∂o_k/∂z_j ≠ 0 for k ≠ j (softmax): δ = (∂o/∂z)ᵀ ∇_o J, not ∇_o J ⊙ o'
    loss_rows: Callable[..., Tensor]  # J_i(z, t) of each row: `loss` is their mean (the trainer's evaluation)
    np_o_: Callable[[np.ndarray], np.ndarray]  # o from a (N, K) numpy z it may write over (drawing only)
    # J(z, t) of a mini-batch for the divergence test of an epoch without metrics: `loss` to ~1e-7 absolute
    # (cross-entropy skips its refinement below 0.1, a third of its cost there; the others are `loss`)
    rough_loss: Callable[..., Tensor]

    @property
    def classifies(self) -> bool:
        """True for class outputs (softmax, sigmoid): scored by accuracy, not R²."""
        return self.task == "classification"


OUTPUT_KINDS: dict[str, Output] = {
    k.name: k
    for k in (
        # o = softmax(z), J = −mean log o_t, δ^(L) = (o − onehot(t)) / B
        Output("softmax", softmax, cross_entropy, cross_entropy_delta, cross_entropy_and_delta,
               "classification", "class ids", "cross-entropy", lambda k, t: k, lambda n: n,
               lambda y, dtype, rows, t: y.long().reshape(rows), nll_grad, lambda o: o * (1 - o), True,
               cross_entropy_rows, _np_softmax_, partial(cross_entropy, refine=False)),
        # o = σ(z), J = −mean (t log o + (1 − t) log(1 − o)), δ^(L) = (o − t) / n
        Output("sigmoid", torch.sigmoid, binary_cross_entropy, binary_cross_entropy_delta,
               binary_cross_entropy_and_delta, "classification", "0/1", "binary cross-entropy",
               lambda k, t: 1, lambda n: 2, lambda y, dtype, rows, t: y.to(dtype).reshape(rows, 1),
               bernoulli_nll_grad, lambda o: o * (1 - o), False, binary_cross_entropy_rows, _np_sigmoid_,
               binary_cross_entropy),
        # o = z, J = mean (o − t)², δ^(L) = 2 (o − t) / n
        Output("identity", lambda z: z, mse, mse_grad, mse_and_grad, "regression", "values",
               "mean squared error", lambda k, t: t, lambda n: 0,
               lambda y, dtype, rows, t: y.to(dtype).reshape(rows, t), mse_grad, torch.ones_like, False, mse_rows,
               lambda z: z, mse),
    )
}
assert tuple(OUTPUT_KINDS) == OUTPUTS


def output_kind(name: str) -> Output:
    """Look up an output kind by name (ValueError listing the valid names)."""
    try:
        return OUTPUT_KINDS[name]
    except KeyError:
        raise ValueError(f"unknown output {name!r}; choose one of {', '.join(OUTPUTS)}") from None


def output(name: str, z: Tensor) -> Tensor:
    """o = output activation of z^(L): softmax, sigmoid or identity."""
    return output_kind(name).o(z)


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
    rows_T: Sequence[Tensor] | None = None,
) -> tuple[list[Tensor | None], Tensor | None]:
    """Backpropagate δ^(L) through the network: ∇_W J per layer and, when asked, ∂J/∂x.

    `hs`, `os` come from forward_pass. `want[l]` False skips layer l's ∇_W; `out[l]` is a buffer to
    write it into; `deltas`, when given, collects δ^(L), δ^(L−1), …, δ^(1) from the top down. `rows_T`: each
    layer's W[:-1]ᵀ when the caller keeps these views (of weights that never move), for `grad_h`.
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
        delta = backs[l - 1](grad_h(delta, weights[l], None if rows_T is None else rows_T[l]), os[l - 1])
    return grads, grad_h(delta, weights[0]) if need_input_grad else None
