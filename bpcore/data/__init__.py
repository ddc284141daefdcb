"""Data for Backprop Lab: the Dataset type, toy and bundled sets, CSV import, splitting, 2-D projection."""

from bpcore.data.bundled import REAL_SETS, load_bundled
from bpcore.data.catalog import load_dataset
from bpcore.data.csv_reader import preview_csv, read_csv
from bpcore.data.dataset import Dataset
from bpcore.data.projection import project_2d
from bpcore.data.split import Split, split_dataset
from bpcore.data.toy import TOY_SETS, make_toy

__all__ = [
    "REAL_SETS",
    "TOY_SETS",
    "Dataset",
    "Split",
    "load_bundled",
    "load_dataset",
    "make_toy",
    "preview_csv",
    "project_2d",
    "read_csv",
    "split_dataset",
]
