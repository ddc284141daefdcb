"""The training controls as a person uses them: the toolbar's buttons clicked and its fields typed into while a
run goes on, the keyboard (Space, Escape) wherever the focus is, Pause and Step against the trainer's own
counters, divergence twice, the speed control and the Training settings window. A real MainWindow (trainer on a
thread); assertions on what the views show and what the trainer holds. Passes offscreen and under a real X
server (QT_QPA_PLATFORM=xcb)."""

from __future__ import annotations

import pytest
from flow_window import make_window
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from bpcore.config import MAX_EPOCHS, Experiment
from bpgui.keys import takes_text
from bpgui.main_window import MainWindow

TIMEOUT_MS = 30_000


class Answers(list):
    """Answers to the window's questions, first come first used (Yes when none is left); `warnings` records
    the warning boxes as 'title: text'."""

    def __init__(self) -> None:
        super().__init__()
        self.warnings: list[str] = []


@pytest.fixture
def answers(monkeypatch) -> Answers:
    queue = Answers()
    warnings = queue.warnings

    def question(*_args, **_kwargs):
        return queue.pop(0) if queue else QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(
        lambda _p, title, text, *a, **k: warnings.append(f"{title}: {text}") or QMessageBox.StandardButton.Ok))
    return queue




def click(qtbot, window: MainWindow, action) -> None:
    """A left click on the toolbar button of an action."""
    qtbot.mouseClick(window.toolbar.widgetForAction(action), Qt.MouseButton.LeftButton)


def type_into(spin, text: str) -> None:
    """Select the field's text, type, press Enter: as a person edits a number."""
    spin.setFocus()
    spin.lineEdit().selectAll()
    QTest.keyClicks(spin, text)
    QTest.keyClick(spin, Qt.Key.Key_Return)


def shown_epoch_and_step(window: MainWindow) -> tuple[int, int]:
    """The epoch and the step the status line shows."""
    epoch = window.status.labels["epoch"].text().removeprefix("epoch ")
    step = window.status.labels["step"].text().removeprefix("step ").replace(",", "")
    return int(epoch), int(step)


# ------------------------------------------------------------------------------------------------ keyboard


def test_space_plays_and_pauses_from_every_field_and_leaves_it_alone(qtbot, answers):
    window = make_window(qtbot)
    ctl, tb = window.controller, window.toolbar
    fields = [tb.lr, tb.batch, tb.l2, tb.epochs, tb.seed, tb.optimizer, tb.pace, tb.lr_slider,
              window.views.architecture_editor.layer_widgets(0)[0], window.views.decision]
    running = False
    for field in fields:
        field.setFocus()
        QApplication.processEvents()
        text = field.text() if hasattr(field, "text") and callable(field.text) else None
        QTest.keyClick(QApplication.focusWidget() or field, Qt.Key.Key_Space)
        running = not running
        qtbot.waitUntil(lambda r=running: ctl.mode() == ("running" if r else "paused"), timeout=TIMEOUT_MS)
        qtbot.waitUntil(lambda r=running: tb.play_action.text() == ("Pause" if r else "Play"), timeout=TIMEOUT_MS)
        if text is not None:
            assert field.text() == text, field.objectName()  # the field kept its number (it was blanked)
    dialog = window.show_training_settings()  # the Training settings window too
    dialog.panel.controls["patience"].setFocus()
    QTest.keyClick(dialog.panel.controls["patience"], Qt.Key.Key_Space)
    running = not running
    qtbot.waitUntil(lambda: ctl.mode() == ("running" if running else "paused"), timeout=TIMEOUT_MS)
    assert dialog.panel.controls["patience"].text() == "off"
    ctl.stop()
    assert not answers.warnings


def test_a_field_that_takes_text_keeps_its_spaces(qtbot):
    from PySide6.QtWidgets import QComboBox, QLineEdit, QSpinBox

    line, spin, combo = QLineEdit(), QSpinBox(), QComboBox()
    combo.setEditable(True)
    for w in (line, spin, combo):
        qtbot.addWidget(w)
    assert takes_text(line) and takes_text(combo) and takes_text(combo.lineEdit())
    assert not takes_text(spin) and not takes_text(spin.findChild(QLineEdit))


