"""Scores of a trained network: accuracy, R², confusion matrix (torch in, Python numbers out)."""

from __future__ import annotations

import torch
from torch import Tensor


def accuracy(z: Tensor, target: Tensor) -> float:
    """Fraction of rows whose predicted class equals the target (logits z, sigmoid or softmax)."""
    pred = (z[:, 0] > 0).long() if z.shape[1] == 1 else z.argmax(1)
    labels = target.reshape(-1).long()
    return float((pred == labels).double().mean()) if len(labels) else float("nan")


def r2(o: Tensor, target: Tensor) -> float:
    """Coefficient of determination 1 − SS_res / SS_tot over all outputs (NaN for an empty set)."""
    if target.numel() == 0:
        return float("nan")
    ss_res = (o - target).square().sum()
    ss_tot = (target - target.mean(0)).square().sum()
    return float(1 - ss_res / ss_tot) if float(ss_tot) > 0 else float("nan")


def confusion_matrix(z: Tensor, target: Tensor, n_classes: int) -> Tensor:
    """(K, K) int64 counts, row = true class, column = predicted class."""
    pred = (z[:, 0] > 0).long() if z.shape[1] == 1 else z.argmax(1)
    idx = target.reshape(-1).long() * n_classes + pred
    return torch.bincount(idx.cpu(), minlength=n_classes * n_classes).reshape(n_classes, n_classes)
