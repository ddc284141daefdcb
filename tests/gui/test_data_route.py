"""One route for data ("boundary cleanup" part of issue 10): File ▸ Open CSV data…, a CSV file dropped on the
window and the data panel's own button all open the same import dialog, and the target column and task chosen
there are in the DataSpec the controller stores, so a saved session or experiment reloads the same data."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QComboBox

from bpcore.config import DataSpec, load_experiment, save_experiment
from bpgui.main_window import MainWindow
from bpgui.panels import CsvImportDialog
from bpgui.settings import open_settings

# (target column, task chosen in the dialog, task of the data read). The "cls" column holds 0/1, which "auto"
# reads as two classes: choosing regression for it must survive a save, as must a feature column as target.
ROWS = [("x2", "regression", "regression"), ("cls", "regression", "regression"), ("cls", "auto", "classification")]
IDS = ["x2-regression", "cls-regression", "cls-auto"]


@pytest.fixture
def points(tmp_path: Path) -> Path:
    rows = ["x1,x2,cls"] + [f"{i * 0.5:.1f},{(i * 7) % 11 - 5.0:.1f},{i % 2}" for i in range(30)]
    path = tmp_path / "points.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def window_for(qtbot) -> MainWindow:
    window = MainWindow(None, settings=open_settings(), in_process=True)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def choose(dialog: CsvImportDialog, target: str, task: str) -> None:
    """Pick target and task in the dialog's own combo boxes, as a user does, and press Import."""
    combo = dialog.findChild(QComboBox, "csvTarget")
    combo.setCurrentIndex(dialog.header().index(target))
    tasks = dialog.findChild(QComboBox, "csvTask")
    tasks.setCurrentIndex(tasks.findData(task))
    dialog.accept()


@pytest.mark.parametrize(("target", "task", "read_as"), ROWS, ids=IDS)
def test_file_menu_csv_keeps_target_and_task_through_session_and_experiment(qtbot, boxes, tmp_path, points,
                                                                            target, task, read_as) -> None:
    window = window_for(qtbot)
    dialog = window.files.open_csv(str(points))
    assert isinstance(dialog, CsvImportDialog) and dialog.isVisible() and dialog.path() == str(points)
    choose(dialog, target, task)
    ctl = window.controller
    want = DataSpec(source=f"csv:{points}", target=target, task=task)
    assert ctl.experiment.data == want, "the task and target chosen in the dialog are in the experiment"
    assert ctl.trainer.dataset is dialog.dataset()  # the data the dialog read, not a second read of the file
    assert ctl.trainer.task == read_as
    assert window.views.data_panel.spec() == want
    assert not boxes

    # a saved experiment file reloads the same data
    exp_path = tmp_path / "exp.toml"
    save_experiment(ctl.experiment, exp_path)
    assert load_experiment(exp_path).data == want

    # a saved session reloads the same data in a fresh window
    session = tmp_path / "run.safetensors"
    assert window.files.save_as(str(session))
    other = window_for(qtbot)
    assert other.files.open_session(str(session)), boxes
    assert other.controller.experiment.data == want
    assert other.controller.trainer.task == read_as
    assert target not in other.controller.trainer.dataset.feature_names  # the same column is the target
    assert other.views.data_panel.spec() == want  # and the panel shows it, ready for the dialog again
    again = other.files.open_csv(str(points))
    assert (again.target(), again.task()) == (target, task)
    again.reject()


def _drag(mime: QMimeData) -> tuple[QDragEnterEvent, QDropEvent]:
    enter = QDragEnterEvent(QPoint(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    drop = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    enter.setAccepted(False)
    drop.setAccepted(False)
    return enter, drop


@pytest.mark.parametrize("where", ["window", "loss", "weights"])
def test_csv_dropped_on_the_window_opens_the_same_dialog(qtbot, boxes, points, where) -> None:
    """Dropped on the window or on a view that takes no drops itself (the event goes up to the window)."""
    window = window_for(qtbot)
    widget = window if where == "window" else getattr(window.views, where)
    assert where == "window" or not widget.acceptDrops()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(points))])
    enter, drop = _drag(mime)
    QApplication.sendEvent(widget, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(widget, drop)
    assert drop.isAccepted()
    dialog = window.findChild(CsvImportDialog)
    assert dialog is not None and dialog.isVisible() and dialog.path() == str(points)
    assert dialog.parent() is window.views.data_panel  # the panel's dialog, not a second one
    choose(dialog, "cls", "regression")
    assert window.controller.experiment.data == DataSpec(source=f"csv:{points}", target="cls", task="regression")
    assert window.controller.trainer.task == "regression"


@pytest.mark.parametrize("name", ["notes.md", "model.safetensors", "data.csv.bak"])
def test_other_files_dropped_on_the_window_are_refused(qtbot, boxes, tmp_path, name) -> None:
    window = window_for(qtbot)
    path = tmp_path / name
    path.write_text("x\n")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter, drop = _drag(mime)
    QApplication.sendEvent(window, enter)
    assert not enter.isAccepted(), name
    QApplication.sendEvent(window, drop)
    assert not drop.isAccepted() and window.findChild(CsvImportDialog) is None
    assert window.controller.experiment.data.source == "spirals"


def test_cancelled_import_keeps_the_data(qtbot, boxes, points) -> None:
    window = window_for(qtbot)
    trainer = window.controller.trainer
    window.files.open_csv(str(points)).reject()
    assert window.controller.trainer is trainer and window.controller.experiment.data == DataSpec()
    assert window.views.data_panel.spec() == DataSpec()
