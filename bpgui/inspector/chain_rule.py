"""Eq. 5 for one weight w_ij of any layer: ① dJ/do_j, ② o'_j, ③ h_i, their product and the gradient entry."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from bpcore.backprop import output_kind
from bpcore.inspect import Trace
from bpgui.inspector._style import FAIL_COLOUR, OK_COLOUR, describe
from bpgui.inspector.table import fmt

SOFTMAX_NOTE = ("Softmax couples the outputs: every o<sub>k</sub> depends on z<sub>j</sub>, so ① is the vector "
                "∇<sub>o</sub>J, ② is column j of the K×K Jacobian ∂o/∂z = diag(o) − o oᵀ, entries "
                "o<sub>k</sub>(δ<sub>kj</sub> − o<sub>j</sub>), and eq. 5's ① · ② becomes the sum over k: "
                "δ = (∂o/∂z)ᵀ ∇<sub>o</sub>J, which simplifies to o − onehot(t) (÷ B for the mean). "
                "The elementwise eq. 8 holds for sigmoid and identity outputs only.")
FUSED_NOTE = ("① · ② is ∞ · 0 here: the output saturated so far that o' underflows even in float64 and ∇<sub>o</sub>J "
              "overflows. Their product is finite: the o' inside ∇<sub>o</sub>J cancels, and δ<sub>j</sub> is taken "
              "from the fused form o − t (eq. 8 simplified), which the trainer uses.")
# the verdict's tolerance: a product of three factors, each rounded in the weights' precision and the engine's
# δ computed by another sequence of a few operations, agree to a few ulp of the terms; 64 ulp leaves room
_ULPS = 64


def _vec(v: np.ndarray) -> str:
    return "[" + ", ".join(fmt(float(x)) for x in np.ravel(v)) + "]"


class IndexSpin(QSpinBox):
    """A 0-based index (the engine's) shown `offset` higher: 1-based in lecture notation."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.offset = 0

    def set_offset(self, offset: int) -> None:
        if offset != self.offset:
            self.offset = offset
            self.lineEdit().setText(self.textFromValue(self.value()))

    def textFromValue(self, value: int) -> str:
        return str(value + self.offset)

    def valueFromText(self, text: str) -> int:
        try:
            return int(text) - self.offset
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        """Typed indices are checked against the shown (offset) range."""
        if not text:
            return QValidator.State.Intermediate, text, pos
        try:
            ok = self.minimum() <= int(text) - self.offset <= self.maximum()
        except ValueError:
            return QValidator.State.Invalid, text, pos
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos


def _spin(name: str, accessible: str, tip: str, index: bool = False) -> QSpinBox:
    s = IndexSpin() if index else QSpinBox()
    describe(s, name, accessible, tip)
    s.setRange(0, 0)
    return s


class ChainRuleBox(QGroupBox):
    """The three factors of eq. 5 for a weight w_ij of a chosen layer and one inspected row, multiplied out.

    The spins hold 0-based indices (the engine's); in lecture notation they show and label 1-based ones (w_11)."""

    weightChosen = Signal(int, int, int)  # layer (1-based), i, j (0-based) of the weight shown

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Chain rule for one weight (eq. 5–7)", parent)
        describe(self, "chainRuleBox", "chain rule for one weight",
                 "dJ/dw_ij = ① dJ/do_j · ② o'_j · ③ h_i (eq. 5) = h_i δ_j (eq. 6), entry (i, j) of ∇_W J.")
        self._trace: Trace | None = None
        self._rows: tuple[int, ...] = ()
        self._values: dict[str, float | np.ndarray] | None = None
        self._eps, self._precision = torch.finfo(torch.float64).eps, "float64"
        self._lecture = True
        self._revealed = 0  # layers whose backward is shown, from the output down
        self.layer_spin = _spin("chainLayer", "layer l", "Layer of the weight: L is the output layer (eq. 5–9); "
                                "lower layers use ∂J/∂h from the layer above")
        self.i_spin = _spin("chainI", "input index i", "Row i of W^(l): input h_i (the last one is the bias)", True)
        self.j_spin = _spin("chainJ", "output index j", "Column j of W^(l): neuron j", True)
        self.row_spin = _spin("chainRow", "row in the batch", "Which inspected row (batch mode) to multiply out")
        for s in (self.layer_spin, self.i_spin, self.j_spin, self.row_spin):
            s.valueChanged.connect(self._refresh)
        self.layer_spin.valueChanged.connect(self._set_ranges)
        spins = QHBoxLayout()
        for text, s in (("layer", self.layer_spin), ("i", self.i_spin), ("j", self.j_spin), ("row", self.row_spin)):
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
        self._fused = QLabel(FUSED_NOTE)
        describe(self._fused, "chainRuleFused", "saturation note", "Why δ comes from the fused form here")
        for note in (self._note, self._fused):
            note.setTextFormat(Qt.TextFormat.RichText)
            note.setWordWrap(True)
            note.setStyleSheet("color: #505050; font-size: 10pt;")
        layout = QVBoxLayout(self)
        layout.addLayout(spins)
        layout.addWidget(self._text)
        layout.addWidget(self._note)
        layout.addWidget(self._fused)
        self._note.hide()
        self._fused.hide()

    def set_trace(self, trace: Trace | None, rows: Sequence[int] = (), dtype: torch.dtype = torch.float64,
                  lecture: bool = True, revealed: int | None = None) -> None:
        """Show eq. 5 for the current (layer, i, j, row) of `trace` (computed in `dtype`); None shows a hint.

        `revealed`: how many layers' backward is shown from the output down (all by default); the layer spin
        offers those only. `lecture`: 1-based indices as in the lecture."""
        self._trace, self._rows, self._lecture = trace, tuple(rows), lecture
        self._eps, self._precision = torch.finfo(dtype).eps, str(dtype).removeprefix("torch.")
        if trace is not None:
            L = len(trace.layers)
            self._revealed = L if revealed is None else max(1, min(L, revealed))
            for s in (self.layer_spin, self.i_spin, self.j_spin):
                s.blockSignals(True)
            before = self.layer_spin.value()
            self.layer_spin.setRange(L - self._revealed + 1, L)
            if not L - self._revealed + 1 <= before <= L:  # first shown, or the layers changed: the output layer
                self.layer_spin.setValue(L)
            self.layer_spin.setEnabled(self._revealed > 1)
            self.layer_spin.blockSignals(False)
            self._set_ranges()
            for s in (self.i_spin, self.j_spin):
                s.blockSignals(False)
            self.row_spin.setRange(0, trace.n_rows - 1)
            self.row_spin.setEnabled(trace.n_rows > 1)
        self._refresh()

    def choose(self, i: int, j: int, row: int = 0, layer: int | None = None) -> None:
        """Pick the weight w_ij (0-based) of `layer` (1-based, default the output layer) and the inspected row."""
        if layer is not None:
            self.layer_spin.setValue(layer)
        elif self._trace is not None:
            self.layer_spin.setValue(len(self._trace.layers))
        self.i_spin.setValue(i)
        self.j_spin.setValue(j)
        self.row_spin.setValue(row)

    def values(self) -> dict[str, float | np.ndarray] | None:
        """Trace.chain_rule's dict for what is shown, or None."""
        return self._values

    def text(self) -> str:
        """The displayed rich text."""
        return self._text.text()

    def _set_ranges(self) -> None:
        t = self._trace
        if t is None:
            return
        lt = t.layers[self.layer_spin.value() - 1]
        self.i_spin.setRange(0, lt.h1.shape[1] - 1)
        self.j_spin.setRange(0, lt.delta.shape[1] - 1)
        base = 1 if self._lecture else 0
        for s in (self.i_spin, self.j_spin):  # the spin shows w_11 for index 0 in lecture notation
            s.set_offset(base)
        self.i_spin.setToolTip(f"Row i of W^(l): input h_i, {base}-based (the last row is the bias b)")
        self.j_spin.setToolTip(f"Column j of W^(l): neuron j, {base}-based")

    def _verdict(self, product: float, entry: float, scale: float) -> str:
        """Equal up to rounding in the weights' precision (scale: the size of the summed terms), or by how much not."""
        diff = abs(product - entry)
        tol = _ULPS * self._eps * scale
        if diff <= tol:
            if not diff:
                return f"<span style='color:{OK_COLOUR}'>✓ equal</span>"
            return (f"<span style='color:{OK_COLOUR}'>✓ equal to {self._precision} rounding: they differ by "
                    f"{diff:.2g}, within the tolerance {tol:.2g} ({_ULPS} ε × the size of the terms)</span>")
        return f"<span style='color:{FAIL_COLOUR}'>✗ differ by {diff:.3g} (tolerance {tol:.2g})</span>"

    def _refresh(self) -> None:
        t = self._trace
        if t is None:
            self._values = None
            self._text.setText("press Backward")
            self._note.hide()
            self._fused.hide()
            return
        layer, i, j, s = self.layer_spin.value(), self.i_spin.value(), self.j_spin.value(), self.row_spin.value()
        c = self._values = t.chain_rule(i, j, sample=s, layer=layer)
        lt = t.layers[layer - 1]
        L = len(t.layers)
        base = 1 if self._lecture else 0
        bias = i == lt.h1.shape[1] - 1
        I, J = ("b" if bias and self._lecture else str(i + base)), str(j + base)
        softmax = layer == L and output_kind(t.output).coupled
        row_name = f"#{self._rows[s]}" if s < len(self._rows) else str(s)
        product, entry = float(c["product"]), float(c["grad_W_row"])
        terms = np.abs(np.multiply(c["dJ_do"], c["do_dz"])) if not c["fused"] else np.abs(c["delta_j"])
        verdict = self._verdict(product, entry, float(np.sum(terms)) * abs(float(c["h_i"])))
        if softmax:
            lines = [
                f"① ∇<sub>o</sub>J = {_vec(c['dJ_do'])}",
                f"② ∂o/∂z<sub>{J}</sub> = column {J} of diag(o) − o oᵀ = {_vec(c['do_dz'])}",
                f"δ<sub>{J}</sub> = ① · ② = Σ<sub>k</sub> ∂J/∂o<sub>k</sub> ∂o<sub>k</sub>/∂z<sub>{J}</sub>"
                f" = <b>{fmt(float(c['delta_j']))}</b> = (o<sub>{J}</sub> − onehot(t)<sub>{J}</sub>)"
                + ("" if t.reduction == "sum" else "/B"),
            ]
        elif layer == L:
            lines = [
                f"① dJ/do<sub>{J}</sub> = {fmt(float(c['dJ_do']))}",
                f"② o'<sub>{J}</sub> = {fmt(float(c['do_dz']))}",
                f"δ<sub>{J}</sub> = ① · ② = {fmt(float(c['delta_j']))}  (eq. 7)",
            ]
        else:
            above = f"Σ<sub>k</sub> w<sub>{J}k</sub><sup>({layer + 1})</sup> δ<sub>k</sub><sup>({layer + 1})</sup>"
            lines = [
                f"① ∂J/∂h<sub>{J}</sub><sup>({layer})</sup> = {above} = {fmt(float(c['dJ_do']))}",
                f"② o'(z<sub>{J}</sub><sup>({layer})</sup>) = {fmt(float(c['do_dz']))}",
                f"δ<sub>{J}</sub><sup>({layer})</sup> = ① · ② = {fmt(float(c['delta_j']))}",
            ]
        if c["fused"]:
            lines[-1] = (f"δ<sub>{J}</sub> = ① · ② = ∞ · 0 → from the fused form o − t: "
                         f"<b>{fmt(float(c['delta_j']))}</b>")
        if bias:
            lines.append(f"③ h<sub>{I}</sub> = 1 (the appended 1 of eq. 11): ∂J/∂b<sub>{J}</sub> = δ<sub>{J}</sub> "
                         "(eq. 12)" if self._lecture else f"③ h<sub>{i}</sub> = 1 (bias, eq. 12)")
        else:
            lines.append(f"③ h<sub>{I}</sub><sup>({layer - 1})</sup> = {fmt(float(c['h_i']))}")
        lines += [
            f"① · ② · ③ = δ<sub>{J}</sub> h<sub>{I}</sub> = <b>{fmt(product)}</b>",
            f"∇<sub>W</sub>J[{I}, {J}] of row {row_name} = h<sub>{I}</sub>δ<sub>{J}</sub> = <b>{fmt(entry)}</b>"
            f"  {verdict}",
        ]
        if lt.h1.shape[0] > 1:
            lines.append(f"∇<sub>W</sub>J[{I}, {J}] summed over the {lt.h1.shape[0]} rows = "
                         f"<b>{fmt(float(lt.grad_W[i, j]))}</b> (eq. 9)")
        name = f"b<sub>{J}</sub>" if bias and self._lecture else f"w<sub>{I}{J}</sub>"
        head = f"dJ/d{name}<sup>({layer})</sup> for row {row_name}:"
        self._text.setText(head + "<br>" + "<br>".join(lines))
        self._note.setVisible(softmax)
        self._fused.setVisible(bool(c["fused"]))
        self.weightChosen.emit(layer, i, j)
