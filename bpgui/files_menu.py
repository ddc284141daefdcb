"""The File menu: New, Open session, Open model, Save (Ctrl+S), Save as, Recent, Open CSV data, Export model,
Export plots (PNG at a chosen size, SVG, CSV), each with its standard shortcut where there is one.

Reading and writing is bpcore's (bpcore.session, bpcore.data through the controller) and pyqtgraph's
exporters; this module picks paths, reports errors in a message box and keeps the Recent list. CSV data has
one route: Open CSV data… and a CSV file dropped anywhere on the window open the data panel's import dialog,
whose target and task reach the controller's DataSpec together with the data read.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path

import pyqtgraph as pg
import pyqtgraph.exporters
from PySide6.QtCore import QEvent, QObject, QRectF, QSettings
from PySide6.QtGui import QAction, QKeySequence, QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QGraphicsItem,
    QGraphicsScene,
    QInputDialog,
    QMainWindow,
    QWidget,
)

from bpgui import dialogs
from bpgui.controller import TrainingController
from bpgui.panels import CsvImportDialog, DataPanel
from bpgui.panels.data_panel import csv_path_of
from bpgui.settings import add_recent_file, recent_files

SESSION_FILTER = "Backprop Lab session (*.safetensors);;All files (*)"
MODEL_FILTER = "Model file (*.safetensors);;All files (*)"
CSV_FILTER = "CSV data (*.csv *.tsv *.txt);;All files (*)"
PLOT_FILTER = "PNG image (*.png);;SVG drawing (*.svg);;CSV of the curves (*.csv)"
IMAGE_FILTER = "PNG image (*.png);;SVG drawing (*.svg)"
_KEY = QKeySequence.StandardKey
#: Standard keys where the platform has none (Qt's offscreen platform has no Quit, for one)
COMMON_KEYS = {_KEY.New: "Ctrl+N", _KEY.Open: "Ctrl+O", _KEY.Save: "Ctrl+S", _KEY.SaveAs: "Ctrl+Shift+S",
               _KEY.Quit: "Ctrl+Q"}
OPEN_MODEL_KEYS = "Ctrl+Shift+O"  # no standard key: Open's, with Shift
EXPORT_MODEL_KEYS = "Ctrl+E"  # no standard key for Export: the common one
PNG_SCALES = (1, 2, 3, 4)  # a PNG's size: this many times the plot's size on screen


def png_size(target: pg.PlotItem | pg.GraphicsScene, scale: int = 1) -> tuple[int, int]:
    """Width and height in pixels of target's PNG at `scale` times its size on screen."""
    exporter = pg.exporters.ImageExporter(target)  # kept while its width is set: it makes the height follow
    params = exporter.parameters()
    params["width"] = round(params["width"] * scale)
    return params["width"], params["height"]


def export_plot(target: pg.PlotItem | pg.GraphicsScene, path: str, csv_items: list[pg.PlotItem] = (),
                scale: int = 1) -> list[str]:
    """Write target as PNG (at `scale` times its size on screen) or SVG, or csv_items as CSV (one file per
    plot), by the file's extension.

    Returns the paths written. pyqtgraph's exporters do the work.
    """
    ext = Path(path).suffix.lower()
    if ext == ".png":
        if scale not in PNG_SCALES:
            raise ValueError(f"PNG scale must be one of {', '.join(map(str, PNG_SCALES))}, got {scale!r}")
        exporter = pg.exporters.ImageExporter(target)
        exporter.parameters()["width"] = round(exporter.parameters()["width"] * scale)
        with _scaled_with_the_rest(target):
            exporter.export(path)
        return [path]
    if ext == ".svg":
        try:
            pg.exporters.SVGExporter(target).export(path)
        except ValueError:  # pyqtgraph 0.14 cannot parse Qt 6.11's SVG paths (pyqtgraph issue #3485)
            _svg_via_qt(target, path)
        return [path]
    if ext == ".csv":
        if not csv_items:
            raise ValueError("this plot has no curves to write as CSV; choose .png or .svg")
        stem, written = str(Path(path).with_suffix("")), []
        for k, item in enumerate(csv_items):
            out = path if k == 0 else f"{stem}-{k + 1}.csv"
            pg.exporters.CSVExporter(item).export(out)
            written.append(out)
        return written
    raise ValueError(f"{path}: choose a .png, .svg or .csv file name")


