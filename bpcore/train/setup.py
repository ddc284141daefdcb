"""From an experiment description to tensors and a model: data loading, split, output kind, device."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from bpcore import backprop as bp
from bpcore.config import TOY_SOURCES, DataSpec, Experiment
from bpcore.data import Dataset, Split, load_dataset, read_csv, split_dataset
from bpcore.errors import ConfigError, DataError
from bpcore.nn import MLP

_TOY_BYTES_PER_ROW = 4 * 8 * 4  # ≤ 2 inputs + 1 target (+ labels) as float64, drawn, shuffled, noised, kept


def load_data(spec: DataSpec, progress: Callable[[float], None] | None = None) -> Dataset:
    """The data set a DataSpec names: a toy set, a bundled set or `csv:<path>` (ConfigError before drawing a
    toy set that cannot fit in memory); `progress(fraction)` follows the reading of a large CSV file."""
    if spec.source.startswith("csv:"):
        return read_csv(spec.source[4:], target=spec.target, task=spec.task, progress=progress)
    if spec.source in TOY_SOURCES:
        need, free = spec.n_samples * _TOY_BYTES_PER_ROW, available_bytes(torch.device("cpu"))
        if free is not None and need > free:
            raise ConfigError(f"data.n_samples: {spec.n_samples} rows of {spec.source!r} would need about "
                              f"{need / _GIB:.1f} GiB but {free / _GIB:.1f} GiB is free; draw fewer rows")
    return load_dataset(spec.source, n_samples=spec.n_samples, noise=spec.noise, seed=spec.seed)


def resolve_output(requested: str, ds: Dataset) -> str:
    """The output kind for a data set: softmax for classes, identity for regression, or as requested."""
    if requested == "auto":
        return "softmax" if ds.task == "classification" else "identity"
    if requested not in bp.OUTPUTS:
        raise ConfigError(f"model.output must be auto or one of {', '.join(bp.OUTPUTS)}, got {requested!r}")
    kind = bp.output_kind(requested)
    if ds.task == "regression" and kind.classifies:
        raise ConfigError(f"model.output {requested!r} needs class labels, but {ds.name!r} is a regression set")
    if ds.task == "classification" and not kind.classifies:
        raise ConfigError(f"model.output {requested!r} ({kind.loss_name}) needs a continuous target; "
                          f"{ds.name!r} has classes")
    if kind.classes(kind.units(ds.n_classes, 1)) != ds.n_classes:  # sigmoid: one unit, two classes
        raise ConfigError(f"model.output {requested!r} needs {kind.classes(1)} classes, {ds.name!r} has "
                          f"{ds.n_classes}")
    return requested


def output_size(output: str, ds: Dataset) -> int:
    """Units of the output layer: K classes (softmax), 1 (sigmoid) or the number of regression targets."""
    return bp.output_kind(output).units(ds.n_classes, ds.y.shape[1] if ds.y.ndim == 2 else 1)


def resolve_device(name: str) -> torch.device:
    """A torch.device, with a clear error when CUDA is asked for but absent."""
    try:
        device = torch.device(name)
    except RuntimeError as e:
        raise ConfigError(f"training.device: {e}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"training.device is {name!r} but no CUDA device is available; use 'cpu'")
    return device


@dataclass(frozen=True)
class Part:
    """One split part on the device: inputs x, the same inputs as the step wants them (`inputs`, with the
    appended 1 of eq. 11 when that pays) and targets in the loss's form."""

    x: Tensor
    inputs: Tensor
    target: Tensor

    @property
    def x1(self) -> Tensor:
        """[x, 1] (eq. 11)."""
        return self.inputs if self.inputs is not self.x else bp.augment(self.x)

    def __len__(self) -> int:
        return self.x.shape[0]


