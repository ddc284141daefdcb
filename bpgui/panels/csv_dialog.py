"""The CSV import dialog: a preview of the first rows, the target column and the task, then a checked read."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QMessageBox,
    QProgressDialog,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from bpcore.data import Dataset, preview_csv, read_csv
from bpcore.errors import DataError
from bpgui.panels._widgets import describe, message_label
from bpgui.panels.csv_preview_model import CsvPreviewModel

PREVIEW_ROWS = 20
PROGRESS_STEPS = 100


class _Cancelled(Exception):
    """The user cancelled reading a large file."""
TASKS: tuple[tuple[str, str, str], ...] = (
    ("auto", "auto (decide from the target column)",
     "Text labels or a few integer values are classes; any other numbers are a regression target."),
    ("classification", "classification", "Every distinct target value is a class (softmax or sigmoid output)."),
    ("regression", "regression", "The target is a number to predict (identity output, mean squared error)."),
)


class CsvImportDialog(QDialog):
    """Preview a CSV file, choose its target column and task; OK reads it with bpcore.data.read_csv.

    The constructor reads the preview and lets DataError (or OSError) propagate, so the caller can report a
    file that cannot be opened at all. A failed read on OK shows a critical message box with bpcore's message
    (which names the row and column) and the dialog stays open; after ``accepted``, ``dataset()`` holds the
    data set that was read.
    """

    def __init__(self, path: str | os.PathLike[str], parent: QWidget | None = None, *,
                 target: str | int | None = None, task: str = "auto") -> None:
        header, rows = preview_csv(os.fspath(path), n_rows=PREVIEW_ROWS)  # before a parent can own a half-built dialog
        super().__init__(parent)
        self._path = os.fspath(path)
        self._header = header
        self._dataset: Dataset | None = None
        name = Path(self._path).name
        describe(self, "csvImportDialog", f"import CSV file {name}",
                 "Check the first rows of the file, pick the column to predict and import it.")
        self.setWindowTitle(f"Import CSV — {name}")
        self.setSizeGripEnabled(True)

        self._model = CsvPreviewModel(header, rows, self)
        self._table = QTableView()
        self._table.setModel(self._model)
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._table.setAlternatingRowColors(True)
        self._table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self._table.horizontalHeader().setSectionsClickable(True)
        self._table.horizontalHeader().sectionClicked.connect(self._header_clicked)
        self._table.verticalHeader().setDefaultSectionSize(22)
        describe(self._table, "csvPreview", "preview of the first rows",
                 f"The first {PREVIEW_ROWS} data rows as read from the file. The tinted column is the target;\n"
                 "click a column header to make it the target.")

        self._info = message_label(
            "csvPreviewInfo", "what the preview shows",
            "How the file was split into columns; the import checks every row, not only these.")
        cols = len(header)
        self._info.setText(f"{self._path}\nFirst {len(rows)} data row{'s' * (len(rows) != 1)} of "
                           f"{cols} column{'s' * (cols != 1)}; the tinted column is the target.")

        self._target = QComboBox()
        describe(self._target, "csvTarget", "target column",
                 "The column the network learns to predict (y); every other column is an input feature (x).")
        for j, col in enumerate(header):
            label = col if header.count(col) == 1 else f"{col} (column {j + 1})"
            self._target.addItem(label, j)
        self._target.setCurrentIndex(self._column_of(target))
        self._target.currentIndexChanged.connect(self._target_changed)
        self._model.set_target(self._target.currentIndex())

        self._task = QComboBox()
        describe(self._task, "csvTask", "task",
                 "How to read the target column: auto decides from its values; override it here.")
        for key, label, tip in TASKS:
            self._task.addItem(label, key)
            self._task.setItemData(self._task.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self._task.setCurrentIndex(max(self._task.findData(task), 0))

        form = QFormLayout()
        form.addRow("Target column:", self._target)
        form.addRow("Task:", self._task)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText("Import")
        describe(ok, "csvImport", "import", "Read the whole file with this target and task.")
        cancel = buttons.button(QDialogButtonBox.StandardButton.Cancel)
        describe(cancel, "csvCancel", "cancel", "Close without importing; the current data stays.")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self._buttons = buttons

        layout = QVBoxLayout(self)
        layout.addWidget(self._info)
        layout.addWidget(self._table, 1)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(640, 480)
        self._target.setFocus()

    # ----------------------------------------------------------------------------------------------- public

    def path(self) -> str:
        """The file being imported."""
        return self._path

    def header(self) -> list[str]:
        """Column names as the preview shows them."""
        return list(self._header)

    def preview_model(self) -> CsvPreviewModel:
        """The model behind the preview table."""
        return self._model

    def target(self) -> str | int:
        """The chosen target: its column name, or its 0-based index when the name is not unique."""
        j = self._target.currentData()
        name = self._header[j]
        return name if self._header.count(name) == 1 else j

    def task(self) -> str:
        """'auto', 'classification' or 'regression'."""
        return self._task.currentData()

    def dataset(self) -> Dataset | None:
        """The data set read on OK (None until the dialog was accepted)."""
        return self._dataset

    def buttons(self) -> QDialogButtonBox:
        """The Import / Cancel buttons."""
        return self._buttons

    def accept(self) -> None:
        """Read the whole file (a progress bar with Cancel when that takes more than a second); on a DataError or
        OSError show it and stay open; a cancelled read also leaves the dialog open."""
        bar = QProgressDialog(f"Reading {Path(self._path).name}…", "Cancel", 0, PROGRESS_STEPS, self)
        bar.setWindowTitle("Import CSV")
        bar.setWindowModality(Qt.WindowModality.WindowModal)
        bar.setMinimumDuration(1000)

        def progress(fraction: float) -> None:
            bar.setValue(int(PROGRESS_STEPS * fraction))  # a modal bar handles the window's events here
            if bar.wasCanceled():
                raise _Cancelled

        try:
            ds = read_csv(self._path, target=self.target(), task=self.task(), progress=progress)
        except _Cancelled:
            return
        except (DataError, OSError) as e:
            QMessageBox.critical(self, "Cannot import the CSV file", str(e))
            return
        finally:
            bar.close()
        self._dataset = ds
        super().accept()

    # ---------------------------------------------------------------------------------------------- private

    def _column_of(self, target: str | int | None) -> int:
        n = len(self._header)
        if isinstance(target, int) and not isinstance(target, bool) and -n <= target < n:
            return target % n
        if isinstance(target, str) and target in self._header:
            return self._header.index(target)
        return n - 1

    def _target_changed(self, index: int) -> None:
        self._model.set_target(index)

    def _header_clicked(self, section: int) -> None:
        self._target.setCurrentIndex(section)
