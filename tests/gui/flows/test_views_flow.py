"""The views as a person meets them: a real MainWindow driven through its docks, data sets and runs, with
assertions on what each view shows (ranges, positions, sizes). Passes offscreen and under a real X server
(QT_QPA_PLATFORM=xcb)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from flow_window import make_window
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QComboBox, QMessageBox, QToolButton

from bpcore.config import BUNDLED_SOURCES, TOY_SOURCES, DataSpec
from bpgui.docks import reset_layout
from bpgui.main_window import MainWindow
from bpgui.panels.source_combo import SOURCE_ROLE


def dock_state(window: MainWindow) -> dict[str, tuple]:
    """Per dock: its area, floating, shown, the docks tabbed with it, whether it is the front tab, its size."""
    out = {}
    for key, dock in window.views.docks.items():
        tabbed = frozenset(k for k, other in window.views.docks.items() if other in window.tabifiedDockWidgets(dock))
        front = not dock.visibleRegion().isEmpty()
        out[key] = (window.dockWidgetArea(dock), dock.isFloating(), not dock.isHidden(), tabbed, front,
                    dock.width(), dock.height())
    return out


def test_reset_layout_puts_every_dock_back_where_a_fresh_window_has_it(qtbot):
    window = make_window(qtbot)
    fresh = dock_state(window)
    d = window.views.docks
    # what a person does to a layout: drag docks to other areas, float one, close one, tab two together
    window.addDockWidget(Qt.DockWidgetArea.TopDockWidgetArea, d["loss"])
    d["criteria"].setFloating(True)
    d["confusion"].close()
    window.tabifyDockWidget(d["loss"], d["data"])
    QApplication.processEvents()
    assert dock_state(window) != fresh

    reset_layout(window)
    QApplication.processEvents()
    after = dock_state(window)
    for key, (area, floating, shown, tabbed, front, w, h) in fresh.items():
        assert after[key][:5] == (area, floating, shown, tabbed, front), key
        if front:  # a background tab keeps a stale size until it is raised
            # the first start's splitter sizes, up to a few pixels of rounding in Qt's layout
            assert abs(after[key][5] - w) <= 4 and abs(after[key][6] - h) <= 4, (key, after[key][5:], (w, h))


def contains(view_range, points: np.ndarray) -> bool:
    """Every point inside the (x0, x1), (y0, y1) on screen."""
    (x0, x1), (y0, y1) = view_range
    return bool(len(points)) and bool(np.all((points[:, 0] >= x0) & (points[:, 0] <= x1)
                                             & (points[:, 1] >= y0) & (points[:, 1] <= y1)))


def scatter_range_and_points(window: MainWindow):
    item = window.views.scatter.points_item()
    x, y = item.getData()
    return item.getViewBox().viewRange(), np.column_stack([x, y])


def test_each_data_set_is_drawn_in_its_own_range(qtbot):
    """Down through the data source list, as a person would: every sample of each set on screen, in the
    middle plot and in the data plot (wine, breast cancer and digits kept spirals' ±2 range before)."""
    window = make_window(qtbot)
    window.views.docks["data"].raise_()
    combo = window.views.data_panel.findChild(QComboBox, "dataSource")
    seen = []
    combo.setFocus()
    for _ in range(len(TOY_SOURCES) + len(BUNDLED_SOURCES) + 2):  # + the two headings
        before = combo.source()
        qtbot.keyClick(combo, Qt.Key.Key_Down)
        if combo.source() == before:
            continue
        qtbot.waitUntil(lambda: window.controller.trainer.dataset.name == combo.source(), timeout=10_000)
        name = combo.source()
        decision = window.views.decision
        assert contains(decision.view_range(), decision.points()), name
        assert contains(*scatter_range_and_points(window)), name
        seen.append(name)
    assert {"wine", "breast_cancer", "digits", "sine", "iris"} <= set(seen)


def test_csv_data_and_a_task_change_are_drawn_in_their_own_range(qtbot, tmp_path):
    """A CSV file of one input and a target of 100…500 (regression: the fitted curve over x against the
    target), then the same file as three classes: each time every sample is on screen, after a zoom too."""
    x = np.linspace(0.0, 10.0, 60)
    y = np.where(x < 3, 100, np.where(x < 7, 300, 500))
    path = tmp_path / "steps.csv"
    path.write_text("x,y\n" + "".join(f"{a:.3f},{b}\n" for a, b in zip(x, y, strict=True)))
    window = make_window(qtbot)
    decision = window.views.decision
    for task in ("regression", "classification"):
        decision.plot_item().getViewBox().scaleBy((0.1, 0.1))  # a person zoomed in on the old data
        window.set_data(DataSpec(source=f"csv:{path}", target="y", task=task, standardise=False))
        assert window.controller.trainer.task == task
        assert contains(decision.view_range(), decision.points()), task
        assert contains(*scatter_range_and_points(window)), task
    (_x0, _x1), (y0, y1) = decision.view_range()
    assert y1 - y0 < 10  # classification: the plane of x against the class, no longer the 100…500 target


def click(qtbot, window: MainWindow, name: str) -> None:
    qtbot.mouseClick(window.toolbar.findChild(QToolButton, name), Qt.MouseButton.LeftButton)


def test_reset_starts_the_loss_and_accuracy_plots_over(qtbot, monkeypatch):
    asked = []  # "Reset the network?" when new data comes during a run: the person answers Yes
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda _parent, title, *args, **kwargs: asked.append(title) or QMessageBox.StandardButton.Yes))
    window = make_window(qtbot)
    loss, score = window.views.loss.plot_items()
    click(qtbot, window, "playActionButton")
    qtbot.waitUntil(lambda: window.controller.latest.epoch >= 40, timeout=20_000)
    click(qtbot, window, "playActionButton")  # pause
    qtbot.waitUntil(lambda: window.controller.mode() != "running", timeout=10_000)
    window.refresher.draw_now()
    assert loss.getViewBox().viewRange()[0][1] >= 40
    assert score.getViewBox().viewRange()[1][1] <= 1.02 + 1e-9  # accuracy never past 1

    click(qtbot, window, "resetActionButton")
    qtbot.waitUntil(lambda: window.controller.latest.epoch == 0, timeout=10_000)
    window.refresher.draw_now()
    assert loss.getViewBox().viewRange()[0][1] <= 10.5  # the epoch axis of an empty run, not the old 40+
    assert all(curve.xData is None or len(curve.xData) == 0 for curve in window.views.loss.curves().values())
    assert window.views.loss.legend_names() == []

    click(qtbot, window, "playActionButton")  # a new data set after some epochs: the same fresh start
    qtbot.waitUntil(lambda: window.controller.latest.epoch >= 40, timeout=20_000)
    click(qtbot, window, "playActionButton")
    qtbot.waitUntil(lambda: window.controller.mode() != "running", timeout=10_000)
    window.refresher.draw_now()
    assert loss.getViewBox().viewRange()[0][1] >= 40
    choose_source(qtbot, window, "moons")
    qtbot.waitUntil(lambda: window.controller.latest.epoch == 0, timeout=10_000)
    window.refresher.draw_now()
    assert loss.getViewBox().viewRange()[0][1] <= 10.5
    assert all(curve.xData is None or len(curve.xData) == 0 for curve in window.views.loss.curves().values())


