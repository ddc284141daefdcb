"""The desktop trainer end to end (bpgui.main_window): real widgets, a real runner, offscreen.

Most tests train through the runner's thread fallback (the same child code, pipe and protocol as the training
process, started in milliseconds); the tests marked PROCESS run the default: a training process of its own.
Every test uses a temporary QSettings folder, so the user's settings are never read or written.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch
from PySide6.QtWidgets import QAbstractSpinBox, QComboBox, QMessageBox, QToolButton

from bpcore.config import DataSpec, Experiment
from bpcore.train import RunState
from bpgui.main_window import MainWindow
from bpgui.settings import open_settings, recent_files

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_MS = 20_000


@pytest.fixture
def dialogs(monkeypatch):
    """Capture message boxes: warnings are recorded, questions get the answer queued in `answers`."""
    record = {"warnings": [], "questions": [], "answers": []}

    def warning(_parent, title, text, *args, **kwargs):
        record["warnings"].append((title, text))
        return QMessageBox.StandardButton.Ok

    def question(_parent, title, text, *args, **kwargs):
        record["questions"].append((title, text))
        return record["answers"].pop(0) if record["answers"] else QMessageBox.StandardButton.Discard

    monkeypatch.setattr(QMessageBox, "warning", staticmethod(warning))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return record


PROCESS = pytest.mark.parametrize("in_process", [True, False], ids=["thread", "process"])


def make_window(qtbot, experiment: Experiment | None = None, epochs: int | None = None,
                in_process: bool = True) -> MainWindow:
    if epochs is not None:
        experiment = (experiment or Experiment()).replace(training={"epochs": epochs})
    window = MainWindow(experiment, settings=open_settings(), in_process=in_process)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def epoch_of(window: MainWindow) -> int:
    return window.controller.latest.epoch


def stop(window: MainWindow) -> None:
    window.controller.stop()


def trainer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "bpcore-runner"]


# ------------------------------------------------------------------------------------------------ tests


def test_opens_ready_to_train_and_every_control_is_described(qtbot, dialogs):
    window = make_window(qtbot)
    ctl = window.controller
    assert ctl.trainer.dataset.name == "spirals" and ctl.trainer.model.sizes == (2, 8, 8, 2)
    assert ctl.mode() == "ready" and window.toolbar.play_action.isEnabled()
    controls = [*window.toolbar.findChildren(QAbstractSpinBox), *window.toolbar.findChildren(QComboBox),
                *window.toolbar.findChildren(QToolButton)]
    controls = [c for c in controls if c.isVisible()]
    assert len(controls) >= 10
    for c in controls:
        assert c.objectName() and c.accessibleName() and c.toolTip(), c
    assert "eq. 10" in window.toolbar.lr.toolTip() and "eq. 9" in window.toolbar.batch.toolTip()
    for dock in window.views.docks.values():
        assert dock.objectName() and dock.accessibleName() and dock.toolTip()
    assert window.views.docks["architecture"].isVisible() and window.views.docks["weights"].isVisible()
    # the untrained network's field is drawn by the clock without any training
    qtbot.waitUntil(lambda: window.views.decision.field_rgb() is not None, timeout=TIMEOUT_MS)


@PROCESS
def test_train_through_the_editor_pause_resume_and_step(qtbot, dialogs, in_process):
    window = make_window(qtbot, epochs=1_000_000, in_process=in_process)
    ctl, editor = window.controller, window.views.architecture_editor
    # a 2-layer network built through the architecture editor's own widgets
    neurons1, act1 = editor.layer_widgets(0)
    neurons2, _ = editor.layer_widgets(1)
    neurons1.setValue(6)
    neurons2.setValue(5)
    act1.setCurrentIndex(act1.findData("relu"))
    assert ctl.trainer.model.sizes == (2, 6, 5, 2) and ctl.trainer.model.activations == ("relu", "tanh")
    assert window.views.network.shown_neurons() == [2, 6, 5, 2]
    first_loss = ctl.trainer.evaluate("train")["loss"]

    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: epoch_of(window) >= 5, timeout=TIMEOUT_MS)
    assert ctl.mode() == "running" and window.toolbar.play_action.text() == "Pause"
    window.toolbar.play_action.trigger()  # pause
    assert ctl.mode() == "paused"  # at once: the runner answers a command before the training process does
    assert ctl.runner.wait()  # the snapshot of the weights the pause holds
    paused_at = ctl.latest.step
    qtbot.wait(250)
    assert ctl.latest.step == paused_at and ctl.mode() == "paused"
    qtbot.waitUntil(lambda: window.toolbar.play_action.text() == "Play", timeout=TIMEOUT_MS)

    window.toolbar.play_action.trigger()  # resume
    qtbot.waitUntil(lambda: ctl.latest.step > paused_at + 50, timeout=TIMEOUT_MS)
    ctl.pause()
    assert ctl.runner.wait() and ctl.mode() == "paused"

    window.toolbar.step_action.trigger()  # completes the paused epoch: exactly one epoch more
    assert ctl.runner.wait() and not ctl.running
    e = epoch_of(window)
    window.toolbar.step_action.trigger()
    assert ctl.runner.wait() and epoch_of(window) == e + 1 and ctl.mode() == "paused"

    window.refresher.draw_now()
    assert window.refresher.counts["frames"] >= 2
    assert ctl.synced().epoch == e + 1 and ctl.trainer.evaluate("train")["loss"] < first_loss
    assert "epoch" in window.status.text() and "cpu" in window.status.text()
    assert len(window.views.loss.curves()["train_loss"].getData()[0]) >= 5


def test_mu_and_batch_size_change_while_running(qtbot, dialogs):
    window = make_window(qtbot, epochs=1_000_000)
    ctl = window.controller
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: epoch_of(window) >= 2, timeout=TIMEOUT_MS)
    thread = trainer_threads()
    window.toolbar.lr.setValue(0.05)
    window.toolbar.batch.setValue(16)
    qtbot.waitUntil(lambda: ctl.latest.lr == 0.05 and ctl.latest.history["lr"][-1] == 0.05, timeout=TIMEOUT_MS)
    assert ctl.mode() == "running" and trainer_threads() == thread  # the same run goes on
    assert ctl.experiment.training.lr == 0.05 and ctl.trainer.experiment.training.batch_size == 16
    stop(window)
    before = ctl.latest.step
    ctl.step()  # one whole epoch with the new size: 280 training rows (70 % of 400) in batches of 16
    assert ctl.runner.wait() and ctl.latest.step - before == 18



def test_changing_architecture_while_running_asks(qtbot, dialogs):
    window = make_window(qtbot, epochs=1_000_000)
    ctl, editor = window.controller, window.views.architecture_editor
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: epoch_of(window) >= 2, timeout=TIMEOUT_MS)
    trainer = ctl.trainer
    dialogs["answers"].append(QMessageBox.StandardButton.No)
    editor.layer_widgets(0)[0].setValue(12)
    assert len(dialogs["questions"]) == 1 and "architecture" in dialogs["questions"][0][1]
    assert ctl.trainer is trainer and ctl.running
    assert editor.layer_widgets(0)[0].value() == 8  # the editor shows the network in use again
    dialogs["answers"].append(QMessageBox.StandardButton.Yes)
    editor.layer_widgets(0)[0].setValue(12)
    assert ctl.trainer is not trainer and ctl.trainer.model.sizes == (2, 12, 8, 2)
    assert ctl.runner.wait() and not ctl.running and epoch_of(window) == 0


def test_optimizer_and_epoch_limit_keep_weights_and_history(qtbot, dialogs):
    window = make_window(qtbot, epochs=20)
    ctl = window.controller
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: ctl.mode() == "finished", timeout=TIMEOUT_MS)
    synced = ctl.synced()
    weights = [w.detach().clone() for w in synced.model.weights]
    grads, best = [G.clone() for G in synced.net.grads], synced.best_epoch
    window.toolbar.epochs.setValue(30)
    window.toolbar.optimizer.setCurrentIndex(window.toolbar.optimizer.findData("momentum"))
    t = ctl.trainer
    assert t.experiment.training.epochs == 30 and t.experiment.training.optimizer == "momentum"
    assert t.epoch == 20 and t.history.n == 20 and t.best_epoch == best
    assert all(torch.equal(a, b) for a, b in zip(grads, t.net.grads, strict=True))  # the Gradients heatmaps
    assert any(bool(G.abs().sum() > 0) for G in t.net.grads)
    assert all(torch.equal(a, b) for a, b in zip(weights, t.model.weights, strict=True))
    assert ctl.runner.wait() and all(np.array_equal(a.numpy(), b) for a, b in zip(weights, ctl.latest.weights,
                                                                                  strict=True))  # copies
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: ctl.mode() == "finished", timeout=TIMEOUT_MS)
    assert epoch_of(window) == 30 and len(ctl.latest.history["epoch"]) == 30


def test_bad_csv_shows_the_error_and_keeps_the_data(qtbot, dialogs, tmp_path, monkeypatch):
    critical: list[tuple[str, str]] = []
    monkeypatch.setattr(QMessageBox, "critical", staticmethod(lambda _p, title, text, *a, **k: critical.append(
        (title, text)) or QMessageBox.StandardButton.Ok))
    window = make_window(qtbot)
    trainer = window.controller.trainer
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n0.1,0.2,0\n0.3,oops,1\n0.5,0.6,0\n")
    dialog = window.files.open_csv(str(bad))  # File > Open CSV data: the data panel's import dialog
    dialog.accept()  # Import reads the whole file: row 3 is refused, the dialog stays open
    (_title, text), = critical
    assert "bad.csv" in text and "row 3" in text and "oops" in text
    assert dialog.isVisible()
    dialog.reject()
    assert window.controller.trainer is trainer and trainer.dataset.name == "spirals"
    assert window.controller.experiment.data.source == "spirals"
    # a good file loads
    good = tmp_path / "good.csv"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    rows = "\n".join(f"{a:.4f},{b:.4f},{c:.4f},{int(a + b > 0)}" for a, b, c in X)
    good.write_text("a,b,c,y\n" + rows + "\n")
    window.files.open_csv(str(good)).accept()
    assert window.controller.trainer.dataset.n_features == 3
    assert window.views.decision_title.text().startswith("good: predicted class of every sample")


@PROCESS
def test_divergence_pauses_and_says_why(qtbot, dialogs, in_process):
    exp = Experiment().replace(data={"source": "sine"}, training={"lr": 5.0, "epochs": 1000})
    window = make_window(qtbot, exp, in_process=in_process)
    ctl = window.controller
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: ctl.mode() == "diverged" and window.views.banner.isVisible(), timeout=TIMEOUT_MS)
    text = window.views.banner.message()
    assert "diverged" in text and "μ" in text and "last finite weights are kept" in text
    assert not dialogs["warnings"] and not dialogs["questions"]  # non-blocking
    assert all(np.isfinite(w).all() for w in ctl.latest.weights)
    assert "diverged" in window.status.text()
    window.toolbar.lr.setValue(0.01)  # lower μ and go on from the kept weights
    window.toolbar.play_action.trigger()
    assert not window.views.banner.isVisible()
    qtbot.waitUntil(lambda: ctl.mode() == "finished", timeout=TIMEOUT_MS)


def test_divergence_banner_shows_every_time(qtbot, dialogs, capfd):
    """Play on a diverged run with the same μ diverges again at once (before the clock sees it run): the
    banner comes back each time with the trainer's reason."""
    exp = Experiment().replace(data={"source": "spirals"}, training={"lr": 1e9, "epochs": 1000})
    window = make_window(qtbot, exp)
    ctl, banner = window.controller, window.views.banner
    for run in (1, 2, 3):
        window.toolbar.play_action.trigger()
        assert not banner.isVisible()  # Play hides the old message
        qtbot.waitUntil(lambda run=run: ctl.runs == run and ctl.mode() == "diverged" and banner.isVisible(),
                        timeout=TIMEOUT_MS)
        assert ctl.latest.reason in banner.message() and "epoch 1, step 1" in banner.message()
        assert "diverged" in window.status.text()
    assert not dialogs["warnings"] and not dialogs["questions"]
    assert "Traceback" not in capfd.readouterr().err


