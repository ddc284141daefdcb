"""The window's panels: every view in a dock (data, architecture, curves, weights, gradients, confusion,
criteria) around the decision regions in the middle, with the first-start arrangement."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QScrollArea, QSplitter, QVBoxLayout, QWidget

from bpgui.inspector import InspectorPanel
from bpgui.panels import ArchitectureEditor, DataPanel
from bpgui.status import DivergenceBanner
from bpgui.views import (
    ConfusionView,
    CriteriaPanel,
    DataScatter,
    DecisionView,
    GradientView,
    LayerHeatmaps,
    LossPlot,
    NetworkDiagram,
)

INSPECTOR_SHARE = 0.55  # of the window's height, at least, for the inspector when its tab is raised in a side area
INSPECTOR_MAX_SHARE = 0.7  # and at most: the decision regions keep the rest
CONFUSION_TITLE = "Confusion matrix"
CONFUSION_TIP = "True against predicted class on the test set"
_TABBED = ("data", "gradients", "confusion", "inspector")  # docks that start as background tabs
_LEFT, _RIGHT, _BOTTOM = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea,
                          Qt.DockWidgetArea.BottomDockWidgetArea)
# where each dock starts, in the order it is added (the order sets the stacking within an area)
AREAS = {"architecture": _LEFT, "data": _LEFT, "loss": _RIGHT, "criteria": _RIGHT,
         "weights": _BOTTOM, "gradients": _BOTTOM, "confusion": _BOTTOM, "inspector": _BOTTOM}


@dataclass
class Views:
    """Every view and editor of the window."""

    decision: DecisionView
    decision_title: QLabel
    banner: DivergenceBanner
    scatter: DataScatter
    network: NetworkDiagram
    loss: LossPlot
    criteria: CriteriaPanel
    weights: LayerHeatmaps
    gradients: GradientView
    confusion: ConfusionView
    inspector: InspectorPanel
    data_panel: DataPanel
    architecture_editor: ArchitectureEditor
    docks: dict[str, QDockWidget]


def _dock(window: QMainWindow, key: str, title: str, tip: str, widget: QWidget) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName(f"{key}Dock")  # saveState/restoreState find docks by objectName
    dock.setAccessibleName(f"{title} panel")
    dock.setToolTip(tip)
    dock.setWidget(widget)
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                     | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                     | QDockWidget.DockWidgetFeature.DockWidgetClosable)
    return dock


def _stack(name: str, top: QWidget, bottom: QWidget, sizes: tuple[int, int]) -> QSplitter:
    splitter = QSplitter(Qt.Orientation.Vertical)
    splitter.setObjectName(name)
    splitter.setAccessibleName(name)
    splitter.setToolTip("Drag the handle to share the space")
    splitter.addWidget(top)
    splitter.addWidget(bottom)
    splitter.setSizes(list(sizes))
    splitter.setChildrenCollapsible(False)
    return splitter


class _GrowWhenShown(QObject):
    """Gives a docked panel a usable height while its tab is raised (the inspector's equations and buttons need
    ~450 px; the bottom area starts at ~270 px, fine for heatmaps) and hands the area its height back when
    another tab is raised."""

    def __init__(self, window: QMainWindow, dock: QDockWidget, others: list[QDockWidget]) -> None:
        super().__init__(dock)
        self.window, self.dock = window, dock
        self.restore: int | None = None  # the area's height before it grew, while grown
        self.left: int | None = None  # the height of the tab last hidden beside the panel (the area's height)
        self.active = True  # not while the first-start arrangement shows and tabs the docks (see pause)
        dock.visibilityChanged.connect(self._on_visibility)
        for other in others:  # a tab hidden beside the panel still has the area's height, up to date
            other.visibilityChanged.connect(lambda visible, other=other: self._on_other(other, visible))

    def _on_other(self, other: QDockWidget, visible: bool) -> None:
        if not visible and other in self.window.tabifiedDockWidgets(self.dock):
            self.left = other.height()

    def pause(self) -> None:
        """Ignore the tab changes of an arrangement until the event loop has run (then start from its sizes)."""
        self.active, self.restore = False, None
        QTimer.singleShot(0, self._resume)

    def _resume(self) -> None:
        self.active, self.restore, self.left = True, None, None

    def wanted(self) -> int:
        """The height the panel gets: its preferred height, at least INSPECTOR_SHARE of the window."""
        h = self.window.height()
        hint = self.dock.widget().sizeHint().height() + 40  # + the dock's title and the tab bar
        return int(min(max(hint, INSPECTOR_SHARE * h), INSPECTOR_MAX_SHARE * h))

    def _vertical_area(self) -> bool:
        area = self.window.dockWidgetArea(self.dock)
        return not self.dock.isFloating() and area in (Qt.DockWidgetArea.BottomDockWidgetArea,
                                                        Qt.DockWidgetArea.TopDockWidgetArea)

    def _on_visibility(self, visible: bool) -> None:
        if not self.active or not self._vertical_area():
            return
        if visible:
            QTimer.singleShot(0, self._grow)  # once every dock of the tab change has said so
        elif self.restore is not None:
            QTimer.singleShot(0, self._give_back)  # once the tab now raised is on screen

    def _grow(self) -> None:
        if not (self.active and self.dock.isVisible() and self._vertical_area()):
            return
        want, height = self.wanted(), self.left if self.left is not None else self.dock.height()
        if height < want:
            self.restore = self.restore if self.restore is not None else height
            _resize_height(self.window, self.dock, want)

    def _give_back(self) -> None:
        height, self.restore = self.restore, None
        shown = [d for d in self.window.tabifiedDockWidgets(self.dock)
                 if d.isVisible() and not d.visibleRegion().isEmpty()]
        if height is not None and shown and not self.dock.isFloating():
            _resize_height(self.window, shown[0], height)


def _resize_height(window: QMainWindow, dock: QDockWidget, height: int) -> None:
    """Make a docked panel `height` pixels tall. resizeDocks counts a tab group's tab bar in the size it is
    given and lays out later: once it has, ask again for what it fell short by."""
    window.resizeDocks([dock], [height], Qt.Orientation.Vertical)

    def correct() -> None:
        short = height - dock.height()
        if short > 0 and dock.isVisible():
            window.resizeDocks([dock], [height + short], Qt.Orientation.Vertical)

    QTimer.singleShot(0, correct)


def _scrolled(widget: QWidget) -> QScrollArea:
    """A wide panel in a scroll area, so that it does not set the window's minimum width."""
    area = QScrollArea()
    area.setObjectName(f"{widget.objectName() or 'panel'}Scroll")
    area.setAccessibleName("scrollable panel")
    area.setToolTip(widget.toolTip())
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidget(widget)
    return area


