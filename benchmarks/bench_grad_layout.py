"""Why bpcore.backprop.grad_W forms a narrow ∇_W as (δᵀ h)ᵀ: both layouts of the same product, timed.

∇_W = hᵀ δ with few outputs (δ narrow) over a long product (B · D_in large) is slow in MKL when written
row-major (D_in, D_out); computing δᵀ h (D_out, D_in) and copying it transposed costs less. The rule in
`bpcore.backprop._narrow_output` comes from this table.
Usage: python -m benchmarks.bench_grad_layout [--rounds 21] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse

import torch

from benchmarks.report import write_section
from benchmarks.timing import interleaved, median, median_ratio
from bpcore import backprop as bp

SHAPES = [(256, 64, 10), (256, 512, 10), (256, 512, 32), (1024, 512, 10), (1024, 1024, 2), (32, 1024, 10)]


def _pair(batch: int, d_in: int, d_out: int):
    g = torch.Generator().manual_seed(0)
    h = torch.randn(batch, d_in, generator=g)
    delta = torch.randn(batch, d_out, generator=g)
    out = torch.empty(d_in + 1, d_out)

    def direct():
        torch.mm(h.mT, delta, out=out[:-1])

    def transposed():
        out[:-1].copy_(torch.mm(delta.mT, h).mT)

    return {"direct": direct, "transposed": transposed}, bp._narrow_output(h, delta)


def main(argv=None) -> list[list[str]]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=21)
    ap.add_argument("--out", default=None, help="markdown file to update")
    args = ap.parse_args(argv)
    rows = []
    for batch, d_in, d_out in SHAPES:
        fns, chosen = _pair(batch, d_in, d_out)
        times = interleaved(fns, rounds=args.rounds, target_s=0.01)
        row = [str(batch), f"{d_in} → {d_out}", f"{median(times['direct']) * 1e6:.1f}",
               f"{median(times['transposed']) * 1e6:.1f}", f"{median_ratio(times, 'transposed', 'direct'):.2f}",
               "transposed" if chosen else "direct"]
        print(" | ".join(row), flush=True)
        rows.append(row)
    if args.out:
        write_section(
            args.out, "∇_W layout: hᵀ δ direct vs (δᵀ h)ᵀ + copy (CPU)",
            "python -m benchmarks.bench_grad_layout --out docs/benchmarks.md",
            ["B", "layer", "direct µs", "transposed + copy µs", "ratio", "grad_W uses"], rows,
            "grad_W takes the transposed form where it has ≤ 16 outputs and B · D_in ≥ 65,536 (CPU only).",
        )
    return rows


if __name__ == "__main__":
    main()
