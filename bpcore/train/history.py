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
        self._room(1)
        for k, v in row.items():
            self.series[k][self.n] = v
        self.delta[self.n] = delta
        self.n += 1

    def extend(self, series: dict[str, np.ndarray], delta: np.ndarray) -> None:
        """Append several rows at once: `series` of HISTORY_KEYS of one length, `delta` (rows, L)."""
        m = len(delta)
        self._room(m)
        for k, v in series.items():
            self.series[k][self.n:self.n + m] = v
        self.delta[self.n:self.n + m] = delta
        self.n += m

    def _room(self, m: int) -> None:
        """Grow by doubling until m more rows fit; old views keep the old (unchanged) buffers."""
        size = len(self.delta)
        while self.n + m > size:
            size *= 2
        if size != len(self.delta):
            self.series = {k: np.concatenate([v, np.full(size - len(v), np.nan)]) for k, v in self.series.items()}
            self.delta = np.concatenate([self.delta, np.full((size - len(self.delta), self.delta.shape[1]), np.nan)])

    def views(self) -> tuple[dict[str, np.ndarray], np.ndarray]:
        out = {}
        for k, v in self.series.items():
            view = v[: self.n]
            view.flags.writeable = False
            out[k] = view
        delta = self.delta[: self.n]
        delta.flags.writeable = False
        return out, delta
