"""Trainer benchmark: one graph-free training step vs a plain PyTorch loop, and GEMM efficiency.

Native: nn.Sequential + F.cross_entropy + torch.optim.SGD(foreach=True); ours: FlatNetwork.step (the
explicit δ recursion, no autograd graph) + the eq. 10 update on the flat buffer, as Trainer runs it.
Same process, interleaved rounds, median ratio.
Usage: python -m benchmarks.bench_trainer [--rounds 21] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import itertools
import shlex
import sys

import torch
import torch.nn.functional as F

from benchmarks.report import write_section
from benchmarks.timing import interleaved, median, median_ratio
from bpcore import backprop as bp
from bpcore.nn import MLP
from bpcore.train.network import FlatNetwork

RATIO_CASES = [((2, 8, 8, 2), 32, 0.5), ((784, 512, 512, 10), 256, 1.0)]
GEMM_CASE = ((784, 1024, 1024, 1024, 10), 512)


def _steps(sizes, batch, activation="tanh"):
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, sizes[0], generator=g)
    t = torch.randint(0, sizes[-1], (batch,), generator=g)
    model = MLP(sizes, activation, seed=0)
    native = model.to_torch()
    net = FlatNetwork(model)
    x1 = net.prepare(x)  # as the trainer does once per data set: [x, 1] (eq. 11) where that pays
    opt = torch.optim.SGD(native.parameters(), lr=0.01, foreach=True)

    def step_ours():
        with torch.no_grad():
            net.step(x1, t)
            bp.update(net.flat, net.flat_grad, 0.01)

    def step_native():
        opt.zero_grad()
        F.cross_entropy(native(x), t).backward()
        opt.step()

    return {"trainer": step_ours, "native": step_native}


def _gemm():
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    return lambda: torch.mm(a, b)


def _command(name: str, argv) -> str:
    """The command line that produced a table, as run."""
    args = sys.argv[1:] if argv is None else list(argv)
    return " ".join(["python -m benchmarks." + name, *map(shlex.quote, args)])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    rows = []
    for sizes, batch, bar in RATIO_CASES:
        times = interleaved(_steps(sizes, batch), rounds=args.rounds)
        ratio = median_ratio(times, "trainer", "native")
        fastest = min(times["trainer"]) / min(times["native"])  # least moved by other processes
        rows.append(["-".join(map(str, sizes)), str(batch), f"{median(times['trainer']) * 1e6:.1f}",
                     f"{median(times['native']) * 1e6:.1f}", f"{ratio:.3f}", f"{fastest:.3f}", f"≤ {bar}",
                     "yes" if ratio <= bar else "NO"])
        print(" | ".join(rows[-1]), flush=True)
    sizes, batch = GEMM_CASE
    fns = {"gemm": _gemm(), **_steps(sizes, batch)}
    del fns["native"]
    times = interleaved(fns, rounds=max(5, args.rounds // 3), target_s=0.2)
    peak = 2 * 1024**3 / median(times["gemm"])
    flops = 6 * batch * sum(a * b for a, b in itertools.pairwise(sizes))
    achieved = flops / median(times["trainer"])
    eff = achieved / peak
    gemm_row = ["-".join(map(str, sizes)), str(batch), f"{median(times['trainer']) * 1e6:.1f}",
                f"{achieved / 1e9:.1f} GFLOP/s", f"{peak / 1e9:.1f} GFLOP/s (mm 1024²)", f"{eff:.3f}", "≥ 0.9",
                "yes" if eff >= 0.9 else "NO"]
    print(" | ".join(gemm_row), flush=True)
    if args.out:
        write_section(
            args.out, "Trainer: graph-free step vs plain PyTorch loop",
            _command("bench_trainer", argv),
            ["net", "batch", "trainer µs/step", "native µs/step", "ratio (median)", "fastest rounds' ratio", "bar",
             "met"], rows,
        )
        write_section(
            args.out, "Trainer: GEMM efficiency (FLOPs = 6·B·Σ D_in·D_out per step)",
            _command("bench_trainer", argv),
            ["net", "batch", "trainer µs/step", "achieved", "float32 GEMM peak", "efficiency", "bar", "met"],
            [gemm_row],
        )


if __name__ == "__main__":
    main()
