"""Where the autograd path's gap to native comes from, at 784-512-512-10 (batch 256, ReLU).

Each variant runs one full training step (forward, loss, backward, update) and is timed against
nn.Sequential + F.cross_entropy + SGD(foreach) in interleaved rounds, with independent model copies:
  python, native layout   a Python autograd Function doing native's ops on native's W (out, in) and b
  python, W (in, out)     the same with the weights stored as bpcore stores them, bias apart
  python, bias row in W   W (in + 1, out) with the bias as its last row (eq. 11), ∇_W written in place
  bpcore.mlp + F.ce       bpcore.nn.MLP with PyTorch's loss and SGD
  bpcore                  bpcore.nn.MLP + MLP.loss (bpcore.functional.cross_entropy) + GradientDescent
  bpcore, one Function    MLP.objective (network and loss as one Function, bpcore.fused) + GradientDescent
Usage: python -m benchmarks.bench_engine_gap [--rounds 201] [--copies 3] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import statistics

import torch
import torch.nn.functional as F
from torch.autograd import Function

from benchmarks.bench_engine import _steps
from benchmarks.report import write_section
from benchmarks.timing import interleaved, median_ratio
from bpcore.nn import MLP

SIZES, BATCH = (784, 512, 512, 10), 256
_relu_back = torch.ops.aten.threshold_backward


class _NativeLayout(Function):
    @staticmethod
    def forward(ctx, x, W1, b1, W2, b2, W3, b3):
        o1 = torch.relu(torch.addmm(b1, x, W1.t()))
        o2 = torch.relu(torch.addmm(b2, o1, W2.t()))
        ctx.saved = (x, o1, o2, W2, W3)
        return torch.addmm(b3, o2, W3.t())

    @staticmethod
    def backward(ctx, d):
        x, o1, o2, W2, W3 = ctx.saved
        gW3, gb3 = d.t().mm(o2), d.sum(0)
        d = _relu_back(d.mm(W3), o2, 0)
        gW2, gb2 = d.t().mm(o1), d.sum(0)
        d = _relu_back(d.mm(W2), o1, 0)
        return None, d.t().mm(x), d.sum(0), gW2, gb2, gW3, gb3


class _InOutLayout(Function):
    @staticmethod
    def forward(ctx, x, W1, b1, W2, b2, W3, b3):
        o1 = torch.relu(torch.addmm(b1, x, W1))
        o2 = torch.relu(torch.addmm(b2, o1, W2))
        ctx.saved = (x, o1, o2, W2, W3)
        return torch.addmm(b3, o2, W3)

    @staticmethod
    def backward(ctx, d):
        x, o1, o2, W2, W3 = ctx.saved
        gW3, gb3 = o2.t().mm(d), d.sum(0)
        d = _relu_back(d.mm(W3.t()), o2, 0)
        gW2, gb2 = o1.t().mm(d), d.sum(0)
        d = _relu_back(d.mm(W2.t()), o1, 0)
        return None, x.t().mm(d), d.sum(0), gW2, gb2, gW3, gb3


def _grad_folded(h, d):
    g = d.new_empty(h.shape[1] + 1, d.shape[1])
    torch.mm(h.t(), d, out=g[:-1])
    torch.sum(d, 0, out=g[-1])
    return g


class _BiasRowLayout(Function):
    @staticmethod
    def forward(ctx, x, W1, W2, W3):
        o1 = torch.relu_(torch.addmm(W1[-1], x, W1[:-1]))
        o2 = torch.relu_(torch.addmm(W2[-1], o1, W2[:-1]))
        ctx.saved = (x, o1, o2, W2, W3)
        return torch.addmm(W3[-1], o2, W3[:-1])

    @staticmethod
    def backward(ctx, d):
        x, o1, o2, W2, W3 = ctx.saved
        g3 = _grad_folded(o2, d)
        d = _relu_back(d.mm(W3[:-1].t()), o2, 0)
        g2 = _grad_folded(o1, d)
        d = _relu_back(d.mm(W2[:-1].t()), o1, 0)
        return None, _grad_folded(x, d), g2, g3


def _variants() -> dict:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(BATCH, SIZES[0], generator=g)
    t = torch.randint(0, SIZES[-1], (BATCH,), generator=g)

    def step(forward, loss, opt):
        def run():
            opt.zero_grad()
            loss(forward(), t).backward()
            opt.step()
        return run

    def sgd(params):
        return torch.optim.SGD(params, lr=0.01, foreach=True)

    base = _steps(SIZES, BATCH, "relu")  # native and bpcore both ways, as bench_engine times them
    model = MLP(SIZES, "relu", seed=0)
    nat = list(model.to_torch().parameters())
    in_out = [torch.nn.Parameter(p.detach().t().contiguous() if p.dim() == 2 else p.detach().clone()) for p in nat]
    folded = [torch.nn.Parameter(W.detach().clone()) for W in model.parameters()]
    ours_f = MLP(SIZES, "relu", seed=0)
    return {
        "native": base["native"],
        "python, native layout": step(lambda: _NativeLayout.apply(x, *nat), F.cross_entropy, sgd(nat)),
        "python, W (in, out)": step(lambda: _InOutLayout.apply(x, *in_out), F.cross_entropy, sgd(in_out)),
        "python, bias row in W": step(lambda: _BiasRowLayout.apply(x, *folded), F.cross_entropy, sgd(folded)),
        "bpcore.mlp + F.ce": step(lambda: ours_f(x), F.cross_entropy, sgd(ours_f.parameters())),
        "bpcore": base["bpcore"],
        "bpcore, one Function": base["objective"],
    }


def main(argv=None) -> list[list[str]]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=201)
    ap.add_argument("--copies", type=int, default=3, help="independent copies of every variant")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    fns, names = {}, []
    for c in range(args.copies):
        for name, fn in _variants().items():
            fns[(name, c)] = fn
            if c == 0:
                names.append(name)
    times = interleaved(fns, rounds=args.rounds, target_s=0.004)
    rows = []
    for name in names:
        ratios = [median_ratio(times, (name, c), ("native", c)) for c in range(args.copies)]
        row = [name, f"{statistics.median(times[(name, 0)]) * 1e6:.0f}", " / ".join(f"{r:.3f}" for r in ratios)]
        print(" | ".join(row), flush=True)
        rows.append(row)
    if args.out:
        write_section(
            args.out, "Engine: where the gap at 784-512-512-10 comes from",
            "python -m benchmarks.bench_engine_gap --out docs/benchmarks.md",
            ["variant (ReLU, batch 256)", "µs/step", "ratio to native, each copy"], rows,
            "Every variant does the same GEMMs; see the module docstring for what each one changes.",
        )
    return rows


if __name__ == "__main__":
    main()