def build_views(window: QMainWindow) -> Views:
    """Create the views, put them in docks and arrange the docks for a first start."""
    data_panel = DataPanel()
    editor = ArchitectureEditor()

    decision = DecisionView()
    title = QLabel()
    title.setObjectName("decisionTitle")
    title.setAccessibleName("decision view title")
    title.setToolTip("What the middle plot shows")
    title.setAlignment(Qt.AlignmentFlag.AlignCenter)
    title.setWordWrap(True)  # a long title must not set the minimum width of the window
    title.setStyleSheet("QLabel { font-weight: bold; padding: 2px; }")
    banner = DivergenceBanner()
    central = QWidget()
    central.setObjectName("centralArea")
    layout = QVBoxLayout(central)
    layout.setContentsMargins(2, 2, 2, 2)
    layout.setSpacing(2)
    layout.addWidget(banner)
    layout.addWidget(title)
    layout.addWidget(decision, 1)
    window.setCentralWidget(central)

    scatter = DataScatter()
    network = NetworkDiagram()
    loss = LossPlot()
    criteria = CriteriaPanel()
    weights = LayerHeatmaps()
    weights.setToolTip("Weights W(l) of each layer: rows are inputs i (last row = bias b, eq. 11), columns "
                       "are neurons j; colour = w_ij, red positive, blue negative")
    gradients = GradientView()
    confusion = ConfusionView()
    inspector = InspectorPanel()

    docks = {
        "data": _dock(window, "data", "Data", "The data set: choose it, and see its samples",
                      _stack("dataSplitter", data_panel, scatter, (260, 400))),
        "architecture": _dock(window, "architecture", "Architecture",
                              "The network: layer sizes and activations, drawn with its weights",
                              _stack("architectureSplitter", editor, network, (220, 440))),
        "loss": _dock(window, "loss", "Loss and accuracy", "Loss and score per epoch", loss),
        "criteria": _dock(window, "criteria", "Stopping criteria", "How close each stopping rule is", criteria),
        "weights": _dock(window, "weights", "Weights", "Weight matrices W(l) as heatmaps", weights),
        "gradients": _dock(window, "gradients", "Gradients", "∇W J = h δᵀ (eq. 9) and mean |δ| per layer",
                           gradients),
        "confusion": _dock(window, "confusion", CONFUSION_TITLE, CONFUSION_TIP, confusion),
        "inspector": _dock(window, "inspector", "Inspector",
                           "Backpropagation for one sample, equation by equation (click a point in the data plot)",
                           _scrolled(inspector)),
    }
    _place(window, docks)
    _GrowWhenShown(window, docks["inspector"], [d for key, d in docks.items() if key != "inspector"])
    return Views(decision, title, banner, scatter, network, loss, criteria, weights, gradients, confusion,
                 inspector, data_panel, editor, docks)


