"""The lesson preset: type W, x and t by hand (or load them from a small file), then inspect them in large type.

`LessonDialog` collects a bpcore.lesson.Lesson (every number typed as text, refused with the engine's DataError
naming the matrix and line); `apply_lesson` hands it to an InspectorPanel in lesson look (lecture notation, J as
the mean, all layers side by side) and `lesson_size` is the window size that shows a network up to 2-3-2 without
scrolling, within 1920 × 1080. Large type comes from Qt's own scaling (QT_SCALE_FACTOR, set by
`python -m bpgui.inspector.demo --lesson …` before the application starts), which scales every font, style sheet
and table alike.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QSize
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from bpcore import backprop as bp
from bpcore.errors import BackpropLabError
from bpcore.inspection import UpdateRule
from bpcore.lesson import Lesson, lesson_from_text, load_lesson, save_lesson
from bpgui.inspector._style import FAIL_COLOUR, describe
from bpgui.inspector.panel import InspectorPanel

__all__ = ["LESSON_SCALE", "SCREEN", "LessonDialog", "apply_lesson", "example_lesson", "lesson_size"]

LESSON_SCALE = 1.2  # Qt's scale factor for lessons: 10 pt type becomes 12 pt, and one layer of a 2-3-2 still fits
SCREEN = QSize(1920, 1080)

# the lecture-sized example: sigmoid hidden layer, softmax output, biases in the last rows (eq. 11)
_W1 = [[0.5, -0.3, 0.8], [0.2, 0.7, -0.6], [0.1, -0.2, 0.05]]
_W2 = [[0.9, -0.4], [-0.5, 0.6], [0.3, 0.2], [0.05, -0.1]]


def example_lesson() -> Lesson:
    """The 2-3-2 network of the documentation with two rows."""
    return Lesson((np.array(_W1), np.array(_W2)), ("sigmoid",), "softmax", np.array([[0.7, -1.2], [0.3, 0.4]]),
                  np.array([1, 0]), 0.5)


def _text(a: np.ndarray) -> str:
    a = np.atleast_2d(a)
    return "\n".join("  ".join(f"{v:g}" for v in row) for row in a)


def apply_lesson(panel: InspectorPanel, lesson: Lesson) -> None:
    """Inspect `lesson` in the panel, in lesson look: lecture notation, J as the mean, all layers side by side."""
    panel.set_lesson_layout(True)
    panel.set_source(*lesson.source(), rule=UpdateRule(lr=lesson.lr))  # a lesson's step is eq. 10 exactly
    panel.set_notation(True)
    panel.set_reduction("mean")
    panel.show_layer(len(lesson.weights))  # one layer in full, the output layer first (the lecture's order)


def lesson_size(panel: InspectorPanel, scale: float = 1.0) -> QSize:
    """The size that shows every card without scrolling (the layouts' own size hints, after the stages to be
    shown are revealed), capped at the screen: 1920 × 1080 physical pixels at Qt scale factor `scale`."""
    for w in (panel, *panel.findChildren(QWidget)):  # style sheets (fonts, paddings) decide the sizes
        w.ensurePolished()
    QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)  # layouts settled, no other event handled
    hint = panel.grid.sizeHint()
    inner = panel.frame_layout()
    m, gap = inner.contentsMargins(), max(0, inner.spacing())
    slack = 8  # the frame's 2 px border on each side, and rounding
    width = m.left() + hint.width() + gap + panel.side_scroll.width() + m.right() + slack
    height = (m.top() + panel.controls.sizeHint().height() + gap + panel.summary.sizeHint().height() + gap
              + panel.layer_tabs.sizeHint().height() + hint.height() + m.bottom() + slack)
    want = QSize(width, height)
    return want.boundedTo(QSize(int(SCREEN.width() / scale), int((SCREEN.height() - 40) / scale)))


class LessonDialog(QDialog):
    """Type the weights W^(l) (bias row last), the rows x and the targets t; Load… / Save… a lesson file."""

    def __init__(self, lesson: Lesson | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        describe(self, "lessonDialog", "lesson editor",
                 "Type a small network and its rows by hand, one matrix row per line")
        self.setWindowTitle("Lesson: type W, x and t")
        self._lesson: Lesson | None = None
        self.output = QComboBox()
        describe(self.output, "lessonOutput", "output kind", "softmax + cross-entropy, sigmoid + binary "
                 "cross-entropy, or identity + mean squared error")
        self.output.addItems(list(bp.OUTPUTS))
        self.hidden = QComboBox()
        describe(self.hidden, "lessonActivation", "hidden activation φ", "φ of every hidden layer")
        self.hidden.addItems(list(bp.ACTIVATIONS))
        self.lr = QDoubleSpinBox()
        describe(self.lr, "lessonLr", "learning rate μ", "μ of eq. 10")
        self.lr.setRange(1e-6, 100.0)
        self.lr.setDecimals(4)
        self.w_edits = [self._edit(f"lessonW{l}", f"W^({l})") for l in (1, 2)]
        self.x_edit = self._edit("lessonX", "x: one row per sample")
        self.t_edit = self._edit("lessonT", "t: one target per row (class ids from 0 for softmax)")
        self.error = QLabel()
        describe(self.error, "lessonError", "lesson error", "What is wrong with the typed numbers")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {FAIL_COLOUR};")
        load, save = QPushButton("Load…"), QPushButton("Save…")
        describe(load, "lessonLoad", "load lesson", "Read W, x and t from a lesson file (JSON)")
        describe(save, "lessonSave", "save lesson", "Write W, x and t to a lesson file (JSON)")
        load.clicked.connect(self._load)
        save.clicked.connect(self._save)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.addButton(load, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(save, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("output", self.output)
        form.addRow("hidden φ", self.hidden)
        form.addRow("μ", self.lr)
        form.addRow("W^(1) (last row: b)", self.w_edits[0])
        form.addRow("W^(2) (last row: b)", self.w_edits[1])
        form.addRow("x", self.x_edit)
        form.addRow("t", self.t_edit)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.set_lesson(lesson or example_lesson())

    def _edit(self, name: str, tip: str) -> QPlainTextEdit:
        e = QPlainTextEdit()
        describe(e, name, tip, tip + " (numbers separated by spaces or commas)")
        e.setFixedHeight(78)
        return e

    def set_lesson(self, lesson: Lesson) -> None:
        """Fill the fields from a lesson (two layers shown; one-layer lessons leave W^(2) empty)."""
        self.output.setCurrentText(lesson.output)
        if lesson.activations:
            self.hidden.setCurrentText(lesson.activations[0])
        self.lr.setValue(lesson.lr)
        for edit, W in zip(self.w_edits, [*lesson.weights, None], strict=False):
            edit.setPlainText("" if W is None else _text(W))
        self.x_edit.setPlainText(_text(lesson.x))
        self.t_edit.setPlainText(_text(lesson.t.reshape(len(lesson.t), -1)))
        self.error.clear()

    def lesson(self) -> Lesson:
        """The typed lesson (DataError naming the matrix and the line when something does not parse)."""
        texts = [e.toPlainText() for e in self.w_edits if e.toPlainText().strip()]
        acts = [self.hidden.currentText()] * (len(texts) - 1)
        return lesson_from_text(texts, acts, self.output.currentText(), self.x_edit.toPlainText(),
                                self.t_edit.toPlainText(), self.lr.value())

    def result_lesson(self) -> Lesson | None:
        """The lesson accepted with OK, or None."""
        return self._lesson

    def accept(self) -> None:
        try:
            self._lesson = self.lesson()
        except BackpropLabError as e:
            self.error.setText(str(e))
            return
        super().accept()

    def load(self, path: str) -> bool:
        """Fill the fields from a lesson file; the error is shown (and False returned) when it is refused."""
        try:
            self.set_lesson(load_lesson(path))
        except BackpropLabError as e:
            self.error.setText(str(e))
            return False
        return True

    def _load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load lesson", "", "Lesson (*.json)")
        if path:
            self.load(path)

    def _save(self) -> None:
        try:
            lesson = self.lesson()
        except BackpropLabError as e:
            self.error.setText(str(e))
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save lesson", "lesson.json", "Lesson (*.json)")
        if path:
            try:
                save_lesson(lesson, path)
            except OSError as e:
                self.error.setText(f"could not write {path}: {e}")
