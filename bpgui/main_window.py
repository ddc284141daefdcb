"""The Backprop Lab main window: docks of live views, the training toolbar, the File menu and the status line.

A view and a controller only: edits become TrainingController calls, snapshots become drawings (through
ViewRefresher's timer), user errors become message boxes. Nothing here trains or computes.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

from bpcore.config import DataSpec, Experiment, ModelSpec
from bpcore.data import Dataset
from bpcore.inspection import UpdateRule
from bpcore.lesson import Lesson
from bpgui import dialogs
from bpgui.controller import TrainingController, available_devices, window_experiment
from bpgui.docks import arrange, build_views, reset_layout
from bpgui.files_menu import FileMenu
from bpgui.gui_gc import GuiThreadCollection
from bpgui.inspector import InspectorPanel
from bpgui.inspector.lesson import LessonDialog, apply_lesson, example_lesson, lesson_size
from bpgui.keys import WindowKeys
from bpgui.panels.training_panel import TrainingDialog
from bpgui.refresh import ViewRefresher
from bpgui.settings import load_last_experiment, restore_layout, save_last_experiment, save_layout, save_pace
from bpgui.status import StatusLine
from bpgui.toolbar import TrainingToolbar

TITLE = "Backprop Lab"
DEFAULT_SIZE = (1600, 1000)


class MainWindow(QMainWindow):
    """The desktop trainer. `settings` None: remember nothing (automation, tests). `pace`: epochs per second at
    most to start with (None: as fast as the machine goes; the app passes the remembered one, bpgui.settings
    load_pace). Without an experiment (and none remembered) the window starts from window_experiment(): the
    defaults with no epoch limit."""

    def __init__(self, experiment: Experiment | None = None, *, settings: QSettings | None = None,
                 ask_on_close: bool = True, in_process: bool = False, pace: float | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._collection = GuiThreadCollection()  # Qt garbage is destroyed on this thread (bpgui.gui_gc)
        self.setObjectName("mainWindow")
        self.setAccessibleName("Backprop Lab main window")
        self.settings = settings
        self.ask_on_close = ask_on_close
        self.in_process = in_process  # train on a thread of this process instead of a child process
        self.controller = self._make_controller(experiment)
        self.views = build_views(self)
        self.toolbar = TrainingToolbar(available_devices(), self)
        self.addToolBar(self.toolbar)
        self.status = StatusLine(self.statusBar())
        self.files = FileMenu(self, self.controller, settings, self._plots, self._confirm_discard)
        self.training_dialog: TrainingDialog | None = None  # Training…, made when first opened
        self.lesson_windows: list[InspectorPanel] = []  # View ▸ Lesson… windows still open
        self._build_view_menu()
        self.refresher = ViewRefresher(self.controller, self.views, self.status, on_mode=self._on_mode, parent=self)
        self._wire()
        self.keys = WindowKeys(self, self.toolbar.play_action, self.focus_plots)  # Space, Escape anywhere
        self.controller.set_pace(pace)
        self.toolbar.set_pace(pace)
        self._sync_controls()
        self.resize(*DEFAULT_SIZE)
        self._arranged = settings is not None and restore_layout(settings, self)
        self._update_title()
        self.refresher.start()

    # ---------------------------------------------------------------------------------------- building
    def _make_controller(self, experiment: Experiment | None) -> TrainingController:
        exp = experiment
        if exp is None and self.settings is not None:
            exp = load_last_experiment(self.settings)
        try:
            return TrainingController(exp or window_experiment(), self, in_process=self.in_process)
        except dialogs.USER_ERRORS:
            if experiment is not None:
                raise  # an experiment asked for explicitly must work (automation reports the error)
            # remembered settings failed
            return TrainingController(window_experiment(), self, in_process=self.in_process)

    def _build_view_menu(self) -> None:
        menu = self.menuBar().addMenu("&View")
        menu.setObjectName("viewMenu")
        menu.setAccessibleName("view menu")
        menu.setToolTip("Show or hide panels, or put them all back")
        for dock in self.views.docks.values():
            action = dock.toggleViewAction()
            action.setToolTip(f"Show or hide the {dock.windowTitle()} panel")
            menu.addAction(action)
        menu.addSeparator()
        self.reset_layout_action = QAction("&Reset layout", self)
        self.reset_layout_action.setObjectName("resetLayoutAction")
        self.reset_layout_action.setToolTip("Every panel back where a fresh window has it: shown, docked, tabbed "
                                            "and sized as at the first start")
        self.reset_layout_action.triggered.connect(lambda: reset_layout(self))
        menu.addAction(self.reset_layout_action)
        self.lesson_action = QAction("&Lesson…", self)
        self.lesson_action.setObjectName("lessonAction")
        self.lesson_action.setToolTip("Type a small network, its rows and targets by hand (or load a lesson file) "
                                      "and step through its backpropagation in a window of its own")
        self.lesson_action.triggered.connect(lambda: self.open_lesson())
        menu.addAction(self.lesson_action)

    def _wire(self) -> None:
        tb, ctl, v = self.toolbar, self.controller, self.views
        tb.playToggled.connect(self.toggle_play)
        tb.stepRequested.connect(self.step)
        tb.resetRequested.connect(self.reset)
        tb.settingsRequested.connect(self.show_training_settings)
        tb.paceChanged.connect(self.set_pace)
        tb.lrChanged.connect(lambda lr: self._try("Learning rate", ctl.set_lr, lr))
        tb.batchSizeChanged.connect(lambda n: self._try("Batch size", ctl.set_batch_size, n))
        tb.optimizerChanged.connect(lambda name: self._try("Optimizer", ctl.set_training, optimizer=name))
        tb.l2Changed.connect(lambda l2: self._try("L2 penalty", ctl.set_training, l2=l2))
        tb.epochsChanged.connect(lambda n: self._try("Epoch limit", ctl.set_training, epochs=n))
        tb.deviceChanged.connect(lambda d: self._try("Device", ctl.set_training, device=d))
        tb.seedChanged.connect(self.set_seed)
        ctl.trainerChanged.connect(lambda _t: self._sync_controls())
        ctl.dirtyChanged.connect(lambda _d: self._update_title())
        v.scatter.sampleClicked.connect(self.inspect_sample)
        v.decision.sampleClicked.connect(self.inspect_sample)  # the central plot's samples too
        ctl.trainerChanged.connect(self._feed_inspector)
        v.data_panel.datasetChanged.connect(self.set_data)
        v.architecture_editor.architectureChanged.connect(self.set_architecture)

    # ------------------------------------------------------------------------------------ user actions
    def inspect_sample(self, index: int) -> None:
        """Show backpropagation for one sample (a click in the data plot): pause, copy W, open the inspector."""
        self._feed_inspector(self.controller.synced())  # pauses a running run: the weights it holds
        self.views.inspector.select_sample(index)
        self.views.docks["inspector"].show()
        self.views.docks["inspector"].raise_()

    def _feed_inspector(self, t) -> None:
        """The trainer's weights, rows and update rule (optimizer, L2, schedule, clipping) to the inspector; the
        window's record Trainer has no optimizer state (the training process holds it): Update says so."""
        X, targets = t.rows()
        self.views.inspector.set_source(t.net.weights, t.net.activations, t.output, X, targets, t.base_lr,
                                        t.dataset.class_names, rule=UpdateRule.from_trainer(t))

    def open_lesson(self, lesson: Lesson | None = None) -> InspectorPanel | None:
        """View ▸ Lesson…: type W, x and t (the documentation's 2-3-2 example to start from), then inspect them
        in an inspector window of its own, sized to show every card (the trainer's network is not touched).
        `lesson` given: skip the typing (tests, automation). For large type on a projector:
        python -m bpgui.inspector.demo --lesson example."""
        if lesson is None:
            dialog = LessonDialog(example_lesson(), self)
            if not dialog.exec():
                return None
            lesson = dialog.result_lesson()
        panel = InspectorPanel()
        panel.setWindowTitle("Backprop Lab — lesson")
        panel.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        apply_lesson(panel, lesson)
        panel.step_all()
        panel.show()
        panel.resize(lesson_size(panel))
        self.lesson_windows = [w for w in self.lesson_windows if w.isVisible()] + [panel]
        return panel

    def set_pace(self, pace: float | None) -> None:
        """The speed control: at most `pace` epochs per second (None: as fast as it goes), remembered."""
        if self._try("Speed", self.controller.set_pace, pace) and self.settings is not None:
            save_pace(self.settings, pace)

    def show_training_settings(self) -> TrainingDialog:
        """Training…: the non-modal window of momentum, schedule, stopping criteria, clipping and dtype."""
        if self.training_dialog is None:
            self.training_dialog = TrainingDialog(self)
            self.training_dialog.panel.changed.connect(
                lambda change: self._try("Training setting", self.controller.set_training, **change))
            self.training_dialog.panel.set_spec(self.controller.experiment.training)
            self.keys.add_window(self.training_dialog)
        self.training_dialog.show()
        self.training_dialog.raise_()
        self.training_dialog.activateWindow()
        return self.training_dialog

    def focus_plots(self) -> None:
        """Escape: the keyboard focus leaves whatever field had it for the plots in the middle."""
        self.views.decision.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def toggle_play(self) -> None:
        """Play / Pause (Space)."""
        if self.controller.mode() != "running":
            self.views.banner.dismiss()
        self._try("Training", self.controller.toggle)

    def step(self) -> None:
        """Train one epoch."""
        self.views.banner.dismiss()
        self._try("Training", self.controller.step)

    def reset(self) -> None:
        """Re-initialise the weights."""
        self.views.banner.dismiss()
        self._try("Reset", self.controller.reset)

    def set_seed(self, seed: int) -> None:
        """A new seed re-initialises the weights; asks first while training runs."""
        if self.controller.running and not dialogs.ask_reset(self, "seed", self.controller.mode()):
            self._sync_controls()
            return
        self._try("Seed", self.controller.set_seed, seed)

    def set_architecture(self, spec: ModelSpec) -> None:
        """A new network from the architecture editor; asks first while training runs."""
        if self.controller.running and not dialogs.ask_reset(self, "architecture", self.controller.mode()):
            self._sync_controls()
            return
        self._try("Architecture", self.controller.set_model, spec)

    def set_data(self, data: DataSpec, dataset: Dataset | None = None) -> None:
        """New data from the data panel (its DataSpec, with the Dataset its CSV import read); asks first while
        training runs. Every route to new data (the panel, File ▸ Open CSV data…, a dropped file) ends here."""
        if self.controller.running and not dialogs.ask_reset(self, "data", self.controller.mode()):
            self._sync_controls()
            return
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)  # a large set: seconds to split and lay out
        try:
            self._try("Cannot use the data", self.controller.set_data, data, dataset)
        finally:
            QApplication.restoreOverrideCursor()

    def showEvent(self, event) -> None:
        """Arrange the docks for a first start once the window has its size (unless a layout was restored)."""
        super().showEvent(event)
        if not self._arranged:
            self._arranged = True
            arrange(self, self.views)

    # ---------------------------------------------------------------------------------------- closing
    def closeEvent(self, event: QCloseEvent) -> None:
        """Ask about unsaved training, stop the worker thread, remember the layout and settings."""
        if self.ask_on_close and not self._confirm_discard("closing"):
            event.ignore()
            return
        self.refresher.stop()
        self.controller.shutdown()
        for lesson in self.lesson_windows:  # windows of their own: they close with the app's main window
            lesson.close()
        if self.settings is not None:
            save_layout(self.settings, self)
            save_last_experiment(self.settings, self.controller.experiment)
            self.settings.sync()
        self._collection.release()
        event.accept()

    # ---------------------------------------------------------------------------------------- private
    def _confirm_discard(self, what: str) -> bool:
        """True when it is fine to drop the current training (saved, discarded, or nothing to lose)."""
        snap = self.controller.latest
        if not self.controller.dirty or snap is None or snap.epoch == 0:
            return True
        answer = dialogs.ask_save_changes(self, what)
        if answer == "save":
            return self.files.save()
        return answer == "discard"

    def _try(self, title: str, fn, *args, **kwargs) -> bool:
        try:
            fn(*args, **kwargs)
        except dialogs.USER_ERRORS as e:
            dialogs.show_error(self, title, e)
            self._sync_controls()  # show the settings that are really in use
            return False
        return True

    def _sync_controls(self) -> None:
        exp = self.controller.experiment
        self.toolbar.set_spec(exp.training, seed=exp.model.init_seed)
        if self.training_dialog is not None:
            self.training_dialog.panel.set_spec(exp.training)
        v = self.views
        for panel, spec in ((v.data_panel, exp.data), (v.architecture_editor, exp.model)):
            if not _shows(panel, spec):  # never rebuild the widget being edited
                panel.blockSignals(True)
                try:
                    panel.set_spec(spec)
                finally:
                    panel.blockSignals(False)
        t = self.controller.trainer
        n_targets = t.dataset.y.shape[1] if t.task == "regression" else 1
        v.architecture_editor.set_data_info(t.dataset.n_features, t.task, t.dataset.n_classes, n_targets)
        self._update_title()

    def _on_mode(self, mode: str) -> None:
        self.toolbar.set_running(mode == "running")
        runner = self.controller.runner
        reason = runner.latest.reason if runner.latest is not None else ""
        if mode == "failed":
            self.views.banner.show_message(
                f"Training stopped: {runner.failure}. The last weights stay on screen; press Play to go on "
                "in a fresh training process.")
        elif runner.error is not None:
            self.views.banner.show_message(f"Training stopped by an error: {runner.error}")
        elif mode == "diverged":
            self.views.banner.show_message(f"Training paused: {reason}. Lower μ (or Reset) and press Play to go on.")
        self.status.set_reason({"diverged": f"Training paused: {reason}", "finished": f"Training finished: {reason}",
                                "failed": f"Training process failed: {runner.failure}"}.get(mode, ""))

    def _plots(self) -> dict[str, tuple]:
        v = self.views
        loss, score = v.loss.plot_items()
        decision = v.decision.plot_item()
        delta = v.gradients.delta_plot()
        return {
            "loss curves": (v.loss.scene(), [loss, score]),
            "decision regions": (decision, [decision]),
            "mean delta per layer": (delta, [delta]),
        }

    def _update_title(self) -> None:
        path = self.controller.session_path
        name = os.path.basename(path) if path else "untitled"
        self.setWindowTitle(f"{name}{' *' if self.controller.dirty else ''} — {TITLE}")


def _shows(panel, spec) -> bool:
    """True when a panel already shows spec."""
    try:
        return panel.spec() == spec
    except dialogs.USER_ERRORS:  # e.g. a split being typed that does not add up yet
        return False
