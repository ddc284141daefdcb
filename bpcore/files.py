"""Safe model files: safetensors weights W0, W1, … plus JSON metadata; never pickle, always atomic writes.

A model file holds one tensor per layer, ``W{l}`` of shape (sizes[l] + 1, sizes[l+1]) with the biases as its
last row (eq. 11) — a session file also ``G{l}``, the same shape: ∇W^(l) = [h, 1]ᵀ δ of the last mini-batch
(eq. 9), so a reopened run shows the gradients it had — and string metadata: ``format``, ``sizes``,
``activations``, ``output`` and optionally ``experiment`` (experiment JSON) and ``extra`` (any JSON object:
history, data description, …).
Loading parses only the safetensors header (JSON) and raw tensor bytes, so it can never execute code. Only a
regular file of at most MAX_MODEL_BYTES is read (bpcore.safe_io), and the header — at most MAX_HEADER_BYTES,
its metadata JSON nested at most MAX_JSON_DEPTH levels, exactly the tensors W0 … W(L−1), and G0 … G(L−1) or
none — is checked before any tensor is loaded. Files are written atomically by bpcore.atomic (which also removes
stale temp files that killed saves to the same place left behind).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as safetensors_load  # bytes in, tensors out: no pickle
from safetensors.torch import save as safetensors_save

from bpcore.atomic import STALE_TEMP_SECONDS, atomic_write_bytes, remove_stale_temps
from bpcore.backprop import HIDDEN_ACTIVATIONS, OUTPUTS
from bpcore.config import Experiment, experiment_from_json, experiment_to_json
from bpcore.errors import ConfigError, ModelFileError
from bpcore.safe_io import load_json, read_regular

# atomic_write_bytes, remove_stale_temps and STALE_TEMP_SECONDS live in bpcore.atomic; re-exported for callers
__all__ = ["FORMAT", "STALE_TEMP_SECONDS", "ModelFile", "atomic_write_bytes", "load_model_file", "remove_stale_temps",
           "save_model_file"]

FORMAT = "backprop-lab-model/1"
_DTYPES = (torch.float32, torch.float64)
MAX_MODEL_BYTES = 1 << 30  # a model or session file larger than this is refused before it is read
MAX_HEADER_BYTES = 64 << 20  # the JSON header (names, shapes, metadata with the history); safetensors allows 100 MB


@dataclass(frozen=True, eq=False)
class ModelFile:
    """The contents of a model file: CPU weights and their description."""

    weights: tuple[torch.Tensor, ...]
    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    output: str
    experiment: Experiment | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    grads: tuple[torch.Tensor, ...] | None = None  # ∇W^(l) of the last mini-batch (session files)


def _cut(value: Any, limit: int = 80) -> str:
    """repr(value) for a message, cut to about `limit` characters (a file may hold megabytes there)."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 15]}... ({len(text)} chars)"


def _check_description(sizes: Any, activations: Any, output: Any) -> tuple[tuple[int, ...], tuple[str, ...], str]:
    """Validated (sizes, activations, output), or ValueError saying what is wrong."""
    if not isinstance(sizes, (list, tuple)) or len(sizes) < 2 or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes
    ):
        raise ValueError(f"sizes must be a list of at least two layer sizes >= 1, got {_cut(sizes)}")
    if not isinstance(activations, (list, tuple)) or not all(isinstance(a, str) for a in activations):
        raise ValueError(f"activations must be a list of names, got {_cut(activations)}")
    if len(activations) != len(sizes) - 2:
        raise ValueError(
            f"{len(sizes) - 2} hidden layers (sizes {_cut(list(sizes))}) need {len(sizes) - 2} activations, "
            f"got {len(activations)} ({_cut(list(activations))})"
        )
    for a in activations:
        if a not in HIDDEN_ACTIVATIONS:
            raise ValueError(f"unknown activation {_cut(a)}; choose one of {', '.join(HIDDEN_ACTIVATIONS)}")
    if output not in OUTPUTS:
        raise ValueError(f"unknown output {_cut(output)}; choose one of {', '.join(OUTPUTS)}")
    return tuple(sizes), tuple(activations), output


