"""Two layout choices in bpcore.backprop, each timed both ways on the CPU.

1. grad_W forms a narrow ∇_W as (δᵀ h)ᵀ: hᵀ δ with few outputs over a long product (B · D_in large) is slow
   in MKL when written row-major (D_in, D_out); δᵀ h and a transposed copy cost less (`_narrow_output`).
2. softmax / log softmax over fewer than 16 classes reduce over dim 0 of zᵀ: ATen's last-dimension kernel
   runs a scalar loop there, the dim-0 kernel vectorises across the batch (`_few_classes`).
Usage: python -m benchmarks.bench_layouts [--rounds 21] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse

import torch

from benchmarks.report import write_section
from benchmarks.timing import interleaved, median, median_ratio
from bpcore import backprop as bp

SHAPES = [(256, 64, 10), (256, 512, 10), (256, 512, 32), (1024, 512, 10), (1024, 1024, 2), (32, 1024, 10)]
SOFTMAX_SHAPES = [(32, 10), (64, 10), (256, 3), (256, 10), (256, 32), (1024, 10), (1024, 100)]


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


def _softmax_pair(batch: int, classes: int):
    z = torch.randn(batch, classes, generator=torch.Generator().manual_seed(0))
    return {"last dim": lambda: torch.log_softmax(z, 1),
            "dim 0 of zᵀ": lambda: torch.log_softmax(z.mT, 0).mT}, bp._few_classes(z)


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
    soft_rows = []
    for batch, classes in SOFTMAX_SHAPES:
        fns, chosen = _softmax_pair(batch, classes)
        times = interleaved(fns, rounds=args.rounds, target_s=0.01)
        row = [str(batch), str(classes), f"{median(times['last dim']) * 1e6:.1f}",
               f"{median(times['dim 0 of zᵀ']) * 1e6:.1f}", f"{median_ratio(times, 'dim 0 of zᵀ', 'last dim'):.2f}",
               "dim 0 of zᵀ" if chosen else "last dim"]
        print(" | ".join(row), flush=True)
        soft_rows.append(row)
    if args.out:
        write_section(
            args.out, "∇_W layout: hᵀ δ direct vs (δᵀ h)ᵀ + copy (CPU)",
            "python -m benchmarks.bench_layouts --out docs/benchmarks.md",
            ["B", "layer", "direct µs", "transposed + copy µs", "ratio", "grad_W uses"], rows,
            "grad_W takes the transposed form where it has ≤ 16 outputs and B · D_in ≥ 65,536 (CPU only).",
        )
        write_section(
            args.out, "log softmax over few classes: last dim vs dim 0 of zᵀ (CPU, float32)",
            "python -m benchmarks.bench_layouts --out docs/benchmarks.md",
            ["B", "classes", "last dim µs", "dim 0 of zᵀ µs", "ratio", "bpcore uses"], soft_rows,
            "bpcore.backprop.softmax takes dim 0 of zᵀ for fewer than 16 classes and B · K ≥ 1024 (CPU only).",
        )
    return rows


if __name__ == "__main__":
    main()
