"""Where a data set's samples go on screen: the 2-D plane itself, x against y for 1-D regression, or a PCA
projection (bpcore.data.project_2d) when there are more inputs than a plane can show."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpcore.data import project_2d
from bpcore.train import Trainer

_PAD = 0.12  # share of the data range added around it, so the field shows beyond the outermost samples


@dataclass(frozen=True)
class Layout:
    """Screen coordinates of every sample (train, validation, test rows in that order)."""

    kind: str  # "plane" (2 inputs), "line" (1 input, regression) or "projected" (PCA of the inputs)
    inputs: np.ndarray  # (N, D) the network's (standardised) inputs
    xy: np.ndarray  # (N, 2) where each sample is drawn
    labels: np.ndarray | None  # (N,) class ids, or None for regression
    values: np.ndarray  # (N,) class ids as float, or the first regression target
    held_out: np.ndarray  # (N,) bool: validation or test row (drawn hollow)
    class_names: tuple[str, ...] | None
    extent: tuple[float, float, float, float]  # x0, x1, y0, y1 of the field (or of the curve's x range)

    @property
    def n_inputs(self) -> int:
        return int(self.inputs.shape[1])


def _padded(lo: float, hi: float) -> tuple[float, float]:
    span = hi - lo if hi > lo else 1.0
    return lo - _PAD * span, hi + _PAD * span


def layout_for(trainer: Trainer) -> Layout:
    """The Layout of a Trainer's split (standardised inputs, as the network sees them)."""
    parts = (trainer.split.train, trainer.split.val, trainer.split.test)
    X = np.concatenate([p.X for p in parts])
    y = np.concatenate([p.y for p in parts])
    held_out = np.concatenate([np.zeros(len(parts[0]), bool), np.ones(len(parts[1]) + len(parts[2]), bool)])
    classification = trainer.task == "classification"
    labels = y.astype(np.int64) if classification else None
    values = y.astype(float) if classification else y[:, 0].astype(float)
    d = X.shape[1]
    if d == 1 and not classification:
        kind, xy = "line", np.column_stack([X[:, 0], values])
    elif d == 2:
        kind, xy = "plane", X.copy()
    else:
        kind, xy = "projected", project_2d(X)
    if len(xy):
        x0, x1 = _padded(float(xy[:, 0].min()), float(xy[:, 0].max()))
        y0, y1 = _padded(float(xy[:, 1].min()), float(xy[:, 1].max()))
    else:
        x0, x1, y0, y1 = -1.0, 1.0, -1.0, 1.0
    if kind == "plane":  # square pixels: widen the shorter side
        cx, cy, half = (x0 + x1) / 2, (y0 + y1) / 2, max(x1 - x0, y1 - y0) / 2
        x0, x1, y0, y1 = cx - half, cx + half, cy - half, cy + half
    return Layout(kind, X, xy, labels, values, held_out, trainer.dataset.class_names, (x0, x1, y0, y1))
