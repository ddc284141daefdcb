"""Colours every view shares: class palette, sign colours, series colours and colour-map names."""

from __future__ import annotations

import colorsys
from functools import cache

import pyqtgraph as pg

RGB = tuple[int, int, int]

# Okabe & Ito (2008), colour-blind safe; ordered so the first classes get the most distinct hues and
# yellow (weak on white) comes late.
_OKABE_ITO: tuple[RGB, ...] = (
    (0, 114, 178),  # blue
    (230, 159, 0),  # orange
    (0, 158, 115),  # bluish green
    (213, 94, 0),  # vermillion
    (204, 121, 167),  # reddish purple
    (86, 180, 233),  # sky blue
    (120, 120, 120),  # grey
    (240, 228, 66),  # yellow
)

BACKGROUND = "w"
FOREGROUND = "#303030"
GRID_ALPHA = 0.18

DIVERGING_MAP = "CET-D1"  # blue - white - red, white at the centre (value 0)
SEQUENTIAL_MAP = "CET-L12"  # white - blue
VALUE_MAP = "viridis"  # continuous targets (regression)

NEGATIVE: RGB = (33, 81, 219)  # the blue end of DIVERGING_MAP
POSITIVE: RGB = (192, 2, 6)  # the red end of DIVERGING_MAP

TRAIN, VALIDATION, TEST = _OKABE_ITO[0], _OKABE_ITO[1], _OKABE_ITO[2]


def class_colours(k: int) -> list[RGB]:
    """Return k distinct (r, g, b) colours (0-255): Okabe-Ito first, then evenly spread hues."""
    if k <= len(_OKABE_ITO):
        return list(_OKABE_ITO[:k])
    extra = []
    for n in range(k - len(_OKABE_ITO)):
        hue = (0.07 + n * 0.618034) % 1.0  # golden-ratio steps keep neighbours apart
        r, g, b = colorsys.hsv_to_rgb(hue, 0.75, 0.8 if n % 2 else 0.6)
        extra.append((round(r * 255), round(g * 255), round(b * 255)))
    return [*_OKABE_ITO, *extra]


@cache
def colormap(name: str) -> pg.ColorMap:
    """Return one of pyqtgraph's bundled colour maps, loaded once."""
    return pg.colormap.get(name)
