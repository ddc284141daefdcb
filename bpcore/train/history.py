"""A run's per-epoch record: append-only series that readers on other threads see as read-only views."""

from __future__ import annotations

import numpy as np

from bpcore.train.snapshot import HISTORY_KEYS


class History:
    """Append-only per-epoch series; readers get read-only views of the filled prefix."""

    def __init__(self, n_layers: int) -> None:
        self.n = 0
        self.series = {k: np.full(64, np.nan) for k in HISTORY_KEYS}
        self.delta = np.full((64, n_layers), np.nan)

    def append(self, row: dict[str, float], delta: np.ndarray) -> None:
        if self.n == len(self.delta):  # grow by doubling; old views keep the old (unchanged) buffers
            self.series = {k: np.concatenate([v, np.full_like(v, np.nan)]) for k, v in self.series.items()}
            self.delta = np.concatenate([self.delta, np.full_like(self.delta, np.nan)])
        for k, v in row.items():
            self.series[k][self.n] = v
        self.delta[self.n] = delta
        self.n += 1

    def views(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        out = {}
        for k, v in self.series.items():
            view = v[: self.n]
            view.flags.writeable = False
            out[k] = view
        delta = self.delta[: self.n]
        delta.flags.writeable = False
        return out, delta
