"""Immutable pictures of a training run that another thread (the GUI) can read without locks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from bpcore.train.state import RunState

HISTORY_KEYS = (
    "epoch", "train_loss", "val_loss", "test_loss", "train_score", "val_score", "test_score",
    "grad_norm", "lr", "time",
)


class Criterion(NamedTuple):
    """One stopping criterion against its limit, as MATLAB's training window shows it (a named tuple: five are
    made every epoch, at a third of a frozen dataclass's cost)."""

    name: str  # "epochs", "time", "loss goal", "min gradient", "validation patience"
    value: float
    limit: float | None  # None: the criterion is off
    met: bool


@dataclass(frozen=True)
class Snapshot:
    """The state of a run after an epoch. Arrays are read-only copies or read-only views of append-only
    history, so a reader on another thread never sees them change."""

    epoch: int
    step: int
    elapsed: float  # seconds of training (pauses excluded)
    steps_per_second: float
    state: RunState  # idle | running | paused | stopped | finished | diverged (a str Enum)
    reason: str  # why the run stopped, in plain words ("" while it runs)
    task: str  # classification | regression
    history: Mapping[str, np.ndarray]  # HISTORY_KEYS, one value per epoch (NaN where not measured)
    delta_history: np.ndarray  # (epochs, L): mean |δ^(l)| per layer on the epoch's last mini-batch
    grad_norms: np.ndarray  # (L,): ‖∇W^(l)‖ on the last mini-batch
    best_epoch: int | None  # epoch of the lowest validation loss
    criteria: tuple[Criterion, ...]
    lr: float
    weights: tuple[np.ndarray, ...] | None = None  # W^(l), (D_in + 1, D_out), when asked for
    grads: tuple[np.ndarray, ...] | None = None  # ∇W^(l) = [h, 1]ᵀ δ of the last mini-batch, when asked for
    metrics: Mapping[str, float] = field(default_factory=dict)  # the latest value of each history series
    views: Any = None  # bpcore.train.views.ViewData for the window's ViewRequest, attached by the publisher

    @property
    def finished(self) -> bool:
        """True once the run has ended for any reason (stopped, a criterion met, diverged)."""
        return RunState(self.state).ended
