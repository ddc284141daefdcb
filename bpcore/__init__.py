"""bpcore — backpropagation written out by hand as verified PyTorch layers.

The derivation followed is ../shared/reference/backprop-lecture.md (eq. 1–12): δ = ∇_o J ⊙ o' (eq. 8),
∇_W J = h δᵀ (eq. 9), W ← W − μ h δᵀ (eq. 10), biases folded into W as its last row (eq. 11–12).
"""

import importlib

from bpcore.errors import BackpropLabError, ConfigError, DataError, DivergenceError, ModelFileError

__version__ = "0.1.0"

_LAZY = ("functional", "nn", "optim")  # import torch: loaded on first use, so `import bpcore` (the CLI's start)
# is instant and a Ctrl+C while torch loads reaches the CLI's handler


def __getattr__(name: str):
    """bpcore.functional, bpcore.nn and bpcore.optim, imported on first access (PEP 562)."""
    if name in _LAZY:
        module = importlib.import_module(f"bpcore.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'bpcore' has no attribute {name!r}")

__all__ = [
    "BackpropLabError",
    "ConfigError",
    "DataError",
    "DivergenceError",
    "ModelFileError",
    "__version__",
    "functional",
    "nn",
    "optim",
]