def test_escape_gives_the_focus_to_the_plots_and_drops_a_number_being_typed(qtbot, answers):
    window = make_window(qtbot)
    tb = window.toolbar
    tb.lr.setFocus()
    tb.lr.lineEdit().selectAll()
    QTest.keyClicks(tb.lr, "7")  # typed, not entered
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    QApplication.processEvents()
    assert QApplication.focusWidget() is window.views.decision or window.views.decision.isAncestorOf(
        QApplication.focusWidget())
    assert tb.lr.value() == 0.3 and tb.lr.text() == "0.3" and window.controller.experiment.training.lr == 0.3
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)  # and Space plays from there
    qtbot.waitUntil(lambda: window.controller.mode() == "running", timeout=TIMEOUT_MS)
    window.controller.stop()


# --------------------------------------------------------------------------------------------- the run


def test_pause_and_step_show_the_trainers_epoch_and_step(qtbot, answers):
    window = make_window(qtbot)
    ctl, tb = window.controller, window.toolbar
    assert tb.epochs.text() == "no limit" and ctl.experiment.training.epochs == MAX_EPOCHS
    click(qtbot, window, tb.play_action)
    qtbot.waitUntil(lambda: ctl.latest.epoch >= 3, timeout=TIMEOUT_MS)
    click(qtbot, window, tb.play_action)  # Pause
    assert ctl.runner.wait() and ctl.mode() == "paused"
    t = ctl.synced()
    qtbot.waitUntil(lambda: shown_epoch_and_step(window) == (t.epoch, t.step_count), timeout=TIMEOUT_MS)
    assert window.status.labels["mode"].text() == "paused"
    for _ in range(2):
        click(qtbot, window, tb.step_action)
        assert ctl.runner.wait()
        t = ctl.synced()
        qtbot.waitUntil(lambda t=t: shown_epoch_and_step(window) == (t.epoch, t.step_count), timeout=TIMEOUT_MS)
        rows = {name: text for name, _bar, text, _met in window.views.criteria.rows()}
        assert rows["epochs"] == f"{t.epoch} / no limit"


def test_diverging_twice_explains_it_both_times(qtbot, answers):
    window = make_window(qtbot, Experiment().replace(training={"lr": 1e9, "epochs": MAX_EPOCHS}))
    ctl, tb, banner = window.controller, window.toolbar, window.views.banner
    for attempt in (1, 2):
        click(qtbot, window, tb.play_action)
        qtbot.waitUntil(lambda: ctl.mode() == "diverged" and banner.isVisible(), timeout=TIMEOUT_MS)
        assert ctl.latest.reason in banner.message(), attempt
        assert window.status.reason.full_text() == f"Training paused: {ctl.latest.reason}"
        assert window.status.labels["mode"].text() == "diverged"
        # the reason sits beside the numbers, never over them
        assert window.status.reason.geometry().right() < window.status.labels["mode"].geometry().left()
    type_into(tb.lr, "0.1")  # lower μ and go on from the kept weights
    click(qtbot, window, tb.play_action)
    assert not banner.isVisible()
    qtbot.waitUntil(lambda: ctl.latest.epoch >= 5 and ctl.mode() == "running", timeout=TIMEOUT_MS)
    assert window.status.reason.full_text() == ""
    ctl.stop()


