"""Model and session files on top of bpcore.files: an MLP (and a run's history) in, out."""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch

from bpcore.config import Experiment
from bpcore.files import load_model_file, save_model_file
from bpcore.nn import MLP


@dataclass(frozen=True)
class Session:
    """What a session file holds: the model, its experiment and the training history so far."""

    model: MLP
    experiment: Experiment | None
    history: dict[str, np.ndarray]
    extra: dict


def save_model(path: str | os.PathLike[str], model: MLP, experiment: Experiment | None = None,
               extra: dict | None = None) -> None:
    """Write an MLP as a safetensors model file (atomic; never pickle)."""
    save_model_file(path, [W.detach() for W in model.weights], model.sizes, model.activations, model.output,
                    experiment=experiment, extra=extra)


def load_model(path: str | os.PathLike[str], device: str | torch.device = "cpu") -> Session:
    """Read a model or session file back into an MLP (ModelFileError on any problem)."""
    f = load_model_file(path)
    model = MLP(f.sizes, f.activations, f.output, dtype=f.weights[0].dtype, device=device)
    with torch.no_grad():
        for W, saved in zip(model.weights, f.weights, strict=True):
            W.copy_(saved)
    extra = dict(f.extra or {})
    history = {k: np.asarray(v, dtype=float) for k, v in extra.pop("history", {}).items()}
    return Session(model, f.experiment, history, extra)


def save_session(path: str | os.PathLike[str], trainer, extra: dict | None = None) -> None:
    """Write a Trainer's model, experiment and history (NaN kept as null in JSON)."""
    history, _ = trainer.history.views()
    hist = {k: [None if not np.isfinite(x) else float(x) for x in v] for k, v in history.items()}
    save_model(path, trainer.model, trainer.experiment, {**(extra or {}), "history": hist,
                                                         "epoch": trainer.epoch, "step": trainer.step_count})
