"""bpcore — backpropagation written out by hand as verified PyTorch layers.

The derivation followed is ../shared/reference/backprop-lecture.md (eq. 1–12): δ = ∇_o J ⊙ o' (eq. 8),
∇_W J = h δᵀ (eq. 9), W ← W − μ h δᵀ (eq. 10), biases folded into W as its last row (eq. 11–12).
"""

from bpcore import functional, nn, optim
from bpcore.errors import BackpropLabError, ConfigError, DataError, DivergenceError, ModelFileError

__version__ = "0.1.0"

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
