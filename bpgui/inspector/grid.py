"""The quantities of every layer laid out as stage rows (forward, backward, update) × layer columns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QTabBar, QVBoxLayout, QWidget

from bpgui.inspector._style import STAGE_ACCENTS, STAGE_COLOURS, describe, rich
from bpgui.inspector.card import QuantityCard
from bpgui.inspector.quantities import PLAIN, STAGES, Conventions, LayerInfo, Quantity, stage_text, symbol

BUTTON_OF = {"forward": "Forward", "backward": "Backward", "update": "Update"}
# each stage cell: groups of keys side by side, the keys of a group stacked
GROUPS: dict[str, tuple[tuple[str, ...], ...]] = {
    "forward": (("h1",), ("z", "o")),
    "backward": (("grad_o", "do", "delta"), ("grad_W",)),
    "update": (("update",), ("W", "W_next")),
}
# the lesson arrangement: lower and wider, so that one layer of a 2-3-2 network fits 1920 × 1080 in large type:
# ① and ② stacked, δ and ∇_W J = h δᵀ stacked beside them; the update's three matrices side by side
LESSON_GROUPS: dict[str, tuple[tuple[str, ...], ...]] = {
    "forward": (("h1",), ("z", "o")),
    "backward": (("grad_o", "do"), ("delta", "grad_W")),
    "update": (("update",), ("W",), ("W_next",)),
}


def layer_header(info: LayerInfo) -> str:
    """'Layer 2 · output · softmax · W^(2): 4 × 2'."""
    role = "output" if info.is_output else "hidden"
    return (f"Layer {info.l} · {role} · {info.activation} · W^({info.l}): {info.d_in + 1} × {info.d_out} "
            f"({info.d_in} inputs + bias → {info.d_out} neurons)")


class StageGrid(QWidget):
    """Cards for each (layer, quantity); stage rows are tinted by the button that reveals them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        describe(self, "stageGrid", "quantities per layer and stage",
                 "Columns: layers (forward runs left to right, backward right to left). Rows: the three stages.")
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(4, 4, 4, 4)
        self._grid.setHorizontalSpacing(6)
        self._grid.setVerticalSpacing(6)
        self._cards: list[dict[str, QuantityCard]] = []
        self._headers: list[QLabel] = []
        self._cells: list[QFrame] = []
        self._columns: list[list[QWidget]] = []  # per layer: its header and stage cells
        self._only: int | None = None
        self._groups = GROUPS
        self._stage_labels: dict[str, QLabel] = {}
        for row, stage in enumerate(STAGES, start=1):
            label = QLabel()
            self._stage_labels[stage] = label
            label.setTextFormat(Qt.TextFormat.RichText)
            describe(label, f"stage_{stage}", f"{stage} stage", f"Revealed by the {BUTTON_OF[stage]} button")
            label.setStyleSheet(f"background: {STAGE_COLOURS[stage]}; color: {STAGE_ACCENTS[stage]};"
                                "font-size: 10pt; font-weight: 600; padding: 4px; border-radius: 4px;")
            label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            self._grid.addWidget(label, row, 0)
        self._grid.setColumnStretch(0, 0)
        self.set_stage_texts("softmax", PLAIN)

    def set_stage_texts(self, output: str, conv: Conventions) -> None:
        """The stage banners for this output kind and these conventions (quantities.stage_text)."""
        for stage, label in self._stage_labels.items():
            label.setText(rich(stage_text(stage, output, conv)).replace("\n", "<br>"))

    def stage_label(self, stage: str) -> str:
        """The plain text of a stage banner."""
        return self._stage_labels[stage].text()

    def set_layers(self, infos: Sequence[LayerInfo], output: str, lr: float, batch: bool,
                   conv: Conventions = PLAIN) -> None:
        """Create cards when the layer count changes (reused otherwise) and set every title."""
        if len(infos) != len(self._cards):
            self._rebuild(len(infos))
        self.set_stage_texts(output, conv)
        for info, cards, header in zip(infos, self._cards, self._headers, strict=True):
            header.setText(rich(layer_header(info)))
            for key, card in cards.items():
                card.set_symbol(symbol(key, info, output, lr, batch, conv))

    def show_layers(self, layers: Sequence[Mapping[str, Quantity]] | None, stage: int,
                    back: int | None = None) -> None:
        """Reveal the quantities of stages < `stage` (0 = nothing, 3 = all); the rest show a hint. `back`
        layers (from the output down) show their backward quantities even before the whole stage is revealed."""
        L = len(self._cards)
        for n, cards in enumerate(self._cards):
            for key, card in cards.items():
                s = next(i for i, st in enumerate(STAGES) if key in sum(self._groups[st], ()))
                early = STAGES[s] == "backward" and back is not None and n + 1 > L - back
                if layers is not None and (s < stage or early):
                    card.show_quantity(layers[n][key])
                elif STAGES[s] == "backward" and back is not None and stage == 1:
                    card.show_hint(f"press {BUTTON_OF['backward']} or “one layer” (δ^({n + 2}) first)")
                else:
                    card.show_hint(f"press {BUTTON_OF[STAGES[s]]}")

    def set_arrangement(self, groups: dict[str, tuple[tuple[str, ...], ...]]) -> None:
        """Arrange each stage's cards in these groups (GROUPS or LESSON_GROUPS); the cards are made again."""
        if groups != self._groups:
            self._groups = groups
            if self._cards:
                self._rebuild(len(self._cards))

    def show_only(self, layer: int | None) -> None:
        """Show one layer's column (1-based), or every layer side by side with None (or 0)."""
        self._only = layer = layer or None
        for n, cells in enumerate(self._columns, start=1):
            for w in cells:
                w.setVisible(layer is None or n == layer)

    def shown_layer(self) -> int | None:
        """The one layer shown, or None when all are."""
        return self._only

    def card(self, layer: int, key: str) -> QuantityCard:
        """The card of quantity `key` of layer `layer` (1-based)."""
        return self._cards[layer - 1][key]

    def n_layers(self) -> int:
        """How many layer columns there are."""
        return len(self._cards)

    def _rebuild(self, n: int) -> None:
        for w in [*self._headers, *self._cells]:
            self._grid.removeWidget(w)
            w.hide()  # deleteLater waits for the event loop
            w.deleteLater()
        for col in range(1, self._grid.columnCount() + 1):
            self._grid.setColumnStretch(col, 0)
        self._headers, self._cells, self._cards, self._columns = [], [], [], []
        for l in range(1, n + 1):
            header = QLabel()
            describe(header, f"layerHeader_{l}", f"layer {l} header", "Layer, role, activation and W's shape")
            header.setTextFormat(Qt.TextFormat.RichText)
            header.setStyleSheet("font-size: 11pt; font-weight: 700; color: #202020; padding: 2px;")
            self._grid.addWidget(header, 0, l)
            self._headers.append(header)
            cards: dict[str, QuantityCard] = {}
            for row, stage in enumerate(STAGES, start=1):
                cell = QFrame()
                describe(cell, f"cell_{stage}_{l}", f"layer {l} {stage}", f"Layer {l}, {stage} stage")
                cell.setStyleSheet(f"QFrame#cell_{stage}_{l} {{ background: {STAGE_COLOURS[stage]}; "
                                   "border-radius: 4px; }")
                box = QHBoxLayout(cell)
                box.setContentsMargins(5, 5, 5, 5)
                box.setSpacing(6)
                for group in self._groups[stage]:
                    column = QVBoxLayout()
                    column.setSpacing(5)
                    for key in group:
                        cards[key] = QuantityCard(l, key)
                        column.addWidget(cards[key])
                    column.addStretch(1)
                    box.addLayout(column)
                box.addStretch(1)
                self._grid.addWidget(cell, row, l)
                self._cells.append(cell)
            self._cards.append(cards)
            self._columns.append([header, *self._cells[-len(STAGES):]])
        self._grid.setRowStretch(len(STAGES) + 1, 1)
        self._grid.setColumnStretch(n + 1, 1)
        self.show_only(self._only if self._only is not None and self._only <= n else None)