BAD_LIVE = [("lr inf", "lrChanged", float("inf"), "training.lr"),
            ("lr nan", "lrChanged", float("nan"), "training.lr"),
            ("lr negative", "lrChanged", -0.5, "training.lr"),
            ("batch zero", "batchSizeChanged", 0, "training.batch_size"),
            ("batch negative", "batchSizeChanged", -4, "training.batch_size")]


@pytest.mark.parametrize("signal,value,key", [r[1:] for r in BAD_LIVE], ids=[r[0] for r in BAD_LIVE])
def test_bad_live_setting_is_refused_everywhere(qtbot, dialogs, signal, value, key):
    """From the toolbar (window → controller → runner → trainer) during a run: one message naming the key,
    and neither the experiment nor the running trainer takes the value."""
    window = make_window(qtbot, epochs=1_000_000)
    ctl = window.controller
    before = ctl.experiment.training
    window.toolbar.play_action.trigger()
    getattr(window.toolbar, signal).emit(value)
    assert len(dialogs["warnings"]) == 1 and key in dialogs["warnings"][0][1]
    e = epoch_of(window)
    qtbot.waitUntil(lambda: epoch_of(window) >= e + 2, timeout=TIMEOUT_MS)  # pending changes applied by now
    ctl.stop()
    assert ctl.experiment.training == before
    assert set(ctl.latest.history["lr"]) == {before.lr} and ctl.runner.error is None


