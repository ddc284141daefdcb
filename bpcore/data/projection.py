"""2-D views of inputs for scatter plots: the features themselves when D <= 2, else a PCA projection."""

from __future__ import annotations

import numpy as np

from bpcore.errors import DataError

PCA_ROWS = 8192  # the PCA axes of a larger set come from this many evenly spaced rows (a picture, not a fit)


def project_2d(X: np.ndarray) -> np.ndarray:
    """(N, 2) coordinates: X itself if D == 2, X padded with zeros if D == 1, else its first 2 PCA scores.

    PCA centres X and projects it on the two leading right singular vectors (numpy SVD); each axis is
    signed so that its largest loading is positive, which makes the picture deterministic. For more than
    PCA_ROWS rows the axes come from PCA_ROWS evenly spaced rows (the SVD of 60,000 × 784 took 4.7 s, of
    8,192 × 784 a tenth of that), and every row is projected on them.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[1] < 1:
        raise DataError(f"project_2d expects inputs of shape (N, D) with D >= 1, got {X.shape}")
    if not np.isfinite(X).all():
        raise DataError("project_2d: inputs contain NaN or Inf")
    n, d = X.shape
    if d <= 2:
        out = np.zeros((n, 2))
        out[:, :d] = X
        return out
    if n == 0:
        return np.zeros((0, 2))
    Xc = X - X.mean(axis=0)
    fit = Xc if n <= PCA_ROWS else Xc[np.linspace(0, n - 1, PCA_ROWS).astype(np.int64)]
    _, _, vt = np.linalg.svd(fit, full_matrices=False)
    axes = vt[:2]
    if axes.shape[0] < 2:  # fewer rows than two: pad the missing axis with zeros
        axes = np.vstack([axes, np.zeros((2 - axes.shape[0], d))])
    signs = np.sign(axes[np.arange(2), np.argmax(np.abs(axes), axis=1)])
    signs[signs == 0] = 1.0
    return np.ascontiguousarray(Xc @ (axes * signs[:, None]).T)