class LayerTabs(QTabBar):
    """One tab per layer plus "All layers"; `layerChosen` gives the 1-based layer, or 0 for all."""

    layerChosen = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        describe(self, "layerTabs", "layer selector",
                 "Show one layer in full, or all layers side by side (forward runs left to right)")
        self.setExpanding(False)
        self.setDrawBase(False)
        self._n = 0
        self.currentChanged.connect(lambda k: self.layerChosen.emit(0 if k >= self._n or k < 0 else k + 1))

    def sync(self, infos: Sequence[LayerInfo]) -> None:
        """Name the tabs after the layers; when they change, select the output layer (eq. 5–12)."""
        names = [f"Layer {i.l} · {'output' if i.is_output else 'hidden'} ({i.activation})" for i in infos]
        names.append("All layers")
        self._n = len(infos)
        if [self.tabText(k) for k in range(self.count())] == names:
            return
        self.blockSignals(True)
        while self.count():
            self.removeTab(0)
        for name in names:
            self.addTab(name)
        self.setCurrentIndex(len(infos) - 1)
        self.blockSignals(False)
        self.layerChosen.emit(len(infos))

    def choose(self, layer: int | None) -> None:
        """Select layer `layer` (1-based) or, with None, all layers."""
        self.setCurrentIndex(self._n if layer is None else layer - 1)