def choose_source(qtbot, window: MainWindow, source: str) -> None:
    """Pick a data source in the Data panel's list, as a person does (keys through the list)."""
    window.views.docks["data"].raise_()
    combo = window.views.data_panel.findChild(QComboBox, "dataSource")
    combo.setFocus()
    row = next(r for r in range(combo.count()) if combo.itemData(r, SOURCE_ROLE) == source)
    while combo.currentIndex() != row:
        qtbot.keyClick(combo, Qt.Key.Key_Down if combo.currentIndex() < row else Qt.Key.Key_Up)
    qtbot.waitUntil(lambda: window.controller.trainer.dataset.name == source, timeout=10_000)


def test_regression_shows_its_fit_on_a_colour_scale_and_no_confusion_matrix(qtbot):
    window = make_window(qtbot)
    v = window.views
    confusion = v.docks["confusion"]
    assert confusion.isEnabled() and v.decision.value_scale() is None  # spirals: classes, no colour bar

    choose_source(qtbot, window, "plane")  # 2 inputs, one numeric target
    click(qtbot, window, "stepActionButton")
    qtbot.waitUntil(lambda: window.controller.latest.epoch >= 1 and window.controller.latest.views is not None,
                    timeout=10_000)
    window.refresher.draw_now()
    levels, label = v.decision.value_scale()
    targets = window.controller.trainer.dataset.y[:, 0]
    assert levels == (targets.min(), targets.max()) and label == "predicted y (samples: target)"
    field = v.decision.field_rgb()
    assert field is not None and len(np.unique(field.reshape(-1, 3), axis=0)) > 20  # a colour scale, not one colour
    assert not confusion.isEnabled() and "regression" in confusion.toolTip()
    assert "classification only" in confusion.windowTitle()
    assert v.confusion.unavailable() is not None

    choose_source(qtbot, window, "sine")  # 1 input: the fitted curve, the vertical axis is the target
    assert v.decision.axis_labels() == ("x", "y (target)") and v.decision.value_scale() is None

    choose_source(qtbot, window, "moons")  # classes again: the matrix and its tab come back
    assert confusion.isEnabled() and confusion.windowTitle() == "Confusion matrix"
    assert v.confusion.unavailable() is None and v.decision.axis_labels() == ("x1", "x2")


