"""Confusion matrix: rows = true class, columns = predicted class, counts written in the cells."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from bpgui.views import _style, colour_image, palette

_MAX_TEXT_CLASSES = 30  # beyond this the cells are too small to hold a number


class ConfusionView(QWidget):
    """Heatmap of a (K, K) confusion matrix; colour = share of the true class (row), text = count."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _style.describe(
            self,
            "confusionView",
            "confusion matrix",
            "Rows: true class, columns: predicted class. Numbers are counts;\n"
            "colour is the share of the row, so a dark diagonal means high recall.",
        )
        self._pw = _style.plot_widget()
        self._plot = self._pw.getPlotItem()
        self._plot.setMenuEnabled(False)
        self._plot.hideButtons()
        self._plot.setMouseEnabled(x=False, y=False)
        self._plot.invertY(True)
        self._plot.setLabel("left", "true class")
        self._plot.setLabel("bottom", "predicted class")
        self._image = colour_image.ArgbImage()  # row shares coloured once per set_matrix (levels 0…1)
        self._table = colour_image.colour_table(palette.SEQUENTIAL_MAP)
        self._plot.addItem(self._image)
        self._counts: np.ndarray | None = None
        self._texts: list[pg.TextItem] = []
        self._k = 0
        self._names: list[str] = []
        self._accuracy = float("nan")
        self._shares = np.zeros((0, 0))

        self._unavailable: str | None = None
        self._note = QLabel()  # why there is no matrix (a regression), in place of the plot's empty axes
        self._note.setObjectName("confusionUnavailable")
        self._note.setAccessibleName("why there is no confusion matrix")
        self._note.setWordWrap(True)
        self._note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._note.setStyleSheet(f"QLabel {{ color: {palette.FOREGROUND}; padding: 12px; }}")
        self._note.setVisible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._note, 1)
        layout.addWidget(self._pw, 1)

    # public API ------------------------------------------------------------------------------------------
    def set_matrix(self, counts: np.ndarray, class_names: Sequence[str] | None = None) -> None:
        """Show counts C[true, predicted]; the title gives the accuracy trace(C) / sum(C)."""
        c = np.asarray(counts)
        if c.ndim != 2 or c.shape[0] != c.shape[1]:
            raise ValueError(f"a confusion matrix is square (K, K), got shape {c.shape}")
        k = c.shape[0]
        names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
        if len(names) != k:
            raise ValueError(f"{k} classes but {len(names)} class names")
        if k != self._k or names != self._names:
            self._rebuild(k, names)
        elif self._counts is not None and np.array_equal(c, self._counts):
            return  # same counts, same names: cells, colours and title are still right
        self._counts = c.copy()
        rows = c.sum(axis=1, keepdims=True)
        share = np.divide(c, rows, out=np.zeros(c.shape, dtype=float), where=rows > 0)
        self._shares = share
        self._image.set_pixels(colour_image.map_values(share, 0.0, 1.0, self._table), rect=QRectF(-0.5, -0.5, k, k))
        if k <= _MAX_TEXT_CLASSES:
            for (i, j), text in zip(np.ndindex(k, k), self._texts, strict=True):
                dark = share[i, j] > 0.55
                text.setText(str(int(c[i, j])), color="w" if dark else palette.FOREGROUND)
        total = int(c.sum())
        correct = int(np.trace(c))
        self._accuracy = correct / total if total else float("nan")
        title = f"accuracy {100 * self._accuracy:.1f} %  ({correct} / {total})" if total else "no samples"
        _style.set_title(self._plot, title)

    def accuracy(self) -> float:
        """trace(C) / sum(C) of the last matrix (NaN when empty)."""
        return self._accuracy

    def cell_texts(self) -> list[list[str]]:
        """The numbers written in the cells, row by row."""
        k = self._k
        return [[self._texts[i * k + j].textItem.toPlainText() for j in range(k)] for i in range(k)]

    def shares(self) -> np.ndarray:
        """The (K, K) share of each true class (row) that the cell colours show."""
        return self._shares

    def title(self) -> str:
        """The title text (with the accuracy)."""
        return self._plot.titleLabel.text

    def clear(self) -> None:
        """Show nothing."""
        self._image.clear()
        self._counts = None
        for text in self._texts:
            text.setText("")
        _style.set_title(self._plot, "")

    def set_unavailable(self, reason: str | None) -> None:
        """Say why there is no matrix (e.g. a regression) instead of showing empty class axes; None: a matrix
        may come again."""
        self._unavailable = reason
        if reason is not None:
            self.clear()
            self._note.setText(reason)
        self._note.setVisible(reason is not None)
        self._pw.setVisible(reason is None)

    def unavailable(self) -> str | None:
        """The reason shown instead of a matrix, or None."""
        return self._unavailable

    # private ---------------------------------------------------------------------------------------------
    def _rebuild(self, k: int, names: list[str]) -> None:
        for text in self._texts:
            self._plot.removeItem(text)
        self._texts = []
        if k <= _MAX_TEXT_CLASSES:
            for i, j in np.ndindex(k, k):
                text = pg.TextItem("", anchor=(0.5, 0.5))
                text.setPos(j, i)
                self._plot.addItem(text)
                self._texts.append(text)
        self._plot.setRange(xRange=(-0.5, k - 0.5), yRange=(-0.5, k - 0.5), padding=0)
        ticks = [[(i, name) for i, name in enumerate(names)]]
        self._plot.getAxis("left").setTicks(ticks)
        self._plot.getAxis("bottom").setTicks(ticks)
        self._k, self._names = k, names
