"""Toy 2-D data sets in the style of the TensorFlow Playground and scikit-learn's make_* helpers.

Each generator draws clean points and then adds Gaussian jitter of standard deviation ``noise`` (in data
units) to the inputs (classification) or to the target (regression). Classification sets are balanced
(class counts differ by at most one) and their rows are shuffled. Everything is drawn from
``np.random.default_rng(seed)``, so a (name, n_samples, noise, seed) tuple always gives the same set.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

import numpy as np

from bpcore.data.dataset import Dataset, check_seed
from bpcore.errors import DataError

TOY_SETS: tuple[str, ...] = ("xor", "circles", "spirals", "gaussians", "moons", "plane", "sine")

PLANE_COEF = (1.0, -0.5)  # plane: y = 1.0 * x1 - 0.5 * x2 (+ noise)
SPIRAL_TURNS = 1.5  # each spiral arm winds 1.5 times around the origin ...
SPIRAL_RADIUS = 2.0  # ... out to this radius, so neighbouring arms lie 2/3 apart radially
GAUSSIAN_SPREAD = 0.5  # per-axis standard deviation of each blob before noise is added


def _class_sizes(n: int, k: int) -> list[int]:
    return [n // k + (c < n % k) for c in range(k)]


def _xor(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    # class 0: x1 and x2 have the same sign; class 1: opposite signs. |x| in [0.1, 1] keeps a margin.
    y = np.repeat([0, 1], _class_sizes(n, 2))
    mag = rng.uniform(0.1, 1.0, size=(n, 2))
    s1 = rng.choice([-1.0, 1.0], size=n)
    s2 = np.where(y == 0, s1, -s1)
    return mag * np.stack([s1, s2], axis=1), y


def _circles(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    # class 0 on the outer ring (radius 1), class 1 on the inner ring (radius 0.5).
    y = np.repeat([0, 1], _class_sizes(n, 2))
    t = rng.uniform(0.0, 2.0 * math.pi, size=n)
    r = np.where(y == 0, 1.0, 0.5)
    return np.stack([r * np.cos(t), r * np.sin(t)], axis=1), y


def _spirals(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    # Archimedean arms r = R t / t_max, the second rotated by pi; sqrt spreads points evenly in area.
    y = np.repeat([0, 1], _class_sizes(n, 2))
    t_max = 2.0 * math.pi * SPIRAL_TURNS
    t = t_max * np.sqrt(rng.uniform(0.02, 1.0, size=n))
    r = SPIRAL_RADIUS * t / t_max
    angle = t + math.pi * y
    return np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1), y


def _gaussians(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    # two round blobs centred at (-1, -1) and (1, 1).
    y = np.repeat([0, 1], _class_sizes(n, 2))
    centre = np.where(y[:, None] == 0, -1.0, 1.0)
    return centre + rng.normal(0.0, GAUSSIAN_SPREAD, size=(n, 2)), y


def _moons(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    # scikit-learn's two half circles: upper (cos t, sin t), lower (1 - cos t, 0.5 - sin t).
    y = np.repeat([0, 1], _class_sizes(n, 2))
    t = rng.uniform(0.0, math.pi, size=n)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    return np.where(y[:, None] == 0, upper, lower), y


def _plane(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-1.0, 1.0, size=(n, 2))
    return X, X @ np.asarray(PLANE_COEF)


def _sine(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-math.pi, math.pi, size=(n, 1))
    return X, np.sin(X[:, 0])


_Gen = Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]]
_CLASSES: dict[str, tuple[_Gen, tuple[str, str]]] = {
    "xor": (_xor, ("same sign", "opposite sign")),
    "circles": (_circles, ("outer", "inner")),
    "spirals": (_spirals, ("arm 0", "arm 1")),
    "gaussians": (_gaussians, ("blob 0", "blob 1")),
    "moons": (_moons, ("upper", "lower")),
}
_REGRESSION: dict[str, _Gen] = {"plane": _plane, "sine": _sine}


def _check_params(n_samples: int, noise: float, seed: int) -> tuple[int, float, int]:
    try:
        n = operator.index(n_samples)
    except TypeError:
        raise DataError(f"n_samples must be an integer >= 4, got {n_samples!r}") from None
    if n < 4:
        raise DataError(f"n_samples must be >= 4, got {n}")
    try:
        sigma = float(noise)
    except (TypeError, ValueError):
        raise DataError(f"noise must be a number >= 0, got {noise!r}") from None
    if not sigma >= 0.0 or not math.isfinite(sigma):
        raise DataError(f"noise must be a finite number >= 0, got {noise!r}")
    s = check_seed(seed)
    return n, sigma, s


def make_toy(name: str, n_samples: int = 400, noise: float = 0.1, seed: int = 0) -> Dataset:
    """Draw the toy set ``name`` (one of TOY_SETS) with n_samples rows and Gaussian noise of std ``noise``."""
    if not isinstance(name, str) or name not in TOY_SETS:
        raise DataError(f"unknown toy data set {name!r}; choose one of: {', '.join(TOY_SETS)}")
    n, sigma, s = _check_params(n_samples, noise, seed)
    rng = np.random.default_rng(s)
    if name in _CLASSES:
        gen, class_names = _CLASSES[name]
        X, y = gen(rng, n)
        X = X + rng.normal(0.0, sigma, size=X.shape)
        order = rng.permutation(n)
        return Dataset(name, X[order], y[order], ("x1", "x2"), class_names)
    else:
        X, t = _REGRESSION[name](rng, n)
        t = t + rng.normal(0.0, sigma, size=n)
        names = tuple(f"x{j + 1}" for j in range(X.shape[1])) if X.shape[1] > 1 else ("x",)
        return Dataset(name, X, t.reshape(-1, 1), names, None)
