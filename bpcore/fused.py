"""The whole network as one autograd Function, built for speed (once-differentiable).

`mlp` returns the logits z^(L), to be followed by any loss. `mlp_loss` returns the loss J of the output's
own kind (softmax → cross-entropy, sigmoid → binary cross-entropy, identity → MSE), so that one graph
node runs the forward loop, and its backward δ^(L) (eq. 8), ∇_W J = [h, 1]ᵀ δ per layer (eq. 9, 12) and the
hidden-layer recursion: a training step through autograd then has one Python node instead of two
(docs/benchmarks.md measures the difference). Both take their formulas from `bpcore.backprop`.

Saved tensors are kept on ctx with the version counters of x and the weights checked by hand
(`check_versions`): `save_for_backward` plus `once_differentiable` cost ~35 µs a step, a fifth of a small
network's step.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.autograd import Function

from bpcore import backprop as bp
from bpcore import guards


class MLPFunction(Function):
    """z^(L) of the network; backward: the δ recursion from the incoming δ^(L) = ∂J/∂z^(L).

    `augment` carries [h, 1] through the layers (see `bpcore.backprop.augment_pays`); `where` names the
    caller in errors.
    """

    @staticmethod
    def forward(ctx, x: Tensor, activations: tuple[str, ...], augment: bool, where: str,
                *weights: Tensor) -> Tensor:
        return _forward(ctx, x, activations, augment, where, weights)

    @staticmethod
    def backward(ctx, delta: Tensor | None):
        return _backward(ctx, delta, n_args=4)


class MLPLossFunction(Function):
    """J of the network's output kind at `target`; backward: δ^(L) of that loss, then the δ recursion.

    The forward forms δ^(L) with J when anything needs a gradient (the target is not kept, so a later
    in-place change of it cannot reach the gradient); the backward scales it by the incoming ∂(…)/∂J.
    """

    @staticmethod
    def forward(ctx, x: Tensor, target: Tensor, activations: tuple[str, ...], augment: bool, output: str,
                where: str, *weights: Tensor) -> Tensor:
        z = _forward(ctx, x, activations, augment, where, weights)
        if not any(ctx.needs_input_grad):
            return bp.OUTPUT_KINDS[output].loss(z, target, where)
        J, ctx.delta = bp.OUTPUT_KINDS[output].loss_and_delta(z, target, where)
        return J

    @staticmethod
    def backward(ctx, g: Tensor | None):
        # eq. 8 for the output's own loss, scaled by the incoming ∂(…)/∂J (1 for J.backward())
        return _backward(ctx, None if g is None else ctx.delta * g, n_args=6)


def _forward(ctx, x: Tensor, activations: tuple[str, ...], augment: bool, where: str,
             weights: tuple[Tensor, ...]) -> Tensor:
    """The forward loop; keeps what the backward needs on ctx and returns z^(L).

    x and the weights are kept by reference (the wide path keeps x itself as h^(0)); their version
    counters are read here and compared in the backward, as save_for_backward would, at a fraction of its
    cost (`guards.check_versions`).
    """
    ctx.hs, ctx.os, z = bp.forward_pass(bp.augment(x) if augment else x, weights, activations)
    ctx.activations, ctx.weights, ctx.x, ctx.where = activations, weights, x, where
    ctx.versions = [x._version, *[W._version for W in weights]]
    ctx.set_materialize_grads(False)
    return z


def _backward(ctx, delta: Tensor | None, n_args: int) -> tuple:
    """Gradients for (x, the n_args − 1 arguments that take none, *weights) from δ^(L)."""
    check_once_differentiable(ctx.where)
    check_versions(ctx)
    if delta is None:
        return (None,) * (n_args + len(ctx.weights))
    # eq. 9 per layer, with δ^(l) = (δ^(l+1) W^(l+1)[:-1]ᵀ) ⊙ φ'(z^(l)) between layers
    grads, dx = bp.backward_pass(
        ctx.hs, ctx.os, ctx.weights, ctx.activations, delta,
        want=ctx.needs_input_grad[n_args:], need_input_grad=ctx.needs_input_grad[0],
    )
    return (dx,) + (None,) * (n_args - 1) + tuple(grads)


def check_once_differentiable(name: str) -> None:
    """Raise when a once-differentiable Function's backward is asked to build a graph."""
    if torch.is_grad_enabled():
        if "." not in name:
            name = "bpcore.functional." + name
        raise RuntimeError(
            f"{name} is once-differentiable: its backward cannot build a graph "
            "(create_graph=True); use the per-layer functions for higher derivatives"
        )


def check_versions(ctx) -> None:
    """Raise when x or a weight saved by the forward was modified in place before the backward."""
    saved = (ctx.x, *ctx.weights)
    if [t._version for t in saved] == ctx.versions:
        return
    names = ["input x", *(f"W^({l}) (the weight of layer {l})" for l in range(1, len(ctx.weights) + 1))]
    guards.check_versions(ctx.where, saved, ctx.versions, names)


_MLP, _MLP_LOSS = "bpcore.functional.mlp", "bpcore.functional.mlp_loss"


def _network(name: str, weights: Sequence[Tensor], activations: Sequence[str]) -> tuple[str, ...]:
    guards.check_weights("bpcore.functional." + name, weights)
    activations = tuple(activations)
    if len(activations) != len(weights) - 1:
        raise ValueError(
            f"{name} needs one activation per hidden layer: {len(weights)} weight matrices "
            f"need {len(weights) - 1} activations, got {len(activations)}"
        )
    for a in activations:
        bp.activation(a)
    return activations


def mlp(x: Tensor, weights: Sequence[Tensor], activations: Sequence[str]) -> Tensor:
    """The whole network as one Function; returns the logits z^(L). One activation per hidden layer.

    x is a (B, D_in) batch with D_in = weights[0].shape[0] − 1 (ShapeError otherwise)."""
    activations = _network("mlp", weights, activations)
    guards.check_input(_MLP, x, weights[0])
    return MLPFunction.apply(x, activations, bp.augment_pays(weights), _MLP, *weights)


def mlp_loss(x: Tensor, weights: Sequence[Tensor], activations: Sequence[str], target: Tensor,
             output: str = "softmax") -> Tensor:
    """The network and its output's loss as one Function: J = loss(output, mlp(x, …), target).

    `output` is softmax (cross-entropy, int64 (B,) class ids in 0..K−1), sigmoid (binary cross-entropy) or
    identity (MSE); for the last two the target is a float tensor of z^(L)'s shape (ShapeError otherwise).
    The target is data here: for gradients with respect to it use `loss(output, mlp(…), target)`.
    """
    activations = _network("mlp_loss", weights, activations)
    bp.output_kind(output)  # ValueError naming the kinds
    check_target(target)
    guards.check_input(_MLP_LOSS, x, weights[0])
    return MLPLossFunction.apply(x, target, activations, bp.augment_pays(weights), output, _MLP_LOSS, *weights)


def check_target(target: Tensor) -> None:
    """mlp_loss gives no gradient for the target: refuse one that asks for it rather than return none."""
    if target.requires_grad:
        raise ValueError("mlp_loss treats the target as data; for gradients with respect to the target use "
                         "bpcore.functional.loss(output, mlp(x, weights, activations), target)")
