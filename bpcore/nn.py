"""Modules on top of `bpcore.functional`: Linear, activations and the MLP (one fused Function)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from bpcore import backprop as bp
from bpcore import functional as BF
from bpcore import fused, guards

__all__ = ["MLP", "Activation", "Linear", "init_weight"]

_HE = ("relu", "leaky_relu")
_FORWARD, _OBJECTIVE = "bpcore.nn.MLP.forward", "bpcore.nn.MLP.objective"


def init_weight(
    fan_in: int, fan_out: int, activation: str, generator: torch.Generator | None = None,
    dtype: torch.dtype | None = None, device: torch.device | str | None = None,
) -> Tensor:
    """A (fan_in + 1, fan_out) matrix: He normal for ReLU-like φ, Glorot uniform otherwise; biases 0."""
    W = torch.zeros(fan_in + 1, fan_out, dtype=dtype, device=device)
    if activation in _HE:
        W[:-1].normal_(0.0, math.sqrt(2.0 / fan_in), generator=generator)
    else:
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        W[:-1].uniform_(-bound, bound, generator=generator)
    return W


class Linear(nn.Module):
    """z = [h, 1] W: one parameter `weight` of shape (in_features + 1, out_features), biases last."""

    def __init__(
        self, in_features: int, out_features: int, *, init: str = "tanh",
        generator: torch.Generator | None = None, dtype: torch.dtype | None = None,
        device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = nn.Parameter(init_weight(in_features, out_features, init, generator, dtype, device))

    def forward(self, h: Tensor) -> Tensor:
        return BF.linear(h, self.weight)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features} (+1 bias row)"


class Activation(nn.Module):
    """An activation by name: sigmoid, tanh, relu, leaky_relu, softplus, identity or softmax."""

    def __init__(self, name: str) -> None:
        super().__init__()
        if name != "softmax":
            bp.activation(name)
        self.name = name
        self._fn = BF._ACTIVATION_FUNCTIONS[name]

    def forward(self, z: Tensor) -> Tensor:
        return self._fn(z)

    def extra_repr(self) -> str:
        return self.name


_TORCH_ACTIVATIONS = {
    "sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU, "leaky_relu": nn.LeakyReLU,
    "softplus": nn.Softplus, "identity": nn.Identity,
}


class MLP(nn.Module):
    """A feed-forward network whose forward is the fused `mlp` Function and returns the logits z^(L).

    `sizes` = [D_0, D_1, …, D_L]; `activation` is one name for every hidden layer or one per hidden layer;
    `output` (softmax, sigmoid or identity) is applied by `predict` and picks the loss in `loss`.
    """

    def __init__(
        self, sizes: Sequence[int], activation: str | Sequence[str] = "tanh", output: str = "softmax", *,
        seed: int | None = None, dtype: torch.dtype | None = None, device: torch.device | str | None = None,
    ) -> None:
        super().__init__()
        sizes = tuple(int(s) for s in sizes)
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"MLP sizes need an input and an output size, all >= 1, got {list(sizes)}")
        n_hidden = len(sizes) - 2
        acts = (activation,) * n_hidden if isinstance(activation, str) else tuple(activation)
        if len(acts) != n_hidden:
            raise ValueError(f"{n_hidden} hidden layers need {n_hidden} activations, got {len(acts)}")
        for name in acts:
            bp.activation(name)
        bp.output_kind(output)  # ValueError naming the kinds
        self.sizes, self.activations, self.output = sizes, acts, output
        generator = None if seed is None else torch.Generator().manual_seed(seed)
        inits = (*acts, output)
        self.layers = nn.ModuleList(
            Linear(d_in, d_out, init=a, generator=generator, dtype=dtype, device=device)
            for d_in, d_out, a in zip(sizes[:-1], sizes[1:], inits, strict=True)
        )
        self._augment = bp.augment_pays(self.weights)  # shapes are fixed, so decide once

    @property
    def weights(self) -> list[Tensor]:
        """W^(1), …, W^(L), each (D_in + 1, D_out)."""
        return [layer.weight for layer in self.layers]

    def forward(self, x: Tensor) -> Tensor:
        """z^(L) for a (B, D_0) batch x (ShapeError naming layer 1 for any other shape or dtype)."""
        # the constructor validated the activations and chose `augment`; skip bpcore.functional.mlp's checks
        # on the hot path, and read the weights from the module dicts (nn.Module.__getattr__ costs ~1 µs each)
        weights = [layer._parameters["weight"] for layer in self._modules["layers"]]
        if x.ndim != 2 or x.shape[1] != weights[0].shape[0] - 1 or x.dtype != weights[0].dtype:
            guards.check_input(_FORWARD, x, weights[0])  # one Python compare per call when x fits
        return fused.MLPFunction.apply(x, self.activations, self._augment, _FORWARD, *weights)

    def predict(self, x: Tensor) -> Tensor:
        """o = output(z^(L)) without building a graph: class probabilities or regression values.

        x is a (B, D_0) batch, as for forward."""
        with torch.no_grad():
            return bp.output(self.output, self.forward(x))

    def loss(self, z: Tensor, target: Tensor) -> Tensor:
        """The loss that matches the output: softmax → cross-entropy, sigmoid → binary CE, identity → MSE."""
        return BF.loss(self.output, z, target)

    def objective(self, x: Tensor, target: Tensor) -> Tensor:
        """J = loss(self(x), target) as ONE autograd Function (`bpcore.functional.mlp_loss`): the same value
        and gradients, one graph node instead of two, so a training step costs less. Target is data."""
        fused.check_target(target)
        weights = [layer._parameters["weight"] for layer in self._modules["layers"]]
        guards.check_input(_OBJECTIVE, x, weights[0])
        return fused.MLPLossFunction.apply(x, target, self.activations, self._augment, self.output, _OBJECTIVE,
                                           *weights)

    def extra_repr(self) -> str:
        return f"sizes={list(self.sizes)}, activations={list(self.activations)}, output={self.output!r}"

    def to_torch(self) -> nn.Sequential:
        """An equivalent torch.nn.Sequential of nn.Linear and activation modules (returns logits too)."""
        modules: list[nn.Module] = []
        for l, W in enumerate(self.weights):
            lin = nn.Linear(W.shape[0] - 1, W.shape[1], dtype=W.dtype, device=W.device)
            with torch.no_grad():
                lin.weight.copy_(W[:-1].mT)
                lin.bias.copy_(W[-1])
            modules.append(lin)
            if l < len(self.activations):
                modules.append(_TORCH_ACTIVATIONS[self.activations[l]]())
        return nn.Sequential(*modules)

    @classmethod
    def from_torch(cls, seq: nn.Sequential, output: str = "softmax") -> MLP:
        """Build an MLP with the same weights from a Sequential of nn.Linear and activation modules."""
        linears = [m for m in seq if isinstance(m, nn.Linear)]
        names = {v: k for k, v in _TORCH_ACTIVATIONS.items()}
        acts = []
        for m in seq:
            if isinstance(m, nn.Linear):
                continue
            if type(m) not in names:
                raise ValueError(f"from_torch: no bpcore activation for {type(m).__name__}")
            if isinstance(m, nn.LeakyReLU) and m.negative_slope != 0.01:
                raise ValueError("from_torch: only LeakyReLU(negative_slope=0.01) has a bpcore equivalent")
            if isinstance(m, nn.Softplus) and m.beta != 1:
                raise ValueError("from_torch: only Softplus(beta=1) has a bpcore equivalent")
            acts.append(names[type(m)])
        if not linears or len(acts) != len(linears) - 1:
            raise ValueError("from_torch expects Linear, activation, Linear, …, Linear (no output activation)")
        sizes = [linears[0].in_features] + [m.out_features for m in linears]
        ref = linears[0].weight
        model = cls(sizes, acts, output, dtype=ref.dtype, device=ref.device)
        with torch.no_grad():
            for W, lin in zip(model.weights, linears, strict=True):
                W[:-1].copy_(lin.weight.mT)
                W[-1].copy_(lin.bias if lin.bias is not None else torch.zeros_like(W[-1]))
        return model