def test_every_toolbar_setting_changes_while_training(qtbot, answers):
    window = make_window(qtbot)
    ctl, tb = window.controller, window.toolbar
    click(qtbot, window, tb.play_action)
    qtbot.waitUntil(lambda: ctl.latest.epoch >= 2, timeout=TIMEOUT_MS)

    def goes_on() -> None:
        e = ctl.latest.epoch
        qtbot.waitUntil(lambda: ctl.mode() == "running" and ctl.latest.epoch >= e + 2, timeout=TIMEOUT_MS)

    type_into(tb.lr, "1000")  # kept as typed (it once became 10); the run diverges on it
    assert ctl.experiment.training.lr == 1000.0 and tb.lr_slider.value() == tb.lr_slider.maximum()
    qtbot.waitUntil(lambda: ctl.mode() == "diverged" and window.views.banner.isVisible(), timeout=TIMEOUT_MS)
    tb.lr_slider.setFocus()
    for _ in range(4):
        QTest.keyClick(tb.lr_slider, Qt.Key.Key_PageDown)  # four decades down: μ = 0.1
    assert tb.lr.value() == pytest.approx(0.1) and ctl.experiment.training.lr == pytest.approx(0.1)
    click(qtbot, window, tb.play_action)
    qtbot.waitUntil(lambda: ctl.mode() == "running" and ctl.latest.lr == pytest.approx(0.1), timeout=TIMEOUT_MS)
    type_into(tb.batch, "16")
    type_into(tb.l2, "1e-4")
    tb.optimizer.setCurrentIndex(tb.optimizer.findData("adam"))
    type_into(tb.epochs, "100000")
    tb.pace.setCurrentIndex(tb.pace.findText("300 epochs/s"))
    goes_on()
    tr = ctl.trainer.experiment.training
    assert (tr.batch_size, tr.l2, tr.optimizer, tr.epochs) == (16, 1e-4, "adam", 100000) and ctl.pace == 300.0
    answers.append(QMessageBox.StandardButton.Yes)  # the seed re-initialises the weights: asked, agreed
    type_into(tb.seed, "3")
    assert ctl.experiment.model.init_seed == 3 and not ctl.running
    # the new weights' first snapshot comes from the training process a moment later
    qtbot.waitUntil(lambda: ctl.runner.settled and ctl.latest.epoch == 0, timeout=TIMEOUT_MS)
    click(qtbot, window, tb.play_action)
    goes_on()
    assert not answers.warnings
    ctl.stop()


def test_training_settings_window_changes_a_running_run(qtbot, answers):
    window = make_window(qtbot)
    ctl, tb = window.controller, window.toolbar
    click(qtbot, window, tb.play_action)
    qtbot.waitUntil(lambda: ctl.latest.epoch >= 2, timeout=TIMEOUT_MS)
    window.views.decision.setFocus()
    QTest.keyClick(window.views.decision, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)  # Training…
    dialog = window.training_dialog
    assert dialog is not None and dialog.isVisible()
    panel = dialog.panel
    type_into(panel.controls["time_limit"], "3600")
    assert dialog.isVisible()  # Enter applied the number and left the window open (it closed it)
    type_into(panel.controls["clip_norm"], "0.5")
    panel.controls["dtype"].setCurrentIndex(panel.controls["dtype"].findData("float64"))
    e = ctl.latest.epoch
    qtbot.waitUntil(lambda: ctl.mode() == "running" and ctl.latest.epoch >= e + 2, timeout=TIMEOUT_MS)
    tr = ctl.trainer.experiment.training
    assert (tr.time_limit, tr.clip_norm, tr.dtype) == (3600.0, 0.5, "float64")
    window.refresher.draw_now()
    rows = {name: text for name, _bar, text, _met in window.views.criteria.rows()}
    assert rows["time (s)"].endswith("/ 3600")
    dialog.close()
    assert not answers.warnings
    ctl.stop()


def test_view_menu_reset_layout_brings_closed_and_floating_panels_back(qtbot, answers):
    window = make_window(qtbot)
    docks = window.views.docks
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&View")
    reset = next(a for a in view_menu.actions() if a.objectName() == "resetLayoutAction")
    assert reset.text() == "&Reset layout" and reset.toolTip()
    areas = {key: window.dockWidgetArea(dock) for key, dock in docks.items()}
    docks["criteria"].close()
    docks["loss"].setFloating(True)
    window.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, docks["architecture"])
    QApplication.processEvents()
    assert docks["criteria"].isHidden() and docks["loss"].isFloating()
    reset.trigger()
    QApplication.processEvents()
    assert not docks["criteria"].isHidden() and not docks["loss"].isFloating()
    assert {key: window.dockWidgetArea(dock) for key, dock in docks.items()} == areas
