"""Typed errors a user can cause. Each message says what went wrong and where."""

from __future__ import annotations


class BackpropLabError(Exception):
    """Base class of every error Backprop Lab raises on purpose for bad user input."""


class DataError(BackpropLabError, ValueError):
    """A data set or CSV file cannot be used (the message names the row and column)."""


class ConfigError(BackpropLabError, ValueError):
    """An experiment setting is unknown or out of range (the message names the key)."""


class ModelFileError(BackpropLabError, OSError):
    """A model/session file is truncated, foreign or does not match its description."""


class DivergenceError(BackpropLabError, FloatingPointError):
    """Training diverged: a non-finite or exploding loss, weights or gradients (the CLI exits 3)."""


class ShapeError(BackpropLabError, ValueError):
    """A tensor does not fit where it is used: an input against the first layer's W, a target against the
    logits, a weight against the layer below (the message names it, the expected and the given shape)."""


class ClassIdError(BackpropLabError, ValueError):
    """A class id outside 0..K−1 (the message names the function, the row, the id and K)."""