def test_session_save_and_reopen_is_bitwise(qtbot, dialogs, tmp_path):
    window = make_window(qtbot, epochs=15)
    ctl = window.controller
    window.toolbar.lr.setValue(0.2)
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: ctl.mode() == "finished", timeout=TIMEOUT_MS)
    path = str(tmp_path / "run.safetensors")
    assert window.files.save_as(path) and not ctl.dirty
    saved = [w.detach().clone() for w in ctl.trainer.model.weights]
    assert all(np.array_equal(a.numpy(), b) for a, b in zip(saved, ctl.latest.weights, strict=True))
    saved_loss = np.array(ctl.trainer.history.views()[0]["train_loss"])

    window.toolbar.reset_action.trigger()
    assert ctl.trainer.epoch == 0 and not all(
        torch.equal(a, b) for a, b in zip(saved, ctl.trainer.model.weights, strict=True))
    assert window.files.open_session(path)
    t = ctl.trainer
    assert all(torch.equal(a, b) for a, b in zip(saved, t.model.weights, strict=True))
    assert t.epoch == 15 and t.experiment.training.lr == 0.2 and window.toolbar.lr.value() == 0.2
    assert ctl.runner.wait() and ctl.latest.epoch == 15  # the runner continues from the file's weights
    assert all(np.array_equal(a.numpy(), b) for a, b in zip(saved, ctl.latest.weights, strict=True))
    np.testing.assert_array_equal(t.history.views()[0]["train_loss"], saved_loss)
    window.refresher.draw_now()
    x, y = window.views.loss.curves()["train_loss"].getData()
    assert len(x) == 15 and np.allclose(y, saved_loss)
    assert recent_files(open_settings())[0] == os.path.abspath(path)
    assert "run.safetensors" in window.windowTitle()

    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not a model")
    assert not window.files.open_session(str(garbage))
    assert "garbage.safetensors" in dialogs["warnings"][-1][1]
    assert ctl.trainer is t  # what was loaded stays loaded