def _check_weights(weights: Sequence[torch.Tensor], sizes: tuple[int, ...], name: str = "W",
                   dtype: torch.dtype | None = None) -> None:
    """ValueError unless there is one finite float32/float64 (D_in+1, D_out) tensor per layer, all one dtype
    (`dtype` when given: the weights' for their gradients). `name` is the tensors' prefix: W, or G for ∇W."""
    what = "weight" if name == "W" else "gradient"
    if len(weights) != len(sizes) - 1:
        raise ValueError(
            f"holds {len(weights)} {what} tensors but the description (sizes {_cut(list(sizes))}) has "
            f"{len(sizes) - 1} layers"
        )
    first = dtype or (weights[0].dtype if weights else None)
    for l, W in enumerate(weights):
        want = (sizes[l] + 1, sizes[l + 1])
        if tuple(W.shape) != want:
            raise ValueError(
                f"{name}{l} has shape {tuple(W.shape)} but the description says ({sizes[l]}+1, {sizes[l + 1]})"
            )
        if W.dtype not in _DTYPES:
            shown = str(W.dtype).removeprefix("torch.")
            raise ValueError(f"{name}{l} has dtype {shown}; {what}s must be float32 or float64")
        if W.dtype != first:
            raise ValueError(f"{name}{l} has dtype {W.dtype} but W0 has {first}; all layers need one dtype")
        bad = ~torch.isfinite(W)
        if bool(bad.any()):
            i, j = (int(k) for k in bad.nonzero()[0])
            raise ValueError(f"{name}{l} holds a non-finite value ({W[i, j].item()}) at row {i}, column {j}")


def save_model_file(
    path: str | os.PathLike[str], weights: Sequence[torch.Tensor], sizes: Sequence[int],
    activations: Sequence[str], output: str, experiment: Experiment | None = None,
    extra: dict[str, Any] | None = None, grads: Sequence[torch.Tensor] | None = None,
) -> None:
    """Write weights (and the last mini-batch's gradients, for a session) + description to a safetensors file
    atomically; ModelFileError if they do not match."""
    path = Path(path)
    try:
        sizes_t, acts, output = _check_description(list(sizes), list(activations), output)
        tensors = [W.detach().to("cpu").contiguous() for W in weights]
        _check_weights(tensors, sizes_t)
        named = {f"W{l}": W for l, W in enumerate(tensors)}
        if grads is not None:
            grad_tensors = [G.detach().to("cpu").contiguous() for G in grads]
            _check_weights(grad_tensors, sizes_t, "G", tensors[0].dtype)
            named.update({f"G{l}": G for l, G in enumerate(grad_tensors)})
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
    data = safetensors_save(named, metadata=metadata)
    try:
        atomic_write_bytes(path, data)
    except OSError as e:
        raise ModelFileError(f"cannot write model file {path}: {e.strerror or e}") from None


def _short(names: Sequence[str], show: int = 8) -> str:
    """A list of names for a message: all of them when few, else the first and last few and the count."""
    names = list(names)
    if len(names) <= show:
        return repr(names)
    head, tail = ", ".join(map(repr, names[: show - 2])), ", ".join(map(repr, names[-2:]))
    return f"[{head}, ..., {tail}] ({len(names)} in all)"


def _corrupt(path: Path, why: str) -> ModelFileError:
    return ModelFileError(f"{path} is not a valid safetensors file (truncated or corrupt?): {why}")


