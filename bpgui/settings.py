"""What the desktop trainer remembers between runs (QSettings): window layout, last experiment, recent files,
the training speed.

Settings are an INI file in the user's configuration folder (``QSettings.IniFormat``); tests point that
folder elsewhere with ``QSettings.setPath``. A stored experiment that no longer validates is ignored.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

from bpcore.config import Experiment, experiment_from_json, experiment_to_json, validate
from bpcore.errors import ConfigError

ORGANIZATION = "BackpropLab"
APPLICATION = "Backprop Lab"
MAX_RECENT = 8
#: The speed a window starts at unless another was chosen: epochs per second at most. The default network
#: learns the spirals between epochs ~60 and ~200 (train accuracy 0.72 → 0.99, measured headless), so at 10
#: epochs/s the boundary visibly forms over ~6–20 s; the run goes on refining it afterwards.
DEFAULT_PACE = 10.0
_LAYOUT_VERSION = 1  # bump when the set of docks changes, so an old saved layout is not applied


def open_settings() -> QSettings:
    """The user's settings store."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def load_last_experiment(settings: QSettings) -> Experiment | None:
    """The experiment of the last session, or None when there is none (or it no longer validates)."""
    text = settings.value("experiment", "")
    if not text:
        return None
    try:
        exp = experiment_from_json(str(text))
    except ConfigError:
        return None
    if exp.data.is_csv and not os.path.exists(exp.data.csv_path or ""):
        return None  # the CSV file is gone: start from the defaults rather than with an error
    return exp


def save_last_experiment(settings: QSettings, exp: Experiment) -> None:
    """Remember the experiment for the next start."""
    settings.setValue("experiment", experiment_to_json(exp))


def load_pace(settings: QSettings) -> float | None:
    """The remembered training speed (epochs per second at most; None: as fast as it goes), DEFAULT_PACE when
    none was chosen yet or the stored one is not a valid pace."""
    text = str(settings.value("run/pace", ""))
    if text == "max":
        return None
    try:
        return float(validate("run.pace", float(text)))
    except (ValueError, ConfigError):
        return DEFAULT_PACE


def save_pace(settings: QSettings, pace: float | None) -> None:
    """Remember the training speed for the next start."""
    settings.setValue("run/pace", "max" if pace is None else repr(float(pace)))


def recent_files(settings: QSettings) -> list[str]:
    """Recently opened or saved session files, newest first."""
    value = settings.value("recent", [])
    if isinstance(value, str):  # QSettings returns a lone string for a one-element list
        value = [value]
    return [str(v) for v in value or []][:MAX_RECENT]


def add_recent_file(settings: QSettings, path: str) -> list[str]:
    """Put path first in the recent list; returns the new list."""
    path = os.path.abspath(path)
    files = [path, *(p for p in recent_files(settings) if p != path)][:MAX_RECENT]
    settings.setValue("recent", files)
    return files


def save_layout(settings: QSettings, window: QMainWindow) -> None:
    """Remember the window geometry and the dock arrangement."""
    settings.setValue("window/geometry", window.saveGeometry())
    settings.setValue("window/state", window.saveState(_LAYOUT_VERSION))


def restore_layout(settings: QSettings, window: QMainWindow) -> bool:
    """Apply a remembered geometry and dock arrangement; False when there is none."""
    geometry, state = settings.value("window/geometry"), settings.value("window/state")
    if not isinstance(geometry, QByteArray) or not isinstance(state, QByteArray):
        return False
    return window.restoreGeometry(geometry) and window.restoreState(state, _LAYOUT_VERSION)
