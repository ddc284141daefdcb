"""The File menu as a person uses it: save and reopen a session, export a model and evaluate it with `bpcore eval`,
export plots, open a model file, the standard shortcuts. A real MainWindow (trainer on a thread), its menu actions
triggered, the file dialogs answered with a path; assertions on what the views show and what the files hold.
Passes offscreen and under a real X server (QT_QPA_PLATFORM=xcb)."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import torch
from flow_window import make_window
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QImage, QKeySequence
from PySide6.QtWidgets import QFileDialog, QInputDialog

from bpcore.config import Experiment
from bpcore.files import load_model_file
from bpcore.nn import MLP
from bpcore.session import save_model
from bpgui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[3]
TIMEOUT_MS = 30_000
SVG = "{http://www.w3.org/2000/svg}"




def activate(qtbot, window: MainWindow) -> None:
    """Make the window the active one, as a click on it does: its shortcuts then take keys (under a bare X
    server without a window manager nothing activates it otherwise)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=TIMEOUT_MS)


def train_to_the_end(qtbot, window: MainWindow) -> None:
    window.toolbar.play_action.trigger()
    qtbot.waitUntil(lambda: window.controller.mode() == "finished", timeout=TIMEOUT_MS)
    window.refresher.draw_now()


def answer_dialogs(monkeypatch, path) -> None:
    """The next file dialog, open or save, is answered with `path` (as if typed and confirmed)."""
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(path), "")))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "")))


def export_action(window: MainWindow, plot: str) -> QAction:
    """File ▸ Export plots ▸ <plot>…"""
    return window.findChild(QAction, f"export_{plot}")


def shown(window: MainWindow) -> dict:
    """What the Gradients tab, the criteria panel and the loss plot show."""
    window.refresher.draw_now()
    v = window.views
    curves = [c.getData() for c in v.gradients.delta_curves()]
    return {"delta": [(np.array(x), np.array(y)) for x, y in curves],
            "criteria": [(name, text, met) for name, _bar, text, met in v.criteria.rows()],
            "best": [(line.isVisible(), line.value()) for line in v.loss._best_lines],
            "epoch": window.controller.latest.epoch}


