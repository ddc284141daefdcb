"""Train/validation/test split, stratified per class, with standardisation fitted on the training rows."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bpcore.data.dataset import Dataset, check_seed
from bpcore.errors import DataError


@dataclass(frozen=True, eq=False)
class Split:
    """Three disjoint parts of a data set plus the standardisation (None if not standardised)."""

    train: Dataset
    val: Dataset
    test: Dataset
    mean: np.ndarray | None
    std: np.ndarray | None

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Standardise new inputs (N, D) with the training mean/std; a float64 copy if not standardised."""
        X = np.array(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.train.n_features:
            raise DataError(f"transform expects inputs of shape (N, {self.train.n_features}), got {X.shape}")
        if self.mean is None or self.std is None:
            return X
        return (X - self.mean) / self.std


def _check_ratios(ratios: tuple[float, float, float]) -> tuple[float, float, float]:
    try:
        r = tuple(float(v) for v in ratios)
    except (TypeError, ValueError):
        raise DataError(f"split ratios must be three numbers (train, val, test), got {ratios!r}") from None
    if len(r) != 3 or not all(math.isfinite(v) and v >= 0 for v in r):
        raise DataError(f"split ratios must be three finite numbers >= 0 (train, val, test), got {ratios!r}")
    if r[0] <= 0:
        raise DataError(f"the train ratio must be > 0, got {ratios!r}")
    if abs(sum(r) - 1.0) > 1e-9:
        raise DataError(f"split ratios must sum to 1, got {ratios!r} (sum {sum(r)!r})")
    return r[0], r[1], r[2]


def _counts(n: int, ratios: tuple[float, float, float]) -> list[int]:
    # largest remainder: floor each share, then hand out the rest by fraction (ties: train, val, test)
    shares = [n * r for r in ratios]
    counts = [math.floor(s) for s in shares]
    order = sorted(range(3), key=lambda k: (counts[k] - shares[k], k))
    for k in order[: n - sum(counts)]:
        counts[k] += 1
    if n > 0 and counts[0] == 0:  # every group keeps at least one training row
        counts[2 if counts[2] >= counts[1] else 1] -= 1
        counts[0] = 1
    return counts


def split_dataset(
    ds: Dataset,
    ratios: tuple[float, float, float] = (0.7, 0.15, 0.15),
    seed: int = 0,
    *,
    stratify: bool = True,
    standardise: bool = True,
) -> Split:
    """Shuffle and split ds into train/val/test by ratios (per class if stratify), standardising on train."""
    r = _check_ratios(ratios)
    s = check_seed(seed)
    rng = np.random.default_rng(s)
    if stratify and ds.task == "classification":
        groups = [np.flatnonzero(ds.y == c) for c in range(ds.n_classes)]
    else:
        groups = [np.arange(len(ds))]
    parts: list[list[np.ndarray]] = [[], [], []]
    for g in groups:
        g = rng.permutation(g)
        n_train, n_val, _ = _counts(len(g), r)
        for part, chunk in zip(parts, np.split(g, [n_train, n_train + n_val]), strict=True):
            part.append(chunk)
    train, val, test = (ds.subset(rng.permutation(np.concatenate(p).astype(np.int64))) for p in parts)
    if not standardise:
        return Split(train, val, test, None, None)
    mean = train.X.mean(axis=0)
    std = train.X.std(axis=0)
    std[std <= 1e-12 * np.abs(mean)] = 1.0  # a constant feature (std 0 up to rounding) is left unscaled
    for d in (train, val, test):  # subset() copied the rows: standardise those copies in place (no temporaries)
        d.X.__isub__(mean)
        d.X.__itruediv__(std)
    return Split(train, val, test, mean, std)
