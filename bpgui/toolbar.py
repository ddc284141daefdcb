"""The training toolbar: Play/Pause, Step, Reset and the training settings of the experiment.

It only shows values and reports edits as signals; the window decides what an edit does.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QLabel,
    QSpinBox,
    QStyle,
    QToolBar,
    QWidget,
)

from bpcore.config import LIMITS, OPTIMIZERS, TrainSpec
from bpgui.describe import describe
from bpgui.spinboxes import MAX_SEED_SHOWN, NumberSpin

_OPTIMIZER_NAMES = {"sgd": "gradient descent", "momentum": "momentum", "nesterov": "Nesterov", "adam": "Adam"}


class TrainingToolbar(QToolBar):
    """Play/Pause (Space), Step, Reset; optimizer, μ, batch size, L2, epoch limit, seed and device."""

    playToggled = Signal()
    stepRequested = Signal()
    resetRequested = Signal()
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
        self.lr.valueChanged.connect(self.lrChanged.emit)
        self._labelled("μ", self.lr)

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

        self.epochs = QSpinBox()
        self.epochs.setRange(int(LIMITS["training.epochs"].lo), int(LIMITS["training.epochs"].hi))
        describe(self.epochs, "epochsSpin", "epoch limit",
                 "Stop after this many epochs (a stopping criterion). Raise it to continue a finished run.")
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

    def set_running(self, running: bool) -> None:
        """Show Pause while a run goes on, Play otherwise."""
        if running == self._running:
            return
        self._running = running
        self.play_action.setText("Pause" if running else "Play")
        self.play_action.setIcon(self._pause_icon if running else self._play_icon)

    # private ---------------------------------------------------------------------------------------------
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
