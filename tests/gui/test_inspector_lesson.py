"""The lesson preset in the window: W, x and t typed into the dialog become the inspected network, typing
mistakes are named, the lesson look is lecture notation with eq. 10 exactly, and the lesson size shows a 2-3-2
network without scroll bars within 1920 × 1080."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QApplication

from bpgui.inspector import InspectorPanel
from bpgui.inspector.lesson import SCREEN, LessonDialog, apply_lesson, example_lesson, lesson_size


def test_typed_lesson_is_inspected_and_mistakes_are_named(qtbot, tmp_path):
    d = LessonDialog()
    qtbot.addWidget(d)
    d.x_edit.clear()
    qtbot.keyClicks(d.x_edit, "1 2")
    d.t_edit.setPlainText("0")
    d.accept()
    lesson = d.result_lesson()
    assert lesson is not None and np.array_equal(lesson.x, [[1.0, 2.0]]) and lesson.t.tolist() == [0]
    d2 = LessonDialog()
    qtbot.addWidget(d2)
    d2.w_edits[1].setPlainText("0.9 -0.4\n-0.5 zero")
    d2.accept()
    assert d2.result_lesson() is None and "W^(2), line 2: 'zero' is not a number" in d2.error.text()
    (tmp_path / "l.json").write_text("[]")
    assert not d2.load(str(tmp_path / "l.json")) and "expected an object" in d2.error.text()

    p = InspectorPanel()
    qtbot.addWidget(p)
    apply_lesson(p, lesson)
    p.step_all()
    assert p.controls.notation.isChecked() and p.session.reduction() == "mean"
    assert "exactly" in p.side.rule_text() and "not given" not in p.side.rule_text()
    t = p.current_trace()
    # eq. 10 with the lesson's μ: the shown update is −μ ∇_W J
    for lt in t.layers:
        assert np.abs(lt.update + lesson.lr * lt.grad_W).max() < 1e-15


def test_lesson_size_fits_the_screen_without_scroll_bars(qtbot):
    p = InspectorPanel()
    qtbot.addWidget(p)
    apply_lesson(p, example_lesson())
    p.step_all()
    p.show()
    qtbot.waitExposed(p)
    size = lesson_size(p)
    assert size.width() <= SCREEN.width() and size.height() <= SCREEN.height()
    p.resize(size)
    for _ in range(3):  # the resize, then the scroll area's layout of its new viewport
        QApplication.processEvents()
    scroll = p.layers_scroll
    assert not scroll.verticalScrollBar().isVisible() and not scroll.horizontalScrollBar().isVisible()
    assert p.grid.card(2, "W_next").revealed()
    # one layer in full, the output layer first; its W, W_next and the update side by side (the lesson layout)
    assert p.grid.shown_layer() == 2
    y = {k: p.grid.card(2, k).mapTo(p.grid, p.grid.card(2, k).rect().topLeft()).y() for k in ("update", "W", "W_next")}
    assert len(set(y.values())) == 1, y
    assert p.layer_tabs.tabText(p.layer_tabs.currentIndex()).startswith("Layer 2")
