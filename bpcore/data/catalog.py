"""One entry point for every named data set: the toy generators and the bundled real sets."""

from __future__ import annotations

from bpcore.data.bundled import REAL_SETS, load_bundled
from bpcore.data.dataset import Dataset
from bpcore.data.toy import TOY_SETS, make_toy
from bpcore.errors import DataError


def load_dataset(name: str, *, n_samples: int = 400, noise: float = 0.1, seed: int = 0) -> Dataset:
    """A toy set (drawn with n_samples/noise/seed) or a bundled set (those ignored) by case-blind name."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_") if isinstance(name, str) else None
    if key in TOY_SETS:
        return make_toy(key, n_samples=n_samples, noise=noise, seed=seed)
    if key in REAL_SETS:
        return load_bundled(key)
    raise DataError(
        f"unknown data set {name!r}; toy sets: {', '.join(TOY_SETS)}; real sets: {', '.join(REAL_SETS)}"
    )
