"""What the window draws besides weights and history, computed by the engine from a snapshot's own weights.

The window says once what it shows (a `ViewRequest`: the grid of its decision field, the rows of its projected
view, the part of its confusion matrix); whoever publishes snapshots (the training process, or the thread
fallback) attaches a `ViewData` to each snapshot it hands over, computed from that snapshot's weights, so the
numbers always belong to the weights shown beside them and the window runs no torch of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from bpcore import backprop as bp
from bpcore import metrics
from bpcore.inspect import Field, field


@dataclass(frozen=True, eq=False)
class ViewRequest:
    """What the window wants computed for every snapshot it gets."""

    extent: tuple[float, float, float, float] | None = None  # field grid (x0, x1, y0, y1); y0 = y1 for a line
    resolution: int = 100  # field points per axis
    hidden_stride: int = 2  # the hidden neurons' fields (the network view's thumbnails) at every n-th point
    rows: np.ndarray | None = None  # (n, D) standardised inputs whose prediction the window shows
    confusion: str | None = None  # "train", "val" or "test": the part of the confusion matrix


@dataclass(frozen=True, eq=False)
class ViewData:
    """The request's answer for one snapshot (None where not asked for)."""

    field: Field | None = None  # float32; hidden at every hidden_stride-th point of xs and ys
    predicted: np.ndarray | None = None  # (n,) class of each requested row; regression: its value (1st output)
    confusion: np.ndarray | None = None  # (K, K) counts, row = true class, column = predicted


def fits(request: ViewRequest, d_in: int) -> bool:
    """Whether the request was made for a network of `d_in` inputs: its rows that wide, its field over a line
    (one input) or a plane (two)."""
    if request.rows is not None and request.rows.ndim == 2 and request.rows.shape[1] != d_in:
        return False
    if request.extent is not None and d_in != (1 if request.extent[2] == request.extent[3] else 2):
        return False
    return True


def compute(request: ViewRequest, weights: Sequence[np.ndarray], activations: Sequence[str], output: str,
            parts: dict | None = None, n_classes: int | None = None) -> ViewData:
    """Evaluate `request` on the snapshot's `weights` (numpy copies); `parts` (Trainer.parts) and `n_classes`
    are needed for a confusion matrix."""
    f = None
    if request.extent is not None:
        f = field(weights, activations, output, request.extent, request.resolution)
        s = request.hidden_stride  # a fraction of the bytes to send: the thumbnails are small
        f = Field(f.xs, f.ys, f.output.astype(np.float32),
                  [np.ascontiguousarray(h[:, ::s, ::s], dtype=np.float32) for h in f.hidden])
    Ws = [torch.tensor(W) for W in weights]  # copies: the snapshot arrays are read-only
    predicted = None
    if request.rows is not None and len(request.rows):
        with torch.no_grad():
            x = torch.as_tensor(request.rows, dtype=Ws[0].dtype)
            z = bp.forward_pass(x, Ws, activations)[2]
            predicted = (metrics.predicted(z) if bp.output_kind(output).classifies
                         else bp.output(output, z)[:, 0].float()).numpy()
    confusion = None
    if request.confusion is not None and parts is not None and n_classes:
        p = parts[request.confusion]
        if len(p):
            with torch.no_grad():
                z = bp.forward_pass(p.x.to("cpu", Ws[0].dtype), Ws, activations)[2]
                confusion = metrics.confusion_matrix(z, p.target.cpu(), n_classes).numpy()
    return ViewData(f, predicted, confusion)

