"""An MLP on one flat parameter buffer, trained by the explicit δ recursion without an autograd graph."""

from __future__ import annotations

import torch
from torch import Tensor

from bpcore import backprop as bp
from bpcore import guards
from bpcore.nn import MLP


class FlatNetwork:
    """Puts an MLP's weights into one flat buffer (the MLP's parameters become views of it) and runs the
    graph-free training step: forward_pass, δ^(L) of the output's loss, backward_pass into a flat
    gradient buffer. The formulas are bpcore.backprop's, the same the autograd Functions use. `batch_size`, the
    mini-batch the step will mostly see, decides whether the layers carry [h, 1] (bp.augment_pays)."""

    def __init__(self, model: MLP, batch_size: int = 32) -> None:
        self.model = model
        self.activations, self.output = model.activations, model.output
        ref = model.weights[0]
        shapes = [tuple(W.shape) for W in model.weights]
        numels = [W.numel() for W in model.weights]
        with torch.no_grad():
            self.flat = torch.cat([W.detach().reshape(-1) for W in model.weights])
        self.flat_grad = torch.zeros_like(self.flat)
        self.weights = [v.view(s) for v, s in zip(self.flat.split(numels), shapes, strict=True)]
        self.grads = [v.view(s) for v, s in zip(self.flat_grad.split(numels), shapes, strict=True)]
        self.rows_T = [W[:-1].mT for W in self.weights]  # for ∂J/∂h = δ W[:-1]ᵀ: views of the fixed buffer
        for layer, W in zip(model.layers, self.weights, strict=True):
            layer.weight.data = W  # the module now reads and writes the flat buffer
        # a Parameter aliasing the flat buffer, for torch.optim optimizers (momentum, Adam)
        self.param = torch.nn.Parameter(self.flat, requires_grad=True)
        self.param.grad = self.flat_grad
        kind = bp.output_kind(self.output)
        self._delta_L, self._loss, self._rough_loss = kind.delta, kind.loss, kind.rough_loss
        self.dtype, self.device = ref.dtype, ref.device
        self.augmented = bp.augment_pays(self.weights, batch_size)  # decided once: prepare() shapes the data
        # bias rows are not penalised by L2: 1 on weight rows, 0 on the bias row of every layer
        self.weight_mask = torch.cat([
            torch.cat([torch.ones(s[0] - 1, s[1]), torch.zeros(1, s[1])]).reshape(-1) for s in shapes
        ]).to(self.device, self.dtype)

    @property
    def n_layers(self) -> int:
        return len(self.weights)

    def prepare(self, x: Tensor) -> Tensor:
        """Inputs as the step wants them, made once per data set: [x, 1] (eq. 11) when that pays.

        x is a (B, D_0) batch (ShapeError naming layer 1 otherwise)."""
        guards.check_input("FlatNetwork.prepare", x, self.weights[0])
        return bp.augment(x) if self.augmented else x.contiguous()

    def _check(self, where: str, inputs: Tensor) -> None:
        """Inputs are plain (B, D_0) or, when the network carries [h, 1], prepared (B, D_0 + 1): one compare."""
        d = self.weights[0].shape[0]
        if inputs.ndim != 2 or inputs.dtype != self.dtype or not (
                inputs.shape[1] == d - 1 or (inputs.shape[1] == d and self.augmented)):
            prepared = self.augmented and inputs.ndim == 2 and inputs.shape[1] == d
            guards.check_input(where, inputs[:, :-1] if prepared else inputs, self.weights[0])

    def step(self, inputs: Tensor, target: Tensor, deltas: list[Tensor] | None = None,
             loss: bool = False) -> Tensor | None:
        """Write ∇_W J for one mini-batch of prepared inputs into flat_grad; with `loss`, return the batch's J
        too (Output.rough_loss: for the divergence test), of the weights the step starts from (from the step's
        own z: no second forward pass)."""
        self._check("FlatNetwork.step", inputs)
        hs, os, z = bp.forward_pass(inputs, self.weights, self.activations)
        J = self._rough_loss(z, target, "FlatNetwork.step") if loss else None
        # eq. 8 for the output's own loss, then eq. 9 and the hidden-layer recursion
        bp.backward_pass(hs, os, self.weights, self.activations, self._delta_L(z, target, "FlatNetwork.step"),
                         out=self.grads, deltas=deltas, rows_T=self.rows_T)
        return J

    def logits(self, inputs: Tensor) -> Tensor:
        """z^(L) for inputs (prepared or plain), no graph."""
        self._check("FlatNetwork.logits", inputs)
        return bp.forward_pass(inputs, self.weights, self.activations)[2]

    def loss(self, z: Tensor, target: Tensor) -> Tensor:
        """The output's loss J (mean over the batch) for logits z."""
        return self._loss(z, target, "FlatNetwork.loss")

    def l2_penalty(self) -> Tensor:
        """½ Σ_l ‖W^(l) without its bias row‖²."""
        return 0.5 * torch.dot(self.flat * self.weight_mask, self.flat)
