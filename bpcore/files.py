"""Safe model files: safetensors weights W0, W1, … plus JSON metadata; never pickle, always atomic writes.

A model file holds one tensor per layer, ``W{l}`` of shape (sizes[l] + 1, sizes[l+1]) with the biases as its
last row (eq. 11), and string metadata: ``format``, ``sizes``, ``activations``, ``output`` and optionally
``experiment`` (experiment JSON) and ``extra`` (any JSON object: history, data description, …).
Loading parses only the safetensors header (JSON) and raw tensor bytes, so it can never execute code.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import safetensors
import safetensors.torch
import torch

from bpcore.backprop import HIDDEN_ACTIVATIONS, OUTPUTS
from bpcore.config import Experiment, experiment_from_json, experiment_to_json
from bpcore.errors import ConfigError, ModelFileError

__all__ = ["FORMAT", "ModelFile", "atomic_write_bytes", "load_model_file", "save_model_file"]

FORMAT = "backprop-lab-model/1"
_DTYPES = (torch.float32, torch.float64)


def _create_temp(path: Path) -> tuple[Path, int]:
    """A new, exclusive temp file beside `path` (mode 0666 minus the umask, like any new file)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temp file name beside {path}")


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to `path` via a temp file in the same folder + fsync + os.replace; the old file survives errors.

    The temp file is named ``.<name>.<random>.tmp`` so a leftover from a crash is never taken for the file.
    """
    path = Path(path)
    tmp, fd = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if path.exists():  # keep the old file's permissions
            with contextlib.suppress(OSError):
                os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        with contextlib.suppress(OSError):
            fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


@dataclass(frozen=True, eq=False)
class ModelFile:
    """The contents of a model file: CPU weights and their description."""

    weights: tuple[torch.Tensor, ...]
    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    output: str
    experiment: Experiment | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _check_description(sizes: Any, activations: Any, output: Any) -> tuple[tuple[int, ...], tuple[str, ...], str]:
    """Validated (sizes, activations, output), or ValueError saying what is wrong."""
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2 or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes
    ):
        raise ValueError(f"sizes must be a list of at least two layer sizes >= 1, got {sizes!r}")
    if not isinstance(activations, (list, tuple)) or not all(isinstance(a, str) for a in activations):
        raise ValueError(f"activations must be a list of names, got {activations!r}")
    if len(activations) != len(sizes) - 2:
        raise ValueError(
            f"{len(sizes) - 2} hidden layers (sizes {list(sizes)}) need {len(sizes) - 2} activations, "
            f"got {len(activations)} ({list(activations)})"
        )
    for a in activations:
        if a not in HIDDEN_ACTIVATIONS:
            raise ValueError(f"unknown activation {a!r}; choose one of {', '.join(HIDDEN_ACTIVATIONS)}")
    if output not in OUTPUTS:
        raise ValueError(f"unknown output {output!r}; choose one of {', '.join(OUTPUTS)}")
    return tuple(sizes), tuple(activations), output


def _check_weights(weights: Sequence[torch.Tensor], sizes: tuple[int, ...]) -> None:
    """ValueError unless there is one finite float32/float64 (D_in+1, D_out) tensor per layer, all one dtype."""
    if len(weights) != len(sizes) - 1:
        raise ValueError(
            f"holds {len(weights)} weight tensors but the description (sizes {list(sizes)}) has "
            f"{len(sizes) - 1} layers"
        )
    for l, W in enumerate(weights):
        want = (sizes[l] + 1, sizes[l + 1])
        if tuple(W.shape) != want:
            raise ValueError(
                f"W{l} has shape {tuple(W.shape)} but the description says ({sizes[l]}+1, {sizes[l + 1]})"
            )
        if W.dtype not in _DTYPES:
            dtype = str(W.dtype).removeprefix("torch.")
            raise ValueError(f"W{l} has dtype {dtype}; weights must be float32 or float64")
        if W.dtype != weights[0].dtype:
            raise ValueError(f"W{l} has dtype {W.dtype} but W0 has {weights[0].dtype}; all layers need one dtype")
        bad = ~torch.isfinite(W)
        if bool(bad.any()):
            i, j = (int(k) for k in bad.nonzero()[0])
            raise ValueError(f"W{l} holds a non-finite value ({W[i, j].item()}) at row {i}, column {j}")


def save_model_file(
    path: str | os.PathLike[str], weights: Sequence[torch.Tensor], sizes: Sequence[int],
    activations: Sequence[str], output: str, experiment: Experiment | None = None,
    extra: dict[str, Any] | None = None,
) -> None:
    """Write weights + description to a safetensors file atomically; ModelFileError if they do not match."""
    path = Path(path)
    try:
        sizes_t, acts, output = _check_description(list(sizes), list(activations), output)
        tensors = [W.detach().to("cpu").contiguous() for W in weights]
        _check_weights(tensors, sizes_t)
        if extra is not None and not isinstance(extra, dict):
            raise ValueError(f"extra must be a dict, got {type(extra).__name__}")
        metadata = {"format": FORMAT, "sizes": json.dumps(list(sizes_t)), "activations": json.dumps(list(acts)),
                    "output": output}
        if experiment is not None:
            metadata["experiment"] = experiment_to_json(experiment)
        if extra is not None:
            metadata["extra"] = json.dumps(extra)
    except (ValueError, TypeError) as e:
        raise ModelFileError(f"cannot save model file {path}: {e}") from None
    data = safetensors.torch.save({f"W{l}": W for l, W in enumerate(tensors)}, metadata=metadata)
    try:
        atomic_write_bytes(path, data)
    except OSError as e:
        raise ModelFileError(f"cannot write model file {path}: {e.strerror or e}") from None


def _read(path: Path) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    """Metadata and tensors of a safetensors file (one open, so a concurrent replace cannot mix versions)."""
    if not path.exists():
        raise ModelFileError(f"model file {path} not found")
    if path.is_dir():
        raise ModelFileError(f"model file {path} is a folder")
    try:
        with safetensors.safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {name: f.get_tensor(name) for name in f.keys()}
    except OSError as e:
        raise ModelFileError(f"cannot read model file {path}: {e.strerror or e}") from None
    except Exception as e:  # safetensors' SafetensorError and friends: truncated, not safetensors, bad header
        raise ModelFileError(f"{path} is not a valid safetensors file (truncated or corrupt?): {e}") from None
    return metadata, tensors


def _json(metadata: dict[str, str], key: str, path: Path) -> Any:
    if key not in metadata:
        raise ModelFileError(f"model file {path} has no {key!r} entry in its metadata")
    try:
        return json.loads(metadata[key])
    except json.JSONDecodeError as e:
        raise ModelFileError(f"model file {path}: metadata {key!r} is not valid JSON ({e.msg})") from None


def load_model_file(path: str | os.PathLike[str]) -> ModelFile:
    """Read and validate a model file; ModelFileError naming the file and the problem when it cannot be used."""
    path = Path(path)
    metadata, tensors = _read(path)
    fmt = metadata.get("format")
    if fmt != FORMAT:
        found = "no 'format' entry" if fmt is None else f"format {fmt!r}"
        raise ModelFileError(
            f"{path} is a safetensors file but not a Backprop Lab model ({found}, expected {FORMAT!r})"
        )
    try:
        sizes, activations, output = _check_description(
            _json(metadata, "sizes", path), _json(metadata, "activations", path), metadata.get("output")
        )
        names = [f"W{l}" for l in range(len(tensors))]
        if sorted(tensors) != sorted(names):
            raise ValueError(f"holds tensors {sorted(tensors)}; expected {names}")
        weights = tuple(tensors[n] for n in names)
        _check_weights(weights, sizes)
    except ValueError as e:
        raise ModelFileError(f"model file {path}: {e}") from None
    experiment = None
    if "experiment" in metadata:
        try:
            experiment = experiment_from_json(metadata["experiment"])
        except ConfigError as e:
            raise ModelFileError(f"model file {path}: bad experiment description: {e}") from None
    extra = _json(metadata, "extra", path) if "extra" in metadata else {}
    if not isinstance(extra, dict):
        raise ModelFileError(f"model file {path}: metadata 'extra' must be a JSON object, got {type(extra).__name__}")
    return ModelFile(weights, sizes, activations, output, experiment, extra)
