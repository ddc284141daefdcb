"""Public functions, each backed by a `torch.autograd.Function` whose backward is written by hand.

The formulas live in `bpcore.backprop`; the classes here only wire them into autograd: what to save in
forward, which input gradients to compute in backward. Per-layer Functions support double backward
(their backward is made of differentiable tensor operations); `cross_entropy` and the fused network
Functions `mlp` and `mlp_loss` (defined in `bpcore.fused`), built for speed with in-place buffers, are
once-differentiable.
"""

from __future__ import annotations

from torch import Tensor
from torch.autograd import Function

from bpcore import backprop as bp
from bpcore import guards
from bpcore.fused import check_once_differentiable, mlp, mlp_loss

_NAME = "bpcore.functional."
_CE = _NAME + "cross_entropy"

__all__ = [
    "bernoulli_nll",
    "binary_cross_entropy",
    "cross_entropy",
    "identity",
    "leaky_relu",
    "linear",
    "loss",
    "mlp",
    "mlp_loss",
    "mse",
    "nll",
    "output_loss",
    "relu",
    "sigmoid",
    "softmax",
    "softplus",
    "tanh",
]


class LinearFunction(Function):
    """z = [h, 1] W (eq. 11); backward ∇_W = [h, 1]ᵀ δ (eq. 9, 12), ∇_h = δ W[:-1]ᵀ."""

    @staticmethod
    def forward(ctx, h: Tensor, W: Tensor) -> Tensor:
        ctx.save_for_backward(h, W)
        ctx.set_materialize_grads(False)
        return bp.linear(bp.augment(h), W)

    @staticmethod
    def backward(ctx, delta: Tensor | None):
        h, W = ctx.saved_tensors
        if delta is None:
            return None, None
        # eq. 9, 12: ∇_W J = [h, 1]ᵀ δ; the error for the layer below is δ W[:-1]ᵀ
        dh = bp.grad_h(delta, W) if ctx.needs_input_grad[0] else None
        dW = bp.grad_W(bp.augment(h), delta) if ctx.needs_input_grad[1] else None
        return dh, dW


class _ElementwiseFunction(Function):
    """o = φ(z), saving o; backward δ = g ⊙ o'(o) (eq. 8). Subclasses set `act`."""

    act: bp.Activation

    @classmethod
    def forward(cls, ctx, z: Tensor) -> Tensor:
        o = cls.act.phi(z)
        ctx.save_for_backward(o)
        ctx.set_materialize_grads(False)
        return o

    @classmethod
    def backward(cls, ctx, g: Tensor | None):
        (o,) = ctx.saved_tensors
        # eq. 8: δ = ∇_o J ⊙ o'
        return None if g is None else cls.act.back(g, o)


def _elementwise(name: str) -> type[_ElementwiseFunction]:
    cls_name = "".join(part.title() for part in name.split("_")) + "Function"
    return type(cls_name, (_ElementwiseFunction,), {"act": bp.ACTIVATIONS[name], "__module__": __name__})


SigmoidFunction = _elementwise("sigmoid")
TanhFunction = _elementwise("tanh")
ReLUFunction = _elementwise("relu")
SoftplusFunction = _elementwise("softplus")


class IdentityFunction(Function):
    """o = z, o' = 1: δ = ∇_o J unchanged."""

    @staticmethod
    def forward(ctx, z: Tensor) -> Tensor:
        ctx.set_materialize_grads(False)
        return z.clone()

    @staticmethod
    def backward(ctx, g: Tensor | None):
        # eq. 8 with o' = 1: δ = ∇_o J
        return g


class LeakyReLUFunction(Function):
    """o = z for z > 0 else a z (a > 0), saving o; o' = 1 or a by the sign of o."""

    @staticmethod
    def forward(ctx, z: Tensor, negative_slope: float) -> Tensor:
        o = bp.leaky_relu(z, negative_slope)
        ctx.save_for_backward(o)
        ctx.negative_slope = negative_slope
        ctx.set_materialize_grads(False)
        return o

    @staticmethod
    def backward(ctx, g: Tensor | None):
        (o,) = ctx.saved_tensors
        # eq. 8: δ = ∇_o J ⊙ o'
        return None if g is None else bp.leaky_relu_back(g, o, ctx.negative_slope), None


