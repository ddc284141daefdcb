"""Images coloured once per update: values → 32-bit pixels through a fixed 256-entry table, blitted at paint time.

pyqtgraph's ImageItem maps a float image to colours when it paints (rescale, then an Indexed8 QImage whose
256-entry colour table is rebuilt with one qRgb call per entry, then Qt converts it again to draw it). A live
view paints far more often than its data changes, so the views colour their data here, once per set_* call,
into ARGB32-premultiplied pixels — the format Qt's raster engine draws without converting — and an
``ArgbImage`` only blits them.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage

from bpgui.views import palette

TABLE_SIZE = 256
TRANSPARENT = np.uint32(0)  # premultiplied ARGB: transparent black; not-a-number cells show the background
_FORMAT = QImage.Format.Format_ARGB32_Premultiplied


def pack(rgb: np.ndarray) -> np.ndarray:
    """(…, 3) or (…, 4) uint8 RGB(A), opaque unless an alpha is given and then premultiplied → (…) uint32 pixels."""
    c = np.asarray(rgb, dtype=np.uint32)
    if c.shape[-1] == 4:
        a = c[..., 3]
        r, g, b = ((c[..., k] * a + 127) // 255 for k in range(3))  # premultiplied, rounded
    else:
        a = np.full(c.shape[:-1], 255, dtype=np.uint32)
        r, g, b = c[..., 0], c[..., 1], c[..., 2]
    return (a << 24) | (r << 16) | (g << 8) | b


def unpack_rgb(pixels: np.ndarray) -> np.ndarray:
    """(…) uint32 opaque pixels → (…, 3) uint8 RGB (for tests, exports and read-outs)."""
    p = np.asarray(pixels, dtype=np.uint32)
    return np.stack([(p >> 16) & 255, (p >> 8) & 255, p & 255], axis=-1).astype(np.uint8)


@cache
def colour_table(name: str) -> np.ndarray:
    """The 256-entry (uint32 pixel) table of a palette colour map, built once per map and never written."""
    rgb = palette.colormap(name).getLookupTable(nPts=TABLE_SIZE, alpha=False, mode=pg.ColorMap.BYTE)
    table = pack(rgb)
    table.flags.writeable = False
    return table


def map_values(values: np.ndarray, low: float, high: float, table: np.ndarray) -> np.ndarray:
    """Colour a 2-D array through ``table`` with levels (low, high), the rule pyqtgraph's ImageItem uses.

    Entry floor((v - low) · 256 / (high - low)), clipped to 0…255: low and below take the first colour, high and
    above the last, the midpoint (0 for symmetric levels) entry 128. NaN cells are transparent.
    """
    v = np.asarray(values, dtype=np.float32)
    span = high - low if high > low else 1.0
    t = (v - np.float32(low)) * np.float32(TABLE_SIZE / span)
    np.clip(t, 0, TABLE_SIZE - 1, out=t)
    bad = np.isnan(t)
    has_bad = bool(bad.any())
    if has_bad:
        t[bad] = 0
    out = table.take(t.astype(np.uint8))
    if has_bad:
        out[bad] = TRANSPARENT
    return out


def block_mean(values: np.ndarray, fy: int, fx: int) -> np.ndarray:
    """Mean over fy × fx blocks of the cells that are not NaN (an all-NaN block is NaN).

    The last block of a row or column may be smaller, so no row (the bias row in particular) is dropped.
    Whole blocks are summed as f strided slices added together (no padded copy), one axis at a time.
    """
    v = np.asarray(values, dtype=np.float32)
    if fy <= 1 and fx <= 1:
        return v
    rows, cols = v.shape

    def block_sums(a: np.ndarray) -> np.ndarray:
        # whole blocks: f strided slices added (f is small), the smaller last block on its own
        if fy > 1:
            whole = rows // fy * fy
            sums = sum(a[k:whole:fy] for k in range(1, fy)) + a[0:whole:fy]
            a = np.concatenate([sums, a[whole:].sum(axis=0, keepdims=True)]) if whole < rows else sums
        if fx > 1:
            whole = cols // fx * fx
            sums = sum(a[:, k:whole:fx] for k in range(1, fx)) + a[:, 0:whole:fx]
            a = np.concatenate([sums, a[:, whole:].sum(axis=1, keepdims=True)], axis=1) if whole < cols else sums
        return a

    bad = np.isnan(v)
    if bad.any():
        total = block_sums(np.where(bad, np.float32(0), v))
        n = block_sums((~bad).astype(np.float32))
    else:
        total = block_sums(v)
        n = np.outer(_block_sizes(rows, fy), _block_sizes(cols, fx))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n > 0, total / np.maximum(n, 1), np.float32(np.nan)).astype(np.float32)


def _block_sizes(n: int, f: int) -> np.ndarray:
    """Cells per block along an axis of n cells in blocks of f: f, f, …, then the remainder."""
    f = max(f, 1)
    return np.array([f] * (n // f) + ([n % f] if n % f else []), dtype=np.float32)


class ArgbImage(pg.ImageItem):
    """An ImageItem that draws (h, w) uint32 ARGB32-premultiplied pixels as they are: no levels, no table, no copy."""

    def __init__(self) -> None:
        super().__init__(axisOrder="row-major")
        self._qimage: QImage | None = None

    def set_pixels(self, pixels: np.ndarray, rect: QRectF | None = None) -> None:
        """Show ``pixels`` (row 0 first); ``rect`` places the image in view coordinates."""
        p = np.ascontiguousarray(pixels, dtype=np.uint32)
        if p.ndim != 2:
            raise ValueError(f"ArgbImage needs (h, w) uint32 pixels, got shape {p.shape}")
        self._qimage = pg.functions.ndarray_to_qimage(p, _FORMAT)
        kwargs = {} if rect is None else {"rect": rect}
        self.setImage(p, autoLevels=False, levels=None, **kwargs)

    def pixels(self) -> np.ndarray | None:
        """The pixels drawn now (the array given to set_pixels), or None."""
        return self.image

    def clear(self) -> None:
        self._qimage = None
        super().clear()

    def render(self) -> None:
        # nothing to compute: the pixels are already in the drawing format
        self.qimage = self._qimage
        self._renderRequired = False
        self._unrenderable = self._qimage is None

    def paint(self, painter, *args) -> None:
        if self._qimage is None or self.image is None:
            return
        h, w = self.image.shape
        painter.drawImage(QRectF(0, 0, w, h), self._qimage)
