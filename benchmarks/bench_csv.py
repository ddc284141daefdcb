"""Reading a large CSV file: bpcore.data.read_csv against numpy.loadtxt, time and added memory.

The file is MNIST-shaped (label + 784 integer pixels, 60,000 rows, ~19 % non-zero pixels as in MNIST), written
once to a temporary folder. Each reader runs in a fresh process (so that its peak memory is its own), in
interleaved rounds; added memory = peak RSS minus RSS just before the call (imports inside the call count).
Targets (issue 13): time ≤ 0.5 × numpy.loadtxt's, added memory ≤ 2 × the float64 feature matrix.

Usage: python -m benchmarks.bench_csv [--rows 60000] [--rounds 3] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from benchmarks.report import write_section

_MEASURE = """
import json, os, resource, sys, time
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
which, path = sys.argv[1], sys.argv[2]
import numpy as np
if which == "bpcore":
    from bpcore.data import read_csv
before, t = rss(), time.perf_counter()
if which == "bpcore":
    n = read_csv(path, target=0).X.shape
else:
    n = np.loadtxt(path, delimiter=",", skiprows=1).shape
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": seconds, "added": peak - before, "shape": n}))
"""


def write_file(path: Path, rows: int) -> int:
    rng = np.random.default_rng(0)
    with path.open("w") as f:
        f.write("label," + ",".join(f"pixel{i}" for i in range(784)) + "\n")
        for start in range(0, rows, 5000):
            m = min(5000, rows - start)
            pixels = (rng.random((m, 784)) < 0.19) * rng.integers(1, 256, (m, 784))
            np.savetxt(f, np.column_stack([rng.integers(0, 10, m), pixels]), fmt="%d", delimiter=",")
    return path.stat().st_size


def measure(which: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", _MEASURE, which, str(path)], capture_output=True, text=True,
                         check=True, timeout=900).stdout
    return json.loads(out)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=60000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mnist_like.csv"
        size = write_file(path, args.rows)
        res = {"bpcore": [], "numpy.loadtxt": []}
        for r in range(args.rounds):
            for which in (("bpcore", "numpy.loadtxt") if r % 2 == 0 else ("numpy.loadtxt", "bpcore")):
                res[which].append(measure("bpcore" if which == "bpcore" else "numpy", path))
                print(which, res[which][-1], flush=True)
    matrix = args.rows * 784 * 8
    t = {k: statistics.median(m["seconds"] for m in v) for k, v in res.items()}
    mem = {k: statistics.median(m["added"] for m in v) for k, v in res.items()}
    rows = [[k, f"{t[k]:.2f}", f"{t[k] / t['numpy.loadtxt']:.2f}", f"{mem[k] / 2**20:.0f}",
             f"{mem[k] / matrix:.2f}"] for k in res]
    for row in rows:
        print(" | ".join(row))
    if args.out:
        write_section(args.out, "Reading a large CSV file (60,000 × 785 integers)",
                      f"python -m benchmarks.bench_csv --rounds {args.rounds} --out docs/benchmarks.md",
                      ["reader", "seconds (median)", "time / numpy.loadtxt (target ≤ 0.5)", "added memory MB",
                       "added / float64 feature matrix (target ≤ 2)"], rows,
                      f"{size / 2**20:.0f} MB file, {args.rounds} interleaved rounds, each read in a fresh process.")
    return {"seconds": t, "added": mem}


if __name__ == "__main__":
    main()
