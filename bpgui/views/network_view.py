"""The layered network: neurons in columns, links coloured by weight sign and sized by |w|."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from bpgui.views import _style, colour_image, palette

_BUCKETS = 4  # |w| / max|w| is drawn in this many width/alpha steps, per sign
_WIDTHS = (0.6, 1.2, 2.0, 3.2)
_ALPHAS = (50, 100, 165, 235)
_NEURON = 0.6  # neuron diameter, in units of the vertical neuron spacing
_THUMB = 0.84  # thumbnail side, same units
_NEUTRAL = (110, 110, 110)
_DETAIL = 190  # side of the hovered neuron's enlarged output, in pixels
_HINT = "red = positive w, blue = negative w; thicker = larger |w| (per layer); neuron border = bias"


def _bucket(a: np.ndarray) -> np.ndarray:
    return np.minimum((a * _BUCKETS).astype(np.intp), _BUCKETS - 1)


class NetworkDiagram(QWidget):
    """Network diagram; at most ``max_neurons`` per layer and ``max_links`` per layer pair are drawn.

    Links live in 2 × 4 long-lived curve items per layer pair (sign × |w| step) updated with setData,
    so set_weights costs a few numpy ops and eight setData calls per layer, whatever the network size.
    """

    neuronHovered = Signal(int, int)  # column (0 = inputs), neuron index

    def __init__(self, max_neurons: int = 16, max_links: int = 400, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        _style.describe(
            self,
            "networkDiagram",
            "network diagram",
            "The network layer by layer. Links: red positive, blue negative weights, thicker = larger |w|.\n"
            "A neuron's border shows its bias. Hover a neuron to see its output over the input plane.",
        )
        self._max_neurons = max(2, max_neurons)
        self._max_links = max(1, max_links)
        self._sizes: list[int] = []
        self._names: list[str] = []
        self._shown: list[int] = []
        self._gap = 3.0
        self._offsets = np.zeros(1, dtype=np.intp)
        self._edges: list[tuple[np.ndarray, np.ndarray]] = []
        self._links: list[list[pg.PlotCurveItem]] = []
        self._texts: list[pg.TextItem] = []
        self._thumb_items: list[list[colour_image.ArgbImage]] = []
        self._thumb_rects: list[list[QRectF]] = []
        self._thumbs: list[np.ndarray | None] = []  # per column the values given (a copy), for unchanged checks
        self._thumb_pixels: list[np.ndarray | None] = []  # per column the coloured (n, ny, nx) pixels
        self._table = colour_image.colour_table(palette.DIVERGING_MAP)
        self._biases: list[np.ndarray | None] = []
        self._hovered: tuple[int, int] | None = None
        self._thumb_mode = False
        self._neuron_fill = pg.mkBrush(250, 250, 250)
        self._no_fill = pg.mkBrush(0, 0, 0, 0)
        self._neuron_pens = [pg.mkPen(*c, width=w) for c in (palette.NEGATIVE, palette.POSITIVE) for w in (1, 2, 3, 4)]
        self._neutral_pen = pg.mkPen(*_NEUTRAL, width=1.5)

        self._glw = _style.layout_widget()
        self._vb = self._glw.addViewBox(row=0, col=0)
        self._vb.setAspectLocked(True)
        self._fit: tuple[tuple[float, float], tuple[float, float]] | None = None
        self._vb.sigResized.connect(self._fit_view)  # the whole network stays in view as the widget resizes
        self._vb.setMenuEnabled(False)
        self._neurons = pg.ScatterPlotItem(pxMode=False, size=_NEURON, symbol="o")
        self._neurons.setZValue(20)
        self._vb.addItem(self._neurons)
        # a wrapping QLabel, not a pg.LabelItem: a LabelItem's text sets the minimum width of the whole
        # diagram, which then overflows (and is clipped by) a narrow dock
        self._info = QLabel(_HINT)
        _style.describe(self._info, "networkInfo", "network diagram legend or hovered neuron",
                        "What the colours mean, or the neuron under the mouse")
        self._info.setWordWrap(True)
        self._info.setStyleSheet(f"QLabel {{ color: {palette.FOREGROUND}; background: white; padding: 2px 4px; }}")
        self._glw.scene().sigMouseMoved.connect(self._on_mouse_moved)

        self._detail = _style.plot_widget()
        _style.describe(self._detail, "neuronDetail", "hovered neuron output", "Output of the hovered neuron")
        # an overlay in the diagram's corner, shown while a neuron with a thumbnail is hovered: it takes no
        # space from the diagram and lets the mouse through to the neurons under it
        self._detail.setParent(self._glw)
        self._detail.setFixedSize(_DETAIL, _DETAIL)
        self._detail.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        detail = self._detail.getPlotItem()
        detail.hideAxis("left")
        detail.hideAxis("bottom")
        detail.setMenuEnabled(False)
        detail.hideButtons()
        detail.setAspectLocked(True)
        self._detail_image = colour_image.ArgbImage()  # shows the hovered thumbnail's pixels
        detail.addItem(self._detail_image)
        self._detail.setVisible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._glw, 1)
        layout.addWidget(self._info)

    # public API ------------------------------------------------------------------------------------------
    def set_architecture(self, sizes: Sequence[int], names: Sequence[str]) -> None:
        """Lay out columns for layer sizes [D_0, D_1, …, D_L] with one activation name per layer 1…L."""
        if len(sizes) < 2 or len(names) != len(sizes) - 1:
            raise ValueError(f"need ≥ 2 sizes and len(sizes) - 1 names, got {list(sizes)} and {list(names)}")
        if list(sizes) == self._sizes and list(names) == self._names:
            return
        self._remove_items()
        self._sizes, self._names = [int(s) for s in sizes], list(names)
        self._shown = [min(s, self._max_neurons) for s in self._sizes]
        rows = max(self._shown)
        n_cols = len(self._sizes)
        self._gap = max(3.0, 1.5 * rows / (n_cols - 1))
        self._offsets = np.concatenate([[0], np.cumsum(self._shown)])
        xs = np.concatenate([np.full(n, c * self._gap) for c, n in enumerate(self._shown)])
        ys = np.concatenate([self._column_y(n) for n in self._shown])
        self._neurons.setData(x=xs, y=ys, brush=self._neuron_fill, symbol="o", size=_NEURON)
        self._thumb_mode = False
        self._biases = [None] * n_cols
        self._thumbs = [None] * n_cols
        self._thumb_pixels = [None] * n_cols
        self._add_labels(rows)
        self._add_link_items()
        self._add_thumbnail_items()
        self._neurons.setPen([self._neutral_pen] * int(self._offsets[-1]))
        top, bottom = (rows - 1) / 2 + 1.6, -(rows - 1) / 2 - 1.2
        self._fit = ((-3.0, (n_cols - 1) * self._gap + 3.0), (bottom, top))  # room for the column headers
        self._fit_view()
        self._detail.setVisible(False)
        self._hovered = None

    def set_weights(self, weights: Sequence[np.ndarray]) -> None:
        """Recolour links from W(l) (D_(l-1) + 1, D_l) per layer and neuron borders from the bias row."""
        if len(weights) != len(self._edges):
            raise ValueError(f"architecture has {len(self._edges)} layers, got {len(weights)} weight matrices")
        pens = [self._neutral_pen] * self._shown[0]
        for layer, (w_full, (xy_x, xy_y), curves) in enumerate(zip(weights, self._edges, self._links, strict=True)):
            w_full = np.asarray(w_full)
            expected = (self._sizes[layer] + 1, self._sizes[layer + 1])
            if w_full.shape != expected:
                raise ValueError(f"W({layer + 1}) should have shape {expected}, got {w_full.shape}")
            n_a, n_b = self._shown[layer], self._shown[layer + 1]
            w = w_full[:n_a, :n_b].ravel()
            a = np.abs(w) / (_style.finite_max_abs(w_full[:-1]) or 1.0)
            keep = np.arange(w.size)
            if w.size > self._max_links:
                keep = np.argpartition(a, w.size - self._max_links)[w.size - self._max_links :]
            key = (w[keep] >= 0) * _BUCKETS + _bucket(np.nan_to_num(a[keep]))
            for k, curve in enumerate(curves):
                sel = keep[key == k]
                curve.setData(xy_x[sel].ravel(), xy_y[sel].ravel())
            b = w_full[-1, :n_b]
            self._biases[layer + 1] = w_full[-1].copy()
            bucket = _bucket(np.nan_to_num(np.abs(b) / (_style.finite_max_abs(w_full[-1]) or 1.0)))
            pens.extend(self._neuron_pens[int(s) * _BUCKETS + int(q)] for s, q in zip(b >= 0, bucket, strict=True))
        self._neurons.setPen(pens)
        if self._hovered is not None:
            self._show_info(*self._hovered)

    def set_thumbnails(self, thumbnails: Sequence[np.ndarray | None]) -> None:
        """Per layer (L entries, or L + 1 with the inputs first): (n_neurons, ny, nx) in [-1, 1] or [0, 1]."""
        n_cols = len(self._sizes)
        if len(thumbnails) not in (n_cols - 1, n_cols):
            raise ValueError(f"need {n_cols - 1} (layers) or {n_cols} (with inputs) thumbnail arrays")
        first = n_cols - len(thumbnails)
        any_shown = False
        for col in range(n_cols):
            arr = thumbnails[col - first] if col >= first else None
            arr = None if arr is None else np.asarray(arr)[: self._shown[col]]  # only the drawn neurons
            if arr is not None and arr.ndim != 3:
                raise ValueError(f"thumbnails of column {col} must be (n_neurons, ny, nx), got shape {arr.shape}")
            any_shown |= arr is not None and len(arr) > 0
            self._set_column_thumbnails(col, arr)
        if any_shown != self._thumb_mode:  # square frames around thumbnails, or round neurons
            self._neurons.setSymbol("s" if any_shown else "o")
            self._neurons.setSize(_THUMB + 0.08 if any_shown else _NEURON)
            self._neurons.setBrush(self._no_fill if any_shown else self._neuron_fill)
            self._detail.setVisible(any_shown and self._hovered is not None)
            self._thumb_mode = any_shown
        if self._hovered is not None:
            self._show_info(*self._hovered)

    def thumbnail_pixels(self, column: int) -> np.ndarray | None:
        """The coloured (n, ny, nx) uint32 pixels drawn as column ``column``'s thumbnails, or None."""
        return self._thumb_pixels[column] if column < len(self._thumb_pixels) else None

    def show_neuron(self, column: int, neuron: int) -> None:
        """Describe neuron ``neuron`` of column ``column`` (0 = inputs) and enlarge its thumbnail, as hovering does."""
        if (column, neuron) != self._hovered:
            self._hovered = (column, neuron)
            self.neuronHovered.emit(column, neuron)
        self._show_info(column, neuron)

    def shown_neurons(self) -> list[int]:
        """How many neurons each column draws."""
        return list(self._shown)

    def link_items(self) -> list[list[pg.PlotCurveItem]]:
        """Per layer the 2 × 4 link curves: [negative steps 0-3, positive steps 0-3]."""
        return [list(c) for c in self._links]

    def drawn_links(self) -> list[tuple[int, int]]:
        """(negative, positive) link count per layer as last drawn."""
        out = []
        for curves in self._links:
            n = [len(c.xData) // 2 if c.xData is not None else 0 for c in curves]
            out.append((sum(n[:_BUCKETS]), sum(n[_BUCKETS:])))
        return out

    def info_text(self) -> str:
        """The line under the diagram (hint, or the hovered neuron)."""
        return self._info.text()

    def neuron_position(self, column: int, neuron: int) -> QPointF:
        """Centre of a drawn neuron in view coordinates."""
        return QPointF(column * self._gap, float(self._column_y(self._shown[column])[neuron]))

    def clear(self) -> None:
        """Forget the architecture and draw nothing."""
        self._remove_items()
        self._sizes, self._names, self._shown = [], [], []
        self._fit = None
        self._neurons.clear()
        self._detail.setVisible(False)
        self._info.setText(_HINT)

    # private ---------------------------------------------------------------------------------------------
    @staticmethod
    def _column_y(n: int) -> np.ndarray:
        return (n - 1) / 2 - np.arange(n, dtype=float)

    def _header(self, col: int) -> str:
        name = "input" if col == 0 else self._names[col - 1]
        return f"{name} ({self._sizes[col]})"

    def _add_labels(self, rows: int) -> None:
        for col, (size, shown) in enumerate(zip(self._sizes, self._shown, strict=True)):
            x = col * self._gap
            head = pg.TextItem(self._header(col), color=palette.FOREGROUND, anchor=(0.5, 1.0))
            head.setPos(x, (rows - 1) / 2 + 0.6)
            self._vb.addItem(head)
            self._texts.append(head)
            if size > shown:
                more = pg.TextItem(f"+ {size - shown} more", color=palette.FOREGROUND, anchor=(0.5, 0.0))
                more.setPos(x, -(shown - 1) / 2 - 0.5)
                self._vb.addItem(more)
                self._texts.append(more)

    def _add_link_items(self) -> None:
        for layer in range(len(self._sizes) - 1):
            n_a, n_b = self._shown[layer], self._shown[layer + 1]
            ii, jj = np.meshgrid(np.arange(n_a), np.arange(n_b), indexing="ij")
            xy_x = np.empty((n_a * n_b, 2))
            xy_x[:, 0], xy_x[:, 1] = layer * self._gap, (layer + 1) * self._gap
            xy_y = np.stack([self._column_y(n_a)[ii.ravel()], self._column_y(n_b)[jj.ravel()]], axis=1)
            self._edges.append((xy_x, xy_y))
            curves = []
            for colour in (palette.NEGATIVE, palette.POSITIVE):
                for step in range(_BUCKETS):
                    pen = pg.mkPen(*colour, _ALPHAS[step], width=_WIDTHS[step])
                    curve = pg.PlotCurveItem(pen=pen, connect="pairs", skipFiniteCheck=True)
                    curve.setZValue(step)
                    self._vb.addItem(curve)
                    curves.append(curve)
            self._links.append(curves)

    def _add_thumbnail_items(self) -> None:
        for col, shown in enumerate(self._shown):
            items = []
            rects = [
                QRectF(col * self._gap - _THUMB / 2, y - _THUMB / 2, _THUMB, _THUMB) for y in self._column_y(shown)
            ]
            for _rect in rects:
                item = colour_image.ArgbImage()
                item.setZValue(15)
                item.setVisible(False)
                self._vb.addItem(item)
                items.append(item)
            self._thumb_items.append(items)
            self._thumb_rects.append(rects)

    def _set_column_thumbnails(self, col: int, arr: np.ndarray | None) -> None:
        """Colour one column's thumbnails in one go (levels -1…1) and hand each item its slice; unchanged: no work."""
        old = self._thumbs[col]
        if arr is not None and old is not None and arr.shape == old.shape and np.array_equal(arr, old, equal_nan=True):
            return
        items = self._thumb_items[col]
        if arr is None:
            self._thumbs[col] = self._thumb_pixels[col] = None
            for item in items:
                item.setVisible(False)
            return
        n, ny, nx = arr.shape
        pixels = colour_image.map_values(arr.reshape(n * ny, nx), -1.0, 1.0, self._table).reshape(n, ny, nx)
        self._thumbs[col], self._thumb_pixels[col] = arr.copy(), pixels
        for k, item in enumerate(items):
            item.setVisible(k < n)
            if k < n:
                item.set_pixels(pixels[k], rect=self._thumb_rects[col][k])

    def _remove_items(self) -> None:
        for item in self._texts + [c for cs in self._links for c in cs] + [i for it in self._thumb_items for i in it]:
            self._vb.removeItem(item)
        self._texts, self._links, self._edges, self._thumb_items, self._thumb_rects = [], [], [], [], []

    def _fit_view(self, *_args) -> None:
        if self._fit is not None:
            self._vb.setRange(xRange=self._fit[0], yRange=self._fit[1], padding=0)

    def _place_detail(self) -> None:
        self._detail.move(max(0, self._glw.width() - _DETAIL - 4), max(0, self._glw.height() - _DETAIL - 24))

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_detail()

    def leaveEvent(self, event) -> None:
        super().leaveEvent(event)
        self._detail.setVisible(False)

    def _on_mouse_moved(self, pos: QPointF) -> None:
        if not self._sizes or not self._vb.sceneBoundingRect().contains(pos):
            return
        p = self._vb.mapSceneToView(pos)
        col = round(p.x() / self._gap)
        if not 0 <= col < len(self._shown) or abs(p.x() - col * self._gap) > 0.5:
            return
        n = self._shown[col]
        k = round((n - 1) / 2 - p.y())
        if 0 <= k < n and abs((n - 1) / 2 - k - p.y()) <= 0.5:
            self.show_neuron(col, k)

    def _show_info(self, col: int, k: int) -> None:
        what = "input" if col == 0 else f"layer {col} ({self._names[col - 1]})"
        text = f"{what}, neuron {k}"
        bias = self._biases[col] if col < len(self._biases) else None
        if bias is not None:
            text += f", bias b = {bias[k]:.3g}"
        self._info.setText(text)
        pixels = self.thumbnail_pixels(col)
        if pixels is not None and k < len(pixels):
            self._detail_image.set_pixels(pixels[k])
            self._detail.getPlotItem().setTitle(text.split(", bias")[0], color=palette.FOREGROUND, size="9pt")
            self._detail.getPlotItem().autoRange(padding=0.02)
            self._place_detail()
            self._detail.setVisible(True)
            self._detail.raise_()
