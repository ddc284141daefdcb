"""Private look of the inspector: accessibility metadata, stage colours, the pass/fail colours."""

from __future__ import annotations

import re

from bpgui.describe import describe  # noqa: F401 (re-exported for this package's modules)

# one light tint per stage, so a projected panel shows at a glance which numbers each button revealed
STAGE_COLOURS = {"forward": "#e8f1fb", "backward": "#fdf0e1", "update": "#e7f5ec"}
STAGE_ACCENTS = {"forward": "#1f5fa8", "backward": "#b25a00", "update": "#1d7a45"}
OK_COLOUR = "#1d7a45"
OK_BACKGROUND = "#dff3e6"
FAIL_COLOUR = "#b00020"
FAIL_BACKGROUND = "#ffd9d9"

_SUP = re.compile(r"\^\(([^)]*)\)")
_SUB = re.compile(r"_(o|W|i|j|k)(?![A-Za-z0-9])")


def rich(symbol: str) -> str:
    """A plain symbol ("h^(0)", "∇_o J") as rich text with superscripts and subscripts."""
    text = symbol.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _SUP.sub(r"<sup>(\1)</sup>", text)
    return _SUB.sub(r"<sub>\1</sub>", text)
