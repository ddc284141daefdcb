"""What the inspector shows: each quantity of a bpcore Trace with its symbol, equation and display layout.

No Qt and no maths here: the numbers are bpcore.inspect's arrays; this module only names them, says at
which stage (forward, backward, update) they are revealed, and lays them out as the lecture writes them
(inputs h as columns, one per inspected row; per-neuron quantities z, o, o', ∇_o J, δ as rows, so that
∇_W J = h δᵀ is the column table times the row table, summed over the rows: eq. 9 batched).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from bpcore.backprop import output_kind
from bpcore.inspect import LayerTrace, Trace

STAGES: tuple[str, ...] = ("forward", "backward", "update")
# quantity keys (the engine's attribute names) revealed by each stage, in display order
STAGE_KEYS: dict[str, tuple[str, ...]] = {
    "forward": ("h1", "z", "o"),
    "backward": ("grad_o", "do", "delta", "grad_W"),
    "update": ("update", "W", "W_next"),
}
KEYS: tuple[str, ...] = tuple(k for s in STAGES for k in STAGE_KEYS[s])
MATRIX_KEYS = frozenset({"grad_W", "update", "W", "W_next"})
STAGE_OF: dict[str, str] = {k: s for s, keys in STAGE_KEYS.items() for k in keys}


@dataclass(frozen=True)
class LayerInfo:
    """What a layer's titles need before any trace exists."""

    l: int  # 1-based
    L: int  # number of layers
    activation: str  # φ of a hidden layer or the output activation
    d_in: int  # inputs without the bias
    d_out: int

    @property
    def is_output(self) -> bool:
        return self.l == self.L


@dataclass(frozen=True)
class Quantity:
    """One displayed array: `values` in the engine's orientation, `display` as the panel lays it out."""

    key: str
    stage: str
    symbol: str
    values: np.ndarray
    display: np.ndarray
    row_labels: tuple[str, ...]
    col_labels: tuple[str, ...]
    kind: str  # "column" (h: one column per row), "row" (one row per inspected row) or "matrix" (W-shaped)


def layer_infos(weights: Sequence[Tensor], activations: Sequence[str], output: str) -> list[LayerInfo]:
    """One LayerInfo per weight matrix (D_in + 1, D_out)."""
    L = len(weights)
    names = [*activations, output]
    return [LayerInfo(l + 1, L, names[l], int(W.shape[0]) - 1, int(W.shape[1])) for l, W in enumerate(weights)]


NOTATIONS: tuple[str, ...] = ("lecture", "code")


@dataclass(frozen=True)
class Conventions:
    """How the numbers are labelled: the lecture's notation (1-based w_11, h_1, W̃ δ in column form) or the code's
    (0-based, δ W[:-1]ᵀ in row form), J as the mean over the rows or eq. 1's sum, and the update's own words."""

    notation: str = "lecture"
    reduction: str = "mean"  # bpcore.inspect.REDUCTIONS
    update: str = ""  # title of the update card when the step is not plain eq. 10 ('' for eq. 10)
    left_out: str = ""  # what the shown step leaves out of the trainer's, said on the card

    @property
    def lecture(self) -> bool:
        return self.notation == "lecture"


PLAIN = Conventions()


def _per_row(output: str, conv: Conventions) -> str:
    """What a per-row backward quantity carries of the loss's average: 1/B (mean) or nothing (sum)."""
    mse = not output_kind(output).classifies  # J = Σ (o − t)² / (B·K): the 1/K reaches every δ
    if conv.reduction == "sum":
        return "J summed over the rows (eq. 1)" + ("; includes 1/K" if mse else "")
    return "includes 1/(B·K)" if mse else "includes 1/B"


