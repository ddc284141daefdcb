"""The views as a person meets them: a real MainWindow driven through its docks, data sets and runs, with
assertions on what each view shows (ranges, positions, sizes). Passes offscreen and under a real X server
(QT_QPA_PLATFORM=xcb)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from bpgui.docks import reset_layout
from bpgui.main_window import MainWindow
from bpgui.settings import open_settings


def make_window(qtbot, experiment=None) -> MainWindow:
    window = MainWindow(experiment, settings=open_settings(), ask_on_close=False, in_process=True)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    QApplication.processEvents()
    return window


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