def test_close_while_training_joins_the_thread(qtbot, dialogs, capfd):
    window = make_window(qtbot, epochs=1_000_000)
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: epoch_of(window) >= 2, timeout=TIMEOUT_MS)
    assert trainer_threads()
    dialogs["answers"].append(QMessageBox.StandardButton.Discard)
    assert window.close()
    assert dialogs["questions"] and "not been saved" in dialogs["questions"][0][1]
    assert not trainer_threads() and not window.controller.runner.alive
    err = capfd.readouterr().err
    assert "QThread" not in err and "Traceback" not in err


def test_close_can_be_cancelled_and_settings_persist(qtbot, dialogs):
    window = make_window(qtbot, epochs=10)
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: window.controller.mode() == "finished", timeout=TIMEOUT_MS)
    window.toolbar.lr.setValue(0.07)
    dialogs["answers"].append(QMessageBox.StandardButton.Cancel)
    assert not window.close() and window.isVisible()
    dialogs["answers"].append(QMessageBox.StandardButton.Discard)
    assert window.close()
    again = make_window(qtbot)
    assert again.controller.experiment.training.lr == 0.07 and again.toolbar.lr.value() == 0.07
    assert again.controller.experiment.training.epochs == 10


def test_exports(qtbot, dialogs, tmp_path):
    window = make_window(qtbot, epochs=5)
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: window.controller.mode() == "finished", timeout=TIMEOUT_MS)
    window.refresher.draw_now()
    for ext in ("png", "svg", "csv"):
        assert window.files.export_plot("loss curves", str(tmp_path / f"loss.{ext}")), dialogs["warnings"]
    assert (tmp_path / "loss.png").stat().st_size > 1000 and (tmp_path / "loss.svg").read_text().startswith("<?xml")
    header = (tmp_path / "loss.csv").read_text().splitlines()[0]
    assert "train_loss_x" in header and "test_loss_y" in header
    assert (tmp_path / "loss-2.csv").read_text().startswith('"train_accuracy_x"') or "train_accuracy" in (
        tmp_path / "loss-2.csv").read_text().splitlines()[0]
    model = tmp_path / "model.safetensors"
    assert window.files.export_model(str(model)) and model.stat().st_size > 0
    assert not dialogs["warnings"]