def _place(window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
    """Put every dock in its first-start area (docked, in order); the tabbed ones hidden until arrange()."""
    window.setCorner(Qt.Corner.BottomLeftCorner, _LEFT)
    window.setCorner(Qt.Corner.TopLeftCorner, _LEFT)
    window.setCorner(Qt.Corner.BottomRightCorner, _BOTTOM)
    for key, area in AREAS.items():
        window.addDockWidget(area, docks[key])
        docks[key].setFloating(False)  # after adding: a floating dock added to an area stays floating
    for key, dock in docks.items():  # tabbed ones hidden until arrange() tabs them: stacked, they would
        dock.setVisible(key not in _TABBED)  # inflate the minimum size


def reset_layout(window: QMainWindow) -> None:
    """Put every dock of the window (``window.views``, a Views) back where a fresh window has it: docked in
    its first-start area, tabbed as at the first start, shown, with the first-start sizes for the window's
    current size. Closed and floating docks come back too."""
    views: Views = window.views
    for dock in views.docks.values():
        window.removeDockWidget(dock)  # also undoes tabs and splits made by dragging
    _place(window, views.docks)
    window.layout().activate()  # the layout pass arrange() needs before it tabs (see there)
    arrange(window, views)
    window.layout().activate()
    _size_docks(window, views.docks)  # again, now that the tabs take their room


def arrange(window: QMainWindow, views: Views) -> None:
    """The first-start arrangement: tabs, and dock sizes for the window's current size.

    Call it once the window is shown: tabifying a second group of docks before the first layout pass
    leaves a stale, visible tab bar behind (Qt 6.11).
    """
    d = views.docks
    for grow in d["inspector"].findChildren(_GrowWhenShown):
        grow.pause()
    window.tabifyDockWidget(d["architecture"], d["data"])
    window.tabifyDockWidget(d["weights"], d["gradients"])
    window.tabifyDockWidget(d["weights"], d["confusion"])
    window.tabifyDockWidget(d["weights"], d["inspector"])
    for key in _TABBED:
        d[key].show()
    d["architecture"].raise_()
    d["weights"].raise_()
    _size_docks(window, d)


def _size_docks(window: QMainWindow, d: dict[str, QDockWidget]) -> None:
    """The first-start share of the window for each dock area."""
    w, h = max(window.width(), 800), max(window.height(), 600)
    window.resizeDocks([d["architecture"], d["loss"]], [int(w * 0.27), int(w * 0.33)], Qt.Orientation.Horizontal)
    window.resizeDocks([d["loss"], d["criteria"]], [int(h * 0.42), int(h * 0.2)], Qt.Orientation.Vertical)
    window.resizeDocks([d["weights"]], [int(h * 0.3)], Qt.Orientation.Vertical)
