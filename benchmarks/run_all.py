"""Run every benchmark and rewrite its section of docs/benchmarks.md: `make bench`."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BENCHMARKS = [
    "benchmarks.bench_engine", "benchmarks.bench_engine_gap", "benchmarks.bench_layouts",
    "benchmarks.bench_trainer", "benchmarks.bench_gui",
]


def main() -> None:
    out = str(ROOT / "docs" / "benchmarks.md")
    for name in BENCHMARKS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as e:
            print(f"skipping {name}: {e}")
            continue
        print(f"== {name}", flush=True)
        module.main(["--out", out])


if __name__ == "__main__":
    main()
