"""The training settings the toolbar has no room for: momentum, the μ schedule, the stopping criteria, gradient
clipping and the dtype, in a small non-modal dialog (the toolbar's Training… button).

Each control's range is its key's in bpcore.config.LIMITS; an unset setting (a criterion that is off, no
clipping) shows as 'off'. An edit is reported as ``changed({key: value})`` with the TrainSpec key, which the
window hands to TrainingController.set_training: the run keeps its weights and history and goes on.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from bpcore.config import DTYPES, SCHEDULES, TrainSpec
from bpgui.describe import describe
from bpgui.spinboxes import CountSpin, NumberSpin

_SCHEDULE_NAMES = {"constant": "constant μ", "step": "step: μ·γ every step size epochs",
                   "cosine": "cosine: μ falls to 0 over the epoch limit"}

#: TrainSpec key → (label with unit, tooltip) of each control, in the order shown.
FIELDS: dict[str, tuple[str, str]] = {
    "momentum": ("momentum β", "Momentum and Nesterov: the step is μ v with v ← β v + ∇W J (eq. 9);\n"
                               "plain gradient descent (eq. 10) and Adam do not use it."),
    "schedule": ("schedule", "How μ changes over the epochs: constant, a step every step size epochs, or cosine."),
    "step_size": ("step size (epochs)", "Step schedule: μ is multiplied by γ every this many epochs."),
    "gamma": ("γ", "Step schedule: the factor μ is multiplied by at each step, 0 < γ ≤ 1."),
    "time_limit": ("time limit (s)", "Stop after this many seconds of training (pauses and the rests of a paced run\n"
                                     "not counted); off: none."),
    "loss_goal": ("loss goal J", "Stop once the training loss J (eq. 1) is at or below this value; off: none."),
    "min_grad": ("min gradient ‖∇W J‖", "Stop once the gradient norm falls below this value (a flat spot);\n"
                                        "off: none."),
    "patience": ("patience (epochs)", "Early stopping: stop when the validation loss has not improved for this\n"
                                      "many epochs (needs a validation part in the data split); off: none."),
    "clip_norm": ("clip ‖∇W J‖ at", "Gradient clipping: a gradient whose norm exceeds this value is scaled\n"
                                    "down to it before the update (eq. 10); off: no clipping."),
    "dtype": ("dtype", "Floating-point type of weights and data: float64 for exact comparisons, float32 is faster."),
}
_GROUPS = (("Optimizer", ("momentum",)), ("Learning-rate schedule", ("schedule", "step_size", "gamma")),
           ("Stopping criteria (besides the epoch limit)", ("time_limit", "loss_goal", "min_grad", "patience")),
           ("Numerics", ("clip_norm", "dtype")))


class TrainingPanel(QWidget):
    """One control per setting of FIELDS; ``changed`` carries ``{key: value}`` (None for 'off')."""

    changed = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        describe(self, "trainingPanel", "training settings",
                 "Momentum, schedule, stopping criteria, clipping and dtype; changes keep the weights and apply "
                 "also while training runs.")
        self.controls: dict[str, QWidget] = {
            "momentum": NumberSpin("training.momentum"),
            "schedule": QComboBox(),
            "step_size": CountSpin("training.step_size"),
            "gamma": NumberSpin("training.gamma"),
            "time_limit": NumberSpin("training.time_limit", off="off"),
            "loss_goal": NumberSpin("training.loss_goal", off="off"),
            "min_grad": NumberSpin("training.min_grad", off="off"),
            "patience": CountSpin("training.patience", off="off"),
            "clip_norm": NumberSpin("training.clip_norm", off="off"),
            "dtype": QComboBox(),
        }
        for name in SCHEDULES:
            self.controls["schedule"].addItem(_SCHEDULE_NAMES.get(name, name), name)
        for name in DTYPES:
            self.controls["dtype"].addItem(name, name)
        self.controls["momentum"].setSingleStep(0.05)
        self.controls["gamma"].setSingleStep(0.05)
        for key in ("time_limit", "loss_goal", "min_grad", "clip_norm"):
            self.controls[key].setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        outer = QVBoxLayout(self)
        for title, keys in _GROUPS:
            group = QGroupBox(title)
            form = QFormLayout(group)
            for key in keys:
                label_text, tip = FIELDS[key]
                widget = self.controls[key]
                describe(widget, f"training_{key}", label_text, tip)
                label = QLabel(label_text)
                label.setBuddy(widget)
                label.setToolTip(tip)
                form.addRow(label, widget)
                if isinstance(widget, QComboBox):
                    widget.currentIndexChanged.connect(lambda _i, key=key: self._emit(key))
                else:
                    widget.setKeyboardTracking(False)  # a typed number counts once, on Enter or leaving the box
                    widget.valueChanged.connect(lambda _v, key=key: self._emit(key))
            outer.addWidget(group)
        outer.addStretch(1)

    # public API ------------------------------------------------------------------------------------------
    def set_spec(self, training: TrainSpec) -> None:
        """Show a TrainSpec's values without emitting ``changed``."""
        for key, widget in self.controls.items():
            widget.blockSignals(True)
            try:
                value = getattr(training, key)
                if isinstance(widget, QComboBox):
                    widget.setCurrentIndex(max(0, widget.findData(value)))
                elif hasattr(widget, "set_optional_value"):
                    widget.set_optional_value(value)
                else:
                    widget.setValue(value)
            finally:
                widget.blockSignals(False)
        self._enable(training.optimizer, training.schedule)

    def value(self, key: str):
        """The value a control shows, as the TrainSpec key holds it (None for 'off')."""
        widget = self.controls[key]
        if isinstance(widget, QComboBox):
            return widget.currentData()
        return widget.optional_value()

    # private ---------------------------------------------------------------------------------------------
    def _emit(self, key: str) -> None:
        self.changed.emit({key: self.value(key)})

    def _enable(self, optimizer: str, schedule: str) -> None:
        """Grey out what the current optimizer and schedule do not use."""
        self.controls["momentum"].setEnabled(optimizer in ("momentum", "nesterov"))
        for key in ("step_size", "gamma"):
            self.controls[key].setEnabled(schedule == "step")


class TrainingDialog(QDialog):
    """The training panel in a non-modal window that stays open beside the plots while training runs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        describe(self, "trainingDialog", "training settings window",
                 "Momentum, schedule, stopping criteria, gradient clipping and dtype")
        self.setWindowTitle("Training settings")
        self.setModal(False)
        self.panel = TrainingPanel()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        close = buttons.button(QDialogButtonBox.StandardButton.Close)
        close.setObjectName("trainingDialogClose")
        close.setAutoDefault(False)  # Enter after typing a number applies it; it closed the window before
        close.setDefault(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.panel)
        layout.addWidget(buttons, 0, Qt.AlignmentFlag.AlignRight)
