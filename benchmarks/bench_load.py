"""A small run on a busy machine: `bpcore train --dataset iris --layers 16` alone and beside busy processes.

torch's intra-op pool spins against other processes on tiny matrices; bpcore picks one thread for such work
(bpcore.train.threads.threads_for). This measures the training seconds the CLI reports (its JSON `seconds`) with
the default threads and with `--threads C` (torch's own default: every core, C = os.cpu_count()), on a quiet machine
and with `--busy` pure-Python busy loops started by the benchmark itself, in interleaved rounds; medians.
Target (issue 13): default threads, loaded ≤ 2 × quiet.

Usage: python -m benchmarks.bench_load [--rounds 5] [--busy 2] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import time

from benchmarks.report import write_section

FLAGS = ["train", "--dataset", "iris", "--layers", "16", "--quiet"]


def _busy(stop) -> None:
    while not stop.is_set():
        for _ in range(10_000):
            pass


CAP_S = 60.0  # a run still going after this long counts as CAP_S (torch's own threads once took 169 s here)


def train_seconds(threads: int | None, folder: str) -> float:
    """The training time `bpcore train` reports (startup and file writing not included); CAP_S when the run
    has not finished within CAP_S seconds (it is killed)."""
    cmd = [sys.executable, "-m", "bpcore", *FLAGS, "--out", os.path.join(folder, "m.safetensors")]
    if threads:
        cmd += ["--threads", str(threads)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=CAP_S).stdout
    except subprocess.TimeoutExpired:
        return CAP_S
    return float(json.loads(out.splitlines()[-1])["seconds"])


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--busy", type=int, default=2, help="busy-loop processes in the loaded rounds")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    cores = os.cpu_count() or 1
    variants = {"default threads": None, f"--threads {cores} (torch's default)": cores}
    times = {(v, load): [] for v in variants for load in ("quiet", "loaded")}
    ctx = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as folder:
        for r in range(args.rounds):
            for load in (("quiet", "loaded") if r % 2 == 0 else ("loaded", "quiet")):
                stop = ctx.Event()
                n_busy = args.busy if load == "loaded" else 0
                hogs = [ctx.Process(target=_busy, args=(stop,), daemon=True) for _ in range(n_busy)]
                for h in hogs:
                    h.start()
                time.sleep(0.2 if hogs else 0)
                try:
                    for name, threads in variants.items():
                        times[(name, load)].append(train_seconds(threads, folder))
                finally:
                    stop.set()
                    for h in hogs:
                        h.join()
            print(f"round {r}: " + ", ".join(f"{k[0]} {k[1]} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    rows = []
    for name in variants:
        q, lo = med[(name, "quiet")], med[(name, "loaded")]
        target = "≤ 2" if variants[name] is None else "(reference)"
        rows.append([name, f"{q:.2f}", f"{lo:.2f}", f"{lo / q:.2f}", target])
        print(" | ".join(rows[-1]), flush=True)
    if args.out:
        write_section(args.out, "A small run on a busy machine (threads by work size)",
                      "python -m benchmarks.bench_load --out docs/benchmarks.md",
                      ["threads", "quiet s (median)", f"{args.busy} busy processes s", "loaded / quiet", "target"],
                      rows, f"`bpcore {' '.join(FLAGS)}`, the training seconds the CLI reports; {args.rounds} "
                      f"interleaved rounds on {cores} cores; a run not done after {CAP_S:g} s counts as {CAP_S:g} s.")
    return med


if __name__ == "__main__":
    main()
