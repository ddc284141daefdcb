"""Before the first window: say which system packages Qt's xcb plugin lacks, instead of Qt's bare abort.

When a library of the xcb platform plugin is missing, Qt prints `Could not load the Qt platform plugin "xcb"`
(often blaming only libxcb-cursor0) and aborts the process, so Python never gets to explain. This module loads
each library the plugin links to, by its soname, before QApplication exists, and names the Debian/Ubuntu package
of every one that fails — the README's apt line.
"""

from __future__ import annotations

import ctypes
import os
import sys

#: Libraries Qt 6's xcb plugin (libqxcb.so → libQt6XcbQpa.so) loads, with the Debian/Ubuntu package of each.
XCB_LIBRARIES: dict[str, str] = {
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libfontconfig.so.1": "libfontconfig1",
}


def uses_xcb(environ: dict[str, str] | None = None, platform: str | None = None) -> bool:
    """True when Qt will pick the xcb plugin: Linux, and QT_QPA_PLATFORM unset or naming xcb first."""
    env = os.environ if environ is None else environ
    if not (platform or sys.platform).startswith("linux"):
        return False
    requested = env.get("QT_QPA_PLATFORM", "").split(";")[0].split(":")[0].strip()
    if requested:
        return requested == "xcb"
    return not env.get("WAYLAND_DISPLAY")  # Qt 6 prefers wayland when a compositor is there


def missing_xcb_packages(libraries: dict[str, str] | None = None) -> list[str]:
    """The packages whose library fails to load (empty when the plugin can load)."""
    missing = []
    for soname, package in (XCB_LIBRARIES if libraries is None else libraries).items():
        try:
            ctypes.CDLL(soname)
        except OSError:
            missing.append(package)
    return missing


def xcb_hint(missing: list[str]) -> str:
    """The message printed when packages are missing."""
    return ("bpgui: Qt's window plugin \"xcb\" cannot load: missing system libraries. On Debian/Ubuntu:\n"
            f"    sudo apt-get install {' '.join(missing)}\n"
            "(or run without a screen: QT_QPA_PLATFORM=offscreen)")
