"""Output layer + loss choices in words, and what a choice resolves to for given data (by bpcore's own rule)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bpcore.data import Dataset
from bpcore.errors import ConfigError, DataError
from bpcore.train.setup import output_size, resolve_output

OUTPUT_LABELS: dict[str, str] = {
    "auto": "auto (from data)",
    "softmax": "softmax + cross-entropy",
    "sigmoid": "sigmoid + binary cross-entropy",
    "identity": "identity + MSE",
}
OUTPUT_TIPS: dict[str, str] = {
    "auto": "Pick from the data: softmax + cross-entropy for classes, identity + MSE for a numeric target.",
    "softmax": "o = softmax(z): one probability per class. J = −Σ log p(y|x), the maximum-likelihood cost of\n"
               "eq. 1; with it the output error of eq. 8 simplifies to δ = o − onehot(y).",
    "sigmoid": "One unit o = σ(z) = p(class 1 | x), for two classes only. J is eq. 1 for a Bernoulli output\n"
               "(binary cross-entropy); eq. 8 simplifies to δ = o − y.",
    "identity": "o = z, for a numeric target. J = mean (o − y)², eq. 1 for Gaussian noise up to constants;\n"
                "eq. 8 with o' = 1 gives δ = ∇_o J = 2 (o − y) / n.",
}
ACTIVATION_TIPS: dict[str, str] = {
    "sigmoid": "φ(z) = 1 / (1 + e^−z); φ' = φ (1 − φ)",
    "tanh": "φ(z) = tanh z; φ' = 1 − φ²",
    "relu": "φ(z) = max(0, z); φ' = 1 for z > 0, else 0",
    "leaky_relu": "φ(z) = z for z > 0, else 0.01 z; φ' = 1 or 0.01",
    "softplus": "φ(z) = log(1 + e^z); φ' = σ(z) = 1 − e^−φ",
    "identity": "φ(z) = z; φ' = 1 (the layer stays linear)",
}


@dataclass(frozen=True)
class Resolved:
    """What an output choice means for the data: the kind used, the output units, or why it cannot be used."""

    kind: str | None
    units: int | None
    problem: str = ""


def resolve(output: str, n_features: int, task: str, n_classes: int, n_targets: int = 1) -> Resolved:
    """Resolve ``output`` ('auto' or a kind) for data of this shape with bpcore.train.setup's rules."""
    try:
        shape = _shape_only(n_features, task, n_classes, n_targets)
        kind = resolve_output(output, shape)
    except (ConfigError, DataError) as e:
        return Resolved(None, None, str(e).replace("'data' ", "the data "))
    return Resolved(kind, output_size(kind, shape))


def _shape_only(n_features: int, task: str, n_classes: int, n_targets: int) -> Dataset:
    """A one-row Dataset with the given shape: enough for the engine's output rules, no real data needed."""
    X = np.zeros((1, max(n_features, 1)))
    names = tuple(f"x{j}" for j in range(X.shape[1]))
    if task == "classification":
        return Dataset("data", X, np.zeros(1, dtype=np.int64), names, tuple(str(k) for k in range(n_classes)))
    return Dataset("data", X, np.zeros((1, max(n_targets, 1))), names, None)