def test_gradients_tab_is_readable_at_the_default_window_size(qtbot):
    window = make_window(qtbot)
    v = window.views
    v.docks["gradients"].raise_()  # the Gradients tab, as a click on it does
    click(qtbot, window, "stepActionButton")
    qtbot.waitUntil(lambda: window.controller.latest.epoch >= 1 and window.controller.latest.grads is not None,
                    timeout=10_000)
    window.refresher.draw_now()
    qtbot.wait(20)
    gradients = v.gradients
    assert gradients.side_by_side()
    assert gradients.legend_names() == ["δ(1)", "δ(2)", "δ(3)"]  # 2-8-8-2: every layer listed
    heatmaps = gradients.heatmaps().heatmaps()
    assert len(heatmaps) == 3
    for heatmap in heatmaps:
        assert heatmap._plot.getViewBox().height() >= 100
        axis = heatmap._plot.getAxis("left")
        assert axis.label.boundingRect().width() <= axis.height()


def test_inspector_opens_at_a_usable_size_and_gives_the_room_back(qtbot):
    """A click on a sample opens the inspector: it was a ~180 px strip in the bottom dock, buttons cut off."""
    window = make_window(qtbot)
    v = window.views
    start = v.docks["weights"].height()
    v.docks["data"].raise_()
    qtbot.wait(20)
    item = v.scatter.points_item()
    vb = item.getViewBox()
    x, y = item.getData()
    view = vb.scene().views()[0]
    at = view.mapFromScene(vb.mapViewToScene(pg.Point(float(x[5]), float(y[5]))))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    qtbot.waitUntil(lambda: v.inspector.isVisible() and v.docks["inspector"].height() >= 0.5 * window.height(),
                    timeout=5_000)
    assert v.scatter.highlighted() == 5
    scroll = v.docks["inspector"].widget()
    viewport = scroll.viewport().rect()
    c = v.inspector.controls
    for button in (c.forward, c.backward, c.update, c.step_all, c.check, c.export):
        corner = button.mapTo(scroll.viewport(), button.rect().bottomRight())
        assert viewport.contains(corner), button.text()  # on screen without scrolling

    v.docks["weights"].raise_()  # back to the heatmaps: the bottom area returns to its height
    qtbot.waitUntil(lambda: abs(v.docks["weights"].height() - start) <= 2, timeout=5_000)


def test_inspector_grows_in_a_window_whose_layout_was_restored(qtbot):
    """A second start restores the saved layout instead of arranging the docks: the inspector still opens
    at a usable height."""
    first = make_window(qtbot)
    first.close()  # saves the layout in the (temporary) settings
    window = make_window(qtbot)
    assert window._arranged  # the layout came from the settings
    v = window.views
    v.docks["inspector"].raise_()
    qtbot.waitUntil(lambda: v.docks["inspector"].height() >= 0.5 * window.height(), timeout=5_000)
