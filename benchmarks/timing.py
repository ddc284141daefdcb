"""Interleaved timing: candidates and baseline alternate in rounds in one process; ratios are medians."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def time_per_call(fn: Callable[[], object], n: int) -> float:
    """Seconds per call of fn over n back-to-back calls."""
    t0 = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t0) / n


def calls_for(fn: Callable[[], object], target_s: float = 0.05) -> int:
    """How many calls take about target_s (after one warm-up call)."""
    fn()
    t = time_per_call(fn, 3)
    return max(1, int(target_s / max(t, 1e-7)))


def interleaved(fns: dict[str, Callable[[], object]], rounds: int = 21, target_s: float = 0.05) -> dict:
    """Time each fn in alternating rounds; returns {name: [seconds per call, per round]}."""
    n = {name: calls_for(fn, target_s) for name, fn in fns.items()}
    for name, fn in fns.items():  # warm-up round
        time_per_call(fn, n[name])
    times: dict[str, list[float]] = {name: [] for name in fns}
    for r in range(rounds):
        order = list(fns) if r % 2 == 0 else list(reversed(fns))
        for name in order:
            times[name].append(time_per_call(fns[name], n[name]))
    return times


def median_ratio(times: dict, name: str, baseline: str) -> float:
    """Median over rounds of time(name) / time(baseline), each ratio from the same round."""
    return statistics.median(a / b for a, b in zip(times[name], times[baseline], strict=True))


def median(xs: list[float]) -> float:
    return statistics.median(xs)
