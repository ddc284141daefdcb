"""The inspector's control bar: row/batch/μ choosers, the stage buttons, Check and the exports."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

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
        self.backward_layer = _button("← one layer", "backwardLayerButton",
                                      "Step the backward pass one layer at a time, in the lecture's order: δ^(L) of "
                                      "the output layer first (eq. 5–9), then δ^(l) = (W̃^(l+1) δ^(l+1)) ⊙ o'(z^(l)) "
                                      "for each layer below")
        self.update = _button("Update", "updateButton",
                              "Apply W ← W − μ h δᵀ (eq. 10) to the panel's own copy of W (never the trainer's)")
        self.step_all = _button("Step all", "stepAllButton", "Forward, Backward and Update in one click")
        self.reset = _button("Reset W", "resetWeightsButton",
                             "Undo the panel's updates: copy in again the weights the panel was given (the training "
                             "weights when the row was chosen or the trainer last changed; not read again from a "
                             "run that went on since)")
        self.reduction = QComboBox()
        describe(self.reduction, "reductionChoice", "J as mean or sum",
                 "J = mean over the B rows (what the trainer minimises: every δ includes 1/B) or the sum over the "
                 "rows as eq. 1 writes it (every gradient B times larger)")
        self.reduction.addItem("J = mean over rows", "mean")
        self.reduction.addItem("J = Σ over rows (eq. 1)", "sum")
        self.notation = QCheckBox("lecture notation")
        describe(self.notation, "notationToggle", "lecture notation",
                 "On: indices from 1 as in the lecture (w₁₁, h₁), hidden δ in column form W̃ δ with W̃ = W without "
                 "its bias row, ∂J/∂b_j = δ_j (eq. 12). Off: the code's 0-based indices and δ W[:-1]ᵀ.")
        self.notation.setChecked(True)
        self.check = _button("Check", "checkButton",
                             "Compare the hand-derived ∇_W J with torch autograd and with finite differences")
        # the exports share one menu button (the action bar must fit a narrow dock)
        self.export = QToolButton()
        describe(self.export, "exportButton", "export", "Save this step as JSON, CSV or a picture")
        self.export.setText("Export")
        self.export.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export)
        self.export_json = menu.addAction("JSON…")
        describe(self.export_json, "exportJsonAction", "export JSON", "Save every shown value of this step as JSON")
        self.export_csv = menu.addAction("CSV…")
        describe(self.export_csv, "exportCsvAction", "export CSV",
                 "Save every shown value as CSV: layer, quantity, row, col, value, symbol")
        self.export_png = menu.addAction("PNG picture…")
        describe(self.export_png, "exportPngAction", "export PNG", "Save a picture of this panel")
        menu.setToolTipsVisible(True)
        self.export.setMenu(menu)
        for b in (self.forward, self.backward, self.update, self.step_all):
            b.setStyleSheet("font-weight: 600; padding: 4px 10px;")
        # two rows, so that every button fits a narrow dock: choosers and settings, then the actions
        top, bottom = QHBoxLayout(), QHBoxLayout()
        for w in (QLabel("Row"), self.row, self.batch, QLabel("B"), self.batch_size, QLabel("μ"), self.lr):
            top.addWidget(w)
        top.addSpacing(12)
        top.addWidget(self.reduction)
        top.addWidget(self.notation)
        top.addStretch(1)
        for w in (self.forward, self.backward, self.backward_layer, self.update, self.step_all):
            bottom.addWidget(w)
        bottom.addSpacing(12)
        for w in (self.reset, self.check):
            bottom.addWidget(w)
        bottom.addWidget(self.export)
        bottom.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addLayout(bottom)

    def set_enabled(self, has_source: bool, has_trace: bool) -> None:
        """Enable what makes sense now."""
        for w in (self.row, self.batch, self.lr, self.forward, self.backward, self.backward_layer, self.update,
                  self.step_all, self.reset, self.check, self.reduction):
            w.setEnabled(has_source)
        self.batch_size.setEnabled(has_source and self.batch.isChecked())
        for w in (self.export_json, self.export_csv):
            w.setEnabled(has_trace)
