"""Carry a run's progress (epoch and step counters, history curves, mean |δ| per layer) into a fresh Trainer.

Used when a GUI rebuilds a Trainer around the same weights (a changed optimizer, L2 or epoch limit,
another device), when the training process loads a run, and when a session file is opened, so the curves
and the epoch count continue instead of starting over. Recorded numbers are copied; the best epoch and the
stopping criteria are what the trainer had at the last recorded epoch's end, taken from the record and the
Trainer's own limits (a changed limit shows at once), never from training again.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch

from bpcore.train import stopping
from bpcore.train.snapshot import HISTORY_KEYS
from bpcore.train.trainer import Trainer


def restore_progress(trainer: Trainer, history: Mapping[str, np.ndarray], *, epoch: int | None = None,
                   step: int | None = None, delta_history: np.ndarray | None = None,
                   best_epoch: int | None = None, grads=None) -> None:
    """Append recorded history rows to a Trainer that has not trained yet and set its counters, best epoch
    and stopping criteria.

    `history` holds HISTORY_KEYS series of one length (missing keys count as NaN); `delta_history`
    (epochs, L) the mean |δ| per layer, NaN where unknown (files written before it was saved);
    `best_epoch` the epoch of the lowest validation loss as recorded (None: found in the record's
    val_loss, as the trainer finds it: the first lowest value); `grads` ∇W^(l) of the last mini-batch per layer
    (tensors or arrays of the weights' shapes: the Gradients view and the per-layer norms; None: zeros).
    """
    if trainer.epoch or trainer.history.n:
        raise ValueError("restore_progress needs a Trainer that has not trained yet")
    n = max((len(v) for v in history.values()), default=0)
    if n == 0:
        return
    if grads is not None:
        _restore_grads(trainer, grads)
    series = {k: np.asarray(history.get(k, np.full(n, np.nan)), dtype=float) for k in HISTORY_KEYS}
    n_layers = trainer.net.n_layers
    deltas = np.full((n, n_layers), np.nan) if delta_history is None else np.asarray(delta_history, dtype=float)
    if deltas.shape != (n, n_layers):
        deltas = np.full((n, n_layers), np.nan)
    for i in range(n):
        trainer.history.append({k: float(v[i]) if i < len(v) else np.nan for k, v in series.items()}, deltas[i])
    epochs = series["epoch"]
    last_epoch = int(epochs[-1]) if np.isfinite(epochs[-1]) else n
    trainer.epoch = int(epoch) if epoch is not None else last_epoch
    trainer.step_count = int(step) if step is not None else 0
    elapsed = series["time"][np.isfinite(series["time"])]
    trainer.elapsed = float(elapsed[-1]) if elapsed.size else 0.0
    val = series["val_loss"]
    rows = np.flatnonzero(epochs == best_epoch) if best_epoch is not None else ()
    if len(rows):  # the best-validation marker and early stopping continue from the record
        trainer.best_val, trainer.best_epoch = float(val[rows[0]]), int(best_epoch)
    elif np.isfinite(val).any():
        best = int(np.nanargmin(val))
        trainer.best_val = float(val[best])
        trainer.best_epoch = int(epochs[best]) if np.isfinite(epochs[best]) else best + 1
    _restore_criteria(trainer, series)


def _restore_grads(trainer: Trainer, grads) -> None:
    """Copy the recorded ∇W^(l) into the trainer's gradient buffer (ValueError on a shape that does not fit)."""
    G = trainer.net.grads
    given, want = [tuple(g.shape) for g in grads], [tuple(g.shape) for g in G]
    if given != want:
        raise ValueError(f"recorded gradients of shapes {given} do not fit the network's {want}")
    with torch.no_grad():
        for g, saved in zip(G, grads, strict=True):
            g.copy_(saved if torch.is_tensor(saved) else torch.from_numpy(np.array(saved)))  # snapshots: read-only
    trainer.grad_norms = np.array([float(torch.linalg.vector_norm(g)) for g in G])  # as _end_epoch computes them


def _restore_criteria(trainer: Trainer, series: Mapping[str, np.ndarray]) -> None:
    """The criteria as the trainer computes them at an epoch's end, from the last recorded row."""
    tr = trainer.experiment.training
    since_best = trainer.epoch - trainer.best_epoch if trainer.best_epoch is not None else 0
    trainer._criteria = stopping.criteria(
        epoch=trainer.epoch, epochs=tr.epochs, elapsed=trainer.elapsed, time_limit=tr.time_limit,
        train_loss=float(series["train_loss"][-1]), loss_goal=tr.loss_goal, grad_norm=float(series["grad_norm"][-1]),
        min_grad=tr.min_grad, since_best=since_best, patience=tr.patience,
    )
