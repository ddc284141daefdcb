"""The inspector's control bar: row/batch/μ choosers, the stage buttons, Check and the exports."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from bpgui.inspector._style import describe
from bpgui.spinboxes import NumberSpin


def _button(text: str, name: str, tip: str) -> QPushButton:
    b = QPushButton(text)
    describe(b, name, text.rstrip("…").lower(), tip)
    return b


class Controls(QWidget):
    """Widgets only; the panel connects them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        describe(self, "inspectorControls", "inspector controls", "Choose rows, then step through backprop")
        self.row = QSpinBox()
        describe(self.row, "rowSpin", "data row",
                 "The training row to inspect (clicking a point in the scatter picks it)")
        self.batch = QCheckBox("batch")
        describe(self.batch, "batchToggle", "batch mode",
                 "Inspect rows index … index + B − 1 together: ∇_W J = Σ_i h_i δ_iᵀ (eq. 9 over a mini-batch)")
        self.batch_size = QSpinBox()
        describe(self.batch_size, "batchSize", "batch size B", "How many consecutive rows form the batch")
        self.batch_size.setRange(1, 1)
        self.batch_size.setEnabled(False)
        self.lr = NumberSpin("training.lr")  # the range every μ setting has (bpcore.config.LIMITS)
        describe(self.lr, "learningRate", "learning rate μ", "μ of the update W ← W − μ h δᵀ (eq. 10)")
        self.lr.setSingleStep(0.01)
        self.forward = _button("Forward", "forwardButton",
                               "Compute h, z = Wᵀh and o = φ(z) for every layer (eq. 3, 11)")
        self.backward = _button("Backward", "backwardButton",
                                "Compute o', ∇_o J, δ (eq. 5–8 and the hidden recursion) and ∇_W J = h δᵀ (eq. 9, 12)")
        self.update = _button("Update", "updateButton",
                              "Apply W ← W − μ h δᵀ (eq. 10) to the panel's own copy of W (never the trainer's)")
        self.step_all = _button("Step all", "stepAllButton", "Forward, Backward and Update in one click")
        self.reset = _button("Reset W", "resetWeightsButton", "Copy the trainer's current weights into the panel again")
        self.check = _button("Check", "checkButton",
                             "Compare the hand-derived ∇_W J with torch autograd and with finite differences")
        self.export_json = _button("Export JSON…", "exportJsonButton", "Save every shown value of this step as JSON")
        self.export_csv = _button("Export CSV…", "exportCsvButton",
                                  "Save every shown value as CSV: layer, quantity, row, col, value, symbol")
        self.export_png = _button("Export PNG…", "exportPngButton", "Save a picture of this panel")
        for b in (self.forward, self.backward, self.update, self.step_all):
            b.setStyleSheet("font-weight: 600; padding: 4px 10px;")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (QLabel("Row"), self.row, self.batch, QLabel("B"), self.batch_size, QLabel("μ"), self.lr):
            layout.addWidget(w)
        layout.addSpacing(12)
        for w in (self.forward, self.backward, self.update, self.step_all):
            layout.addWidget(w)
        layout.addSpacing(12)
        for w in (self.reset, self.check):
            layout.addWidget(w)
        layout.addStretch(1)
        for w in (self.export_json, self.export_csv, self.export_png):
            layout.addWidget(w)

    def set_enabled(self, has_source: bool, has_trace: bool) -> None:
        """Enable what makes sense now."""
        for w in (self.row, self.batch, self.lr, self.forward, self.backward, self.update, self.step_all,
                  self.reset, self.check):
            w.setEnabled(has_source)
        self.batch_size.setEnabled(has_source and self.batch.isChecked())
        for w in (self.export_json, self.export_csv):
            w.setEnabled(has_trace)