def test_data_panel_change_rebuilds(qtbot, dialogs):
    window = make_window(qtbot)
    panel = window.views.data_panel
    panel.datasetChanged.emit(DataSpec(source="moons", n_samples=200), None)  # a toy set: nothing read yet
    assert window.controller.trainer.dataset.name == "moons" and len(window.controller.trainer.dataset) == 200
    assert window.views.architecture_editor.shape_text().startswith("2")


def test_screenshot_flag_exits_zero(tmp_path):
    out = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, str(ROOT / "main.py"), "--dataset", "xor", "--layers", "4",
                           "--train-epochs", "3", "--screenshot", str(out), "--size", "800x600"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert (image.width(), image.height()) == (800, 600)
    assert "epoch 3" in proc.stdout


def test_runner_commands_are_never_lost_under_a_tiny_switch_interval():
    """Play/Stop and Play/Pause/Play straight after each other through the controller (the buttons' path), with
    the GIL handed over every microsecond: every Pause and Stop shows at once and in the snapshot that follows,
    every Play after a Pause goes on (the 1000/3000 bar on the Trainer: tests/core/test_trainer_stress.py)."""
    from bpgui.controller import TrainingController

    exp = Experiment(data=DataSpec(source="xor", n_samples=64)).replace(
        model={"hidden": [4]}, training={"epochs": 10**9, "batch_size": 8})
    ctl = TrainingController(exp, in_process=True)
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for trial in range(100):
            ctl.play()
            if trial % 2:
                ctl.pause()
                assert ctl.mode() == "paused" and ctl.runner.wait(), f"trial {trial}"
                assert ctl.latest.state is RunState.PAUSED, f"trial {trial}: {ctl.latest.state}"
                ctl.play()  # Play on a paused run continues it
                assert ctl.mode() == "running", f"trial {trial}"
            ctl.stop()
            assert not ctl.running and ctl.latest.state is RunState.STOPPED, f"trial {trial}: {ctl.latest.state}"
            assert ctl.runner.error is None and len(ctl.latest.history["epoch"]) == ctl.latest.epoch
    finally:
        sys.setswitchinterval(old)
        ctl.shutdown()


