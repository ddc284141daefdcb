"""The lines above the layers: inspected rows, their inputs and targets, J (eq. 1) and the batch sum."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from bpcore.backprop import output_kind
from bpcore.inspect import Trace
from bpgui.inspector._style import describe
from bpgui.inspector.table import fmt

_FEW = 6  # up to this many inputs or target values are written out


def _vector(v: np.ndarray) -> str:
    v = np.ravel(v)
    if len(v) > _FEW:
        return f"({len(v)} values)"
    return "(" + ", ".join(fmt(float(x)) for x in v) + ")"


def target_text(t: np.ndarray, output: str, class_names: Sequence[str] | None) -> str:
    """A target as a class id with its name, or as its values."""
    t = np.ravel(t)
    kind = output_kind(output)
    if kind.classifies and (kind.coupled or class_names is not None):
        k = round(float(t[0]))
        name = f" ‘{class_names[k]}’" if class_names is not None and 0 <= k < len(class_names) else ""
        return f"class {k}{name}"
    return _vector(t)


def summary_text(rows: Sequence[int], X: np.ndarray, targets: np.ndarray, output: str,
                 class_names: Sequence[str] | None, trace: Trace | None) -> str:
    """Rich text: 'Row #12: x = (…), target class 1 ‘b’ · J = … (eq. 1)'."""
    if not len(rows):
        return "No rows to inspect."
    if len(rows) == 1:
        r = rows[0]
        text = f"<b>Row #{r}</b>: x = {_vector(X[r])}, target t = {target_text(targets[r], output, class_names)}"
    else:
        text = f"<b>Rows #{rows[0]}–#{rows[-1]}</b> (B = {len(rows)}): targets " + ", ".join(
            target_text(targets[r], output, class_names) for r in rows[:_FEW]) + ("…" if len(rows) > _FEW else "")
    if trace is not None:
        classifies = output_kind(trace.output).classifies
        if trace.reduction == "sum":
            form = "Σ<sub>rows</sub> −log p(y|x)" if classifies else "Σ (o − t)² / K"
            how = " (the sum over the rows, as eq. 1 writes it; the trainer uses the mean)"
        else:
            form = "mean −log p(y|x)" if classifies else "Σ (o − t)² / (B·K)"
            how = " (the mean over the rows; eq. 1 sums)" if len(rows) > 1 else ""
        text += f" · loss J = {form} = <b>{fmt(trace.loss)}</b>{how} (eq. 1)"
    return text


def batch_text(n_rows: int, sum_error: float) -> str:
    """The mini-batch line: ∇_W J = Σ_i h_i δ_iᵀ and how closely the engine's per-row products add up."""
    return (f"Mini-batch of B = {n_rows} rows: ∇<sub>W</sub>J = Σ<sub>i</sub> h<sub>i</sub> δ<sub>i</sub>ᵀ "
            f"(eq. 9 summed; δ carries the 1/B of the mean loss). Check from the engine's arrays: "
            f"max |Σ per-sample − batch| = <b>{sum_error:.3g}</b>")


class SummaryBar(QWidget):
    """The rows line and, in batch mode, the batch-sum line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        describe(self, "summaryBar", "inspected rows", "The inspected rows, their targets and the loss")
        self.rows_label = QLabel("No network yet: the window sets one.")
        describe(self.rows_label, "inspectorSummary", "inspected rows and loss", "Rows, inputs, targets and J (eq. 1)")
        self.batch_label = QLabel()
        describe(self.batch_label, "batchIdentity", "batch gradient identity",
                 "∇_W J of a batch is the sum of the per-row outer products h_i δ_iᵀ")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 0, 2, 0)
        layout.setSpacing(2)
        for label, colour in ((self.rows_label, "#1a1a1a"), (self.batch_label, "#1f5fa8")):
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            label.setStyleSheet(f"font-size: 10.5pt; color: {colour};")
            layout.addWidget(label)
        self.batch_label.hide()

    def show_rows(self, text: str, batch: str = "") -> None:
        """Set the rows line and the batch line (hidden when empty)."""
        self.rows_label.setText(text)
        self.batch_label.setText(batch)
        self.batch_label.setVisible(bool(batch))
