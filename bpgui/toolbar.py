"""The training toolbar: Play/Pause, Step, Reset, the speed of the run and the training settings used most.

It only shows values and reports edits as signals; the window decides what an edit does. The other settings
(momentum, schedule, stopping criteria, clipping, dtype) are in the training panel, which the Training… button
opens (bpgui.panels.training_panel).
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QSlider,
    QSpinBox,
    QStyle,
    QToolBar,
    QWidget,
)

from bpcore.config import LIMITS, OPTIMIZERS, TrainSpec
from bpgui.describe import describe
from bpgui.spinboxes import MAX_SEED_SHOWN, CountSpin, NumberSpin

_OPTIMIZER_NAMES = {"sgd": "gradient descent", "momentum": "momentum", "nesterov": "Nesterov", "adam": "Adam"}
#: The speed control's choices: at most this many epochs per second (None: as fast as the machine goes).
PACES: tuple[float | None, ...] = (None, 300.0, 100.0, 30.0, 10.0, 3.0, 1.0)
#: The μ slider's log scale: 10^-6 … 10^3 in steps of 10^0.01 (the spin box takes the whole range of LIMITS).
LR_SLIDER_DECADES = (-6, 3)
_SLIDER_STEPS = 100  # slider positions per decade


def pace_text(pace: float | None) -> str:
    """How the speed control names a pace: 'max', '1 epoch/s' or '10 epochs/s'."""
    return "max" if pace is None else f"{pace:g} epoch{'' if pace == 1 else 's'}/s"


def lr_to_slider(lr: float) -> int:
    """The μ slider's position for μ (clamped to the slider's decades)."""
    lo, hi = LR_SLIDER_DECADES
    return round(_SLIDER_STEPS * (min(max(math.log10(lr), lo), hi) - lo))


def slider_to_lr(position: int) -> float:
    """μ for a slider position, rounded to 2 significant digits (0.3, not 0.302: a step is 2.3 %)."""
    return float(f"{10.0 ** (LR_SLIDER_DECADES[0] + position / _SLIDER_STEPS):.2g}")


class TrainingToolbar(QToolBar):
    """Play/Pause (Space), Step, Reset, speed; optimizer, μ (spin box and log slider), batch size, L2, epoch
    limit, seed and device; Training… for the rest."""

    playToggled = Signal()
    stepRequested = Signal()
    resetRequested = Signal()
    settingsRequested = Signal()  # Training…: the panel of every other training setting
    paceChanged = Signal(object)  # epochs per second at most, or None for as fast as it goes
    lrChanged = Signal(float)
    batchSizeChanged = Signal(int)
    optimizerChanged = Signal(str)
    l2Changed = Signal(float)
    epochsChanged = Signal(int)
    seedChanged = Signal(int)
    deviceChanged = Signal(str)

    def __init__(self, devices: list[str], parent: QWidget | None = None) -> None:
        super().__init__("Training", parent)
        describe(self, "trainingToolbar", "training toolbar", "Run the training and set how it learns")
        self.setMovable(False)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        style = self.style()
        self._play_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPlay)
        self._pause_icon = style.standardIcon(QStyle.StandardPixmap.SP_MediaPause)

        self.play_action = self._action("playAction", "Play", self._play_icon, "play or pause training",
                                        "Train until a stopping criterion is met (Space: play / pause)",
                                        self.playToggled, QKeySequence(Qt.Key.Key_Space))
        icon = style.standardIcon
        self.step_action = self._action("stepAction", "Step", icon(QStyle.StandardPixmap.SP_MediaSkipForward),
                                        "train one epoch", "Train one epoch, then pause (Ctrl+Right)",
                                        self.stepRequested, QKeySequence("Ctrl+Right"))
        self.reset_action = self._action("resetAction", "Reset", icon(QStyle.StandardPixmap.SP_BrowserReload),
                                         "reset weights",
                                         "Re-initialise the weights from the seed and clear the history (Ctrl+R)",
                                         self.resetRequested, QKeySequence("Ctrl+R"))
        self.addSeparator()

        self.pace = QComboBox()
        for pace in PACES:
            self.pace.addItem(pace_text(pace), pace)
        describe(self.pace, "paceBox", "training speed",
                 "At most this many epochs per second, so that learning can be watched; max trains as fast as\n"
                 "the machine goes. Changes apply at once, also while training runs.")
        self.pace.currentIndexChanged.connect(lambda _i: self.paceChanged.emit(self.pace.currentData()))
        self._labelled("speed", self.pace)
        self.addSeparator()

        self.optimizer = QComboBox()
        for name in OPTIMIZERS:
            self.optimizer.addItem(_OPTIMIZER_NAMES.get(name, name), name)
        describe(self.optimizer, "optimizerBox", "optimizer",
                 "How ∇W J is turned into a step: gradient descent is W ← W − μ h δᵀ (eq. 10);\n"
                 "momentum, Nesterov and Adam reshape that step. Keeps the current weights.")
        self.optimizer.currentIndexChanged.connect(lambda _i: self.optimizerChanged.emit(self.optimizer.currentData()))
        self._labelled("optimizer", self.optimizer)

        self.lr = NumberSpin("training.lr")
        self.lr.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        describe(self.lr, "lrSpin", "learning rate mu",
                 "Learning rate μ of the update W ← W − μ h δᵀ (eq. 10).\nChanges apply from the next step, "
                 "also while training runs.")
        self.lr.valueChanged.connect(self._lr_changed)
        self._labelled("μ", self.lr)
        self.lr_slider = QSlider(Qt.Orientation.Horizontal)
        lo, hi = LR_SLIDER_DECADES
        self.lr_slider.setRange(0, (hi - lo) * _SLIDER_STEPS)
        self.lr_slider.setSingleStep(10)  # arrow keys: a tenth of a decade
        self.lr_slider.setPageStep(_SLIDER_STEPS)  # Page Up/Down: a decade
        self.lr_slider.setFixedWidth(110)
        describe(self.lr_slider, "lrSlider", "learning rate mu, log scale",
                 f"μ on a log scale from 1e{lo} to 1e{hi} (eq. 10); the box beside it takes any μ from "
                 f"{LIMITS['training.lr'].lo:g} to {LIMITS['training.lr'].hi:g}.")
        self.lr_slider.valueChanged.connect(self._slider_moved)
        self.addWidget(self.lr_slider)

        self.batch = QSpinBox()
        self.batch.setRange(int(LIMITS["training.batch_size"].lo), int(LIMITS["training.batch_size"].hi))
        describe(self.batch, "batchSpin", "batch size",
                 "Mini-batch size B: ∇W J = Σ h δᵀ over B rows (eq. 9) per update (eq. 10).\n"
                 "Changes apply from the next epoch, also while training runs.")
        self.batch.valueChanged.connect(self.batchSizeChanged.emit)
        self._labelled("batch", self.batch)

        self.l2 = NumberSpin("training.l2")
        self.l2.setSingleStep(1e-4)
        describe(self.l2, "l2Spin", "L2 weight decay",
                 "L2 penalty λ: adds λ W to ∇W J (eq. 9) on the weight rows, not on the bias row b (eq. 11).\n"
                 "Keeps the current weights.")
        self.l2.valueChanged.connect(self.l2Changed.emit)
        self._labelled("L2 λ", self.l2)

        self.epochs = CountSpin("training.epochs", unlimited="no limit")
        describe(self.epochs, "epochsSpin", "epoch limit",
                 "Stop after this many epochs (a stopping criterion; the highest value is 'no limit').\n"
                 "Raise it to continue a finished run. More criteria: Training…")
        self.epochs.valueChanged.connect(self.epochsChanged.emit)
        self._labelled("epochs", self.epochs)

        self.seed = QSpinBox()
        self.seed.setRange(int(LIMITS["training.seed"].lo), MAX_SEED_SHOWN)
        describe(self.seed, "seedSpin", "random seed",
                 "Seed of the initial weights and of the mini-batch shuffling. Changing it re-initialises the weights.")
        self.seed.valueChanged.connect(self.seedChanged.emit)
        self._labelled("seed", self.seed)

        self.device = QComboBox()
        self.device.addItems(devices)
        describe(self.device, "deviceBox", "device",
                 "Where the tensors live: CPU, or CUDA when a GPU is available. Keeps the current weights.")
        self.device.currentTextChanged.connect(self.deviceChanged.emit)
        self._labelled("device", self.device)
        self.addSeparator()
        self.settings_action = self._action(
            "trainingSettingsAction", "Training…", icon(QStyle.StandardPixmap.SP_FileDialogDetailedView),
            "training settings", "Momentum, schedule, stopping criteria, gradient clipping and dtype (Ctrl+T)",
            self.settingsRequested, QKeySequence("Ctrl+T"))

        for spin in (self.lr, self.batch, self.l2, self.epochs, self.seed):
            spin.setKeyboardTracking(False)  # a typed number counts once, on Enter or leaving the box
            spin.setAccelerated(True)
        self._running = False

    # public API ------------------------------------------------------------------------------------------
    def set_spec(self, training: TrainSpec, seed: int | None = None) -> None:
        """Show a TrainSpec's values without emitting change signals."""
        widgets = (self.optimizer, self.lr, self.batch, self.l2, self.epochs, self.seed, self.device)
        for w in widgets:
            w.blockSignals(True)
        try:
            self.optimizer.setCurrentIndex(max(0, self.optimizer.findData(training.optimizer)))
            self.lr.setValue(training.lr)
            self.lr_slider.blockSignals(True)
            self.lr_slider.setValue(lr_to_slider(training.lr))
            self.lr_slider.blockSignals(False)
            self.batch.setValue(training.batch_size)
            self.l2.setValue(training.l2)
            self.epochs.setValue(training.epochs)
            self.seed.setValue(training.seed if seed is None else seed)
            device = training.device.split(":")[0]
            if self.device.findText(device) >= 0:
                self.device.setCurrentText(device)
        finally:
            for w in widgets:
                w.blockSignals(False)

    def set_pace(self, pace: float | None) -> None:
        """Show a pace without emitting paceChanged (a pace not among the choices is added to them)."""
        index = self.pace.findData(pace)
        self.pace.blockSignals(True)
        try:
            if index < 0:
                self.pace.addItem(pace_text(pace), pace)
                index = self.pace.count() - 1
            self.pace.setCurrentIndex(index)
        finally:
            self.pace.blockSignals(False)

    def set_running(self, running: bool) -> None:
        """Show Pause while a run goes on, Play otherwise."""
        if running == self._running:
            return
        self._running = running
        self.play_action.setText("Pause" if running else "Play")
        self.play_action.setIcon(self._pause_icon if running else self._play_icon)

    # private ---------------------------------------------------------------------------------------------
    def _lr_changed(self, lr: float) -> None:
        self.lr_slider.blockSignals(True)
        self.lr_slider.setValue(lr_to_slider(lr))
        self.lr_slider.blockSignals(False)
        self.lrChanged.emit(lr)

    def _slider_moved(self, position: int) -> None:
        lr = slider_to_lr(position)
        if lr_to_slider(self.lr.value()) != position:  # a μ between two positions stays as typed
            self.lr.setValue(lr)

    def _action(self, name, text, icon, accessible, tip, signal, shortcut) -> QAction:
        action = QAction(icon, text, self)
        describe(action, name, accessible, tip)
        action.setShortcut(shortcut)
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(signal.emit)
        self.addAction(action)
        button = self.widgetForAction(action)
        button.setObjectName(name + "Button")
        button.setAccessibleName(accessible)
        return action

    def _labelled(self, text: str, widget: QWidget) -> None:
        label = QLabel(f" {text} ")
        label.setBuddy(widget)
        label.setObjectName(widget.objectName() + "Label")
        label.setAccessibleName(text + " label")
        label.setToolTip(widget.toolTip())
        self.addWidget(label)
        self.addWidget(widget)