def _eval(model: Path, *args: str) -> tuple[dict, str]:
    done = subprocess.run([sys.executable, "-m", "bpcore", "eval", str(model), *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


# ------------------------------------------------------------------------------------- item 1: the record


def test_reopened_session_shows_gradients_criteria_and_best_epoch_as_they_were(qtbot, boxes, tmp_path, monkeypatch):
    exp = Experiment().replace(data={"n_samples": 200},
                               training={"epochs": 14, "lr": 0.2, "loss_goal": 1e-4, "min_grad": 1e-7})
    window = make_window(qtbot, exp)
    train_to_the_end(qtbot, window)
    before = shown(window)
    assert before["epoch"] == 14 and len(before["delta"]) == 3 and before["best"][0][0]
    assert all(np.isfinite(y).all() and len(y) == 14 for _x, y in before["delta"])
    assert len(before["criteria"]) == 5 and before["criteria"][0][2]  # the epoch limit is met

    path = tmp_path / "run.safetensors"
    answer_dialogs(monkeypatch, path)
    window.files.actions["saveAs"].trigger()
    window.toolbar.reset_action.trigger()
    qtbot.waitUntil(lambda: window.controller.latest.epoch == 0, timeout=TIMEOUT_MS)
    assert shown(window)["criteria"] != before["criteria"]

    window.files.actions["open"].trigger()
    assert window.controller.runner.wait()
    after = shown(window)
    assert not boxes and after["epoch"] == 14
    for (x0, y0), (x1, y1) in zip(before["delta"], after["delta"], strict=True):
        np.testing.assert_array_equal(x1, x0)
        np.testing.assert_array_equal(y1, y0)  # the saved float64 numbers, read back exactly
    assert after["criteria"] == before["criteria"] and after["best"] == before["best"]

    # the Gradients tab's CSV export then holds one row per epoch with every layer's value
    csv = tmp_path / "delta.csv"
    answer_dialogs(monkeypatch, csv)
    window.files.export_plot("mean delta per layer")
    rows = csv.read_text().splitlines()
    assert len(rows) == 1 + 14 and "nan" not in csv.read_text()
    first = [float(v) for v in rows[1].split(",")]
    recorded = window.controller.latest.delta_history
    # pyqtgraph's CSV exporter writes 10 digits after the point (np.format_float_positional, precision 10)
    assert first[0] == 1 and first[1] == pytest.approx(recorded[0, 0], rel=0, abs=0.51e-10)


def test_reopened_session_shows_the_gradient_heatmaps_as_they_were(qtbot, boxes, tmp_path, monkeypatch):
    window = make_window(qtbot, Experiment().replace(data={"n_samples": 200}, training={"epochs": 6}))
    train_to_the_end(qtbot, window)

    def heatmaps() -> list[tuple]:
        window.refresher.draw_now()
        maps = window.views.gradients.heatmaps().heatmaps()
        for m in maps:
            m.show_cell(0, 0)  # as hovering the first cell does: its value in the read-out
        return [(m.levels(), m.readout()) for m in maps]

    before = heatmaps()
    assert all(levels[1] < 1 for levels, _ in before)  # real gradients, not the (−1, 1) scale of zeros
    path = tmp_path / "run.safetensors"
    answer_dialogs(monkeypatch, path)
    window.files.actions["saveAs"].trigger()
    window.toolbar.reset_action.trigger()
    qtbot.waitUntil(lambda: window.controller.latest.epoch == 0, timeout=TIMEOUT_MS)
    window.files.actions["open"].trigger()
    assert window.controller.runner.wait() and not boxes
    assert heatmaps() == before


# --------------------------------------------------------------- item 2: what `bpcore eval` needs is in the file


def _regression_csv(folder: Path) -> Path:
    """A CSV whose columns have very different scales, with a target column 'price'."""
    rng = np.random.default_rng(3)
    x = rng.normal([50.0, -2.0, 1000.0], [10.0, 0.5, 300.0], size=(120, 3))
    price = 0.3 * x[:, 0] - 4.0 * x[:, 1] + 0.01 * x[:, 2] + rng.normal(0, 0.5, 120)
    path = folder / "houses.csv"
    rows = ["size,age,distance,price"] + [",".join(f"{v:.6g}" for v in (*r, p)) for r, p in zip(x, price, strict=True)]
    path.write_text("\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("data, action", [("wine", "exportModel"), ("wine", "saveAs"), ("csv", "exportModel")])
def test_bpcore_eval_of_the_windows_file_gives_the_windows_numbers(qtbot, boxes, tmp_path, monkeypatch, data, action):
    # wine and the CSV: features on very different scales, so evaluating without the training statistics is far off
    if data == "csv":
        csv = _regression_csv(tmp_path)
        exp = Experiment().replace(data={"source": f"csv:{csv}", "target": "price", "task": "regression"},
                                   training={"epochs": 20, "lr": 0.01})
        eval_args = ("--data", str(csv), "--part", "test")
    else:
        exp = Experiment().replace(data={"source": "wine"}, training={"epochs": 20, "lr": 0.1})
        eval_args = ("--data", "wine", "--part", "test")
    window = make_window(qtbot, exp)
    train_to_the_end(qtbot, window)
    metrics = window.controller.latest.metrics
    path = tmp_path / "model.safetensors"
    answer_dialogs(monkeypatch, path)
    window.files.actions[action].trigger()
    assert not boxes and path.exists()

    out, err = _eval(path, *eval_args)
    assert "recomputed" not in err  # the file's statistics were used
    # the same float32 kernels on the same rows: equal up to the float32 sum order of a few ulp
    assert out["loss"] == pytest.approx(metrics["test_loss"], rel=1e-5)
    trainer = window.controller.trainer
    if data == "csv":
        assert out["r2"] == pytest.approx(metrics["test_score"], rel=1e-5, abs=1e-6)
    else:
        assert out["accuracy"] == pytest.approx(metrics["test_score"], abs=1e-12)
        assert out["class_names"] == list(trainer.dataset.class_names)
    extra = load_model_file(path).extra
    np.testing.assert_array_equal(extra["standardise"]["mean"], trainer.split.mean)  # JSON floats read back exactly
    np.testing.assert_array_equal(extra["standardise"]["std"], trainer.split.std)
    assert extra["feature_names"] == list(trainer.dataset.feature_names)


# ------------------------------------------------------------------------------ item 3: plots as SVG and PNG

CIRCLE = "M0.5,0 C"  # pyqtgraph's "o" symbol as Qt's SVG engine writes it: a unit circle of four curves


def test_decision_plot_svg_draws_each_point_as_a_vector_circle(qtbot, boxes, tmp_path, monkeypatch):
    window = make_window(qtbot, Experiment().replace(training={"epochs": 3}))
    window.resize(1400, 900)
    train_to_the_end(qtbot, window)
    path = tmp_path / "decision.svg"
    answer_dialogs(monkeypatch, path)
    export_action(window, "decision_regions").trigger()
    assert not boxes

    root = ET.parse(path).getroot()  # well-formed XML, or ParseError
    assert root.tag == f"{SVG}svg"
    shapes = [e for e in root.iter(f"{SVG}path") if e.get("d", "").startswith(CIRCLE)]
    points = window.views.decision._points  # every data row is a point of the decision plot
    (x0, x1), (y0, y1) = window.views.decision.plot_item().getViewBox().viewRange()
    x, y = points.getData()
    in_view = int(np.sum((x >= x0) & (x <= x1) & (y >= y0) & (y <= y1)))
    assert in_view > 300 and len(shapes) == in_view  # one circle per point shown, nothing else round
    # the only bitmap is the decision field itself: no marker sheet per point, no axis drawn as a picture
    assert len(list(root.iter(f"{SVG}image"))) == 1
    assert {"-1", "0", "1"} <= {t.text.strip() for t in root.iter(f"{SVG}text") if t.text}  # tick labels as text


@pytest.mark.parametrize("choice, scale", [(0, 1), (1, 2), (3, 4)])
def test_png_export_asks_for_the_size(qtbot, boxes, tmp_path, monkeypatch, choice, scale):
    window = make_window(qtbot, Experiment().replace(training={"epochs": 3}))
    train_to_the_end(qtbot, window)
    scene = window.views.loss.scene()
    on_screen = scene.views()[0].viewport().size()
    asked = []

    def pick(_parent, _title, _label, items, current, _editable):
        asked.append((list(items), current))
        return items[choice], True

    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(pick))
    path = tmp_path / "loss.png"
    answer_dialogs(monkeypatch, path)
    export_action(window, "loss_curves").trigger()
    assert not boxes and len(asked) == 1
    written = QImage(str(path))
    assert written.width() == on_screen.width() * scale
    assert abs(written.height() - on_screen.height() * scale) <= 1  # height follows the aspect ratio, rounded
    assert f"{written.width()} × {written.height()}" in asked[0][0][choice]
    # the next export offers the last choice first
    export_action(window, "loss_curves").trigger()
    assert asked[1][1] == choice


def _top_band(path: Path) -> int:
    """Height in pixels of the first run of rows from the top that hold dark (text or line) pixels."""
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB32)
    rgb = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    dark = (rgb[:, : image.width(), :3].max(axis=2) < 160).any(axis=1)
    first = int(np.argmax(dark))
    return int(np.argmin(dark[first:]))


def test_png_at_twice_the_size_scales_the_legend_too(qtbot, boxes, tmp_path):
    window = make_window(qtbot, Experiment().replace(training={"epochs": 3}))
    train_to_the_end(qtbot, window)
    for k in (1, 2):
        assert window.files.export_plot("loss curves", str(tmp_path / f"loss{k}.png"), scale=k)
    # the legend row above the plots (pyqtgraph draws legends at a fixed size on screen): its text is twice as
    # tall at 2×, give or take the antialiased edge rows of each rendering
    one, two = _top_band(tmp_path / "loss1.png"), _top_band(tmp_path / "loss2.png")
    assert one > 5 and abs(two - 2 * one) <= 3, (one, two)


def test_png_size_dialog_cancelled_writes_nothing(qtbot, boxes, tmp_path, monkeypatch):
    window = make_window(qtbot)
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *a: ("", False)))
    path = tmp_path / "loss.png"
    answer_dialogs(monkeypatch, path)
    export_action(window, "loss_curves").trigger()
    assert not path.exists() and not boxes