@contextlib.contextmanager
def _scaled_with_the_rest(target: pg.PlotItem | pg.GraphicsScene):
    """While exporting: items that keep their size on screen whatever the zoom (pyqtgraph's legends) follow the
    painter's scale, so a 2× PNG has its legend at 2× like the axes and curves, not at 1× in a corner."""
    scene = target if isinstance(target, QGraphicsScene) else target.scene()
    flag = QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations
    fixed = [item for item in scene.items() if item.flags() & flag]
    for item in fixed:
        item.setFlag(flag, False)
    try:
        yield
    finally:
        for item in fixed:
            item.setFlag(flag, True)


def _show_dock_of(widget: QWidget) -> None:
    """Show and raise the dock that holds widget (it may be a background tab)."""
    parent = widget.parentWidget()
    while parent is not None and not isinstance(parent, QDockWidget):
        parent = parent.parentWidget()
    if parent is not None:
        parent.show()
        parent.raise_()


def _svg_via_qt(target: pg.PlotItem | pg.GraphicsScene, path: str) -> None:
    """SVG of target drawn by Qt's own SVG paint engine, every item in pyqtgraph's export mode.

    Export mode is what pyqtgraph's exporters switch on while they paint: a scatter then draws each point as a
    vector symbol (one path per point) instead of copying it from its bitmap atlas (one embedded image per
    point, which renders as junk). A plot is drawn alone, at its size in the window; a scene as its view shows it.
    """
    scene = target if isinstance(target, QGraphicsScene) else target.scene()
    view = scene.views()[0]
    source = (view.mapToScene(view.viewport().rect()).boundingRect() if target is scene
              else target.sceneBoundingRect())
    size = QRectF(0, 0, source.width(), source.height())
    generator = QSvgGenerator()
    generator.setFileName(path)
    generator.setSize(size.size().toSize())
    generator.setViewBox(size)
    generator.setResolution(view.logicalDpiX())  # QPictures (axes) replay at the DPI they were recorded at
    generator.setTitle("Backprop Lab plot")
    modes = pg.exporters.SVGExporter(scene)  # only for its setExportMode over every item of the scene
    cached = [(item, item.cacheMode()) for item in scene.items()
              if item.cacheMode() != QGraphicsItem.CacheMode.NoCache]  # axes: text and ticks, not a bitmap
    painter = QPainter(generator)
    try:
        for item, _mode in cached:
            item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        modes.setExportMode(True, {"antialias": True, "background": view.backgroundBrush().color(),
                                   "painter": painter})
        scene.render(painter, size, source)
    finally:
        modes.setExportMode(False)
        for item, mode in cached:
            item.setCacheMode(mode)
        painter.end()


