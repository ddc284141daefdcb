"""The inspector as a person meets it: a click on a point of the data plot opens it on that sample, its buttons are
all on screen at the dock's opening size, the backward pass is stepped one layer at a time from the output down,
the Σ switch and lecture notation are clicked, and the tables read back obey what their labels say. Passes
offscreen and under a real X server (QT_QPA_PLATFORM=xcb)."""

from __future__ import annotations

import numpy as np
from flow_window import make_window
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QAbstractButton, QApplication, QCheckBox, QComboBox, QTableView

from bpgui.inspector.table import VALUE_ROLE
from bpgui.main_window import MainWindow

# the window's numbers are float32 (the default dtype); a sum over B rows against B × the mean of the same rows,
# both from float32 kernels, agree to a few float32 ulp
F32 = 1e-5




def click(qtbot, widget) -> None:
    assert widget.isEnabled() and widget.isVisible(), widget.objectName()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)
    QApplication.processEvents()


def values(panel, layer: int, key: str) -> np.ndarray:
    view = panel.findChild(QTableView, f"table_{key}_{layer}")
    assert view is not None and not view.isHidden(), f"{key}^({layer}) is not shown"
    m = view.model()
    return np.array([[m.data(m.index(r, c), VALUE_ROLE) for c in range(m.columnCount())]
                     for r in range(m.rowCount())])


def click_sample(qtbot, window: MainWindow, row: int) -> None:
    """Click data row `row`'s point in the Data dock's scatter, where a person sees it."""
    window.views.docks["data"].show()
    window.views.docks["data"].raise_()
    QApplication.processEvents()
    scatter = window.views.scatter
    points = scatter.points_item()
    xs, ys = points.getData()
    x, y = xs[row], ys[row]
    vb = points.getViewBox()
    view = scatter._pw  # the GraphicsView the person clicks in
    at = view.mapFromScene(vb.mapViewToScene(QPointF(float(x), float(y))))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=at)
    QApplication.processEvents()


def test_a_click_on_a_sample_opens_the_inspector_and_every_control_is_on_screen(qtbot):
    window = make_window(qtbot)
    click_sample(qtbot, window, 7)
    panel = window.views.inspector
    dock = window.views.docks["inspector"]
    assert dock.isVisible()
    row = window.views.scatter.highlighted()
    assert row is not None and panel.session.row() == row  # the clicked point is the inspected row
    # every button and chooser of the bar lies wholly inside the dock as it opened (nothing cut off)
    for w in panel.controls.findChildren(QAbstractButton) + panel.controls.findChildren(QComboBox):
        if w.isHidden():
            continue
        inside = w.visibleRegion().boundingRect()
        assert inside == w.rect(), (w.objectName(), inside, w.rect(), dock.size())

    # Forward, then the backward pass one layer at a time, in the lecture's order
    click(qtbot, panel.controls.forward)
    L = len(panel.session.weights())
    shown = []
    for _ in range(L):
        click(qtbot, panel.controls.backward_layer)
        shown.append(tuple(l for l in range(1, L + 1) if panel.grid.card(l, "delta").revealed()))
    assert shown == [tuple(range(L - k, L + 1)) for k in range(L)]  # δ^(L) first, then down to δ^(1)
    assert panel.stage() == "backward"
    text = panel.chain.text()
    assert "✓ equal" in text and "nan" not in text and "✗" not in text
    assert panel.chain.layer_spin.value() == 1  # the chain rule followed to the lowest layer: ∂J/∂h from above
    assert "∂J/∂h" in text
    banner = panel.grid.stage_label("backward")
    assert "diag(o) − o oᵀ" in banner  # the default network is softmax: the banner says the Jacobian form
    window.close()


def test_the_sum_switch_and_lecture_notation_change_what_the_labels_say_and_the_numbers_obey(qtbot):
    window = make_window(qtbot)
    click_sample(qtbot, window, 3)
    panel = window.views.inspector
    c = panel.controls
    click(qtbot, c.batch)
    c.batch_size.setFocus()
    c.batch_size.selectAll()
    qtbot.keyClicks(c.batch_size, "4")
    qtbot.keyClick(c.batch_size, Qt.Key.Key_Return)
    click(qtbot, c.backward)
    B = len(panel.rows())
    assert B == 4
    L = len(panel.session.weights())
    mean_g, mean_d = values(panel, L, "grad_W"), values(panel, L, "delta")
    assert "includes 1/B" in panel.grid.card(L, "delta").symbol()
    # the Σ switch, chosen from the combo box with the keyboard as a person would
    c.reduction.setFocus()
    qtbot.keyClick(c.reduction, Qt.Key.Key_Down)
    QApplication.processEvents()
    assert c.reduction.currentData() == "sum"
    assert "J summed over the rows (eq. 1)" in panel.grid.card(L, "delta").symbol()
    assert "J = Σ over rows (eq. 1)" in panel.grid.stage_label("backward")
    np.testing.assert_allclose(values(panel, L, "grad_W"), B * mean_g, rtol=F32, atol=F32)
    np.testing.assert_allclose(values(panel, L, "delta"), B * mean_d, rtol=F32, atol=F32)
    # lecture notation (the default) numbers neurons from 1; the code's from 0
    view = panel.findChild(QTableView, f"table_grad_W_{L}")
    assert view.model().headerData(0, Qt.Orientation.Horizontal) == "1"
    toggle = panel.findChild(QCheckBox, "notationToggle")
    click(qtbot, toggle)
    assert not toggle.isChecked() and view.model().headerData(0, Qt.Orientation.Horizontal) == "0"
    assert "W^(" in panel.grid.card(1, "delta").symbol() and "[:-1]ᵀ" in panel.grid.card(1, "delta").symbol()
    window.close()
