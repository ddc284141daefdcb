"""The state of a training run: one Enum shared by the Trainer, the runners, the CLI and the window."""

from __future__ import annotations

import enum


class RunState(str, enum.Enum):
    """Where a run stands. A str Enum, so ``state == "running"`` and JSON output keep working."""

    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    FINISHED = "finished"
    DIVERGED = "diverged"

    def __str__(self) -> str:
        return self.value

    @property
    def ended(self) -> bool:
        """True once the run has ended for any reason (stopped, a criterion met, diverged)."""
        return self in (RunState.STOPPED, RunState.FINISHED, RunState.DIVERGED)