# ------------------------------------------------------------------------- speed and the training settings


def test_window_starts_without_an_epoch_limit_at_the_remembered_pace(qtbot, dialogs):
    """The app passes the remembered pace (10 epochs/s until one is chosen); the window's own experiment has
    no epoch limit (the CLI keeps 500); a chosen speed reaches the runner and is remembered."""
    from bpcore.config import MAX_EPOCHS
    from bpgui.settings import DEFAULT_PACE, load_pace

    settings = open_settings()
    assert load_pace(settings) == DEFAULT_PACE == 10.0
    window = MainWindow(None, settings=settings, in_process=True, pace=load_pace(settings))
    qtbot.addWidget(window)
    ctl, tb = window.controller, window.toolbar
    assert ctl.experiment.training.epochs == MAX_EPOCHS and tb.epochs.text() == "no limit"
    assert Experiment().training.epochs == 500
    assert tb.pace.currentText() == "10 epochs/s" and ctl.pace == 10.0
    tb.pace.setCurrentIndex(tb.pace.findText("max"))
    assert ctl.pace is None and load_pace(open_settings()) is None
    tb.pace.setCurrentIndex(tb.pace.findText("3 epochs/s"))
    assert ctl.pace == 3.0 and load_pace(open_settings()) == 3.0
    window.controller.new()  # File ▸ New starts from the window's default too
    assert ctl.experiment.training.epochs == MAX_EPOCHS and ctl.pace == 3.0
    window.ask_on_close = False
    window.close()


def test_a_paced_run_rests_between_epochs(qtbot, dialogs):
    """At 3 epochs per second, seeing epoch e and then e + 6 takes at least 1 s of wall time: epoch e + 6 ends
    6/3 s after epoch e, and the window may show epoch e up to 1 s late (on a loaded machine its frames lagged
    one epoch and more; a lower bound only, a slow machine makes it longer). Without rests these 6 epochs take
    milliseconds. Max then runs on without rests."""
    import time

    window = make_window(qtbot, epochs=1_000_000)
    ctl, tb = window.controller, window.toolbar
    assert ctl.pace is None and tb.pace.currentText() == "max"  # a window made without a pace: tests, automation
    tb.pace.setCurrentIndex(tb.pace.findData(3.0))
    assert ctl.pace == 3.0
    tb.play_action.trigger()
    qtbot.waitUntil(lambda: epoch_of(window) >= 1, timeout=TIMEOUT_MS)
    start, first = time.perf_counter(), epoch_of(window)
    qtbot.waitUntil(lambda: epoch_of(window) >= first + 6, timeout=TIMEOUT_MS)
    assert time.perf_counter() - start >= (6 / 3 - 1) * 0.95  # 5 % for the clocks of two threads
    tb.pace.setCurrentIndex(tb.pace.findData(None))  # max: the rest under way ends at once
    assert ctl.pace is None
    e = epoch_of(window)
    qtbot.waitUntil(lambda: epoch_of(window) >= e + 50, timeout=TIMEOUT_MS)
    stop(window)