def _header(path: Path, data: bytes) -> tuple[dict[str, str], list[str]]:
    """Metadata and tensor names from a safetensors header, checked before any tensor is loaded."""
    if len(data) < 8:
        raise _corrupt(path, f"incomplete header: the file has {len(data)} bytes, the header length alone needs 8")
    n = int.from_bytes(data[:8], "little")
    if n > MAX_HEADER_BYTES:
        raise _corrupt(path, f"header of {n} bytes is longer than the {MAX_HEADER_BYTES} bytes allowed")
    if 8 + n > len(data):
        raise _corrupt(path, f"incomplete file: the header needs {n} bytes, only {len(data) - 8} follow")
    try:  # only names and metadata strings are used here; safetensors checks each tensor entry itself
        header = json.loads(data[8:8 + n])
    except RecursionError:
        raise _corrupt(path, "the header is nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise _corrupt(path, f"the header is not valid JSON ({getattr(e, 'msg', e)})") from None
    if not isinstance(header, dict):
        raise _corrupt(path, f"the header must be a JSON object, got {type(header).__name__}")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise _corrupt(path, "the header's __metadata__ must map names to strings")
    return metadata, list(header)


def _read(path: Path) -> tuple[dict[str, str], list[str], bytes]:
    """Metadata, tensor names and the bytes of a model file (one read, so a concurrent replace cannot mix versions).

    Only regular files of at most MAX_MODEL_BYTES are read (a FIFO, a device or a folder is refused).
    """
    data = read_regular(path, what="model file", error=ModelFileError, limit=MAX_MODEL_BYTES)
    metadata, names = _header(path, data)
    return metadata, names, data


def _tensors(path: Path, data: bytes) -> dict[str, torch.Tensor]:
    try:
        return safetensors_load(data)
    except Exception as e:  # safetensors' SafetensorError and friends: truncated, bad offsets or dtypes
        raise _corrupt(path, str(e)) from None


def _check_names(names: list[str], sizes: tuple[int, ...]) -> bool:
    """ValueError unless the file holds exactly W0 … W(L-1), and G0 … G(L-1) or none of them: decided from the
    header, before loading tensors. True when the gradients are there."""
    weights = [n for n in names if not n.startswith("G")]
    grads = len(names) - len(weights)
    numbered = [f"W{l}" for l in range(len(weights))] + [f"G{l}" for l in range(grads)]
    if sorted(names) != sorted(numbered) or grads not in (0, len(weights)):
        expected = [f"W{l}" for l in range(len(weights))]
        raise ValueError(f"holds tensors {_short(sorted(names))}; expected {_short(expected)}"
                         + (f" and G0 … G{len(weights) - 1} or no G" if grads else ""))
    if len(weights) != len(sizes) - 1:
        raise ValueError(
            f"holds {len(weights)} weight tensors but the description (sizes {_cut(list(sizes))}) has "
            f"{len(sizes) - 1} layers"
        )
    return bool(grads)


def _json(metadata: dict[str, str], key: str, path: Path) -> Any:
    if key not in metadata:
        raise ModelFileError(f"model file {path} has no {key!r} entry in its metadata")
    try:
        return load_json(metadata[key])
    except json.JSONDecodeError as e:
        raise ModelFileError(f"model file {path}: metadata {key!r} is not valid JSON ({e.msg})") from None
    except ValueError as e:
        raise ModelFileError(f"model file {path}: metadata {key!r} cannot be used: {e}") from None


def load_model_file(path: str | os.PathLike[str]) -> ModelFile:
    """Read and validate a model file; ModelFileError naming the file and the problem when it cannot be used."""
    path = Path(path)
    metadata, names, data = _read(path)
    fmt = metadata.get("format")
    if fmt != FORMAT:
        found = "no 'format' entry" if fmt is None else f"format {_cut(fmt)}"
        raise ModelFileError(
            f"{path} is a safetensors file but not a Backprop Lab model ({found}, expected {FORMAT!r})"
        )
    try:
        sizes, activations, output = _check_description(
            _json(metadata, "sizes", path), _json(metadata, "activations", path), metadata.get("output")
        )
        has_grads = _check_names(names, sizes)
        tensors = _tensors(path, data)
        weights = tuple(tensors[f"W{l}"] for l in range(len(sizes) - 1))
        _check_weights(weights, sizes)
        grads = tuple(tensors[f"G{l}"] for l in range(len(sizes) - 1)) if has_grads else None
        if grads is not None:
            _check_weights(grads, sizes, "G", weights[0].dtype)
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
    return ModelFile(weights, sizes, activations, output, experiment, extra, grads)
