"""From an experiment description to tensors and a model: data loading, split, output kind, device."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from bpcore import backprop as bp
from bpcore.config import DataSpec, Experiment
from bpcore.data import Dataset, Split, load_dataset, read_csv, split_dataset
from bpcore.errors import ConfigError
from bpcore.nn import MLP


def load_data(spec: DataSpec) -> Dataset:
    """The data set a DataSpec names: a toy set, a bundled set or `csv:<path>`."""
    if spec.source.startswith("csv:"):
        return read_csv(spec.source[4:], target=spec.target, task=spec.task)
    return load_dataset(spec.source, n_samples=spec.n_samples, noise=spec.noise, seed=spec.seed)


def resolve_output(requested: str, ds: Dataset) -> str:
    """The output kind for a data set: softmax for classes, identity for regression, or as requested."""
    if requested == "auto":
        return "softmax" if ds.task == "classification" else "identity"
    if requested not in bp.OUTPUTS:
        raise ConfigError(f"model.output must be auto or one of {', '.join(bp.OUTPUTS)}, got {requested!r}")
    if ds.task == "regression" and requested != "identity":
        raise ConfigError(f"model.output {requested!r} needs class labels, but {ds.name!r} is a regression set")
    if ds.task == "classification" and requested == "identity":
        raise ConfigError(f"model.output 'identity' (MSE) needs a continuous target; {ds.name!r} has classes")
    if requested == "sigmoid" and ds.n_classes != 2:
        raise ConfigError(f"model.output 'sigmoid' needs 2 classes, {ds.name!r} has {ds.n_classes}")
    return requested


def output_size(output: str, ds: Dataset) -> int:
    """Units of the output layer: K classes (softmax), 1 (sigmoid) or the number of regression targets."""
    if output == "softmax":
        return ds.n_classes
    if output == "sigmoid":
        return 1
    return ds.y.shape[1]


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
    if output == "softmax":
        target = y.long()
    elif output == "sigmoid":
        target = y.to(dtype).reshape(-1, 1)
    else:
        target = y.to(dtype).reshape(len(ds), -1)
    return Part(x, prepare(x), target)


def build_model(exp: Experiment, ds: Dataset, output: str, device: torch.device, dtype: torch.dtype) -> MLP:
    """The MLP an experiment describes for a data set."""
    sizes = [ds.n_features, *exp.model.hidden, output_size(output, ds)]
    return MLP(sizes, exp.model.activation, output, seed=exp.model.init_seed, dtype=dtype, device=device)


def split_for(exp: Experiment, ds: Dataset) -> Split:
    """The train/validation/test split an experiment describes."""
    return split_dataset(ds, tuple(exp.data.split), seed=exp.data.seed, standardise=exp.data.standardise)
