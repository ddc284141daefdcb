"""What the engine refuses, decided once per call from shapes and dtypes (Python compares, never a pass
over the elements): an input that does not fit W, a target that does not fit the logits, a class id
outside 0..K−1, and a saved tensor changed in place between forward and backward.

Every check here names the place (the function, the argument or layer), what was expected and what was
given. Class ids are bounds-checked by the CPU's own gather/scatter inside the losses (`class_id_error`
translates that error); on other devices, where an out-of-range index is a device assert that kills the
process, `check_class_target` looks at the values before any kernel runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from bpcore.errors import ClassIdError, ShapeError

__all__ = [
    "ClassIdError",
    "ShapeError",
    "check_class_target",
    "check_float_target",
    "check_input",
    "check_versions",
    "check_weights",
    "class_id_error",
    "versions",
]


def _shape(t: Tensor) -> str:
    return str(tuple(t.shape))


def check_input(where: str, x: Tensor, W: Tensor) -> None:
    """x must be a (B, D_in) batch of W's dtype, D_in = W.shape[0] − 1 (the last row of W is the bias)."""
    if x.ndim != 2 or x.shape[1] != W.shape[0] - 1 or x.dtype != W.dtype:
        _input_error(where, x, W)


def _input_error(where: str, x: Tensor, W: Tensor) -> None:
    d_in = W.shape[0] - 1
    if not isinstance(x, Tensor):
        raise ShapeError(f"{where}: input x must be a tensor of shape (B, {d_in}), got {type(x).__name__}")
    layer = f"layer 1 (W^(1) of shape {_shape(W)}, biases as its last row)"
    if x.ndim != 2:
        raise ShapeError(f"{where}: input x has shape {_shape(x)} ({x.ndim}-D), but {layer} takes a 2-D "
                         f"batch of shape (B, {d_in}), one row per sample (for one sample use x[None])")
    if x.shape[1] != d_in:
        raise ShapeError(f"{where}: input x has shape {_shape(x)}, but {layer} takes a batch of "
                         f"shape (B, {d_in}): {d_in} columns expected, {x.shape[1]} given")
    raise ShapeError(f"{where}: input x has dtype {x.dtype}, but {layer} has dtype {W.dtype}; "
                     f"convert x with x.to({W.dtype})")


def check_weights(where: str, weights: Sequence[Tensor]) -> None:
    """Each W^(l) is a 2-D (D_in + 1, D_out) matrix whose D_in is the D_out of the layer below."""
    for l, W in enumerate(weights, start=1):
        if not isinstance(W, Tensor) or W.ndim != 2 or W.shape[0] < 2 or W.shape[1] < 1:
            shape = _shape(W) if isinstance(W, Tensor) else type(W).__name__
            raise ShapeError(f"{where}: W^({l}) must be a (D_in + 1, D_out) matrix with D_in, D_out >= 1 "
                             f"(biases as its last row), got {shape}")
        if l > 1 and W.shape[0] != weights[l - 2].shape[1] + 1:
            below = weights[l - 2]
            raise ShapeError(f"{where}: W^({l}) has shape {_shape(W)}, but layer {l - 1} gives "
                             f"{below.shape[1]} outputs (W^({l - 1}) is {_shape(below)}): expected "
                             f"{below.shape[1] + 1} rows, {W.shape[0]} given")
        if W.dtype != weights[0].dtype:
            raise ShapeError(f"{where}: W^({l}) has dtype {W.dtype} but W^(1) has {weights[0].dtype}")


def check_float_target(where: str, z: Tensor, target: Tensor, z_name: str = "z") -> None:
    """An elementwise loss's target has exactly z's shape (no broadcasting) and z's floating dtype."""
    if target.shape != z.shape or target.dtype != z.dtype:
        _float_target_error(where, z, target, z_name)


def _float_target_error(where: str, z: Tensor, target: Tensor, z_name: str) -> None:
    if not isinstance(target, Tensor):
        raise ShapeError(f"{where}: target must be a tensor of shape {_shape(z)}, got {type(target).__name__}")
    if target.shape != z.shape:
        raise ShapeError(f"{where}: target has shape {_shape(target)} but {z_name} has shape {_shape(z)}; "
                         "they must be equal (the loss does not broadcast)")
    raise ShapeError(f"{where}: target has dtype {target.dtype} but {z_name} has dtype {z.dtype}; "
                     f"a float target of {z_name}'s dtype is needed (target.to({z.dtype}))")


def check_class_target(where: str, z: Tensor, target: Tensor, z_name: str = "z") -> None:
    """Class ids: an int64 (B,) target for (B, K) scores. On the CPU the values are left to the loss's
    gather/scatter bounds check (free); elsewhere they are checked here, before a device assert can fire."""
    if target.dtype != torch.int64 or target.ndim != 1 or z.ndim != 2 or target.shape[0] != z.shape[0]:
        _class_target_error(where, z, target, z_name)
    if not target.is_cpu and target.numel():
        lo, hi = torch.aminmax(target)
        if int(lo) < 0 or int(hi) >= z.shape[1]:
            raise class_id_error(where, target, z.shape[1])


def _class_target_error(where: str, z: Tensor, target: Tensor, z_name: str) -> None:
    if not isinstance(target, Tensor):
        raise ShapeError(f"{where}: target must be a tensor of int64 class ids, got {type(target).__name__}")
    if z.ndim != 2:
        raise ShapeError(f"{where}: {z_name} must be (B, K) class scores, got shape {_shape(z)}")
    if target.dtype != torch.int64:
        raise ShapeError(f"{where}: target has dtype {target.dtype}; class ids must be int64 "
                         "(target.long() for integer labels)")
    raise ShapeError(f"{where}: target has shape {_shape(target)} but {z_name} has shape {_shape(z)}; "
                     f"one class id per row is needed: shape ({z.shape[0]},)")


def class_id_error(where: str, target: Tensor, k: int) -> ClassIdError:
    """The error for a target holding an id outside 0..k−1, naming the first such row (slow path only)."""
    bad = ((target < 0) | (target >= k)).nonzero()
    if not len(bad):  # not a class id problem: let the caller re-raise what it caught
        return ClassIdError(f"{where}: target's class ids must lie in 0..{k - 1}")
    i = int(bad[0, 0])
    return ClassIdError(f"{where}: target[{i}] = {int(target[i])} is not a class id: the scores have "
                        f"{k} classes, so ids must lie in 0..{k - 1} ({len(bad)} row(s) out of range)")


def versions(tensors: Sequence[Tensor]) -> list[int]:
    """The version counters of tensors saved by reference, to compare in the backward."""
    return [t._version for t in tensors]


def check_versions(where: str, tensors: Sequence[Tensor], saved: list[int], names: Sequence[str]) -> None:
    """Raise, in torch's words, when a tensor the backward needs was modified in place after the forward."""
    now = [t._version for t in tensors]
    if now == saved:
        return
    i = next(i for i, (a, b) in enumerate(zip(now, saved, strict=True)) if a != b)
    t = tensors[i]
    raise RuntimeError(
        f"{where}: one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: {names[i]} [{t.dtype} of shape {_shape(t)}] is at version {now[i]}; expected version "
        f"{saved[i]} instead (it was modified in place between forward and backward, e.g. by an optimizer "
        "step before backward); its gradient would be wrong"
    )
