"""The data panel: source, toy-set noise and size, train/validation/test split, seed; CSV import by button or drop."""

from __future__ import annotations

import os
from functools import partial
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from bpcore.config import LIMITS, TOY_SOURCES, DataSpec
from bpcore.data import Dataset
from bpcore.errors import ConfigError, DataError
from bpgui.panels._widgets import HINT_STYLE, Throttle, describe, message_label
from bpgui.panels.csv_dialog import CsvImportDialog
from bpgui.panels.data_summary import summarise
from bpgui.panels.source_combo import SourceCombo
from bpgui.panels.split_editor import SplitEditor
from bpgui.spinboxes import MAX_SEED_SHOWN

THROTTLE_MS = 150  # at most one datasetChanged per interval while a control is being dragged or typed in
NOISE_SLIDER_STEPS = 100  # the slider covers noise 0 … 1 in steps of 0.01; the spin box goes further
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
_DROP_STYLE = "DataPanel#dataPanel { border: 2px dashed #0072B2; border-radius: 6px; }"


def csv_path_of(mime) -> str | None:
    """The first local file with a CSV-like suffix among the dragged URLs, or None."""
    if mime is None or not mime.hasUrls():
        return None
    for url in mime.urls():
        if url.isLocalFile() and Path(url.toLocalFile()).suffix.lower() in CSV_SUFFIXES:
            return url.toLocalFile()
    return None


