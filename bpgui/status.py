"""The status line (why the run stopped, run state, epoch, step, losses, accuracy, speed, device) and the
divergence banner."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QStatusBar, QToolButton, QWidget

from bpcore.train import Snapshot

_FIELDS = (  # key, accessible name, tooltip, widest text expected (fixed widths: no relayout per frame)
    ("mode", "run state", "ready, running, paused, finished, diverged or failed", "finished"),
    ("epoch", "epoch", "Epochs trained (passes over the training set)", "epoch 0000000"),
    ("step", "step", "Mini-batch updates W ← W − μ h δᵀ (eq. 10) so far", "step 000,000,000"),
    ("loss", "loss", "Loss J (eq. 1) on the training and the test set, after the last epoch",
     "loss train 0.0000e-00 · test 0.0000e-00"),
    ("score", "score", "Accuracy (classification) or R² (regression) on the training and the test set",
     "accuracy train 100.0 % · test 100.0 %"),
    ("speed", "steps per second", "Training speed: mini-batch steps per second over the last epoch",
     "000,000 steps/s"),
    ("device", "device", "Where the tensors live", "cuda:0"),
)


def _num(v: float | None, fmt: str = ".4g") -> str:
    return "–" if v is None or not math.isfinite(v) else format(v, fmt)


def _pct(v: float | None) -> str:
    return "–" if v is None or not math.isfinite(v) else f"{100 * v:.1f} %"


class ElidedLabel(QLabel):
    """A one-line label that fits any width: text that does not fit ends in '…', the whole of it in the tooltip.
    Its minimum width is small, so a long reason never widens the window nor runs into the labels beside it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setMinimumWidth(40)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_full_text(self, text: str) -> None:
        """Show text, cut to the label's width."""
        if text != self._full:
            self._full = text
            self.setToolTip(text)
            self._fit()

    def full_text(self) -> str:
        """The whole text (what is shown may end in '…')."""
        return self._full

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        self.setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(0, self.width())))


class StatusLine:
    """Permanent labels in a QStatusBar, refreshed from a Snapshot (cheap: only changed text is set), and on the
    left, where QStatusBar.showMessage writes too, why the run stopped (set_reason)."""

    def __init__(self, bar: QStatusBar) -> None:
        self.bar = bar
        self.reason = ElidedLabel()
        self.reason.setObjectName("status_reason")
        self.reason.setAccessibleName("why the run stopped")
        bar.addWidget(self.reason, 1)  # a normal widget: a temporary message hides it instead of covering it
        self.labels: dict[str, QLabel] = {}
        for key, accessible, tip, widest in _FIELDS:
            label = QLabel()
            label.setFixedWidth(label.fontMetrics().horizontalAdvance(widest) + 12)
            label.setObjectName(f"status_{key}")
            label.setAccessibleName(accessible)
            label.setToolTip(tip)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            bar.addPermanentWidget(label)
            self.labels[key] = label

    def show(self, snap: Snapshot, mode: str, device: str) -> None:
        """Write the numbers of a snapshot."""
        m = snap.metrics
        score = "accuracy" if snap.task == "classification" else "R²"
        fmt = _pct if snap.task == "classification" else _num
        self._set("mode", mode)
        self._set("epoch", f"epoch {snap.epoch}")
        self._set("step", f"step {snap.step:,}")
        self._set("loss", f"loss train {_num(m.get('train_loss'))} · test {_num(m.get('test_loss'))}")
        self._set("score", f"{score} train {fmt(m.get('train_score'))} · test {fmt(m.get('test_score'))}")
        # a rate belongs to a run that goes on: paused, finished or ready there is none to show
        self._set("speed", f"{snap.steps_per_second:,.0f} steps/s" if mode == "running" else "— steps/s")
        self._set("device", device)

    def set_reason(self, text: str) -> None:
        """Why the run stopped ('' while it runs); cut to the room left beside the numbers."""
        self.reason.set_full_text(text)

    def text(self) -> str:
        """All fields in one line, the reason first when there is one (for tests and the screen reader)."""
        fields = [label.text() for label in self.labels.values()]
        return " | ".join([self.reason.full_text(), *fields] if self.reason.full_text() else fields)

    def _set(self, key: str, text: str) -> None:
        label = self.labels[key]
        if label.text() != text:
            label.setText(text)


class DivergenceBanner(QFrame):
    """A non-blocking message strip above the plots: why the run stopped (divergence, errors)."""

    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("divergenceBanner")
        self.setAccessibleName("training problem")
        self.setToolTip("Why training stopped; the weights before the problem are kept")
        self.setStyleSheet("#divergenceBanner { background: #fde8e4; border: 1px solid #d55e00; border-radius: 3px; }"
                           "#divergenceBanner QLabel { color: #6b1d00; }")
        self._label = QLabel()
        self._label.setObjectName("divergenceText")
        self._label.setAccessibleName("training problem text")
        self._label.setWordWrap(True)
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setObjectName("divergenceClose")
        close.setAccessibleName("dismiss message")
        close.setToolTip("Hide this message")
        close.setAutoRaise(True)
        close.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self._label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.setVisible(False)

    def show_message(self, text: str) -> None:
        """Show text in the banner."""
        self._label.setText(text)
        self.setVisible(True)

    def message(self) -> str:
        """The text shown (or last shown)."""
        return self._label.text()

    def dismiss(self) -> None:
        """Hide the banner."""
        self.setVisible(False)
        self.closed.emit()
