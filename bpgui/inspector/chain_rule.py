"""Eq. 5 for one output weight w_ij: ① dJ/do_j, ② o'_j, ③ h_i, their product and the gradient entry."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from bpcore.backprop import output_kind
from bpcore.inspect import Trace
from bpgui.inspector._style import FAIL_COLOUR, OK_COLOUR, describe
from bpgui.inspector.table import fmt

SOFTMAX_NOTE = ("Softmax couples the outputs: every o_k depends on z_j, so ① is the vector ∇<sub>o</sub>J, "
                "② is column j of the Jacobian ∂o<sub>k</sub>/∂z<sub>j</sub> = o<sub>k</sub>(δ<sub>kj</sub> − "
                "o<sub>j</sub>), and eq. 5's ① · ② becomes the sum over k.")


def _vec(v: np.ndarray) -> str:
    return "[" + ", ".join(fmt(float(x)) for x in np.ravel(v)) + "]"


def _spin(name: str, accessible: str, tip: str) -> QSpinBox:
    s = QSpinBox()
    describe(s, name, accessible, tip)
    s.setRange(0, 0)
    return s


class ChainRuleBox(QGroupBox):
    """The three factors of eq. 5 for an output weight w_ij and one inspected row, multiplied out."""

    weightChosen = Signal(int, int)  # i, j of the output weight shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Chain rule for one output weight (eq. 5–7)", parent)
        describe(self, "chainRuleBox", "chain rule for one output weight",
                 "dJ/dw_ij = ① dJ/do_j · ② o'_j · ③ h_i (eq. 5) = h_i δ_j (eq. 6), entry (i, j) of ∇_W J.")
        self._trace: Trace | None = None
        self._rows: tuple[int, ...] = ()
        self._values: dict[str, float | np.ndarray] | None = None
        self._eps, self._precision = torch.finfo(torch.float64).eps, "float64"
        self.i_spin = _spin("chainI", "input index i", "Row i of W^(L): input h_i (the last one is the bias)")
        self.j_spin = _spin("chainJ", "output index j", "Column j of W^(L): output neuron j")
        self.row_spin = _spin("chainRow", "row in the batch", "Which inspected row (batch mode) to multiply out")
        for s in (self.i_spin, self.j_spin, self.row_spin):
            s.valueChanged.connect(self._refresh)
        spins = QHBoxLayout()
        for text, s in (("i", self.i_spin), ("j", self.j_spin), ("row", self.row_spin)):
            spins.addWidget(QLabel(text))
            spins.addWidget(s)
        spins.addStretch(1)
        self._text = QLabel("press Backward")
        describe(self._text, "chainRuleText", "chain rule factors", "① · ② · ③ and the gradient entry")
        self._text.setTextFormat(Qt.TextFormat.RichText)
        self._text.setWordWrap(True)
        self._text.setStyleSheet("font-size: 11.5pt;")
        self._note = QLabel(SOFTMAX_NOTE)
        describe(self._note, "chainRuleNote", "softmax note", "Why ① and ② are vectors for a softmax output")
        self._note.setTextFormat(Qt.TextFormat.RichText)
        self._note.setWordWrap(True)
        self._note.setStyleSheet("color: #505050; font-size: 10pt;")
        layout = QVBoxLayout(self)
        layout.addLayout(spins)
        layout.addWidget(self._text)
        layout.addWidget(self._note)
        self._note.hide()

    def set_trace(self, trace: Trace | None, rows: Sequence[int] = (), dtype: torch.dtype = torch.float64) -> None:
        """Show eq. 5 for the current (i, j, row) of `trace` (computed in `dtype`); None shows a hint."""
        self._trace, self._rows = trace, tuple(rows)
        self._eps, self._precision = torch.finfo(dtype).eps, str(dtype).removeprefix("torch.")
        if trace is not None:
            h1, delta = trace.layers[-1].h1, trace.layers[-1].delta
            self.i_spin.setRange(0, h1.shape[1] - 1)
            self.j_spin.setRange(0, delta.shape[1] - 1)
            self.row_spin.setRange(0, h1.shape[0] - 1)
            self.row_spin.setEnabled(h1.shape[0] > 1)
        self._refresh()

    def choose(self, i: int, j: int, row: int = 0) -> None:
        """Pick the weight w_ij and the inspected row."""
        self.i_spin.setValue(i)
        self.j_spin.setValue(j)
        self.row_spin.setValue(row)

    def values(self) -> dict[str, float | np.ndarray] | None:
        """Trace.chain_rule's dict for what is shown, or None."""
        return self._values

    def text(self) -> str:
        """The displayed rich text."""
        return self._text.text()

    def _verdict(self, product: float, entry: float, scale: float) -> str:
        """Equal up to rounding in the weights' precision (scale: the size of the summed terms), or by how much not."""
        diff = abs(product - entry)
        if diff <= 64 * self._eps * scale:
            note = f" (to {self._precision} rounding, {diff:.2g})" if diff else ""
            return f"<span style='color:{OK_COLOUR}'>✓ equal{note}</span>"
        return f"<span style='color:{FAIL_COLOUR}'>✗ differ by {diff:.3g}</span>"

    def _refresh(self) -> None:
        t = self._trace
        if t is None:
            self._values = None
            self._text.setText("press Backward")
            self._note.hide()
            return
        i, j, s = self.i_spin.value(), self.j_spin.value(), self.row_spin.value()
        c = self._values = t.chain_rule(i, j, sample=s)
        out = t.layers[-1]
        L = out.l
        bias = i == out.h1.shape[1] - 1
        hi = f"h<sub>{i}</sub>" + (" = 1 (bias, eq. 12)" if bias else "")
        softmax = output_kind(t.output).coupled
        row_name = f"#{self._rows[s]}" if s < len(self._rows) else str(s)
        product, entry = float(c["product"]), float(c["grad_W_row"])
        verdict = self._verdict(product, entry, float(np.sum(np.abs(np.multiply(c["dJ_do"], c["do_dz"])))
                                                     * abs(float(c["h_i"]))))
        if softmax:
            lines = [
                f"① ∇<sub>o</sub>J = {_vec(c['dJ_do'])}",
                f"② ∂o/∂z<sub>{j}</sub> = {_vec(c['do_dz'])}",
                f"δ<sub>{j}</sub> = ① · ② = Σ<sub>k</sub> ∂J/∂o<sub>k</sub> ∂o<sub>k</sub>/∂z<sub>{j}</sub>"
                f" = <b>{fmt(float(c['delta_j']))}</b>",
            ]
        else:
            lines = [
                f"① dJ/do<sub>{j}</sub> = {fmt(float(c['dJ_do']))}",
                f"② o'<sub>{j}</sub> = {fmt(float(c['do_dz']))}",
                f"δ<sub>{j}</sub> = ① · ② = {fmt(float(c['delta_j']))}  (eq. 7)",
            ]
        lines += [
            f"③ {hi} = {fmt(float(c['h_i']))}",
            f"① · ② · ③ = δ<sub>{j}</sub> h<sub>{i}</sub> = <b>{fmt(product)}</b>",
            f"∇<sub>W</sub>J[{i}, {j}] of row {row_name} = h<sub>{i}</sub>δ<sub>{j}</sub> = <b>{fmt(entry)}</b>"
            f"  {verdict}",
        ]
        if out.h1.shape[0] > 1:
            lines.append(f"∇<sub>W</sub>J[{i}, {j}] summed over the {out.h1.shape[0]} rows = "
                         f"<b>{fmt(float(out.grad_W[i, j]))}</b> (eq. 9)")
        head = f"dJ/dw<sub>{i}{j}</sub><sup>({L})</sup> for row {row_name}:"
        self._text.setText(head + "<br>" + "<br>".join(lines))
        self._note.setVisible(softmax)
        self.weightChosen.emit(i, j)
