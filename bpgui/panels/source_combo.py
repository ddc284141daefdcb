"""The data source chooser: toy sets and bundled real sets under group headings, plus imported CSV files."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QWidget

from bpcore.config import BUNDLED_SOURCES, TOY_SOURCES
from bpgui.panels._widgets import describe

TOY_LABELS: dict[str, tuple[str, str]] = {
    "xor": ("XOR", "Two classes in opposite quadrants: not linearly separable, needs a hidden layer."),
    "circles": ("Circles", "An inner and an outer ring: a round decision boundary."),
    "spirals": ("Spirals", "Two interleaved spiral arms: the classic hard case, needs depth or width."),
    "gaussians": ("Gaussian blobs", "Two round clouds: linearly separable, a sanity check."),
    "moons": ("Moons", "Two interleaved half circles: a curved boundary."),
    "plane": ("Plane (regression)", "y = x1 − 0.5·x2 plus noise: a linear regression target."),
    "sine": ("Sine (regression)", "y = sin(x) plus noise: one input, a curved regression target."),
}
REAL_LABELS: dict[str, tuple[str, str]] = {
    "iris": ("Iris flowers", "150 flowers, 4 measurements, 3 species (Fisher 1936)."),
    "wine": ("Wine", "178 wines, 13 chemical measurements, 3 cultivars."),
    "breast_cancer": ("Breast cancer", "569 biopsies, 30 cell-nucleus features, benign or malignant."),
    "digits": ("Handwritten digits", "1797 images of 8×8 pixels (64 features), digits 0–9."),
}
SOURCE_ROLE = Qt.ItemDataRole.UserRole


def source_label(source: str) -> str:
    """The friendly name of a source: 'Spirals', 'Iris flowers', or the file name of a CSV source."""
    if source in TOY_LABELS:
        return TOY_LABELS[source][0]
    if source in REAL_LABELS:
        return REAL_LABELS[source][0]
    if source.startswith("csv:"):
        return Path(source[4:]).name
    return source


class SourceCombo(QComboBox):
    """A combo box of data sources grouped under non-selectable headings; item data is the DataSpec source."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        describe(self, "dataSource", "data source",
                 "The data to train on: a generated toy set (2-D, adjustable noise and size), a bundled\n"
                 "real data set, or a CSV file you imported (Open CSV… or drop a .csv file on this panel).")
        self._items = QStandardItemModel(self)
        self.setModel(self._items)
        self._heading("Toy sets (generated)")
        for name in TOY_SOURCES:
            self._entry(name, *TOY_LABELS.get(name, (name, "")))
        self._heading("Real data sets (bundled)")
        for name in BUNDLED_SOURCES:
            self._entry(name, *REAL_LABELS.get(name, (name, "")))
        self._csv_heading: QStandardItem | None = None
        self.setMaxVisibleItems(self._items.rowCount() + 4)

    def source(self) -> str:
        """The selected source string ('spirals', 'iris', 'csv:/path/file.csv')."""
        return self.currentData(SOURCE_ROLE) or ""

    def set_source(self, source: str) -> None:
        """Select ``source``; a CSV source not listed yet is added under 'Your files'."""
        row = self.findData(source, SOURCE_ROLE)
        if row < 0 and source.startswith("csv:"):
            row = self.add_csv(source)
        if row >= 0:
            self.setCurrentIndex(row)

    def add_csv(self, source: str) -> int:
        """List a ``csv:<path>`` source under 'Your files' (once) and return its row."""
        row = self.findData(source, SOURCE_ROLE)
        if row >= 0:
            return row
        if self._csv_heading is None:
            self._csv_heading = self._heading("Your files")
        path = source[4:]
        self._entry(source, f"{Path(path).name}", f"CSV file {path}")
        return self._items.rowCount() - 1

    def _heading(self, text: str) -> QStandardItem:
        item = QStandardItem(text)
        item.setFlags(Qt.ItemFlag.NoItemFlags)  # not selectable: only a heading
        font = QFont()
        font.setBold(True)
        item.setFont(font)
        self._items.appendRow(item)
        return item

    def _entry(self, source: str, label: str, tooltip: str) -> None:
        item = QStandardItem(label)
        item.setData(source, SOURCE_ROLE)
        item.setToolTip(tooltip)
        self._items.appendRow(item)

    def selected_label(self) -> str:
        """The friendly name of the selected source."""
        return source_label(self.source())