def test_every_training_setting_reaches_the_trainer_while_running_and_the_saved_session(qtbot, dialogs,
                                                                                      tmp_path):
    from bpcore.session import load_model

    window = make_window(qtbot, epochs=1_000_000)
    ctl, tb = window.controller, window.toolbar
    tb.optimizer.setCurrentIndex(tb.optimizer.findData("momentum"))
    tb.play_action.trigger()
    qtbot.waitUntil(lambda: epoch_of(window) >= 2, timeout=TIMEOUT_MS)
    tb.settings_action.trigger()  # Training…
    dialog = window.training_dialog
    assert dialog is not None and dialog.isVisible() and not dialog.isModal()
    panel = dialog.panel
    assert panel.controls["momentum"].isEnabled()
    wanted = {"momentum": 0.5, "step_size": 10, "gamma": 0.8, "time_limit": 600.0, "loss_goal": 1e-6,
              "min_grad": 1e-9, "patience": 400, "clip_norm": 5.0}
    for key, value in wanted.items():
        panel.controls[key].setValue(value)
    for key, value in (("schedule", "step"), ("dtype", "float64")):
        panel.controls[key].setCurrentIndex(panel.controls[key].findData(value))
    wanted.update(schedule="step", dtype="float64")
    assert not dialogs["warnings"]
    t = ctl.trainer
    assert {k: getattr(t.experiment.training, k) for k in wanted} == wanted
    assert t.dtype == torch.float64 and all(W.dtype == torch.float64 for W in t.model.weights)
    assert ctl.mode() == "running"  # the run goes on with them
    e = epoch_of(window)
    qtbot.waitUntil(lambda: epoch_of(window) >= e + 3, timeout=TIMEOUT_MS)
    assert ctl.latest.weights[0].dtype == np.float64
    limits = {c.name: c.limit for c in ctl.latest.criteria}
    assert limits["time"] == 600.0 and limits["validation patience"] == 400 and limits["loss goal"] == 1e-6
    window.refresher.draw_now()
    rows = {name: text for name, _bar, text, _met in window.views.criteria.rows()}
    assert rows["time (s)"].endswith("/ 600") and rows["epochs"].endswith("/ 1000000")
    assert rows["validation patience (epochs)"].endswith("/ 400")
    path = tmp_path / "run.safetensors"
    assert window.files.save_as(str(path))
    saved = load_model(path).experiment.training
    assert {k: getattr(saved, k) for k in wanted} == wanted
    stop(window)

    panel.controls["patience"].setValue(panel.controls["patience"].minimum())  # off
    assert ctl.experiment.training.patience is None
    window.refresher.draw_now()
    rows = {name: text for name, _bar, text, _met in window.views.criteria.rows()}
    assert "validation patience (epochs) · off" in rows


# --------------------------------------------------------------------------------- the true state, shown


def test_step_on_a_diverged_run_explains_it_again(qtbot, dialogs):
    """Step on a diverged run that diverges again shows the banner and the reason again (Play did already;
    a Step did not: the clock saw 'diverged' before and after it)."""
    exp = Experiment().replace(data={"source": "spirals"}, training={"lr": 1e9, "epochs": 1000})
    window = make_window(qtbot, exp)
    ctl, banner = window.controller, window.views.banner
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: ctl.mode() == "diverged" and banner.isVisible(), timeout=TIMEOUT_MS)
    for _ in range(2):
        window.toolbar.step_action.trigger()
        assert not banner.isVisible()  # Step hides the old message
        assert ctl.runner.wait() and ctl.mode() == "diverged"
        qtbot.waitUntil(banner.isVisible, timeout=TIMEOUT_MS)
        assert ctl.latest.reason in banner.message()
        assert window.status.reason.full_text() == f"Training paused: {ctl.latest.reason}"


def test_after_pause_the_status_and_criteria_show_the_trainers_epoch_and_step(qtbot, dialogs):
    """Paused anywhere in an epoch, the status line and the criteria show the epoch and step the paused trainer
    holds (the steps of the interrupted epoch included), and no rate."""
    window = make_window(qtbot, epochs=1_000_000)
    ctl = window.controller
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: epoch_of(window) >= 3, timeout=TIMEOUT_MS)
    for _ in range(3):
        window.toolbar.play_action.trigger()  # pause
        assert ctl.runner.wait() and ctl.mode() == "paused"
        t = ctl.synced()  # the trainer's own counters at the weights the pause holds
        qtbot.waitUntil(lambda t=t: window.status.labels["step"].text() == f"step {t.step_count:,}",
                        timeout=TIMEOUT_MS)
        assert t.step_count == ctl.latest.step and t.epoch == ctl.latest.epoch
        assert window.status.labels["epoch"].text() == f"epoch {t.epoch}"
        assert window.status.labels["mode"].text() == "paused"
        assert window.status.labels["speed"].text() == "— steps/s"
        epochs_row = next(text for name, _bar, text, _met in window.views.criteria.rows() if name == "epochs")
        assert epochs_row == f"{t.epoch} / 1000000"
        window.toolbar.play_action.trigger()  # on again, to pause somewhere else in an epoch
        e = epoch_of(window)
        qtbot.waitUntil(lambda e=e: epoch_of(window) >= e + 2, timeout=TIMEOUT_MS)
    stop(window)