class SoftmaxFunction(Function):
    """o = softmax(z) along the last dimension; backward o ⊙ (g − ⟨g, o⟩), no Jacobian built."""

    @staticmethod
    def forward(ctx, z: Tensor) -> Tensor:
        o = bp.softmax(z)
        ctx.save_for_backward(o)
        ctx.set_materialize_grads(False)
        return o

    @staticmethod
    def backward(ctx, g: Tensor | None):
        (o,) = ctx.saved_tensors
        # eq. 8 for a coupled output: δ = J_oᵀ ∇_o J = o ⊙ (g − ⟨g, o⟩)
        return None if g is None else bp.softmax_back(g, o)


class CrossEntropyFunction(Function):
    """J = mean NLL of softmax(z) at integer targets; backward (softmax(z) − onehot) / B.

    When z needs a gradient the forward forms δ^(L) from the same log softmax as J (the ids' bounds check
    is the scatter that writes δ, so a bad id is refused before any gradient exists) and the backward only
    scales it; nothing is kept by reference, so no later in-place change can corrupt the gradient.
    """

    @staticmethod
    def forward(ctx, z: Tensor, target: Tensor) -> Tensor:
        ctx.set_materialize_grads(False)
        if not ctx.needs_input_grad[0]:
            return bp.cross_entropy(z, target, _CE)
        J, ctx.delta = bp.cross_entropy_and_delta(z, target, _CE, mean=False)  # the backward scales by g / B
        return J

    @staticmethod
    def backward(ctx, g: Tensor | None):
        check_once_differentiable("cross_entropy")
        if g is None or not ctx.needs_input_grad[0]:
            return None, None
        # eq. 8 with o = softmax: δ^(L) = (o − onehot(t)) / B, scaled by the incoming ∂(…)/∂J
        B = max(ctx.delta.shape[0], 1)  # an empty batch has an empty δ
        return ctx.delta * (float(g) / B if g.is_cpu else g / B), None  # one pass (a CPU number is free to read)


class BinaryCrossEntropyFunction(Function):
    """J = mean Bernoulli NLL of σ(z); backward (σ(z) − t) / n, and −z / n for a soft target t."""

    @staticmethod
    def forward(ctx, z: Tensor, target: Tensor) -> Tensor:
        ctx.save_for_backward(z, target)  # torch checks their versions in the backward
        ctx.set_materialize_grads(False)
        return bp.binary_cross_entropy(z, target, _NAME + "binary_cross_entropy")

    @staticmethod
    def backward(ctx, g: Tensor | None):
        z, target = ctx.saved_tensors
        if g is None:
            return None, None
        # eq. 8 with o = σ: δ^(L) = (o − t) / n
        dz = g * bp.binary_cross_entropy_delta(z, target) if ctx.needs_input_grad[0] else None
        dt = -g * z / target.numel() if ctx.needs_input_grad[1] else None
        return dz, dt


class _LossOnOutputFunction(Function):
    """J(o, t) with its gradient ∇_o J; subclasses set `J` and `grad_o` (the ① factor of eq. 5)."""

    name: str

    @classmethod
    def forward(cls, ctx, o: Tensor, target: Tensor) -> Tensor:
        ctx.save_for_backward(o, target)  # torch checks their versions in the backward
        ctx.set_materialize_grads(False)
        return cls.J(o, target, _NAME + cls.name)

    @classmethod
    def backward(cls, ctx, g: Tensor | None):
        o, target = ctx.saved_tensors
        if g is None:
            return None, None
        # eq. 5 ①: dJ/do
        grad_o = g * cls.grad_o(o, target) if ctx.needs_input_grad[0] else None
        grad_t = -g * cls.grad_o(o, target) if ctx.needs_input_grad[1] and cls.symmetric else None
        return grad_o, grad_t


class MSEFunction(_LossOnOutputFunction):
    """J = mean (o − t)²; ∇_o J = 2 (o − t) / n (and its negative for t)."""

    name = "mse"
    J = staticmethod(bp.mse)
    grad_o = staticmethod(bp.mse_grad)
    symmetric = True


class NLLFunction(_LossOnOutputFunction):
    """J = −mean log o[t] for class probabilities o; ∇_o J = −onehot / (B o)."""

    name = "nll"
    J = staticmethod(bp.nll)
    grad_o = staticmethod(bp.nll_grad)
    symmetric = False


class BernoulliNLLFunction(_LossOnOutputFunction):
    """J = −mean (t log o + (1 − t) log(1 − o)); ∇_o J = (o − t) / (o (1 − o) n)."""

    name = "bernoulli_nll"
    J = staticmethod(bp.bernoulli_nll)
    grad_o = staticmethod(bp.bernoulli_nll_grad)
    symmetric = False