# ---------------------------------------------------------------------------- item 4: File ▸ Open model


def _model_file(folder: Path, sizes=(2, 5, 2), activations=("relu",), output="softmax", dtype=torch.float64) -> Path:
    """A model file as a script writes it: a network of its own architecture, no experiment."""
    model = MLP(sizes, activations, output, dtype=dtype)
    path = folder / f"net-{'-'.join(map(str, sizes))}-{output}.safetensors"
    save_model(path, model)
    return path


def test_open_model_loads_its_architecture_and_weights_onto_the_data_in_use(qtbot, boxes, tmp_path, monkeypatch):
    window = make_window(qtbot, Experiment().replace(training={"epochs": 4}))
    train_to_the_end(qtbot, window)
    ctl = window.controller
    data = ctl.trainer.dataset
    path = _model_file(tmp_path)
    saved = load_model_file(path).weights
    answer_dialogs(monkeypatch, path)
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert not boxes and ctl.runner.wait()
    t = ctl.trainer
    assert t.model.sizes == (2, 5, 2) and t.model.activations == ("relu",) and t.dataset is data
    assert ctl.experiment.model.hidden == (5,) and ctl.experiment.training.dtype == "float64"
    assert all(torch.equal(a, b) for a, b in zip(t.model.weights, saved, strict=True))  # copies, exactly
    assert ctl.latest.epoch == 0 and ctl.session_path is None and ctl.dirty
    # the runner trains from the file's weights
    assert all(np.array_equal(a, b.numpy()) for a, b in zip(ctl.latest.weights, saved, strict=True))