def symbol(key: str, info: LayerInfo, output: str, lr: float, batch: bool = False,
           conv: Conventions = PLAIN) -> str:
    """The label of quantity `key` of a layer: its symbol, definition, equation number and convention."""
    l = info.l
    kind = output_kind(output)
    softmax = info.is_output and kind.coupled
    sigma = "Σ_i " if batch else ""
    hi = "h_i δ_iᵀ" if batch else "h δᵀ"
    lecture = conv.lecture
    per_row = _per_row(output, conv)
    if key == "h1":
        return "h^(0) = [x, 1] (eq. 11)" if l == 1 else f"h^({l - 1}) = [o^({l - 1}), 1] (eq. 11)"
    if key == "z":
        return f"z^({l}) = W^({l})ᵀ h^({l - 1}) (eq. 3)"
    if key == "o":
        if info.is_output:
            return f"o = {info.activation}(z^({l})) (eq. 3)"
        return f"o^({l}) = φ(z^({l})), φ = {info.activation}"
    if key == "do":
        if not info.is_output:
            return f"o'(z^({l})) = φ'(z^({l})) (eq. 5 ②)" if lecture else f"φ'(z^({l})) = o' (eq. 5 ②)"
        if softmax:
            return "∂o/∂z = diag(o) − o oᵀ (K×K); shown: its diagonal o (1 − o) (eq. 5 ②)"
        if info.activation == "sigmoid":  # computed from z: where o rounds to 1, 1 − o = σ(−z) keeps its digits
            return "o' = o (1 − o) = σ(z) σ(−z) (eq. 5 ②), from z"
        return "o' = 1 (eq. 5 ②)"
    if key == "grad_o":
        if not info.is_output:
            form = f"W̃^({l + 1}) δ^({l + 1}), W̃ = W without its bias row" if lecture \
                else f"δ^({l + 1}) W^({l + 1})[:-1]ᵀ"
            return f"∂J/∂h^({l}) = {form} · {per_row}"
        grad = {"softmax": "∇_o J = −onehot(t) / (B o)", "sigmoid": "∇_o J = (o − t) / (o (1 − o) B)",
                "identity": "∇_o J = 2 (o − t) / (B·K)"}.get(output, "∇_o J")
        if conv.reduction == "sum":
            grad = grad.replace(" B)", ")").replace(" / (B·K)", " / K").replace(" / (B o)", " / o")
        return f"{grad} (eq. 5 ①) · {per_row}"
    if key == "delta":
        if softmax:
            b = "" if conv.reduction == "sum" else " ÷ B"
            return f"δ^({l}) = (∂o/∂z)ᵀ ∇_o J = o − onehot(t){b} (eq. 7–8 for coupled outputs) · {per_row}"
        if info.is_output:
            return f"δ^({l}) = ∇_o J ⊙ o' (eq. 8) · {per_row}"
        if lecture:
            return f"δ^({l}) = (W̃^({l + 1}) δ^({l + 1})) ⊙ o'(z^({l})) · {per_row}"
        return f"δ^({l}) = (δ^({l + 1}) W^({l + 1})[:-1]ᵀ) ⊙ φ'(z^({l}))"
    if key == "grad_W":
        if lecture:
            return f"∇_W J = {sigma}{hi} (eq. 9); bias row: ∂J/∂b_j = {sigma}δ_j (eq. 12)"
        return f"∇_W J = {sigma}{hi} (eq. 9), bias row = {sigma}δ (eq. 12)"
    if key == "update":
        if conv.update:
            return f"ΔW = {conv.update}" + (f" — leaves out {conv.left_out}" if conv.left_out else "")
        text = f"−μ {sigma}{hi} (eq. 10), μ = {lr:g}"
        return text + (f" — not the trainer's step: {conv.left_out}" if conv.left_out else "")
    if key == "W":
        return f"W^({l}) before (eq. 11: last row = b)"
    if key == "W_next":
        step = "W^({l}) + ΔW" if conv.update else f"W^({l}) − μ {sigma}{hi} (eq. 10)"
        return f"W^({l}) ← {step.format(l=l)}"
    raise KeyError(key)


