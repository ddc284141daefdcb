"""The architecture editor: hidden layers (neurons + activation each), output layer and loss, init seed."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from bpcore.backprop import HIDDEN_ACTIVATIONS
from bpcore.config import LIMITS, MAX_LAYERS, OUTPUT_CHOICES, ModelSpec
from bpgui.panels._widgets import HINT_STYLE, WARNING_STYLE, describe, message_label
from bpgui.panels.output_choice import ACTIVATION_TIPS, OUTPUT_LABELS, OUTPUT_TIPS, resolve

MAX_NEURONS = int(LIMITS["model.hidden"].hi)  # the range of model.hidden, as files and the CLI have it
MAX_SEED_SHOWN = min(int(LIMITS["model.init_seed"].hi), 2**31 - 1)  # QSpinBox holds a 32-bit int
_ROW_HEIGHT = 30
_NEURONS_WIDTH = 90
_ROWS_SHOWN = 8  # the table grows with the layers up to this many rows, then scrolls
_USER_FOCUS = (Qt.FocusReason.MouseFocusReason, Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason)


class ArchitectureEditor(QWidget):
    """Edit a ModelSpec; emits ``architectureChanged(ModelSpec)`` on every edit (not during ``set_spec``).

    The emitted activation is one name when every hidden layer uses the same one, else one name per layer.
    """

    architectureChanged = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        describe(self, "archEditor", "network architecture",
                 "The layers of the network: hidden layers (size and activation φ), the output layer and its loss.")
        self._quiet = False
        self._neurons: list[QSpinBox] = []
        self._activations: list[QComboBox] = []
        self._default_activation = "tanh"
        self._data: tuple[int, str, int, int] | None = None  # n_features, task, n_classes, n_targets

        self._table = QTableWidget(0, 2)
        self._table.setHorizontalHeaderLabels(["Neurons", "Activation φ"])
        self._table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Fixed)
        self._table.setColumnWidth(0, _NEURONS_WIDTH)
        self._table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self._table.verticalHeader().setDefaultSectionSize(_ROW_HEIGHT)
        self._table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self._table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._table.setCornerButtonEnabled(False)
        self._table.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # focus goes to the row widgets; rows are picked by them
        describe(self._table, "archLayers", "hidden layers",
                 "One row per hidden layer, from the input side to the output side. Select a row to remove it.")
        self._empty = message_label("archNoHidden", "no hidden layer",
                                    "With no hidden layer the network is a linear model.")
        self._empty.setText("No hidden layer: the network is a linear model (logistic / softmax / linear "
                            "regression).")
        self._add = QPushButton("Add layer")
        describe(self._add, "archAddLayer", "add hidden layer",
                 "Append a hidden layer next to the output (same size and activation as the last one).")
        self._remove = QPushButton("Remove layer")
        describe(self._remove, "archRemoveLayer", "remove hidden layer",
                 "Remove the selected hidden layer, or the last one when none is selected.")
        buttons = QHBoxLayout()
        buttons.addWidget(self._add)
        buttons.addWidget(self._remove)
        buttons.addStretch(1)
        hidden_box = QGroupBox("Hidden layers")
        describe(hidden_box, "archHiddenBox", "hidden layers", "Size and activation of each hidden layer.")
        hidden_layout = QVBoxLayout(hidden_box)
        hidden_layout.addWidget(self._table)
        hidden_layout.addWidget(self._empty)
        hidden_layout.addLayout(buttons)

        self._output = QComboBox()
        describe(self._output, "archOutput", "output layer and loss",
                 "The output activation o and the loss J it is trained with (eq. 1); together they give\n"
                 "the output error δ of eq. 8. 'auto' picks from the data.")
        for key in OUTPUT_CHOICES:
            self._output.addItem(OUTPUT_LABELS[key], key)
            self._output.setItemData(self._output.count() - 1, OUTPUT_TIPS[key], Qt.ItemDataRole.ToolTipRole)
        self._seed = QSpinBox()
        self._seed.setRange(int(LIMITS["model.init_seed"].lo), MAX_SEED_SHOWN)
        self._seed.setKeyboardTracking(False)
        describe(self._seed, "archInitSeed", "initialisation seed",
                 "Seed of the random initial weights: the same seed gives the same starting network.")
        form = QFormLayout()
        form.addRow("Output / loss:", self._output)
        form.addRow("Init seed:", self._seed)

        self._shape = message_label("archShape", "layer sizes",
                                    "Units per layer from input to output; the sizes at the ends come from the data.")
        self._shape.setStyleSheet(f"{HINT_STYLE} font-size: 14pt; font-weight: bold;")
        self._resolved = message_label("archResolved", "what the output choice means for the data",
                                       "The output layer and loss used with the current data.")

        layout = QVBoxLayout(self)
        layout.addWidget(hidden_box)
        layout.addLayout(form)
        layout.addWidget(self._shape)
        layout.addWidget(self._resolved)
        layout.addStretch(1)

        self._add.clicked.connect(self.add_layer)
        self._remove.clicked.connect(self.remove_layer)
        self._output.currentIndexChanged.connect(self._changed)
        self._seed.valueChanged.connect(self._changed)
        self.set_spec(ModelSpec())

    # ----------------------------------------------------------------------------------------------- public

    def spec(self) -> ModelSpec:
        """The network shown."""
        acts = tuple(combo.currentData() for combo in self._activations)
        activation: str | tuple[str, ...] = acts[0] if acts and len(set(acts)) == 1 else acts
        if not acts:
            activation = self._default_activation
        return ModelSpec(hidden=tuple(spin.value() for spin in self._neurons), activation=activation,
                         output=self._output.currentData(), init_seed=self._seed.value())

    def set_spec(self, spec: ModelSpec) -> None:
        """Show ``spec`` without emitting architectureChanged."""
        self._quiet = True
        try:
            while self._neurons:
                self._drop_row(len(self._neurons) - 1)
            if isinstance(spec.activation, str):
                self._default_activation = spec.activation
            for size, act in zip(spec.hidden, spec.activations, strict=True):
                self._append_row(size, act)
            self._output.setCurrentIndex(self._output.findData(spec.output))
            self._seed.setValue(spec.init_seed)
        finally:
            self._quiet = False
        self._refresh()

    def set_data_info(self, n_features: int, task: str, n_classes: int, n_targets: int = 1) -> None:
        """Show the input and output sizes for this data and what 'auto' resolves to."""
        self._data = (int(n_features), task, int(n_classes), int(n_targets))
        self._refresh()

    def shape_text(self) -> str:
        """The layer sizes as shown, e.g. '2 → 8 → 8 → 2'."""
        return self._shape.text()

    def resolved_text(self) -> str:
        """The line saying which output and loss are used (or why the choice does not fit the data)."""
        return self._resolved.text()

    def layer_widgets(self, row: int) -> tuple[QSpinBox, QComboBox]:
        """The neurons spin box and activation combo of hidden layer ``row`` (0-based)."""
        return self._neurons[row], self._activations[row]

    def add_layer(self) -> None:
        """Append a hidden layer like the last one (8 tanh units when there is none); no-op at MAX_LAYERS."""
        if len(self._neurons) >= MAX_LAYERS:
            return
        if self._neurons:
            size, act = self._neurons[-1].value(), self._activations[-1].currentData()
        else:
            size, act = 8, self._default_activation
        self._append_row(size, act)
        self._table.clearSelection()
        self._changed()

    def remove_layer(self) -> None:
        """Remove the selected hidden layer, or the last one; no-op without hidden layers."""
        if not self._neurons:
            return
        rows = self._table.selectionModel().selectedRows()
        row = rows[0].row() if rows else len(self._neurons) - 1
        if len(self._neurons) == 1:
            self._default_activation = self._activations[0].currentData()
        self._drop_row(row)
        self._table.clearSelection()
        self._changed()

    # ---------------------------------------------------------------------------------------------- private

    def _append_row(self, size: int, activation: str) -> None:
        row = len(self._neurons)
        self._table.insertRow(row)
        spin = QSpinBox()
        spin.setRange(1, MAX_NEURONS)
        spin.setKeyboardTracking(False)
        spin.setValue(size)
        spin.setFrame(False)
        combo = QComboBox()
        combo.setFrame(False)
        for name in HIDDEN_ACTIVATIONS:
            combo.addItem(name, name)
            combo.setItemData(combo.count() - 1, ACTIVATION_TIPS.get(name, name), Qt.ItemDataRole.ToolTipRole)
        combo.setCurrentIndex(max(combo.findData(activation), 0))
        for w in (spin, combo):
            w.installEventFilter(self)
        spin.valueChanged.connect(self._changed)
        combo.currentIndexChanged.connect(self._changed)
        self._table.setCellWidget(row, 0, spin)
        self._table.setCellWidget(row, 1, combo)
        self._neurons.append(spin)
        self._activations.append(combo)
        self._renumber()

    def _drop_row(self, row: int) -> None:
        for w in (self._neurons.pop(row), self._activations.pop(row)):
            w.blockSignals(True)  # Qt deletes cell widgets later: keep them silent and unnamed until then
            w.setObjectName("")
        self._table.removeRow(row)
        self._renumber()

    def _renumber(self) -> None:
        self._table.setVerticalHeaderLabels([f"h{l + 1}" for l in range(len(self._neurons))])
        for l, (spin, combo) in enumerate(zip(self._neurons, self._activations, strict=True), start=1):
            describe(spin, f"archNeurons{l}", f"neurons of hidden layer {l}",
                     f"Number of units in hidden layer {l} (1–{MAX_NEURONS}).")
            describe(combo, f"archActivation{l}", f"activation of hidden layer {l}",
                     f"The activation φ of hidden layer {l}; its derivative φ' enters δ (eq. 8).")
        has_rows = bool(self._neurons)
        frame = 2 * self._table.frameWidth()
        rows = min(max(len(self._neurons), 1), _ROWS_SHOWN)
        self._table.setFixedHeight(self._table.horizontalHeader().sizeHint().height() + rows * _ROW_HEIGHT + frame)
        self._table.setVisible(has_rows)
        self._empty.setVisible(not has_rows)
        self._remove.setEnabled(has_rows)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Select the row of a layer widget when it gets the focus, so 'Remove layer' removes that row."""
        if event.type() == QEvent.Type.FocusIn and event.reason() in _USER_FOCUS:
            for row, (spin, combo) in enumerate(zip(self._neurons, self._activations, strict=True)):
                if watched is spin or watched is combo:
                    self._table.selectRow(row)
                    break
        return super().eventFilter(watched, event)

    def _changed(self) -> None:
        self._add.setEnabled(len(self._neurons) < MAX_LAYERS)
        self._refresh()
        if not self._quiet:
            self.architectureChanged.emit(self.spec())

    def _refresh(self) -> None:
        hidden = [str(spin.value()) for spin in self._neurons]
        output = self._output.currentData()
        if self._data is None:
            self._shape.setText(" → ".join(["in", *hidden, "out"]))
            self._resolved.setText(f"{OUTPUT_LABELS[output]} · the end sizes follow the data")
            self._resolved.setStyleSheet(HINT_STYLE)
            return
        n_features, task, n_classes, n_targets = self._data
        r = resolve(output, n_features, task, n_classes, n_targets)
        self._shape.setText(" → ".join([str(n_features), *hidden, "?" if r.units is None else str(r.units)]))
        if r.problem:
            self._resolved.setText(f"⚠ {r.problem}. Choose 'auto' or another output.")
            self._resolved.setStyleSheet(WARNING_STYLE)
            return
        what = f"{n_classes} classes" if task == "classification" else f"{n_targets} numeric target" + (
            "s" if n_targets != 1 else "")
        how = " (auto)" if output == "auto" else ""
        self._resolved.setText(f"{OUTPUT_LABELS[r.kind]}{how} · {what}")
        self._resolved.setStyleSheet(HINT_STYLE)
