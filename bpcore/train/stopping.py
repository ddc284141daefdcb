"""Stopping criteria as in MATLAB's training tools, each reported against its limit."""

from __future__ import annotations

import math

from bpcore.train.snapshot import Criterion


def criteria(
    *, epoch: int, epochs: int, elapsed: float, time_limit: float | None, train_loss: float,
    loss_goal: float | None, grad_norm: float, min_grad: float | None, since_best: int, patience: int | None,
) -> tuple[Criterion, ...]:
    """Every criterion with its current value, its limit (None when off) and whether it is met."""

    def on(limit: float | None, met: bool) -> bool:
        return limit is not None and met

    return (
        Criterion("epochs", epoch, epochs, epoch >= epochs),
        Criterion("time", elapsed, time_limit, on(time_limit, elapsed >= (time_limit or math.inf))),
        Criterion("loss goal", train_loss, loss_goal, on(loss_goal, train_loss <= (loss_goal or 0.0))),
        Criterion("min gradient", grad_norm, min_grad, on(min_grad, grad_norm < (min_grad or 0.0))),
        Criterion("validation patience", since_best, patience, on(patience, since_best >= (patience or 0))),
    )


REASONS = {
    "epochs": "reached the epoch limit ({limit:g} epochs)",
    "time": "reached the time limit ({limit:g} s)",
    "loss goal": "training loss reached the goal ({value:.4g} ≤ {limit:g})",
    "min gradient": "gradient norm fell below the minimum ({value:.3g} < {limit:g})",
    "validation patience": "validation loss did not improve for {limit:g} epochs (best weights restored)",
}


def reason(c: Criterion) -> str:
    """A plain-words sentence for a met criterion."""
    return REASONS[c.name].format(value=c.value, limit=c.limit)
