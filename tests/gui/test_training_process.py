"""The window with training in a process of its own (the default): no torch on the GUI thread while it trains,
closing ends the child, a killed child is reported and Play recovers from the last snapshot."""

from __future__ import annotations

import os
import signal

import pytest
import torch
from PySide6.QtWidgets import QMessageBox
from torch.overrides import TorchFunctionMode

from bpcore.config import Experiment
from bpgui.main_window import MainWindow

TIMEOUT_MS = 60_000  # a child imports torch first: generous on a loaded machine, a wait, not a timing bar


@pytest.fixture
def window(qtbot, monkeypatch):
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Discard))
    w = MainWindow(Experiment().replace(training={"epochs": 10**9}), settings=None, ask_on_close=False)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as f:  # a zombie has exited all the same
        return f.read().split(")")[-1].split()[0] == "Z"


class _NoTorch(TorchFunctionMode):
    """Records every torch function called on the thread that entered it (modes are per thread)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.calls.append(getattr(func, "__name__", repr(func)))
        return func(*args, **(kwargs or {}))


def test_the_gui_thread_runs_no_torch_while_training(qtbot, window):
    ctl = window.controller
    assert not ctl.runner.in_process and ctl.runner.pid != os.getpid()
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: ctl.latest.epoch >= 5 and ctl.latest.views is not None, timeout=TIMEOUT_MS)
    frames = window.refresher.counts["frames"]
    with _NoTorch() as mode:
        qtbot.wait(1500)  # the drawing clock draws every view from snapshots meanwhile
    assert ctl.mode() == "running"
    assert window.refresher.counts["frames"] > frames + 5 and window.refresher.counts["decision"] > 0
    assert mode.calls == [], f"torch called on the GUI thread while training: {sorted(set(mode.calls))}"
    # the check can fail: the same mode records torch work done on this thread
    with _NoTorch() as probe:
        torch.zeros(2).sum()
    assert probe.calls == ["zeros", "sum"]


def test_close_while_training_ends_the_child(qtbot, window):
    ctl = window.controller
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: ctl.latest.epoch >= 2, timeout=TIMEOUT_MS)
    pid = ctl.runner.pid
    assert not gone(pid)
    assert window.close()
    # close() asks the child to stop and exit, waits at most CLOSE_GRACE (1 s), then terminates it
    assert gone(pid) and not ctl.runner.alive


def test_a_killed_child_is_reported_and_play_recovers(qtbot, window):
    ctl, banner = window.controller, window.views.banner
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: ctl.latest.epoch >= 3, timeout=TIMEOUT_MS)
    pid = ctl.runner.pid
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: ctl.mode() == "failed" and banner.isVisible(), timeout=TIMEOUT_MS)
    assert "SIGKILL" in banner.message() and "Play" in banner.message()
    assert "failed" in window.status.text()
    shown = ctl.latest.epoch
    assert shown >= 3 and ctl.latest.weights is not None  # the last snapshot stays on screen
    window.toolbar.play_action.trigger()  # a fresh child, from the last weights and record
    assert not banner.isVisible()
    qtbot.waitUntil(lambda: ctl.mode() == "running" and ctl.latest.epoch > shown + 2, timeout=TIMEOUT_MS)
    assert ctl.runner.pid != pid and ctl.runner.failure is None
    assert len(ctl.latest.history["epoch"]) == ctl.latest.epoch  # the record went on, not from zero


def test_ctrl_c_in_the_terminal_ends_the_window_and_its_training_process(tmp_path):
    import subprocess
    import sys
    import time
    from pathlib import Path

    def children(pid: int) -> list[int]:
        kids = []
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids += [int(k) for k in f.read().split()]
        return kids

    main = Path(__file__).resolve().parents[2] / "main.py"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path),
           "PYTHONFAULTHANDLER": "1"}
    proc = subprocess.Popen([sys.executable, str(main)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        end = time.monotonic() + 60
        while not children(proc.pid) and time.monotonic() < end:  # the training process starts with the window
            time.sleep(0.05)
        kids = children(proc.pid)
        assert kids, "no training process was started"
        proc.send_signal(signal.SIGINT)  # early on purpose: while the window is still being built and shown
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 130 and "Traceback" not in err and "Fatal" not in err, err
    end = time.monotonic() + 10  # multiprocessing's resource tracker leaves when it sees its parent gone
    while not all(gone(k) for k in kids) and time.monotonic() < end:
        time.sleep(0.05)
    assert all(gone(k) for k in kids)


def test_files_the_window_writes_carry_the_data_description(qtbot, tmp_path):
    """A model exported or a session saved by the window holds the standardisation statistics and the
    feature and class names, as `bpcore train`'s files do: `bpcore eval` treats new data as the window did."""
    from bpcore.cli import main as cli
    from bpcore.session import load_model

    w = MainWindow(Experiment().replace(data={"source": "iris"}, training={"epochs": 20}), settings=None,
                   ask_on_close=False, in_process=True)
    qtbot.addWidget(w)
    ctl = w.controller
    ctl.play()
    qtbot.waitUntil(lambda: ctl.mode() == "finished", timeout=TIMEOUT_MS)
    split = ctl.trainer.split
    for name, write in (("model", ctl.export_model), ("session", ctl.save_session)):
        path = tmp_path / f"{name}.safetensors"
        write(path)
        info = load_model(path).info
        assert info.standardise is not None and info.task == "classification" and info.dataset == "iris"
        assert abs(max(a - b for a, b in zip(info.standardise.mean, split.mean, strict=True))) < 1e-12
        assert info.class_names == ("setosa", "versicolor", "virginica") and len(info.feature_names) == 4
    assert cli(["eval", str(tmp_path / "model.safetensors"), "--data", "iris"]) == 0


@pytest.mark.parametrize("hidden,spaced", [((8, 8), False), ((512, 512), True)])
def test_a_big_network_diagram_redraws_less_often(qtbot, hidden, spaced):
    """The diagram of a wide network (hundreds of links drawn) is spaced to BIG_DIAGRAM_INTERVAL; a small one
    follows every snapshot."""
    from bpgui.frame_pacer import BIG_DIAGRAM_INTERVAL

    w = MainWindow(Experiment().replace(model={"hidden": list(hidden)}), settings=None, ask_on_close=False,
                   in_process=True)
    qtbot.addWidget(w)
    assert w.refresher._least["network"] == (BIG_DIAGRAM_INTERVAL if spaced else 0.0)
