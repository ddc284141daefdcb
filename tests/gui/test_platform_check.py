"""The xcb pre-flight check: which platform Qt will use, and the packages named when libraries are missing."""

from __future__ import annotations

import pytest

from bpgui import platform_check as pc


@pytest.mark.parametrize("env,platform,expected", [
    ({}, "linux", True),                                   # X11 desktop: Qt's default on Linux
    ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),   # Qt 6 takes wayland first
    ({"QT_QPA_PLATFORM": "xcb"}, "linux", True),
    ({"QT_QPA_PLATFORM": "xcb;offscreen"}, "linux", True),  # a fallback list: the first entry is tried first
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
    ({"QT_QPA_PLATFORM": "wayland:foo"}, "linux", False),
    ({}, "darwin", False),
    ({}, "win32", False),
])
def test_uses_xcb(env, platform, expected):
    assert pc.uses_xcb(env, platform) is expected


def test_missing_libraries_name_their_packages():
    libs = {"libxcb.so.1": "libxcb1", "libbackproplab-absent.so.7": "libbackproplab-absent7"}
    assert pc.missing_xcb_packages(libs) == ["libbackproplab-absent7"]
    hint = pc.xcb_hint(["libxcb-icccm4", "libxcb-keysyms1"])
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in hint and "xcb" in hint


def test_every_library_is_named_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    apt = readme[readme.index("sudo apt-get install"):].split("```")[0]
    optional = {"libxcb1", "libxcb-randr0", "libxcb-shm0", "libxcb-sync1", "libxcb-xfixes0", "libxkbcommon0"}
    # packages every X desktop has (pulled in by libxcb1 / libxkbcommon-x11-0 themselves) may stay out
    assert set(pc.XCB_LIBRARIES.values()) - optional <= set(apt.split())


def test_the_app_prints_the_hint_instead_of_qt_aborting(monkeypatch, capsys):
    from bpgui import app

    monkeypatch.setattr(pc, "uses_xcb", lambda: True)
    monkeypatch.setattr(pc, "missing_xcb_packages", lambda: ["libxcb-icccm4", "libxcb-keysyms1"])
    assert app.main([]) == 2
    err = capsys.readouterr().err
    assert "sudo apt-get install libxcb-icccm4 libxcb-keysyms1" in err and "Traceback" not in err
