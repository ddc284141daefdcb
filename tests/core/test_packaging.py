"""The wheel's package list: every code package is listed, and resources/ travels as bpcore._resources."""

from __future__ import annotations

import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]


def _setuptools() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_code_package_is_listed_for_the_wheel():
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("bpcore", "bpgui")
        for init in (ROOT / top).rglob("__init__.py")
    }
    listed = set(_setuptools()["packages"])
    assert on_disk - listed == set(), "add these packages to [tool.setuptools] packages in pyproject.toml"
    assert listed - on_disk == {"bpcore._resources"}


def test_bundled_data_sets_travel_with_the_wheel():
    st = _setuptools()
    assert st["package-dir"]["bpcore._resources"] == "resources"
    assert st["package-data"]["bpcore._resources"] == ["datasets/*"]
    from bpcore.data.bundled import REAL_SETS

    for name in REAL_SETS:
        assert (ROOT / "resources" / "datasets" / f"{name}.csv").is_file()
    assert (ROOT / "resources" / "datasets" / "LICENSE.txt").is_file()
