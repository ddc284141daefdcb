"""Train / validation / test ratio controls with an inline error instead of an invalid split."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDoubleSpinBox, QGridLayout, QLabel, QWidget

from bpgui.panels._widgets import ERROR_STYLE, describe, message_label

_PARTS = (
    ("train", "Train", "Rows the network is trained on (must be more than 0 %)."),
    ("val", "Validation", "Rows held out to watch for overfitting and for early stopping; 0 % turns it off."),
    ("test", "Test", "Rows held out until the end to measure generalisation; may be 0 %."),
)


class SplitEditor(QWidget):
    """Three percentage spin boxes; ``split()`` is the fractions, or None while they do not make a split."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        describe(self, "dataSplit", "train, validation and test split",
                 "How the rows are divided (stratified by class). The three parts must add up to 100 %.")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        self._spins: list[QDoubleSpinBox] = []
        for col, (key, label, tip) in enumerate(_PARTS):
            spin = QDoubleSpinBox()
            spin.setRange(0.0, 100.0)
            spin.setDecimals(1)
            spin.setSingleStep(5.0)
            spin.setSuffix(" %")
            describe(spin, f"dataSplit{key.capitalize()}", f"{label.lower()} fraction", tip)
            spin.valueChanged.connect(self._on_change)
            caption = QLabel(label)
            caption.setBuddy(spin)
            grid.addWidget(caption, 0, col)
            grid.addWidget(spin, 1, col)
            self._spins.append(spin)
        self._error = message_label("dataSplitError", "split error", "Why the split cannot be used.", ERROR_STYLE)
        self._error.hide()
        grid.addWidget(self._error, 2, 0, 1, 3)
        self._exact: tuple[tuple[float, ...], tuple[float, float, float]] | None = None
        self.set_split((0.7, 0.15, 0.15))

    def spins(self) -> tuple[QDoubleSpinBox, QDoubleSpinBox, QDoubleSpinBox]:
        """The train, validation and test spin boxes."""
        return self._spins[0], self._spins[1], self._spins[2]

    def set_split(self, split: tuple[float, float, float]) -> None:
        """Show ``split`` (fractions) without emitting ``changed``."""
        for spin, fraction in zip(self._spins, split, strict=True):
            spin.blockSignals(True)
            spin.setValue(100.0 * fraction)
            spin.blockSignals(False)
        # Remember the exact fractions so that e.g. thirds survive the 0.1 % display rounding.
        self._exact = (self._shown(), tuple(float(f) for f in split))  # type: ignore[assignment]
        self._validate()

    def split(self) -> tuple[float, float, float] | None:
        """(train, val, test) fractions that sum to 1, or None while the error message is shown."""
        if self.error():
            return None
        shown = self._shown()
        if self._exact is not None and self._exact[0] == shown:
            return self._exact[1]
        return (shown[0] / 100.0, shown[1] / 100.0, shown[2] / 100.0)

    def error(self) -> str:
        """The inline error text ('' when the split is valid)."""
        return self._error.text() if not self._error.isHidden() else ""

    def _shown(self) -> tuple[float, float, float]:
        a, b, c = (spin.value() for spin in self._spins)
        return (a, b, c)

    def _validate(self) -> None:
        train, val, test = self._shown()
        total = train + val + test
        if abs(total - 100.0) > 0.05 and not (self._exact is not None and self._exact[0] == self._shown()):
            message = f"The parts add up to {total:g} %, not 100 %."
        elif train <= 0.0:
            message = "Train must be more than 0 %."
        else:
            message = ""
        self._error.setText(message)
        self._error.setVisible(bool(message))
        for spin in self._spins:
            spin.setStyleSheet(f"QDoubleSpinBox {{ {ERROR_STYLE} }}" if message else "")

    def _on_change(self) -> None:
        self._validate()
        self.changed.emit()