# ------------------------------------------------------------------------------------ public functions


def linear(h: Tensor, W: Tensor) -> Tensor:
    """z = [h, 1] W with W of shape (D_in + 1, D_out), biases as its last row (eq. 11); h is (B, D_in)."""
    guards.check_weights(_NAME + "linear", (W,))
    guards.check_input(_NAME + "linear", h, W)
    return LinearFunction.apply(h, W)


def sigmoid(z: Tensor) -> Tensor:
    """o = 1 / (1 + e^−z), o' = o (1 − o)."""
    return SigmoidFunction.apply(z)


def tanh(z: Tensor) -> Tensor:
    """o = tanh z, o' = 1 − o²."""
    return TanhFunction.apply(z)


def relu(z: Tensor) -> Tensor:
    """o = max(z, 0), o' = [o > 0]."""
    return ReLUFunction.apply(z)


def leaky_relu(z: Tensor, negative_slope: float = 0.01) -> Tensor:
    """o = z for z > 0 else negative_slope · z (negative_slope > 0)."""
    if not negative_slope > 0:
        raise ValueError(f"negative_slope must be > 0 so that o' can be read from o, got {negative_slope}")
    return LeakyReLUFunction.apply(z, float(negative_slope))


def softplus(z: Tensor) -> Tensor:
    """o = log(1 + e^z), o' = σ(z) = 1 − e^−o."""
    return SoftplusFunction.apply(z)


def identity(z: Tensor) -> Tensor:
    """o = z, o' = 1."""
    return IdentityFunction.apply(z)


def softmax(z: Tensor) -> Tensor:
    """o = softmax(z) over the last dimension."""
    return SoftmaxFunction.apply(z)


def cross_entropy(z: Tensor, target: Tensor) -> Tensor:
    """Mean softmax cross-entropy of logits z (B, K) at int64 class ids target (B,)."""
    return CrossEntropyFunction.apply(z, target)


def binary_cross_entropy(z: Tensor, target: Tensor) -> Tensor:
    """Mean sigmoid + Bernoulli negative log-likelihood of logits z at float targets of z's shape."""
    return BinaryCrossEntropyFunction.apply(z, target)


def mse(o: Tensor, target: Tensor) -> Tensor:
    """Mean squared error mean((o − t)²)."""
    return MSEFunction.apply(o, target)


def nll(o: Tensor, target: Tensor) -> Tensor:
    """Mean negative log-likelihood of class probabilities o (B, K) at int64 targets (B,)."""
    return NLLFunction.apply(o, target)


def bernoulli_nll(o: Tensor, target: Tensor) -> Tensor:
    """Mean Bernoulli negative log-likelihood of probabilities o at float targets."""
    return BernoulliNLLFunction.apply(o, target)


_ACTIVATION_FUNCTIONS = {
    "sigmoid": sigmoid, "tanh": tanh, "relu": relu, "leaky_relu": leaky_relu,
    "softplus": softplus, "identity": identity, "softmax": softmax,
}
_LOSSES_ON_OUTPUT = {"nll": nll, "bernoulli_nll": bernoulli_nll, "mse": mse}
_FUSED_LOSSES = {"softmax": cross_entropy, "sigmoid": binary_cross_entropy, "identity": mse}  # autograd Functions


def output_loss(z: Tensor, target: Tensor, output: str, loss_name: str) -> Tensor:
    """The general form of eq. 8: a loss on o = output(z), so backward gives δ = ∇_o J ⊙ o'.

    `output` is any activation name (or softmax); `loss_name` is nll, bernoulli_nll or mse.
    """
    if output not in _ACTIVATION_FUNCTIONS:
        raise ValueError(f"unknown output {output!r}; choose one of {', '.join(_ACTIVATION_FUNCTIONS)}")
    if loss_name not in _LOSSES_ON_OUTPUT:
        raise ValueError(f"unknown loss {loss_name!r}; choose one of {', '.join(_LOSSES_ON_OUTPUT)}")
    return _LOSSES_ON_OUTPUT[loss_name](_ACTIVATION_FUNCTIONS[output](z), target)


def loss(output: str, z: Tensor, target: Tensor) -> Tensor:
    """The fused loss on logits for an output kind: softmax → CE, sigmoid → BCE, identity → MSE."""
    try:
        return _FUSED_LOSSES[output](z, target)
    except KeyError:
        raise ValueError(f"unknown output {output!r}; choose one of {', '.join(_FUSED_LOSSES)}") from None