class DataPanel(QWidget):
    """Where the data comes from and how it is split; emits ``datasetChanged(DataSpec, Dataset | None)`` on each
    user change.

    Dragging the noise slider or typing in a spin box emits at most once per ~150 ms and once more at the end
    (slider release); an invalid split shows an inline error and emits nothing. A CSV file (Open CSV…, File ▸
    Open CSV data…, or a file dropped on the panel or the window) goes through CsvImportDialog; after a
    successful read the panel emits ``DataSpec(source="csv:<path>", target=…, task=…)`` together with the
    Dataset that was read, so whoever stores the spec stores the task and target the user chose. The Dataset
    is None when there is nothing read to reuse (toy and bundled sets, a CSV file only listed by set_spec):
    the receiver then reads the data the spec names.
    """

    datasetChanged = Signal(object, object)  # DataSpec, Dataset | None (the data that spec names, when read)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        describe(self, "dataPanel", "data settings",
                 "Choose the data, its size and noise, and how it is split. Drop a .csv file here to import it.")
        self.setAcceptDrops(True)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._quiet = False
        self._last: DataSpec | None = None
        self._exact_noise: tuple[float, float] | None = None  # (shown, exact) to survive display rounding
        self._csv: dict[str, tuple[str | int | None, str, Dataset | None]] = {}  # source → target, task, data read
        self._csv_dir = str(Path.home())
        self._throttle = Throttle(THROTTLE_MS, self._emit_if_changed, self)

        self._source = SourceCombo()
        self._open = QPushButton("Open CSV…")
        describe(self._open, "dataOpenCsv", "open CSV file",
                 "Import your own data: a CSV file with numeric feature columns and one target column.")
        self._summary = message_label("dataSummary", "data summary",
                                      "The current data: samples, input features and classes (or regression).")
        self._summary.setStyleSheet(f"{HINT_STYLE} font-weight: bold;")

        self._noise_slider = QSlider(Qt.Orientation.Horizontal)
        self._noise_slider.setRange(0, NOISE_SLIDER_STEPS)
        describe(self._noise_slider, "dataNoiseSlider", "noise",
                 "Standard deviation of the Gaussian jitter added to the toy points (in data units).")
        self._noise = QDoubleSpinBox()
        self._noise.setRange(LIMITS["data.noise"].lo, LIMITS["data.noise"].hi)
        self._noise.setDecimals(3)
        self._noise.setSingleStep(0.01)
        describe(self._noise, "dataNoise", "noise value",
                 "Noise standard deviation; type values above 1 here (the slider stops at 1).")
        self._samples = QSpinBox()
        self._samples.setRange(int(LIMITS["data.n_samples"].lo), int(LIMITS["data.n_samples"].hi))
        self._samples.setSingleStep(50)
        self._samples.setGroupSeparatorShown(True)
        describe(self._samples, "dataSamples", "number of samples", "How many points to draw (at least 4).")
        self._toy = QGroupBox("Toy set")
        describe(self._toy, "dataToyControls", "toy set settings",
                 "Noise and size apply to generated toy sets only; real and CSV data are used as they are.")
        noise_row = QHBoxLayout()
        noise_row.addWidget(self._noise_slider, 1)
        noise_row.addWidget(self._noise)
        toy_form = QFormLayout(self._toy)
        toy_form.addRow("Noise:", noise_row)
        toy_form.addRow("Samples:", self._samples)

        self._split = SplitEditor()
        self._seed = QSpinBox()
        self._seed.setRange(int(LIMITS["data.seed"].lo), MAX_SEED_SHOWN)
        describe(self._seed, "dataSeed", "data seed",
                 "Seed for drawing toy points and for shuffling rows into train / validation / test.")
        self._standardise = QCheckBox("Standardise inputs")
        describe(self._standardise, "dataStandardise", "standardise inputs",
                 "Scale every feature to mean 0 and standard deviation 1, fitted on the training rows only.")
        split_box = QGroupBox("Split")
        describe(split_box, "dataSplitBox", "split settings", "Train / validation / test fractions and seed.")
        split_form = QFormLayout(split_box)
        split_form.addRow(self._split)
        split_form.addRow("Seed:", self._seed)
        split_form.addRow(self._standardise)

        self._hint = message_label("dataDropHint", "drop hint", "You can also drop a CSV file onto this panel.")
        self._hint.setText("Tip: drop a .csv file anywhere on this panel to import it.")

        top = QHBoxLayout()
        top.addWidget(self._source, 1)
        top.addWidget(self._open)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self._summary)
        layout.addWidget(self._toy)
        layout.addWidget(split_box)
        layout.addWidget(self._hint)
        layout.addStretch(1)

        self._source.currentIndexChanged.connect(self._source_changed)
        self._open.clicked.connect(self._browse)
        self._noise_slider.valueChanged.connect(self._slider_moved)
        self._noise_slider.sliderReleased.connect(self._throttle.flush)
        self._noise.valueChanged.connect(self._noise_typed)
        self._samples.valueChanged.connect(self._poke)
        self._seed.valueChanged.connect(self._poke)
        self._split.changed.connect(self._poke)
        self._standardise.toggled.connect(self._flush)
        self.set_spec(DataSpec())

    # ----------------------------------------------------------------------------------------------- public

    def spec(self) -> DataSpec:
        """The settings shown; ConfigError (with the inline message) while the split is invalid."""
        split = self._split.split()
        if split is None:
            raise ConfigError(f"data.split: {self._split.error()}")
        source = self._source.source()
        target, task, _ = self._csv.get(source, (None, "auto", None))
        return DataSpec(source=source, n_samples=self._samples.value(), noise=self._noise_value(),
                        seed=self._seed.value(), split=split, standardise=self._standardise.isChecked(),
                        target=target, task=task)

    def set_spec(self, spec: DataSpec) -> None:
        """Show ``spec`` without emitting datasetChanged (a CSV source is listed, not read)."""
        self._quiet = True
        try:
            if spec.is_csv:
                old = self._csv.get(spec.source)
                keep = old is not None and old[:2] == (spec.target, spec.task)  # the data read still fits
                self._csv[spec.source] = (spec.target, spec.task, old[2] if keep else None)
            self._source.set_source(spec.source)
            self._samples.setValue(spec.n_samples)
            self._noise.setValue(spec.noise)
            self._exact_noise = (self._noise.value(), spec.noise)
            self._seed.setValue(spec.seed)
            self._split.set_split(spec.split)
            self._standardise.setChecked(spec.standardise)
        finally:
            self._quiet = False
        self._throttle.cancel()
        self._last = spec
        self._refresh()

    def loaded_dataset(self) -> Dataset | None:
        """The Dataset the last CSV import read, while the current source is that file with that target and task."""
        entry = self._csv.get(self._source.source())
        return entry[2] if entry is not None else None

    def error(self) -> str:
        """The inline error shown ('' when the settings are valid)."""
        return self._split.error()

    def summary(self) -> str:
        """The one-line summary shown under the source."""
        return self._summary.text()

    def open_csv(self, path: str | os.PathLike[str]) -> CsvImportDialog | None:
        """Open the import dialog for ``path`` (window-modal, returns at once); None if the file cannot be read."""
        path = os.fspath(path)
        old = self._csv.get("csv:" + path)
        try:
            dialog = CsvImportDialog(path, self, target=old[0] if old else None, task=old[1] if old else "auto")
        except (DataError, OSError) as e:
            QMessageBox.critical(self, "Cannot open the CSV file", str(e))
            return None
        dialog.accepted.connect(partial(self._csv_accepted, dialog))
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    # ------------------------------------------------------------------------------------------ drag & drop

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept a drag that carries a local .csv file and outline the panel."""
        if csv_path_of(event.mimeData()):
            event.acceptProposedAction()
            self.setStyleSheet(_DROP_STYLE)
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        """Keep accepting a CSV drag while it moves over child widgets."""
        if csv_path_of(event.mimeData()):
            event.acceptProposedAction()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        """Remove the drop outline."""
        self.setStyleSheet("")
        event.accept()

    def dropEvent(self, event: QDropEvent) -> None:
        """Open the import dialog for the dropped CSV file."""
        self.setStyleSheet("")
        path = csv_path_of(event.mimeData())
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_csv(path)

    # ---------------------------------------------------------------------------------------------- private

    def _noise_value(self) -> float:
        shown = self._noise.value()
        if self._exact_noise is not None and self._exact_noise[0] == shown:
            return self._exact_noise[1]
        return shown

    def _slider_moved(self, step: int) -> None:
        self._noise.blockSignals(True)
        self._noise.setValue(step / NOISE_SLIDER_STEPS)
        self._noise.blockSignals(False)
        self._poke()

    def _noise_typed(self, value: float) -> None:
        self._noise_slider.blockSignals(True)
        self._noise_slider.setValue(round(min(value, 1.0) * NOISE_SLIDER_STEPS))
        self._noise_slider.blockSignals(False)
        self._poke()

    def _source_changed(self) -> None:
        self._flush()

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a CSV file", self._csv_dir,
                                              "CSV files (*.csv *.tsv *.txt);;All files (*)")
        if path:
            self._csv_dir = str(Path(path).parent)
            self.open_csv(path)

    def _csv_accepted(self, dialog: CsvImportDialog) -> None:
        source = "csv:" + dialog.path()
        self._csv[source] = (dialog.target(), dialog.task(), dialog.dataset())
        self._quiet = True
        try:
            self._source.set_source(source)
        finally:
            self._quiet = False
        self._last = None  # an accepted import always goes out, even with the same settings (the file may be new)
        self._flush()

    def _poke(self) -> None:
        self._refresh()
        if not self._quiet:
            self._throttle.poke()

    def _flush(self) -> None:
        self._refresh()
        if not self._quiet:
            self._throttle.flush()

    def _emit_if_changed(self) -> None:
        try:
            spec = self.spec()
        except ConfigError:
            return  # the inline error says why; nothing to emit
        if spec != self._last:
            self._last = spec
            self.datasetChanged.emit(spec, self.loaded_dataset())

    def _refresh(self) -> None:
        """Enable the toy controls for toy sets only and update the summary line."""
        source = self._source.source()
        self._toy.setEnabled(source in TOY_SOURCES)
        target, _, dataset = self._csv.get(source, (None, "auto", None))
        self._summary.setText(summarise(source, self._samples.value(), target, dataset))
