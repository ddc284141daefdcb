"""Carry a run's progress (epoch and step counters, history curves) into a freshly built Trainer.

Used when a GUI rebuilds a Trainer around the same weights (a changed optimizer, L2 or epoch limit,
another device) and when a session file is opened, so the curves and the epoch count continue instead
of starting over. Only recorded numbers are copied; nothing is recomputed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from bpcore.train.snapshot import HISTORY_KEYS
from bpcore.train.trainer import Trainer


def restore_progress(trainer: Trainer, history: Mapping[str, np.ndarray], *, epoch: int | None = None,
                   step: int | None = None, delta_history: np.ndarray | None = None) -> None:
    """Append recorded history rows to a Trainer that has not trained yet and set its counters.

    `history` holds HISTORY_KEYS series of one length (missing keys count as NaN); `delta_history`
    (epochs, L) the mean |δ| per layer, NaN where unknown (session files do not store it).
    """
    if trainer.epoch or trainer.history.n:
        raise ValueError("restore_progress needs a Trainer that has not trained yet")
    n = max((len(v) for v in history.values()), default=0)
    if n == 0:
        return
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
    if np.isfinite(val).any():  # the best-validation marker and early stopping continue from the record
        best = int(np.nanargmin(val))
        trainer.best_val = float(val[best])
        trainer.best_epoch = int(epochs[best]) if np.isfinite(epochs[best]) else best + 1
