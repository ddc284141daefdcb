"""Scores of a trained network: accuracy, R², confusion matrix (torch in, Python numbers out)."""

from __future__ import annotations

import torch
from torch import Tensor


def predicted(z: Tensor) -> Tensor:
    """The class each row of logits z predicts: argmax (softmax), or z > 0 for one sigmoid output (a tie goes
    to class 0, as argmax gives it to the first)."""
    return (z[:, 0] > 0).long() if z.shape[1] == 1 else z.argmax(1)


def correct(z: Tensor, target: Tensor) -> Tensor:
    """1.0 where the row's predicted class equals its target, else 0.0 (float64)."""
    return (predicted(z) == target.reshape(-1).long()).double()


def accuracy(z: Tensor, target: Tensor) -> float:
    """Fraction of rows whose predicted class equals the target (logits z, sigmoid or softmax)."""
    return float(correct(z, target).mean()) if len(target) else float("nan")


def r2(o: Tensor, target: Tensor) -> float:
    """Coefficient of determination 1 − SS_res / SS_tot over all outputs (NaN for an empty set)."""
    if target.numel() == 0:
        return float("nan")
    ss_res = (o - target).square().sum()
    ss_tot = (target - target.mean(0)).square().sum()
    return float(1 - ss_res / ss_tot) if float(ss_tot) > 0 else float("nan")


def confusion_matrix(z: Tensor, target: Tensor, n_classes: int) -> Tensor:
    """(K, K) int64 counts, row = true class, column = predicted class."""
    idx = target.reshape(-1).long() * n_classes + predicted(z)
    return torch.bincount(idx.cpu(), minlength=n_classes * n_classes).reshape(n_classes, n_classes)