def to_part(ds: Dataset, output: str, device: torch.device, dtype: torch.dtype,
            prepare: Callable[[Tensor], Tensor]) -> Part:
    """Tensors for one part of the split; targets are class ids, a float column or float targets."""
    x = torch.as_tensor(np.ascontiguousarray(ds.X), dtype=dtype, device=device)
    y = torch.as_tensor(ds.y, device=device)
    # the width T is given, so an empty part (N = 0) of regression targets keeps its T columns
    target = bp.output_kind(output).targets(y, dtype, len(ds), ds.y.shape[1] if ds.y.ndim == 2 else 1)
    return Part(x, prepare(x), target)


# Copies of the flat weight buffer a run holds: weights, gradient, L2 mask, the epoch's start, the best
# weights and one snapshot; plus the optimizer's state (and Adam's temporaries).
_WEIGHT_COPIES = 6
_OPTIMIZER_COPIES = {"sgd": 0, "momentum": 1, "nesterov": 1, "adam": 3}
_GIB = 1024**3


def estimate_bytes(sizes: Sequence[int], rows: int, batch_size: int, optimizer: str = "sgd",
                   itemsize: int = 4) -> dict[str, int]:
    """Bytes a run of an MLP with layer `sizes` on `rows` rows needs, estimated before anything is allocated:
    ``weights`` (weights, gradients, optimizer state) and ``data`` (the rows as float64 and on the device,
    the activations of a mini-batch and of evaluating a whole part)."""
    n_params = sum((d_in + 1) * d_out for d_in, d_out in itertools.pairwise(sizes))
    weights = n_params * itemsize * (_WEIGHT_COPIES + _OPTIMIZER_COPIES.get(optimizer, 3))
    columns = sizes[0] + 1 + sizes[-1]  # inputs, the appended 1 of eq. 11, targets
    table = rows * columns * (3 * 8 + 3 * itemsize)  # data set, split, standardised (float64); on the device
    widths = sum(sizes[1:])
    activations = 3 * min(batch_size, rows) * widths * itemsize + 2 * rows * max(sizes[1:], default=0) * itemsize
    return {"weights": weights, "data": table + activations}


def available_bytes(device: torch.device) -> int | None:
    """Memory free for a run on `device` (MemAvailable on Linux, free CUDA memory), or None when unknown."""
    if device.type == "cuda":
        try:
            return int(torch.cuda.mem_get_info(device)[0])
        except (RuntimeError, AssertionError):
            return None
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def check_memory(exp: Experiment, sizes: Sequence[int], rows: int, device: torch.device,
                 dtype: torch.dtype) -> None:
    """ConfigError, before anything is allocated, when a run would need more memory than `device` has free;
    the message says how much it would need and which settings decide it."""
    need = estimate_bytes(sizes, rows, exp.training.batch_size, exp.training.optimizer,
                          torch.empty(0, dtype=dtype).element_size())
    free = available_bytes(device)
    total = sum(need.values())
    if free is None or total <= free:
        return
    shape = "-".join(str(s) for s in sizes)
    raise ConfigError(
        f"model.hidden and data.n_samples: the network {shape} on {rows} rows would need about "
        f"{total / _GIB:.1f} GiB (weights, gradients and optimizer state {need['weights'] / _GIB:.1f} GiB, data "
        f"and activations {need['data'] / _GIB:.1f} GiB) but {free / _GIB:.1f} GiB is free on {device}; "
        "use smaller layers or fewer rows"
    )


def build_model(exp: Experiment, ds: Dataset, output: str, device: torch.device, dtype: torch.dtype) -> MLP:
    """The MLP an experiment describes for a data set (ConfigError first if it cannot fit in memory)."""
    sizes = [ds.n_features, *exp.model.hidden, output_size(output, ds)]
    check_memory(exp, sizes, len(ds), device, dtype)
    return MLP(sizes, exp.model.activation, output, seed=exp.model.init_seed, dtype=dtype, device=device)


def split_for(exp: Experiment, ds: Dataset) -> Split:
    """The train/validation/test split an experiment describes (DataError when no training row is left)."""
    if len(ds) == 0:
        raise DataError(f"data set {ds.name!r} has no rows, so data.split leaves nothing to train on")
    return split_dataset(ds, tuple(exp.data.split), seed=exp.data.seed, standardise=exp.data.standardise)
