"""The one-line description of a data source ('spirals · 400 samples · 2 features · 2 classes')."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from bpcore.config import TOY_SOURCES
from bpcore.data import Dataset, load_dataset
from bpcore.errors import DataError

_PROBE_ROWS = 8  # the shape of a toy set does not depend on its size: draw a few rows to learn it


@lru_cache(maxsize=32)
def _shape(source: str) -> tuple[int, int, int | None]:
    """(rows, features, classes or None for regression) of a named set, loaded through bpcore once."""
    n = _PROBE_ROWS if source in TOY_SOURCES else 400
    ds = load_dataset(source, n_samples=n)
    return len(ds), ds.n_features, (ds.n_classes if ds.task == "classification" else None)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def dataset_summary(name: str, rows: int, features: int, classes: int | None) -> str:
    """'name · N samples · D features · K classes' (or '· regression')."""
    kind = _count(classes, "class", "classes") if classes is not None else "regression"
    return f"{name} · {_count(rows, 'sample', 'samples')} · {_count(features, 'feature', 'features')} · {kind}"


def summarise(source: str, n_samples: int, target: str | int | None = None,
              csv_dataset: Dataset | None = None) -> str:
    """The summary line for a DataSpec source; a ``csv:<path>`` source needs the Dataset read from it."""
    if source.startswith("csv:"):
        label = Path(source[4:]).name
        if csv_dataset is None:
            return f"{label} · CSV file, target {'the last column' if target is None else repr(target)}"
        ds = csv_dataset
        return dataset_summary(label, len(ds), ds.n_features, ds.n_classes if ds.task == "classification" else None)
    label = source.replace("_", " ")
    try:
        rows, features, classes = _shape(source)
    except DataError as e:
        return f"{label} · cannot be loaded: {e}"
    if source in TOY_SOURCES:
        rows = n_samples
    return dataset_summary(label, rows, features, classes)
