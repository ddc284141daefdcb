"""Settings panels (bpgui.panels): real widgets driven by clicks and values, checked by the specs they emit."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QMessageBox,
    QSlider,
    QWidget,
)

from bpcore.config import LIMITS, MAX_LAYERS, OUTPUT_CHOICES, DataSpec, ModelSpec, TrainSpec
from bpcore.errors import ConfigError
from bpgui.panels import ArchitectureEditor, CsvImportDialog, DataPanel
from bpgui.panels.data_panel import THROTTLE_MS
from bpgui.panels.output_choice import OUTPUT_LABELS, OUTPUT_TIPS
from bpgui.toolbar import TrainingToolbar

# helpers ------------------------------------------------------------------------------------------------


class Recorder:
    """Collects the payloads of a signal: `items` its first argument, `rest` the others (the data panel's
    datasetChanged carries the Dataset read beside the DataSpec)."""

    def __init__(self, signal) -> None:
        self.items: list = []
        self.rest: list[tuple] = []
        signal.connect(self._record)

    def _record(self, first, *rest) -> None:
        self.items.append(first)
        self.rest.append(rest)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def last(self):
        return self.items[-1]


def child(parent: QWidget, cls: type, name: str):
    w = parent.findChild(cls, name)
    assert w is not None, f"no {cls.__name__} named {name!r}"
    return w


def assert_described(root: QWidget) -> None:
    """Every control (buttons, spin boxes, combos, sliders) has an objectName, accessibleName and tooltip."""
    controls = [w for cls in (QAbstractButton, QAbstractSpinBox, QComboBox, QSlider) for w in root.findChildren(cls)]
    assert controls
    for w in controls:
        if isinstance(w.parent(), QComboBox) or w.objectName().startswith("qt_"):
            continue  # Qt's own parts of a combo box or table
        assert w.objectName(), f"{type(w).__name__} {w!r} has no objectName"
        assert w.accessibleName(), f"{w.objectName()} has no accessibleName"
        assert w.toolTip(), f"{w.objectName()} has no tooltip"


def select_source(panel: DataPanel, source: str) -> None:
    combo = child(panel, QComboBox, "dataSource")
    row = combo.findData(source, Qt.ItemDataRole.UserRole)
    assert row >= 0, source
    combo.setCurrentIndex(row)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def good_csv(tmp_path: Path) -> Path:
    rows = ["x1,x2,cls"] + [f"{i * 0.5:.1f},{(i * 7) % 11 - 5.0:.1f},{i % 2}" for i in range(30)]
    return write(tmp_path / "points.csv", "\n".join(rows) + "\n")


@pytest.fixture
def ragged_csv(tmp_path: Path) -> Path:
    return write(tmp_path / "ragged.csv", "a,b,y\n1,2,0\n3,4,1\n5,6\n7,8,1\n")


@pytest.fixture
def critical(monkeypatch) -> list[tuple[str, str]]:
    """Replace QMessageBox.critical with a recorder of (title, text)."""
    shown: list[tuple[str, str]] = []

    def fake(parent, title, text, *args, **kwargs):
        shown.append((title, text))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "critical", fake)
    return shown


# architecture editor -----------------------------------------------------------------------------------


@pytest.fixture
def arch(qtbot) -> ArchitectureEditor:
    editor = ArchitectureEditor()
    qtbot.addWidget(editor)
    editor.resize(380, 440)
    editor.show()
    return editor


def test_arch_build_two_layer_net_with_per_layer_activations(qtbot, arch):
    arch.set_spec(ModelSpec(hidden=(8,), activation="tanh"))
    got = Recorder(arch.architectureChanged)
    qtbot.mouseClick(child(arch, QAbstractButton, "archAddLayer"), Qt.MouseButton.LeftButton)
    assert got.last == ModelSpec(hidden=(8, 8), activation="tanh")
    child(arch, QAbstractSpinBox, "archNeurons2").setValue(16)
    assert got.last == ModelSpec(hidden=(8, 16), activation="tanh")
    acts = child(arch, QComboBox, "archActivation1")
    acts.setCurrentIndex(acts.findData("relu"))
    assert got.last == ModelSpec(hidden=(8, 16), activation=("relu", "tanh"))
    child(arch, QAbstractSpinBox, "archInitSeed").setValue(7)
    assert got.last.init_seed == 7
    assert len(got) == 4
    assert arch.spec() == got.last
    arch.set_data_info(2, "classification", 2)
    assert arch.shape_text() == "2 → 8 → 16 → 2"
    assert "softmax + cross-entropy" in arch.resolved_text()


def test_arch_remove_layers_down_to_zero(qtbot, arch):
    arch.set_spec(ModelSpec(hidden=(8, 4), activation="relu"))
    arch.set_data_info(4, "classification", 3)
    assert arch.shape_text() == "4 → 8 → 4 → 3"
    got = Recorder(arch.architectureChanged)
    remove = child(arch, QAbstractButton, "archRemoveLayer")
    qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)
    assert got.last.hidden == (8,)  # no row selected: the last layer goes
    qtbot.mouseClick(remove, Qt.MouseButton.LeftButton)
    assert got.last == ModelSpec(hidden=(), activation="relu")
    assert arch.shape_text() == "4 → 3"
    assert not remove.isEnabled()
    assert child(arch, QWidget, "archNoHidden").isVisible()
    assert not child(arch, QWidget, "archLayers").isVisible()
    arch.remove_layer()  # nothing left: no-op, no signal
    assert len(got) == 2
    qtbot.mouseClick(child(arch, QAbstractButton, "archAddLayer"), Qt.MouseButton.LeftButton)
    assert got.last == ModelSpec(hidden=(8,), activation="relu")  # a new first layer keeps the activation


def test_arch_remove_selected_layer(qtbot, arch):
    arch.set_spec(ModelSpec(hidden=(5, 6, 7), activation=("relu", "tanh", "sigmoid")))
    got = Recorder(arch.architectureChanged)
    spin = child(arch, QAbstractSpinBox, "archNeurons2")
    QTest.mouseClick(spin.lineEdit(), Qt.MouseButton.LeftButton)  # focusing a row selects it
    qtbot.mouseClick(child(arch, QAbstractButton, "archRemoveLayer"), Qt.MouseButton.LeftButton)
    assert got.last == ModelSpec(hidden=(5, 7), activation=("relu", "sigmoid"))
    # rows are renumbered: the former third layer is now layer 2
    assert child(arch, QAbstractSpinBox, "archNeurons2").value() == 7
    assert arch.findChild(QAbstractSpinBox, "archNeurons3") is None


def test_arch_output_override_and_what_auto_means(qtbot, arch):
    arch.set_data_info(4, "classification", 3)
    assert "softmax + cross-entropy (auto) · 3 classes" in arch.resolved_text()
    got = Recorder(arch.architectureChanged)
    out = child(arch, QComboBox, "archOutput")
    out.setCurrentIndex(out.findData("sigmoid"))
    assert got.last.output == "sigmoid"
    assert "needs 2 classes" in arch.resolved_text()  # the engine's own rule, shown inline
    assert arch.shape_text().endswith("→ ?")
    arch.set_data_info(2, "classification", 2)
    assert arch.shape_text() == "2 → 8 → 8 → 1"
    out.setCurrentIndex(out.findData("identity"))
    assert got.last == ModelSpec(output="identity")
    arch.set_data_info(1, "regression", 0)
    assert arch.shape_text() == "1 → 8 → 8 → 1"
    assert "identity + MSE" in arch.resolved_text()
    assert "eq. 1" in OUTPUT_TIPS["softmax"] and "eq. 8" in OUTPUT_TIPS["softmax"]
    assert out.itemData(out.findData("softmax"), Qt.ItemDataRole.ToolTipRole) == OUTPUT_TIPS["softmax"]


def test_arch_set_spec_is_silent_and_round_trips(qtbot, arch):
    got = Recorder(arch.architectureChanged)
    spec = ModelSpec(hidden=(3, 1024, 1), activation=("softplus", "leaky_relu", "identity"), output="softmax",
                     init_seed=42)
    arch.set_spec(spec)
    assert arch.spec() == spec
    arch.set_spec(ModelSpec(hidden=(), activation="sigmoid"))
    assert arch.spec() == ModelSpec(hidden=(), activation="sigmoid")
    assert len(got) == 0


def test_arch_neurons_take_the_range_of_model_hidden(arch):
    arch.set_spec(ModelSpec(hidden=(4,)))
    spin = child(arch, QAbstractSpinBox, "archNeurons1")
    spin.setValue(5000)  # beyond the old window-only cap of 1024: files and the CLI allow it, so must the window
    assert arch.spec().hidden == (5000,)
    spin.setValue(10**7)
    assert arch.spec().hidden == (int(LIMITS["model.hidden"].hi),)
    spin.setValue(0)
    assert arch.spec().hidden == (1,)


def test_arch_stops_adding_layers_at_the_limit(qtbot, arch):
    arch.set_spec(ModelSpec(hidden=(2,) * (MAX_LAYERS - 1)))
    add = child(arch, QAbstractButton, "archAddLayer")
    assert add.isEnabled()
    qtbot.mouseClick(add, Qt.MouseButton.LeftButton)
    assert len(arch.spec().hidden) == MAX_LAYERS and not add.isEnabled()
    arch.add_layer()
    assert len(arch.spec().hidden) == MAX_LAYERS


# training toolbar ----------------------------------------------------------------------------------------


@pytest.fixture
def toolbar(qtbot) -> TrainingToolbar:
    bar = TrainingToolbar(["cpu"])
    qtbot.addWidget(bar)
    bar.show()
    return bar


@pytest.mark.parametrize(("name", "key"), [("lr", "training.lr"), ("l2", "training.l2"),
                                           ("batch", "training.batch_size"), ("epochs", "training.epochs")])
def test_toolbar_spin_boxes_take_their_range_from_the_config(toolbar, name, key):
    spin = getattr(toolbar, name)
    assert (spin.minimum(), spin.maximum()) == (LIMITS[key].lo, LIMITS[key].hi)


@pytest.mark.parametrize("lr", [1e-10, 3e-7, 0.3, 250.0, 1e9])
def test_toolbar_shows_every_lr_a_file_may_hold(toolbar, lr):
    toolbar.set_spec(TrainSpec(lr=lr))
    # the spin box keeps 12 decimals: 1e-10 is held to 1 part in 100, the larger values exactly as floats
    assert toolbar.lr.value() == pytest.approx(lr, rel=1e-2)
    assert float(toolbar.lr.text()) == pytest.approx(lr, rel=1e-5)  # shown as %.6g


@pytest.mark.parametrize(("typed", "expected"), [("1e-3", 1e-3), ("2.5e2", 250.0), ("0.05", 0.05),
                                                 ("1e300", 0.3), ("abc", 0.3)])
def test_toolbar_lr_takes_typed_e_notation_within_the_range(qtbot, toolbar, typed, expected):
    toolbar.set_spec(TrainSpec(lr=0.3))
    got = Recorder(toolbar.lrChanged)
    toolbar.lr.lineEdit().selectAll()
    QTest.keyClicks(toolbar.lr, typed)
    QTest.keyClick(toolbar.lr, Qt.Key.Key_Return)
    assert toolbar.lr.value() == pytest.approx(expected, rel=1e-9)
    assert all(LIMITS["training.lr"].lo <= v <= LIMITS["training.lr"].hi for v in got.items)


def test_arch_controls_are_described(arch):
    assert tuple(OUTPUT_LABELS) == OUTPUT_CHOICES
    assert_described(arch)


# data panel ----------------------------------------------------------------------------------------------


@pytest.fixture
def panel(qtbot) -> DataPanel:
    p = DataPanel()
    qtbot.addWidget(p)
    p.resize(380, 440)
    p.show()
    return p


def test_data_switching_source_emits_the_spec(qtbot, panel):
    assert panel.spec() == DataSpec()
    with qtbot.waitSignal(panel.datasetChanged, timeout=1000) as blocker:
        select_source(panel, "moons")
    assert blocker.args == [DataSpec(source="moons"), None]  # a toy set: nothing read to pass along
    assert panel.summary() == "moons · 400 samples · 2 features · 2 classes"
    with qtbot.waitSignal(panel.datasetChanged, timeout=1000) as blocker:
        select_source(panel, "sine")
    assert blocker.args[0].source == "sine"
    assert panel.summary() == "sine · 400 samples · 1 feature · regression"


def test_data_toy_controls_disabled_for_real_sets(qtbot, panel):
    got = Recorder(panel.datasetChanged)
    select_source(panel, "iris")
    assert got.last == DataSpec(source="iris")
    for name in ("dataNoiseSlider", "dataNoise", "dataSamples"):
        assert not child(panel, QWidget, name).isEnabled(), name
    for name in ("dataSeed", "dataSplitTrain", "dataStandardise"):
        assert child(panel, QWidget, name).isEnabled(), name
    assert panel.summary() == "iris · 150 samples · 4 features · 3 classes"
    select_source(panel, "circles")
    assert child(panel, QWidget, "dataNoiseSlider").isEnabled()


def test_data_group_headings_are_not_selectable(panel):
    combo = child(panel, QComboBox, "dataSource")
    model = combo.model()
    headings = [r for r in range(combo.count()) if combo.itemData(r, Qt.ItemDataRole.UserRole) is None]
    assert [combo.itemText(r) for r in headings] == ["Toy sets (generated)", "Real data sets (bundled)"]
    for r in headings:
        assert not model.flags(model.index(r, 0)) & Qt.ItemFlag.ItemIsSelectable
    assert combo.itemText(combo.findData("breast_cancer", Qt.ItemDataRole.UserRole)) == "Breast cancer"


def test_data_bad_ratios_show_an_error_and_emit_nothing(qtbot, panel):
    got = Recorder(panel.datasetChanged)
    train = child(panel, QAbstractSpinBox, "dataSplitTrain")
    test = child(panel, QAbstractSpinBox, "dataSplitTest")
    error = child(panel, QWidget, "dataSplitError")
    train.setValue(80.0)
    qtbot.wait(3 * THROTTLE_MS)
    assert error.isVisible() and "add up to 110 %, not 100 %" in error.text()
    assert panel.error() == error.text()
    assert len(got) == 0
    with pytest.raises(ConfigError, match="100 %"):
        panel.spec()
    select_source(panel, "wine")  # the summary follows the source even while the split is invalid
    assert panel.summary() == "wine · 178 samples · 13 features · 3 classes"
    assert len(got) == 0
    test.setValue(5.0)
    qtbot.waitUntil(lambda: len(got) == 1, timeout=1000)
    assert not error.isVisible()
    assert got.last.source == "wine"
    assert got.last.split == pytest.approx((0.8, 0.15, 0.05))
    train.setValue(0.0)
    child(panel, QAbstractSpinBox, "dataSplitVal").setValue(95.0)
    qtbot.wait(3 * THROTTLE_MS)
    assert error.text() == "Train must be more than 0 %."
    assert len(got) == 1


def test_data_validation_may_be_zero(qtbot, panel):
    got = Recorder(panel.datasetChanged)
    child(panel, QAbstractSpinBox, "dataSplitVal").setValue(0.0)
    child(panel, QAbstractSpinBox, "dataSplitTest").setValue(30.0)
    qtbot.waitUntil(lambda: len(got) >= 1, timeout=1000)
    assert got.last.split == pytest.approx((0.7, 0.0, 0.3))


def test_data_noise_slider_is_throttled(qtbot, panel):
    got = Recorder(panel.datasetChanged)
    slider = child(panel, QSlider, "dataNoiseSlider")
    for step in range(11, 61):  # 50 changes at once, as a fast drag
        slider.setValue(step)
    qtbot.wait(3 * THROTTLE_MS)
    assert 1 <= len(got) <= 2
    assert got.last.noise == pytest.approx(0.60)
    assert child(panel, QAbstractSpinBox, "dataNoise").value() == pytest.approx(0.60)


def test_data_long_drag_emits_every_interval_and_at_release(qtbot, panel):
    got = Recorder(panel.datasetChanged)
    slider = child(panel, QSlider, "dataNoiseSlider")
    slider.setSliderDown(True)
    start = time.monotonic()
    for step in range(0, 60):
        slider.setValue(step)
        qtbot.wait(10)
    elapsed_ms = 1000 * (time.monotonic() - start)
    during = len(got)
    slider.setSliderDown(False)  # release: the final value goes out at once
    assert got.last.noise == pytest.approx(0.59)
    assert 2 <= during <= elapsed_ms / THROTTLE_MS + 2  # throttled, not held back until the drag ends
    assert len(got) <= during + 1
    qtbot.wait(3 * THROTTLE_MS)
    assert got.last.noise == pytest.approx(0.59)


def test_data_set_spec_is_silent_and_round_trips(qtbot, panel, tmp_path):
    got = Recorder(panel.datasetChanged)
    spec = DataSpec(source="gaussians", n_samples=1234, noise=0.12345, seed=9, split=(1 / 3, 1 / 3, 1 / 3),
                    standardise=False)
    panel.set_spec(spec)
    assert panel.spec() == spec
    csv = DataSpec(source=f"csv:{tmp_path / 'x.csv'}", target="y")
    panel.set_spec(csv)
    assert panel.spec() == csv
    assert panel.loaded_dataset() is None  # listed, not read
    assert "x.csv" in panel.summary()
    qtbot.wait(3 * THROTTLE_MS)
    assert len(got) == 0
    assert not child(panel, QWidget, "dataNoise").isEnabled()


@pytest.mark.parametrize(("target", "task"), [("cls", "auto"), ("x2", "regression"), (0, "classification")])
def test_data_set_spec_keeps_the_csv_target_and_task(qtbot, panel, good_csv, target, task):
    """A CSV spec shown by set_spec (a loaded session) comes back whole, and re-opening the import dialog
    for that file starts from its target column and task."""
    spec = DataSpec(source=f"csv:{good_csv}", target=target, task=task)
    panel.set_spec(spec)
    assert panel.spec() == spec
    dialog = panel.open_csv(good_csv)
    assert dialog.target() == ("x1" if target == 0 else target)  # a unique column name is given by name
    assert dialog.task() == task
    dialog.reject()


def test_data_typing_samples_and_seed_emit(qtbot, panel):
    got = Recorder(panel.datasetChanged)
    child(panel, QAbstractSpinBox, "dataSamples").setValue(1000)
    child(panel, QAbstractSpinBox, "dataSeed").setValue(3)
    qtbot.waitUntil(lambda: len(got) >= 1, timeout=1000)
    qtbot.wait(2 * THROTTLE_MS)
    assert got.last == DataSpec(n_samples=1000, seed=3)
    assert len(got) == 1  # two quick edits, one emission
    assert panel.summary() == "spirals · 1000 samples · 2 features · 2 classes"
    box = child(panel, QAbstractButton, "dataStandardise")
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert got.last.standardise is False  # a click goes out at once


# CSV import ----------------------------------------------------------------------------------------------


def import_button(dialog: CsvImportDialog) -> QAbstractButton:
    return dialog.buttons().button(QDialogButtonBox.StandardButton.Ok)


def test_csv_dialog_previews_and_honours_the_target(qtbot, panel, good_csv):
    got = Recorder(panel.datasetChanged)
    dialog = panel.open_csv(good_csv)
    assert dialog is not None and dialog.isVisible()
    model = dialog.preview_model()
    assert model.rowCount() == 20  # only the first 20 of 30 rows
    assert model.columnCount() == 3
    assert [model.headerData(j, Qt.Orientation.Horizontal).split("\n")[0] for j in range(3)] == ["x1", "x2", "cls"]
    assert model.data(model.index(2, 0)) == "1.0"
    table = child(dialog, QWidget, "csvPreview")
    assert table.horizontalHeader().isVisible()
    target = child(dialog, QComboBox, "csvTarget")
    assert target.currentText() == "cls"  # default: the last column
    assert model.target() == 2
    target.setCurrentIndex(1)
    assert model.target() == 1
    task = child(dialog, QComboBox, "csvTask")
    task.setCurrentIndex(task.findData("regression"))
    qtbot.mouseClick(import_button(dialog), Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert got.last == DataSpec(source=f"csv:{good_csv}", target="x2", task="regression")
    ds = panel.loaded_dataset()
    assert ds is not None and ds.task == "regression"
    assert got.rest[-1] == (ds,)  # the data read travels with its spec
    assert ds.feature_names == ("x1", "cls") and len(ds) == 30
    assert panel.summary() == "points.csv · 30 samples · 2 features · regression"
    assert not child(panel, QWidget, "dataNoise").isEnabled()
    # the file stays in the source list: switch away and back
    select_source(panel, "xor")
    assert panel.loaded_dataset() is None and got.rest[-1] == (None,)
    select_source(panel, f"csv:{good_csv}")
    assert got.last == DataSpec(source=f"csv:{good_csv}", target="x2", task="regression")
    assert panel.loaded_dataset() is ds and got.rest[-1] == (ds,)


def test_csv_header_click_chooses_the_target(qtbot, good_csv):
    dialog = CsvImportDialog(good_csv)
    qtbot.addWidget(dialog)
    dialog.show()
    header = child(dialog, QWidget, "csvPreview").horizontalHeader()
    x = header.sectionViewportPosition(0) + header.sectionSize(0) // 2
    QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    assert dialog.target() == "x1"
    assert dialog.preview_model().target() == 0


def test_csv_bad_file_shows_the_row_and_keeps_the_data(qtbot, panel, ragged_csv, critical):
    panel.set_spec(DataSpec(source="circles", noise=0.2))
    got = Recorder(panel.datasetChanged)
    dialog = panel.open_csv(ragged_csv)
    assert dialog is not None  # the preview reads the rows as they are
    assert dialog.preview_model().rowCount() == 4
    qtbot.mouseClick(import_button(dialog), Qt.MouseButton.LeftButton)
    assert len(critical) == 1
    title, text = critical[0]
    assert title == "Cannot import the CSV file"
    assert "row 4 has 2 fields, expected 3" in text and str(ragged_csv) in text
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted  # stays open to fix
    qtbot.mouseClick(dialog.buttons().button(QDialogButtonBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert panel.spec() == DataSpec(source="circles", noise=0.2)
    assert panel.loaded_dataset() is None
    assert len(got) == 0


def test_csv_unreadable_file_reports_without_a_dialog(qtbot, panel, tmp_path, critical):
    got = Recorder(panel.datasetChanged)
    assert panel.open_csv(write(tmp_path / "empty.csv", "\n\n")) is None
    assert panel.open_csv(tmp_path / "missing.csv") is None
    assert "empty" in critical[0][1] and "not found" in critical[1][1]
    assert panel.findChild(CsvImportDialog) is None
    assert len(got) == 0


def test_csv_open_button_uses_a_file_dialog(qtbot, panel, good_csv, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(good_csv), "CSV files"))
    qtbot.mouseClick(child(panel, QAbstractButton, "dataOpenCsv"), Qt.MouseButton.LeftButton)
    dialog = panel.findChild(CsvImportDialog)
    assert dialog is not None and dialog.path() == str(good_csv)
    dialog.reject()


def mime_with(path: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime


def test_csv_drop_opens_the_import_dialog(qtbot, panel, good_csv):
    got = Recorder(panel.datasetChanged)
    mime = mime_with(good_csv)
    enter = QDragEnterEvent(QPointF(20, 20).toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(panel, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(panel, drop)
    assert drop.isAccepted()
    dialog = panel.findChild(CsvImportDialog)
    assert dialog is not None and dialog.isVisible() and dialog.path() == str(good_csv)
    qtbot.mouseClick(import_button(dialog), Qt.MouseButton.LeftButton)
    assert got.last == DataSpec(source=f"csv:{good_csv}", target="cls")  # task "auto", as the dialog left it
    assert panel.loaded_dataset().class_names == ("0", "1")
    assert panel.summary() == "points.csv · 30 samples · 2 features · 2 classes"


def test_drag_of_a_non_csv_file_is_refused(panel, tmp_path):
    mime = mime_with(write(tmp_path / "notes.md", "# hi\n"))
    enter = QDragEnterEvent(QPointF(20, 20).toPoint(), Qt.DropAction.CopyAction, mime,
                            Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    enter.setAccepted(False)
    QApplication.sendEvent(panel, enter)
    assert not enter.isAccepted()


def test_data_controls_are_described(qtbot, panel, good_csv):
    assert_described(panel)
    dialog = panel.open_csv(good_csv)
    assert_described(dialog)
    dialog.reject()


@pytest.mark.parametrize("spec", [DataSpec(noise=50.0), DataSpec(n_samples=5_000_000), DataSpec(seed=2**31 - 1)],
                         ids=["noise 50", "5 million samples", "seed 2^31-1"])
def test_data_panel_shows_every_value_a_file_may_hold(panel, spec):
    """The panel's boxes take their range from bpcore.config.LIMITS: a file's value is shown, never clamped."""
    panel.set_spec(spec)
    assert panel.spec() == spec


def test_inspector_mu_takes_the_range_of_training_lr(qtbot):
    from bpgui.inspector.controls import Controls

    controls = Controls()
    qtbot.addWidget(controls)
    lo, hi = LIMITS["training.lr"].lo, LIMITS["training.lr"].hi
    assert (controls.lr.minimum(), controls.lr.maximum()) == (lo, hi)
    controls.lr.setValue(1000.0)  # clamped to 100 before
    assert controls.lr.value() == 1000.0


# training toolbar: μ slider, speed, epoch limit ----------------------------------------------------------


@pytest.mark.parametrize(("typed", "expected"), [("1000", 1000.0), ("1e3", 1000.0), ("1e-6", 1e-6),
                                                 ("0.000001", 1e-6)])
def test_toolbar_lr_keeps_typed_values_from_1e_minus_6_to_1e3(qtbot, toolbar, typed, expected):
    """Typing 1000 once became 10: every μ from 1e-6 to 1e3 is kept as typed, and the log slider follows."""
    toolbar.set_spec(TrainSpec(lr=0.3))
    got = Recorder(toolbar.lrChanged)
    toolbar.lr.lineEdit().selectAll()
    QTest.keyClicks(toolbar.lr, typed)
    QTest.keyClick(toolbar.lr, Qt.Key.Key_Return)
    assert toolbar.lr.value() == pytest.approx(expected, rel=1e-9) and got.items == [pytest.approx(expected)]
    assert toolbar.lr_slider.value() == (0 if expected == 1e-6 else toolbar.lr_slider.maximum())


def test_toolbar_lr_slider_is_log_scaled(qtbot, toolbar):
    from bpgui.toolbar import lr_to_slider, slider_to_lr

    toolbar.set_spec(TrainSpec(lr=0.3))
    slider = toolbar.lr_slider
    assert (slider_to_lr(slider.minimum()), slider_to_lr(slider.maximum())) == (1e-6, 1e3)
    assert slider.value() == lr_to_slider(0.3) == 548  # log10(0.3) = -0.523: 100 steps per decade from 1e-6
    got = Recorder(toolbar.lrChanged)
    slider.setValue(slider.value() + 100)  # one decade up
    assert toolbar.lr.value() == pytest.approx(3.0) and got.items == [pytest.approx(3.0)]
    slider.setFocus()
    QTest.keyClick(slider, Qt.Key.Key_PageDown)  # a decade down with the keyboard
    assert toolbar.lr.value() == pytest.approx(0.3) and len(got) == 2
    toolbar.set_spec(TrainSpec(lr=1e-9))  # below the slider: the box keeps it, the slider rests at its end
    assert toolbar.lr.value() == pytest.approx(1e-9) and slider.value() == 0


def test_toolbar_epoch_limit_has_no_limit_at_the_top(qtbot, toolbar):
    from bpcore.config import MAX_EPOCHS

    got = Recorder(toolbar.epochsChanged)
    toolbar.set_spec(TrainSpec(epochs=MAX_EPOCHS))
    assert toolbar.epochs.text() == "no limit"
    toolbar.epochs.lineEdit().selectAll()
    QTest.keyClicks(toolbar.epochs, "300")
    QTest.keyClick(toolbar.epochs, Qt.Key.Key_Return)
    toolbar.epochs.lineEdit().selectAll()
    QTest.keyClicks(toolbar.epochs, "no limit")
    QTest.keyClick(toolbar.epochs, Qt.Key.Key_Return)
    assert got.items == [300, MAX_EPOCHS] and toolbar.epochs.text() == "no limit"


def test_toolbar_speed_choices(qtbot, toolbar):
    from bpgui.toolbar import PACES

    got = Recorder(toolbar.paceChanged)
    texts = [toolbar.pace.itemText(i) for i in range(toolbar.pace.count())]
    assert texts[0] == "max" and "10 epochs/s" in texts and "1 epoch/s" in texts
    assert all(p is None or LIMITS["run.pace"].lo <= p <= LIMITS["run.pace"].hi for p in PACES)
    toolbar.pace.setCurrentIndex(texts.index("1 epoch/s"))
    toolbar.pace.setCurrentIndex(0)
    assert got.items == [1.0, None]
    toolbar.set_pace(7.5)  # a pace from elsewhere (settings) is shown, silently
    assert toolbar.pace.currentText() == "7.5 epochs/s" and len(got) == 2


# training panel ----------------------------------------------------------------------------------------


@pytest.fixture
def training(qtbot):
    from bpgui.panels.training_panel import TrainingPanel

    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.show()
    return panel


def test_training_panel_shows_a_spec_and_reports_each_setting(qtbot, training):
    spec = TrainSpec(optimizer="momentum", momentum=0.5, schedule="step", step_size=20, gamma=0.25,
                     time_limit=90.0, loss_goal=0.01, min_grad=1e-5, patience=12, clip_norm=2.0, dtype="float64")
    got = Recorder(training.changed)
    training.set_spec(spec)
    assert len(got) == 0  # silent
    assert {key: training.value(key) for key in training.controls} == {
        key: getattr(spec, key) for key in training.controls}
    training.set_spec(TrainSpec())  # criteria and clipping unset by default: 'off'
    for key in ("time_limit", "loss_goal", "min_grad", "patience", "clip_norm"):
        assert training.value(key) is None and training.controls[key].text() == "off", key
    assert not training.controls["momentum"].isEnabled()  # plain gradient descent has no momentum
    assert not training.controls["gamma"].isEnabled()  # a constant schedule has no γ

    for key, typed, expected in [("patience", "7", 7), ("time_limit", "30", 30.0), ("clip_norm", "1e-2", 0.01),
                                 ("loss_goal", "0.05", 0.05), ("min_grad", "1e-4", 1e-4), ("patience", "off", None)]:
        spin = training.controls[key]
        spin.lineEdit().selectAll()
        QTest.keyClicks(spin, typed)
        QTest.keyClick(spin, Qt.Key.Key_Return)
        assert got.last == {key: pytest.approx(expected) if expected is not None else None}, key
    training.controls["schedule"].setCurrentIndex(training.controls["schedule"].findData("cosine"))
    training.controls["dtype"].setCurrentIndex(training.controls["dtype"].findData("float64"))
    assert got.items[-2:] == [{"schedule": "cosine"}, {"dtype": "float64"}]
    assert_described(training)


@pytest.mark.parametrize("key", ["training.momentum", "training.gamma", "training.time_limit",
                                 "training.min_grad", "training.clip_norm", "training.step_size",
                                 "training.patience"])
def test_training_panel_ranges_are_the_configs(training, key):
    """Every value a spin box can hold passes the config's own check; 'off' stands for unset."""
    from bpcore.config import validate

    name = key.split(".")[1]
    spin = training.controls[name]
    spin.setValue(spin.maximum())
    assert validate(key, training.value(name)) == training.value(name)
    spin.setValue(spin.minimum())
    value = training.value(name)
    assert value is None or validate(key, value) == value
    limit = LIMITS[key]
    if limit.hi_open:
        assert spin.maximum() < limit.hi
    if value is not None and limit.lo_open:
        assert spin.minimum() > limit.lo


