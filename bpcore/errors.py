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
