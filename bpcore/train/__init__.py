"""The training engine: Trainer (epochs, optimizers, schedules, stopping criteria, snapshots)."""

from bpcore.train.network import FlatNetwork
from bpcore.train.progress import restore_progress
from bpcore.train.snapshot import HISTORY_KEYS, Criterion, Snapshot
from bpcore.train.state import RunState
from bpcore.train.trainer import Trainer, TrainerBusyError

__all__ = ["HISTORY_KEYS", "Criterion", "FlatNetwork", "RunState", "Snapshot", "Trainer", "TrainerBusyError",
           "restore_progress"]
