"""Look inside backpropagation: every quantity of eq. (5)–(12), per layer, for one sample or a batch.

`trace` runs bpcore.backprop's own forward_pass/backward_pass (the formulas the Functions and the trainer
use) and returns h, z, o, o', ∇_o J, δ, ∇_W J = h δᵀ and the update −μ h δᵀ per layer as numpy arrays.
`check` compares its gradients with torch autograd and with finite differences. `field` evaluates a
network over a 2-D input plane (decision boundaries, per-neuron thumbnails).

Example::

    from bpcore.inspect import trace
    t = trace(model.weights, model.activations, model.output, x[:1], y[:1], lr=0.1)
    t.layers[-1].delta            # δ^(L) = ∇_o J ⊙ o' (eq. 8); softmax: (∂o/∂z)ᵀ ∇_o J
    t.layers[-1].grad_W[-1]       # the bias row of ∇_W J equals δ^(L) (eq. 12)
    t.chain_rule(i=0, j=1)        # the three factors of eq. 5 for w_01 (0-based), multiplied out
    t.chain_rule(0, 1, layer=1)   # the same for a hidden-layer weight: ∂J/∂h_j · φ'_j · h_i

Conventions: J is the mean over the B inspected rows (the trainer's loss); `reduction="sum"` gives eq. 1's sum,
B times the mean, and every gradient with it. The output layer's ∇_o J and o' are computed in float64 from z in
forms that do not overflow where the output saturates (sigmoid: o' = σ(z) σ(−z), o − t = (1 − t) σ(z) − t σ(−z)),
so their product is δ^(L) wherever δ^(L) is finite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from bpcore import backprop as bp
from bpcore import guards

__all__ = ["REDUCTIONS", "Check", "Field", "LayerTrace", "Trace", "check", "field", "softmax_jacobian", "trace"]

_TRACE = "bpcore.inspect.trace"
REDUCTIONS: tuple[str, ...] = ("mean", "sum")  # J as the mean over the rows (the trainer's) or eq. 1's sum


def softmax_jacobian(o: np.ndarray) -> np.ndarray:
    """∂o/∂z = diag(o) − o oᵀ for one row's softmax output o (K,): entry (k, j) is ∂o_k/∂z_j = o_k (δ_kj − o_j).

    The diagonal o_j (1 − o_j) is written o_j Σ_{k≠j} o_k: when o_j ≈ 1, 1 − o_j would cancel (at o_j = 1 − 1.7e-13
    float64 keeps 3 of its digits), the sum of the others keeps them all (as the engine's δ does)."""
    o = np.asarray(o, dtype=np.float64)
    K = len(o)
    J = -np.outer(o, o)
    J[np.arange(K), np.arange(K)] = o * (o @ (1.0 - np.eye(K)))
    return J


def _output_parts(output: str, z: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    """o' (eq. 5 ②; softmax: the diagonal of ∂o/∂z) and ∇_o J (eq. 5 ①) of the mean loss, in float64 from z.

    Written so that a saturated output does not turn ∇_o J into ∞ or 0/0 where δ^(L) is finite: for sigmoid
    o' = σ(z) σ(−z) and o − t = (1 − t) σ(z) − t σ(−z) (at z = 38.7, σ(z) rounds to 1 even in float64, and
    o (1 − o) = 0 would give (o − t)/0). The engine's bp.output_kind(output).grad_o and .do are the same
    formulas written on o.
    """
    kind = bp.output_kind(output)
    z64 = z.to(torch.float64)
    t64 = target if target.dtype == torch.long else target.to(torch.float64)
    if output == "sigmoid":  # 1 − σ(z) = σ(−z), kept apart so that its digits survive
        s, s_neg = torch.sigmoid(z64), torch.sigmoid(-z64)
        do = s * s_neg
        return do, torch.lerp(s, -s_neg, t64) / (do * t64.numel())
    o64 = kind.o(z64)
    if kind.coupled:  # softmax: the diagonal o_j Σ_{k≠j} o_k of ∂o/∂z, without the cancellation of 1 − o_j
        K = o64.shape[-1]
        others = o64 @ (1 - torch.eye(K, dtype=o64.dtype))
        return o64 * others, kind.grad_o(o64, t64, _TRACE)
    return kind.do(o64), kind.grad_o(o64, t64, _TRACE)


@dataclass(frozen=True)
class LayerTrace:
    """Every quantity of layer l for the inspected rows (arrays are float64 copies)."""

    l: int  # 1-based layer index; l = L is the output layer
    activation: str  # φ of a hidden layer, or the output activation (softmax, sigmoid, identity)
    h1: np.ndarray  # (B, D_in + 1) input h^(l−1) with its appended 1 (eq. 11)
    z: np.ndarray  # (B, D_out) z^(l) = W^(l)ᵀ h^(l−1) (eq. 3)
    o: np.ndarray  # (B, D_out) o = φ(z) (or the output activation)
    do: np.ndarray  # (B, D_out) o' = dφ/dz (eq. 5 ②); for softmax, the diagonal o (1 − o) of its Jacobian
    grad_o: np.ndarray  # (B, D_out) ∇_o J (eq. 5 ①, 8); for hidden layers ∂J/∂h^(l) = W̃^(l+1) δ^(l+1)
    delta: np.ndarray  # (B, D_out) δ^(l) = ∂J/∂z^(l) (eq. 7–8 and the hidden-layer recursion)
    W: np.ndarray  # (D_in + 1, D_out) before the update, biases in the last row (eq. 11)
    grad_W: np.ndarray  # (D_in + 1, D_out) ∇_W J = Σ_rows h δᵀ (eq. 9); last row Σ δ (eq. 12)
    update: np.ndarray  # −μ ∇_W J (eq. 10)

    @property
    def W_next(self) -> np.ndarray:
        """W ← W − μ h δᵀ (eq. 10)."""
        return self.W + self.update

    @property
    def per_sample_grad_W(self) -> np.ndarray:
        """(B, D_in + 1, D_out): h_i δ_iᵀ for each row i; their sum is grad_W (what a mini-batch uses)."""
        return self.h1[:, :, None] * self.delta[:, None, :]


@dataclass(frozen=True)
class Trace:
    """One forward + backward + update of the inspected rows."""

    layers: tuple[LayerTrace, ...]
    loss: float  # J of eq. 1: the mean over the inspected rows, or their sum with reduction "sum"
    output: str
    lr: float
    target: np.ndarray
    reduction: str = "mean"  # "mean" (the trainer's J) or "sum" (eq. 1 as written: B times the mean)

    @property
    def n_rows(self) -> int:
        """B, the number of inspected rows."""
        return int(self.layers[-1].h1.shape[0])

    def jacobian(self, sample: int = 0) -> np.ndarray:
        """∂o/∂z^(L) of one row, (K, K): diag(o) − o oᵀ for softmax, diag(o') for an elementwise output.

        For softmax o is taken in float64 from z, as ∇_o J and o' are (`_output_parts`): the factors of the chain
        rule then come from one o, and their product equals δ to the precision of the weights' dtype."""
        out = self.layers[-1]
        if bp.output_kind(self.output).coupled:
            z = out.z[sample] - out.z[sample].max()
            return softmax_jacobian(np.exp(z) / np.exp(z).sum())
        return np.diag(out.do[sample])

    def chain_rule(self, i: int, j: int, sample: int = 0, layer: int | None = None) -> dict[str, float | np.ndarray]:
        """Eq. 5 for weight w_ij of `layer` (1-based, default the output layer L; indices 0-based) and one row:
        ① dJ/do_j, ② do_j/dz_j, ③ h_i, and their product.

        For an elementwise output ① and ② are numbers and δ_j = ① · ② (eq. 7). For softmax o_j depends on every
        z_k, so ① is the vector ∇_o J, ② the column ∂o/∂z_j of the Jacobian diag(o) − o oᵀ, and δ_j = ① · ②.
        For a hidden layer l, ① is ∂J/∂h_j^(l) = Σ_k w_jk^(l+1) δ_k^(l+1) and ② is φ'(z_j^(l)).
        'product' is this row's h_i δ_j from the factors, to be compared with 'grad_W_row' (the engine's δ).
        'fused' is True when ① · ② is not a finite number (∞ · 0 of a saturated output): δ_j is then the engine's
        fused form (o − t for sigmoid + cross-entropy) and 'product' uses it.
        """
        l = len(self.layers) if layer is None else int(layer)
        lt = self.layers[l - 1]
        h_i = float(lt.h1[sample, i])
        if l == len(self.layers) and bp.output_kind(self.output).coupled:  # softmax: every o_k depends on z_j
            dJ_do = lt.grad_o[sample]
            do_dz = self.jacobian(sample)[:, j]  # ∂o_k/∂z_j = o_k (δ_kj − o_j)
            with np.errstate(all="ignore"):
                delta_j = float(dJ_do @ do_dz)
        else:
            dJ_do, do_dz = float(lt.grad_o[sample, j]), float(lt.do[sample, j])
            with np.errstate(all="ignore"):
                delta_j = dJ_do * do_dz
        engine = float(lt.delta[sample, j])
        fused = not np.isfinite(delta_j)
        if fused:
            delta_j = engine
        return {"layer": l, "dJ_do": dJ_do, "do_dz": do_dz, "h_i": h_i, "delta_j": delta_j,
                "product": delta_j * h_i, "grad_W_row": h_i * engine, "delta_engine": engine, "fused": fused}


def _np(t: Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy().copy()


def trace(weights: Sequence[Tensor], activations: Sequence[str], output: str, x: Tensor, target: Tensor,
          lr: float = 0.1, reduction: str = "mean") -> Trace:
    """Forward, backward and update for the rows of x, keeping every intermediate (no autograd graph).

    x is a (B, D_0) batch; the target is in the loss's form (ShapeError / ClassIdError otherwise).
    reduction "mean" (default) is the trainer's J; "sum" is eq. 1's sum over the rows: J, ∇_o J, δ, ∇_W J and
    the update are then B times the mean's (ValueError for another reduction)."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"{_TRACE}: reduction must be one of {', '.join(REDUCTIONS)}, got {reduction!r}")
    weights = [W.detach() for W in weights]
    guards.check_weights(_TRACE, weights)
    x = x.to(weights[0])
    guards.check_input(_TRACE, x, weights[0])
    if target.is_floating_point():  # regression / sigmoid targets in the weights' dtype, as x
        target = target.to(weights[0])
    with torch.no_grad():
        h1s, os, z_L = bp.forward_pass(bp.augment(x), weights, activations)  # eq. 11 shown
        delta_L = bp.output_kind(output).delta(z_L, target, _TRACE)
        deltas: list[Tensor] = []
        grads, _ = bp.backward_pass(h1s, os, weights, activations, delta_L, deltas=deltas)
        deltas.reverse()
        o_L = bp.output(output, z_L)
        loss = float(bp.output_kind(output).loss(z_L, target, _TRACE))
        scale = float(len(x)) if reduction == "sum" else 1.0  # ∂(B·J)/∂· = B ∂J/∂·
        layers = []
        L = len(weights)
        for l in range(L):
            W, h1, delta = weights[l], h1s[l], deltas[l]
            z = bp.linear(h1, W)
            if l < L - 1:
                o = os[l]
                do = bp.ACTIVATIONS[activations[l]].dphi(o)
                grad_o = bp.grad_h(deltas[l + 1], weights[l + 1])
                name = activations[l]
            else:
                o = o_L
                # eq. 5 ② and ①, the mean over the rows, stable where the output saturates
                do, grad_o = _output_parts(output, z_L, target)
                name = output
            g = _np(grads[l]) * scale
            layers.append(LayerTrace(l + 1, name, _np(h1), _np(z), _np(o), _np(do), _np(grad_o) * scale,
                                     _np(delta) * scale, _np(W), g, -float(lr) * g))
    return Trace(tuple(layers), loss * scale, output, float(lr), target.detach().cpu().numpy().copy(), reduction)


@dataclass(frozen=True)
class Check:
    """Hand-derived gradients against torch autograd and a central finite-difference estimate."""

    autograd_error: float  # max |ours − autograd| over every ∇_W entry
    finite_difference_error: float  # max |ours − finite differences| over every ∇_W entry
    tolerance: float

    @property
    def ok(self) -> bool:
        return max(self.autograd_error, self.finite_difference_error) <= self.tolerance


def check(weights: Sequence[Tensor], activations: Sequence[str], output: str, x: Tensor, target: Tensor,
          eps: float | None = None, tolerance: float | None = None) -> Check:
    """Compare trace's ∇_W with autograd on torch.nn-style ops and with (J(W + ε) − J(W − ε)) / 2ε."""
    Ws = [W.detach() for W in weights]
    ours = [torch.as_tensor(lt.grad_W) for lt in trace(Ws, activations, output, x, target).layers]
    dtype = Ws[0].dtype
    eps = eps if eps is not None else (1e-6 if dtype == torch.float64 else 1e-2)
    tolerance = tolerance if tolerance is not None else (1e-7 if dtype == torch.float64 else 1e-3)
    # autograd on plain torch operations (an independent derivation of the same network)
    leaves = [W.clone().requires_grad_() for W in Ws]
    h = x.to(Ws[0])
    for W, name in zip(leaves[:-1], activations, strict=True):
        h = bp.ACTIVATIONS[name].phi(h @ W[:-1] + W[-1])
    z = h @ leaves[-1][:-1] + leaves[-1][-1]
    loss_fn = {"softmax": torch.nn.functional.cross_entropy,
               "sigmoid": torch.nn.functional.binary_cross_entropy_with_logits,
               "identity": torch.nn.functional.mse_loss}[output]
    auto = torch.autograd.grad(loss_fn(z, target), leaves)
    ag_err = max(float((a.to(torch.float64) - o).abs().max()) for a, o in zip(auto, ours, strict=True))
    # central finite differences, in float64 on a copy of the weights
    W64 = [W.to(torch.float64).clone() for W in Ws]
    x64 = x.to(torch.float64)
    t64 = target if target.dtype == torch.long else target.to(torch.float64)

    def J() -> float:
        with torch.no_grad():
            return float(bp.output_kind(output).loss(bp.forward_pass(x64, W64, activations)[2], t64))

    fd_err = 0.0
    for W, g in zip(W64, ours, strict=True):
        flat = W.view(-1)
        for k in range(flat.numel()):
            keep = float(flat[k])
            flat[k] = keep + eps
            up = J()
            flat[k] = keep - eps
            down = J()
            flat[k] = keep
            fd_err = max(fd_err, abs((up - down) / (2 * eps) - float(g.view(-1)[k])))
    return Check(ag_err, fd_err, tolerance)


@dataclass(frozen=True)
class Field:
    """A network evaluated over a grid of the input plane (the first two inputs; others held at 0)."""

    xs: np.ndarray  # (nx,)
    ys: np.ndarray  # (ny,) — (1,) for 1-D inputs
    output: np.ndarray  # (ny, nx, K): class probabilities (sigmoid: K = 1, P(class 1)) or regression values
    hidden: list[np.ndarray]  # per hidden layer, (n_neurons, ny, nx) neuron outputs o = φ(z)


def field(weights: Sequence[Tensor | np.ndarray], activations: Sequence[str], output: str,
          extent: tuple[float, float, float, float], resolution: int = 100) -> Field:
    """Evaluate the network on a resolution × resolution grid over extent = (x0, x1, y0, y1), in numpy (the
    activations' np_phi_) in the weights' precision (float32 below float64)."""
    Ws = [np.asarray(W.detach().cpu() if isinstance(W, Tensor) else W) for W in weights]
    dtype = np.float64 if Ws[0].dtype == np.float64 else np.float32
    Ws = [W.astype(dtype, copy=False) for W in Ws]
    d_in = Ws[0].shape[0] - 1
    x0, x1, y0, y1 = extent
    xs = np.linspace(x0, x1, resolution)
    ys = np.linspace(y0, y1, resolution) if d_in >= 2 else np.zeros(1)
    gx, gy = np.meshgrid(xs, ys)
    h = np.zeros((gx.size, d_in), dtype=dtype)
    h[:, 0] = gx.ravel()
    if d_in >= 2:
        h[:, 1] = gy.ravel()
    if len(activations) != len(Ws) - 1:
        raise ValueError(f"{len(Ws)} layers need {len(Ws) - 1} hidden activations, got {len(activations)}")
    hidden = []
    for l, W in enumerate(Ws):
        z = h @ W[:-1]  # eq. 3, 11 with the bias row apart: z = h W[:-1] + W[-1]
        z += W[-1]
        if l < len(activations):
            h = bp.ACTIVATIONS[activations[l]].np_phi_(z)
            hidden.append(h)
    shape = (len(ys), len(xs))
    return Field(xs, ys, bp.output_kind(output).np_o_(z).reshape(*shape, -1),
                 [o.T.reshape(-1, *shape) for o in hidden])
