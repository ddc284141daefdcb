"""The app in a real X window (Xvfb + the xcb platform plugin), as a user starts it: open, train, screenshot, close.

The offscreen platform the other GUI tests use never loads the xcb plugin and its system libraries, so a missing
`libxcb-*` package or a crash at window creation only shows here. CI installs Xvfb (see .ci/run) and sets
BPLAB_REQUIRE_X11=1, which turns the skip on machines without xvfb-run into a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

ROOT = Path(__file__).resolve().parents[2]


def _xvfb_run() -> str:
    path = shutil.which("xvfb-run")
    if path is None:
        if os.environ.get("BPLAB_REQUIRE_X11"):
            pytest.fail("BPLAB_REQUIRE_X11 is set but xvfb-run is missing (apt-get install xvfb)")
        pytest.skip("xvfb-run not installed")
    return path


def _pixels(path: Path) -> np.ndarray:
    img = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB888)
    assert not img.isNull(), f"{path} is not a readable PNG"
    arr = np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes())
    rows = arr.reshape(img.height(), img.bytesPerLine())[:, : img.width() * 3]
    return rows.reshape(img.height(), img.width(), 3).copy()  # a copy: the QImage owns the buffer and goes away


def test_window_trains_and_draws_under_a_real_x_server(tmp_path, qapp):  # qapp: QImage needs one
    shot = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    cmd = [_xvfb_run(), "-a", "-s", "-screen 0 1600x1000x24", sys.executable, str(ROOT / "main.py"),
           "--dataset", "spirals", "--train-epochs", "30", "--size", "1400x900", "--screenshot", str(shot)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    for word in ("Traceback", "Error", "Warning", "Could not load the Qt platform plugin"):
        assert word not in log, log
    assert "epoch 30" in log, log  # the run reached its epoch limit before the picture was taken
    px = _pixels(shot)
    assert px.shape[:2] == (900, 1400), px.shape  # the window at the size asked for, not a 0×0 or clipped grab
    # a drawn window, not a blank one: many distinct colours (decision regions, heatmaps, curves, text)
    assert len(np.unique(px.reshape(-1, 3), axis=0)) > 500


def test_user_flows_pass_under_a_real_x_server():
    """tests/gui/flows drive the window as a person does (clicks, keys, menus); the suite runs them offscreen, and
    here once more in a real X server with the xcb plugin, where window sizes, focus and key events are real."""
    flows = ROOT / "tests" / "gui" / "flows"
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}
    cmd = [_xvfb_run(), "-a", "-s", "-screen 0 1920x1080x24", sys.executable, "-m", "pytest", "-q",
           "-p", "no:cacheprovider", str(flows)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    assert " passed" in proc.stdout and " skipped" not in proc.stdout, proc.stdout[-2000:]