def stage_text(stage: str, output: str, conv: Conventions = PLAIN) -> str:
    """The stage banner beside the cards: the equations that stage computes, true for this output kind."""
    if stage == "forward":
        return "① Forward  →\nh = [x, 1] (eq. 11)\nz = Wᵀh (eq. 3)\no = φ(z)"
    if stage == "backward":
        kind = output_kind(output)
        if kind.coupled:
            b = "" if conv.reduction == "sum" else " (÷B)"
            out = f"δ^(L) = (∂o/∂z)ᵀ ∇_o J\n  ∂o/∂z = diag(o) − o oᵀ\n  = o − onehot(t){b}\n(eq. 7–8, coupled o)"
        else:
            out = "δ^(L) = ∇_o J ⊙ o' (eq. 8)"
        hidden = "δ^(l) = (W̃^(l+1) δ^(l+1))\n  ⊙ o'(z^(l))" if conv.lecture else "δ^(l) = ∂J/∂h^(l) ⊙ φ'(z^(l))"
        bias = "∂J/∂b_j = δ_j (eq. 12)" if conv.lecture else "bias row: δ (eq. 12)"
        J = "J = Σ over rows (eq. 1)" if conv.reduction == "sum" else "J = mean over rows"
        return f"② Backward  ←\n{out}\n{hidden}\n∇_W J = h δᵀ (eq. 9)\n{bias}\n{J}"
    if stage == "update":
        if conv.update:
            return "③ Update\nW ← W + ΔW\n(the trainer's step)"
        return "③ Update\nW ← W − μ h δᵀ\n(eq. 10)"
    raise KeyError(stage)


def _row_labels(n: int, one_based: bool = False) -> tuple[str, ...]:
    """Input indices i, the last one (the appended 1 / the bias row) labelled b."""
    first = 1 if one_based else 0
    return (*(str(i + first) for i in range(n - 1)), "b")


def _col_labels(n: int, one_based: bool = False) -> tuple[str, ...]:
    first = 1 if one_based else 0
    return tuple(str(j + first) for j in range(n))


def layer_quantities(trace: Trace, rows: Sequence[int], infos: Sequence[LayerInfo],
                     conv: Conventions = PLAIN) -> list[dict[str, Quantity]]:
    """Every quantity of every layer of `trace`, keyed by the engine's attribute name."""
    batch = len(rows) > 1
    one = conv.lecture
    samples = tuple(f"#{r}" for r in rows)
    out = []
    for lt, info in zip(trace.layers, infos, strict=True):
        q: dict[str, Quantity] = {}
        for key in KEYS:
            values = _values(lt, key)
            sym = symbol(key, info, trace.output, trace.lr, batch, conv)
            if key == "h1":
                q[key] = Quantity(key, "forward", sym, values, values.T, _row_labels(values.shape[1], one), samples,
                                  "column")
            elif key in MATRIX_KEYS:
                q[key] = Quantity(key, STAGE_OF[key], sym, values, values, _row_labels(values.shape[0], one),
                                  _col_labels(values.shape[1], one), "matrix")
            else:
                q[key] = Quantity(key, STAGE_OF[key], sym, values, values, samples,
                                  _col_labels(values.shape[1], one), "row")
        out.append(q)
    return out


def _values(lt: LayerTrace, key: str) -> np.ndarray:
    return lt.W_next if key == "W_next" else getattr(lt, key)


def batch_sum_error(trace: Trace) -> float:
    """max over layers of max |Σ_i h_i δ_iᵀ − ∇_W J|: the per-sample outer products add up to the batch gradient."""
    return max(float(np.abs(lt.per_sample_grad_W.sum(0) - lt.grad_W).max()) for lt in trace.layers)


def inputs_tensor(X: np.ndarray, rows: Sequence[int], like: Tensor) -> Tensor:
    """The inspected rows of X as a tensor with the weights' dtype and device."""
    return torch.as_tensor(np.asarray(X)[list(rows)], dtype=like.dtype, device=like.device)


def targets_tensor(targets: np.ndarray, rows: Sequence[int], output: str, like: Tensor) -> Tensor:
    """The inspected targets in the loss's form: class ids (softmax), a float column (sigmoid) or floats."""
    t = torch.as_tensor(np.asarray(targets)[list(rows)], device=like.device)
    width = t.shape[1] if t.ndim == 2 else 1
    return output_kind(output).targets(t, like.dtype, len(rows), width)


def as_numpy(a: np.ndarray | Tensor) -> np.ndarray:
    """A numpy view of an array or a (detached, CPU) tensor."""
    if isinstance(a, Tensor):
        return a.detach().cpu().numpy()
    return np.asarray(a)