@pytest.mark.parametrize("kwargs, says", [
    ({"sizes": (3, 4, 2)}, "maps 3 inputs to 2 outputs, but the data set 'spirals' needs 2 inputs and 2 outputs"),
    ({"sizes": (2, 4, 5)}, "maps 2 inputs to 5 outputs, but the data set 'spirals' needs 2 inputs and 2 outputs"),
    ({"sizes": (2, 4, 1), "output": "identity"}, "cannot be used on the data set 'spirals'"),
])
def test_open_model_that_does_not_fit_says_why_and_keeps_the_run(qtbot, boxes, tmp_path, monkeypatch, kwargs, says):
    window = make_window(qtbot)
    before = window.controller.trainer
    path = _model_file(tmp_path, **kwargs)
    answer_dialogs(monkeypatch, path)
    window.files.actions["openModel"].trigger()
    assert len(boxes) == 1 and boxes[0][0] == "Cannot open the model"
    assert path.name in boxes[0][1] and says in boxes[0][1]
    assert window.controller.trainer is before


def test_open_model_takes_a_bpcore_train_file(qtbot, boxes, tmp_path, monkeypatch):
    out = tmp_path / "cli.safetensors"
    done = subprocess.run([sys.executable, "-m", "bpcore", "train", "--dataset", "spirals", "--epochs", "3",
                           "--layers", "6", "--out", str(out), "--quiet"], capture_output=True, text=True, cwd=ROOT,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    window = make_window(qtbot)
    answer_dialogs(monkeypatch, out)
    window.files.actions["openModel"].trigger()
    assert not boxes and window.controller.trainer.model.sizes == (2, 6, 2)
    assert all(torch.equal(a, b) for a, b in zip(window.controller.trainer.model.weights,
                                                 load_model_file(out).weights, strict=True))
    assert window.controller.latest.epoch == 0  # a network onto the window's run, not the CLI's run
    # the same file as a session: the CLI's run with its record (File ▸ Open session)
    window.files.actions["open"].trigger()
    assert not boxes and window.controller.runner.wait()
    snap = window.controller.latest
    assert snap.epoch == 3 and snap.delta_history.shape == (3, 2) and np.isfinite(snap.delta_history).all()
    assert snap.criteria[0].name == "epochs" and snap.criteria[0].met


# --------------------------------------------------------------------- item 5: the File menu's shortcuts


@pytest.mark.parametrize("action, keys, dialog", [
    ("open", "Ctrl+O", "Open session"),
    ("openModel", "Ctrl+Shift+O", "Open model"),
    ("save", "Ctrl+S", "Save session"),  # no session file yet: Save asks for one
    ("saveAs", "Ctrl+Shift+S", "Save session"),
    ("exportModel", "Ctrl+E", "Export model"),
])
def test_file_actions_have_their_shortcuts_and_the_keys_trigger_them(qtbot, boxes, monkeypatch, action, keys, dialog):
    window = make_window(qtbot)
    activate(qtbot, window)
    asked = []
    for name in ("getOpenFileName", "getSaveFileName"):
        monkeypatch.setattr(QFileDialog, name, staticmethod(lambda _parent, title, *a, **k: asked.append(title)
                                                            or ("", "")))
    shortcut = window.files.actions[action].shortcut()
    assert shortcut == QKeySequence(keys)
    assert keys in window.files.actions[action].shortcut().toString()
    qtbot.keyClick(window.views.decision, shortcut[0].key(), shortcut[0].keyboardModifiers())
    assert asked == [dialog]