class FileMenu(QObject):
    """Builds the File menu on a window and runs its actions against the controller."""

    def __init__(self, window: QMainWindow, controller: TrainingController, settings: QSettings | None,
                 plots: Callable[[], dict[str, tuple]], confirm_discard: Callable[[str], bool]) -> None:
        super().__init__(window)
        self.window, self.controller, self.settings = window, controller, settings
        self._plots = plots  # name → (exporter target, [PlotItems for CSV])
        self._confirm_discard = confirm_discard
        self.last_written: list[str] = []
        self.menu = window.menuBar().addMenu("&File")
        self.menu.setObjectName("fileMenu")
        self.menu.setAccessibleName("file menu")
        self.menu.setToolTip("Sessions, data files and exports")
        self.actions: dict[str, QAction] = {}
        self._add("new", "&New", QKeySequence.StandardKey.New, "Start over with the default experiment",
                  lambda: self.new())
        self._add("open", "&Open session…", QKeySequence.StandardKey.Open,
                  "Open a session file: its weights, settings and history", lambda: self.open_session())
        self._add("openModel", "Open &model…", OPEN_MODEL_KEYS,
                  "Load a model file's network (architecture and weights) onto the data and settings in use",
                  lambda: self.open_model())
        self.recent_menu = self.menu.addMenu("Open &recent")
        self.recent_menu.setObjectName("recentMenu")
        self.recent_menu.setAccessibleName("recent sessions")
        self.recent_menu.setToolTip("Session files opened or saved lately")
        self._add("save", "&Save session", QKeySequence.StandardKey.Save,
                  "Save weights, settings and history (Ctrl+S)", lambda: self.save())
        self._add("saveAs", "Save session &as…", QKeySequence.StandardKey.SaveAs,
                  "Save the session under a new name", lambda: self.save_as())
        self.menu.addSeparator()
        self._add("openCsv", "Open CSV &data…", None,
                  "Train on a numeric CSV file: preview it, choose the target column and the task",
                  lambda: self.open_csv())
        self._add("exportModel", "&Export model…", EXPORT_MODEL_KEYS,
                  "Write the network and its experiment as a safetensors model file", lambda: self.export_model())
        self.export_menu = self.menu.addMenu("Export &plots")
        self.export_menu.setObjectName("exportPlotsMenu")
        self.export_menu.setAccessibleName("export plots")
        self.export_menu.setToolTip("Save a plot as PNG or SVG, or its curves as CSV")
        for name in plots():
            action = self.export_menu.addAction(f"{name}…")
            action.setObjectName(f"export_{name.replace(' ', '_')}")
            action.setToolTip(f"Save the {name} plot as PNG, SVG or CSV")
            action.triggered.connect(lambda _checked=False, n=name: self.export_plot(n))
            self.actions[action.objectName()] = action
        self.menu.addSeparator()
        self._add("quit", "&Quit", QKeySequence.StandardKey.Quit, "Close the window", window.close)
        self.refresh_recent()
        window.setAcceptDrops(True)  # a CSV file dropped anywhere on the window (the data panel takes its own)
        window.installEventFilter(self)

    # ----------------------------------------------------------------------------------------- actions
    def new(self) -> bool:
        """Start over with the default experiment."""
        if not self._confirm_discard("starting a new session"):
            return False
        return self._guard("New session", self.controller.new)

    def open_session(self, path: str | None = None) -> bool:
        """Open a session file (asks for one when path is None)."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self.window, "Open session", self._folder(), SESSION_FILTER)
            if not path:
                return False
        if not self._confirm_discard("opening another session"):
            return False
        ok = self._guard("Cannot open the session", self.controller.open_session, path)
        if ok:
            self._remember(path)
        return ok

    def open_model(self, path: str | None = None) -> bool:
        """Load a model file's network onto the data and settings in use (asks for a file when path is None)."""
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self.window, "Open model", self._folder(), MODEL_FILTER)
            if not path:
                return False
        if not self._confirm_discard("loading another network"):
            return False
        ok = self._guard("Cannot open the model", self.controller.open_model, path)
        if ok:
            if self.settings is not None:
                self.settings.setValue("lastFolder", os.path.dirname(os.path.abspath(path)))
            self.window.statusBar().showMessage(f"network loaded from {path}", 5000)
        return ok

    def save(self) -> bool:
        """Save to the current session file, or ask for one."""
        if self.controller.session_path is None:
            return self.save_as()
        return self._save(self.controller.session_path)

    def save_as(self, path: str | None = None) -> bool:
        """Save under a new name (asks for one when path is None)."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self.window, "Save session", self._folder("session.safetensors"),
                                                  SESSION_FILTER)
            if not path:
                return False
        return self._save(path)

    def open_csv(self, path: str | os.PathLike[str] | None = None) -> CsvImportDialog | None:
        """Open the data panel's CSV import dialog for a file (asks for one when path is None).

        The dialog is window-modal and returns at once; Import sends the DataSpec with the chosen target and
        task and the data read through the data panel to the window (MainWindow.set_data). None when no file
        was chosen or it cannot be read (the data panel says why in a message box).
        """
        if path is None:
            path, _ = QFileDialog.getOpenFileName(self.window, "Open CSV data", self._folder(), CSV_FILTER)
            if not path:
                return None
        panel = self._data_panel()
        _show_dock_of(panel)  # the imported data then shows where the user sees it
        return panel.open_csv(path)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A local CSV file dragged over the window is accepted; dropped, it opens the import dialog."""
        if watched is self.window and event.type() in (QEvent.Type.DragEnter, QEvent.Type.DragMove,
                                                        QEvent.Type.Drop):
            path = csv_path_of(event.mimeData())
            if path is None:
                return False
            event.acceptProposedAction()
            if event.type() == QEvent.Type.Drop:
                self.open_csv(path)
            return True
        return super().eventFilter(watched, event)

    def export_model(self, path: str | None = None) -> bool:
        """Write the network as a model file."""
        if path is None:
            path, _ = QFileDialog.getSaveFileName(self.window, "Export model", self._folder("model.safetensors"),
                                                  MODEL_FILTER)
            if not path:
                return False
        ok = self._guard("Cannot export the model", self.controller.export_model, path)
        if ok:
            self.last_written = [path]
            self.window.statusBar().showMessage(f"model written to {path}", 5000)
        return ok

    def export_plot(self, name: str, path: str | None = None, scale: int | None = None) -> bool:
        """Export one plot: PNG (at a chosen multiple of its size on screen) or SVG of the plot, CSV of its
        curves, by the file's extension. Asks for the path when it is None, and for a PNG's size when scale is
        None and the path was asked for (else the size on screen)."""
        target, csv_items = self._plots()[name]
        asked = path is None
        if path is None:
            stem = name.replace(" ", "-")
            path, _ = QFileDialog.getSaveFileName(self.window, f"Export {name}", self._folder(f"{stem}.png"),
                                                  PLOT_FILTER if csv_items else IMAGE_FILTER)
            if not path:
                return False
        if Path(path).suffix.lower() == ".png" and scale is None:
            scale = self._ask_png_scale(name, target) if asked else 1
            if scale is None:
                return False
        written: list[str] = []

        def run() -> None:
            written.extend(export_plot(target, path, csv_items, scale or 1))

        ok = self._guard(f"Cannot export the {name}", run)
        if ok:
            self.last_written = written
            self.window.statusBar().showMessage("written: " + ", ".join(written), 5000)
        return ok

    def refresh_recent(self) -> None:
        """Rebuild the Open recent submenu."""
        self.recent_menu.clear()
        files = recent_files(self.settings) if self.settings is not None else []
        for k, path in enumerate(files):
            action = self.recent_menu.addAction(f"&{k + 1} {os.path.basename(path)}")
            action.setObjectName(f"recent_{k}")
            action.setToolTip(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_session(p))
        self.recent_menu.setEnabled(bool(files))

    # ----------------------------------------------------------------------------------------- private
    def _data_panel(self) -> DataPanel:
        panel = self.window.findChild(DataPanel)
        if panel is None:  # build_views always makes one; a window without it is a programming error
            raise RuntimeError("the window has no data panel to import CSV files with")
        return panel

    def _add(self, key, text, shortcut, tip, slot) -> QAction:
        action = QAction(text, self.window)
        action.setObjectName(f"{key}Action")
        action.setToolTip(tip)
        action.setStatusTip(tip)
        if isinstance(shortcut, QKeySequence.StandardKey):  # the platform's keys, else the common one
            action.setShortcuts(QKeySequence.keyBindings(shortcut) or [QKeySequence(COMMON_KEYS[shortcut])])
        elif shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        self.menu.addAction(action)
        self.actions[key] = action
        return action

    def _ask_png_scale(self, name: str, target) -> int | None:
        """The PNG's size as a multiple of the plot's size on screen (the last choice preselected); None: cancel."""
        sizes = [png_size(target, k) for k in PNG_SCALES]
        items = [f"{k}× — {w} × {h} pixels" + (" (as on screen)" if k == 1 else "")
                 for k, (w, h) in zip(PNG_SCALES, sizes, strict=True)]
        last = int(self.settings.value("pngScale", 1)) if self.settings is not None else 1
        current = PNG_SCALES.index(last) if last in PNG_SCALES else 0
        item, ok = QInputDialog.getItem(self.window, f"Export {name}", "Size of the PNG image:", items, current,
                                        False)
        if not ok:
            return None
        scale = PNG_SCALES[items.index(item)]
        if self.settings is not None:
            self.settings.setValue("pngScale", scale)
        return scale

    def _save(self, path: str) -> bool:
        ok = self._guard("Cannot save the session", self.controller.save_session, path)
        if ok:
            self._remember(path)
            self.window.statusBar().showMessage(f"session saved to {path}", 5000)
        return ok

    def _guard(self, title: str, fn, *args) -> bool:
        try:
            fn(*args)
        except dialogs.USER_ERRORS as e:
            dialogs.show_error(self.window, title, e)
            return False
        return True

    def _remember(self, path: str) -> None:
        if self.settings is not None:
            add_recent_file(self.settings, path)
            self.settings.setValue("lastFolder", os.path.dirname(os.path.abspath(path)))
            self.refresh_recent()

    def _folder(self, name: str = "") -> str:
        folder = str(self.settings.value("lastFolder", "")) if self.settings is not None else ""
        folder = folder if folder and os.path.isdir(folder) else os.getcwd()
        return os.path.join(folder, name) if name else folder

