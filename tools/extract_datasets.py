"""Regenerate resources/datasets/*.csv from scikit-learn's bundled copies (scikit-learn is not a dependency).

Run it with a throwaway environment, never the project's venv:
    python3 -m venv /tmp/skvenv && /tmp/skvenv/bin/pip install scikit-learn
    /tmp/skvenv/bin/python tools/extract_datasets.py
Writes iris.csv, wine.csv, breast_cancer.csv, digits.csv (header row, class NAME in the last column) and
LICENSE.txt (scikit-learn's BSD-3 licence). README.md (attribution) is maintained by hand.
"""

from __future__ import annotations

import csv
import re
from importlib import metadata
from pathlib import Path

from sklearn import datasets

OUT = Path(__file__).resolve().parents[1] / "resources" / "datasets"


def _cell(v: float) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)  # shortest text that reads back to the same float


def _write(name: str, bunch, feature_names: list[str], class_names: list[str]) -> None:
    with open(OUT / f"{name}.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([*feature_names, "target"])
        for x, k in zip(bunch.data, bunch.target, strict=True):
            w.writerow([*(_cell(v) for v in x), class_names[int(k)]])


def _licence() -> str:
    dist = metadata.distribution("scikit-learn")
    files = [f for f in dist.files or [] if f.name == "COPYING"]
    text = files[0].locate().read_text(encoding="utf-8")
    return re.split(r"\n-{4,}\n", text)[0].rstrip() + "\n"  # the BSD-3 text, without bundled-binary notices


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    iris = datasets.load_iris()
    _write("iris", iris, list(iris.feature_names), list(iris.target_names))
    wine = datasets.load_wine()
    _write("wine", wine, list(wine.feature_names), list(wine.target_names))
    bc = datasets.load_breast_cancer()
    _write("breast_cancer", bc, list(bc.feature_names), list(bc.target_names))
    digits = datasets.load_digits()
    _write("digits", digits, list(digits.feature_names), [str(k) for k in range(10)])
    (OUT / "LICENSE.txt").write_text(
        f"The CSV files in this folder were extracted from scikit-learn {metadata.version('scikit-learn')} "
        "(sklearn/datasets/data) by tools/extract_datasets.py.\nscikit-learn's licence follows.\n\n"
        + _licence(),
        encoding="utf-8",
    )
    print(f"wrote {', '.join(sorted(p.name for p in OUT.iterdir()))}")


if __name__ == "__main__":
    main()