def test_a_step_after_pause_completes_the_interrupted_epoch(qtbot, dialogs):
    """Step after Pause trains the rest of the interrupted epoch: the epoch count grows by one and the step
    count by at most one epoch's steps (9 = ⌈280 / 32⌉), ending at whole epochs again."""
    window = make_window(qtbot, epochs=1_000_000)
    ctl = window.controller
    per_epoch = 9  # 280 training rows (70 % of 400) in mini-batches of 32
    window.toolbar.play_action.trigger()
    for _ in range(5):  # five pauses: some land inside an epoch
        e = epoch_of(window)
        qtbot.waitUntil(lambda e=e: epoch_of(window) >= e + 2, timeout=TIMEOUT_MS)
        window.toolbar.play_action.trigger()  # pause
        assert ctl.runner.wait() and ctl.mode() == "paused"
        t = ctl.synced()
        window.toolbar.step_action.trigger()
        assert ctl.runner.wait()
        after = ctl.synced()
        assert after.epoch == t.epoch + 1 and 0 < after.step_count - t.step_count <= per_epoch
        assert after.step_count == per_epoch * after.epoch  # whole epochs again
        window.refresher.draw_now()
        assert window.status.labels["step"].text() == f"step {after.step_count:,}"
        window.toolbar.play_action.trigger()
    stop(window)


@pytest.mark.parametrize("pause", [False, True], ids=["running", "paused"])
def test_the_reset_question_says_whether_training_runs_or_is_paused(qtbot, dialogs, pause):
    window = make_window(qtbot, epochs=1_000_000)
    ctl = window.controller
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: epoch_of(window) >= 1, timeout=TIMEOUT_MS)
    if pause:
        window.toolbar.play_action.trigger()
        assert ctl.runner.wait() and ctl.mode() == "paused"
    dialogs["answers"].append(QMessageBox.StandardButton.No)
    window.toolbar.seed.setValue(5)
    (_title, text), = dialogs["questions"]
    assert text.startswith(f"Training is {'paused' if pause else 'running'}.")
    assert ("ends it" if pause else "stops it") in text
    assert ctl.experiment.model.init_seed == 0 and window.toolbar.seed.value() == 0
    stop(window)


def test_mu_and_batch_size_set_before_the_training_process_is_ready_are_trained_with():
    """μ and the batch size changed while the training process is still building its Trainer (at the start it
    imports torch for seconds) reach the run: they were applied to no Trainer and lost, and the run trained
    with μ 0.3 while the window showed the new value."""
    import time

    from bpgui.controller import TrainingController

    ctl = TrainingController(Experiment().replace(training={"epochs": 10**9}), in_process=False)
    try:
        ctl.set_lr(0.05)
        ctl.set_batch_size(70)  # 280 training rows: 4 steps per epoch
        ctl.play()
        end = time.monotonic() + TIMEOUT_MS / 1000
        while (ctl.latest is None or ctl.latest.epoch < 3) and time.monotonic() < end:
            time.sleep(0.01)
        ctl.pause()
        assert ctl.runner.wait()
        snap = ctl.latest
        assert snap.epoch >= 3 and snap.lr == 0.05 and set(snap.history["lr"]) <= {0.05}
        t = ctl.synced()
        assert t.step_count - 4 * t.epoch in range(0, 4)  # whole epochs of 4 steps, and the paused one's
    finally:
        ctl.shutdown()
