"""Real data sets shipped in resources/datasets (extracted from scikit-learn by tools/extract_datasets.py).

Each is a CSV file with a header row and the class name in the last column, read by the same read_csv
as a user's own file, with the task forced to classification. Attribution: resources/datasets/README.md.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from bpcore.data.csv_reader import read_csv
from bpcore.data.dataset import Dataset
from bpcore.errors import DataError

REAL_SETS: tuple[str, ...] = ("iris", "wine", "breast_cancer", "digits")


def _data_dir() -> Path:
    """resources/datasets of a checkout (or editable install), else the copy a wheel installs."""
    checkout = Path(__file__).resolve().parents[2] / "resources" / "datasets"
    if checkout.is_dir():
        return checkout
    return Path(str(resources.files("bpcore._resources") / "datasets"))


DATA_DIR = _data_dir()


def bundled_path(name: str) -> Path:
    """Path of the CSV file of the bundled set ``name`` (one of REAL_SETS)."""
    if not isinstance(name, str) or name not in REAL_SETS:
        raise DataError(f"unknown bundled data set {name!r}; choose one of: {', '.join(REAL_SETS)}")
    return DATA_DIR / f"{name}.csv"


def load_bundled(name: str) -> Dataset:
    """Load the bundled real data set ``name`` (one of REAL_SETS) as a classification Dataset."""
    return read_csv(bundled_path(name), task="classification")
