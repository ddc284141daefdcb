"""The whole network as one autograd Function, built for speed (once-differentiable).

`mlp` returns the logits z^(L), to be followed by any loss. `mlp_loss` returns the loss J of the output's
own kind (softmax → cross-entropy, sigmoid → binary cross-entropy, identity → MSE), so that one graph
node runs the forward loop, and its backward δ^(L) (eq. 8), ∇_W J = [h, 1]ᵀ δ per layer (eq. 9, 12) and the
hidden-layer recursion: a training step through autograd then has one Python node instead of two
(docs/benchmarks.md measures the difference). Both take their formulas from `bpcore.backprop`.

Saved tensors are kept on ctx with the weights' version counters checked by hand (`check_versions`):
`save_for_backward` plus `once_differentiable` cost ~35 µs a step, a fifth of a small network's step.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torch.autograd import Function

from bpcore import backprop as bp


class MLPFunction(Function):
    """z^(L) of the network; backward: the δ recursion from the incoming δ^(L) = ∂J/∂z^(L).

    `augment` carries [h, 1] through the layers (see `bpcore.backprop.augment_pays`).
    """

    @staticmethod
    def forward(ctx, x: Tensor, activations: tuple[str, ...], augment: bool, *weights: Tensor) -> Tensor:
        return _forward(ctx, x, activations, augment, weights)

    @staticmethod
    def backward(ctx, delta: Tensor | None):
        return _backward(ctx, "mlp", delta, n_args=3)


class MLPLossFunction(Function):
    """J of the network's output kind at `target`; backward: δ^(L) of that loss, then the δ recursion."""

    @staticmethod
    def forward(ctx, x: Tensor, target: Tensor, activations: tuple[str, ...], augment: bool, output: str,
                *weights: Tensor) -> Tensor:
        ctx.z = _forward(ctx, x, activations, augment, weights)
        ctx.target, ctx.output = target, output
        return bp.LOSSES[output][0](ctx.z, target)

    @staticmethod
    def backward(ctx, g: Tensor | None):
        # eq. 8 for the output's own loss, scaled by the incoming ∂(…)/∂J (1 for J.backward())
        delta = None if g is None else bp.LOSSES[ctx.output][1](ctx.z, ctx.target).mul_(g)
        return _backward(ctx, "mlp_loss", delta, n_args=5)


def _forward(ctx, x: Tensor, activations: tuple[str, ...], augment: bool, weights: tuple[Tensor, ...]) -> Tensor:
    """The forward loop; keeps what the backward needs on ctx and returns z^(L)."""
    ctx.hs, ctx.os, z = bp.forward_pass(bp.augment(x) if augment else x, weights, activations)
    ctx.activations, ctx.weights = activations, weights
    ctx.versions = [W._version for W in weights]
    ctx.set_materialize_grads(False)
    return z


def _backward(ctx, name: str, delta: Tensor | None, n_args: int) -> tuple:
    """Gradients for (x, the n_args − 1 arguments that take none, *weights) from δ^(L)."""
    check_once_differentiable(name)
    check_versions(ctx.weights, ctx.versions, name)
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
        raise RuntimeError(
            f"bpcore.functional.{name} is once-differentiable: its backward cannot build a graph "
            "(create_graph=True); use the per-layer functions for higher derivatives"
        )


def check_versions(tensors: Sequence[Tensor], versions: list[int], name: str) -> None:
    """Raise when a weight saved by the forward was changed in place before the backward."""
    if [W._version for W in tensors] == versions:
        return
    l = next(l for l, (W, v) in enumerate(zip(tensors, versions, strict=True)) if W._version != v)
    raise RuntimeError(
        f"bpcore.functional.{name}: weight {l} was modified in place between forward and backward "
        "(an optimizer step before backward?); its gradient would be wrong"
    )


def _network(name: str, weights: Sequence[Tensor], activations: Sequence[str]) -> tuple[str, ...]:
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
    """The whole network as one Function; returns the logits z^(L). One activation per hidden layer."""
    activations = _network("mlp", weights, activations)
    return MLPFunction.apply(x, activations, bp.augment_pays(weights), *weights)


def mlp_loss(x: Tensor, weights: Sequence[Tensor], activations: Sequence[str], target: Tensor,
             output: str = "softmax") -> Tensor:
    """The network and its output's loss as one Function: J = loss(output, mlp(x, …), target).

    `output` is softmax (cross-entropy, int64 class ids), sigmoid (binary cross-entropy) or identity (MSE).
    The target is data here: for gradients with respect to it use `loss(output, mlp(…), target)`.
    """
    activations = _network("mlp_loss", weights, activations)
    if output not in bp.LOSSES:
        raise ValueError(f"unknown output {output!r}; choose one of {', '.join(bp.LOSSES)}")
    check_target(target)
    return MLPLossFunction.apply(x, target, activations, bp.augment_pays(weights), output, *weights)


def check_target(target: Tensor) -> None:
    """mlp_loss gives no gradient for the target: refuse one that asks for it rather than return none."""
    if target.requires_grad:
        raise ValueError("mlp_loss treats the target as data; for gradients with respect to the target use "
                         "bpcore.functional.loss(output, mlp(x, weights, activations), target)")
