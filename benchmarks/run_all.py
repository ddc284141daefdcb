"""Run every benchmark and rewrite its section of docs/benchmarks.md: `make bench`."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCHMARKS = [
    "benchmarks.bench_engine", "benchmarks.bench_engine_gap", "benchmarks.bench_layouts",
    "benchmarks.bench_trainer", "benchmarks.bench_gui", "benchmarks.bench_peers", "benchmarks.bench_csv",
    "benchmarks.bench_load",
]
NEEDS = {"benchmarks.bench_peers": "sklearn"}  # a benchmark-only extra: pip install -e .[bench]


def main() -> None:
    out = str(ROOT / "docs" / "benchmarks.md")
    for name in BENCHMARKS:
        if name in NEEDS and importlib.util.find_spec(NEEDS[name]) is None:
            print(f"skipping {name}: {NEEDS[name]} is not installed (pip install -e '.[bench]')")
            continue
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            print(f"skipping {name}: {e}")
            continue
        print(f"== {name}", flush=True)
        module.main(["--out", out])


if __name__ == "__main__":
    main()