@pytest.mark.parametrize("cancel", [False, True], ids=["read", "cancelled"])
def test_csv_import_of_a_large_file_shows_progress_and_can_be_cancelled(qtbot, tmp_path, monkeypatch, cancel):
    """A large file is read with a progress bar (its pieces report the fraction read); Cancel stops the read and
    leaves the dialog open with nothing imported."""
    pytest.importorskip("pyarrow")
    from PySide6.QtWidgets import QProgressDialog

    from bpcore.data import csv_fast
    from bpgui.panels import csv_dialog

    rows = "\n".join(f"{i % 7},{i % 5},{i % 3}" for i in range(3000))
    path = tmp_path / "large.csv"
    path.write_text("a,b,label\n" + rows + "\n")
    monkeypatch.setattr(csv_fast, "FAST_BYTES", 0)  # the fast path, with its progress, for a small test file
    monkeypatch.setattr(csv_fast, "PIECE_BYTES", 4096)  # several pieces
    values = []
    monkeypatch.setattr(QProgressDialog, "setValue", lambda self, v: values.append(v))
    monkeypatch.setattr(QProgressDialog, "wasCanceled", lambda self: cancel)
    dialog = csv_dialog.CsvImportDialog(path)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.accept()
    if cancel:
        assert dialog.isVisible() and dialog.dataset() is None and len(values) == 1
    else:
        assert dialog.result() == QDialog.DialogCode.Accepted and len(dialog.dataset()) == 3000
        assert len(values) > 2 and values == sorted(values) and values[-1] >= 99
