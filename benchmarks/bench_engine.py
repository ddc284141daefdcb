"""Engine benchmark: one training step of bpcore.nn.MLP + GradientDescent vs torch.nn + SGD(foreach).

bpcore runs two ways: MLP.loss(MLP(x)) (network and loss Functions) and MLP.objective(x, t) (one Function).

All run forward, loss, backward (autograd) and the update in the same process, interleaved rounds.
Usage: python -m benchmarks.bench_engine [--rounds 201] [--pairs 5] [--seed 0] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import random
import shlex
import sys
from collections.abc import Callable

import torch
import torch.nn.functional as F

from benchmarks.report import write_section
from benchmarks.timing import interleaved, median, median_ratio
from bpcore.nn import MLP
from bpcore.optim import GradientDescent

CASES = [((2, 8, 8, 2), 32), ((784, 512, 512, 10), 256)]


def _steps(sizes, batch, activation, space: Callable[[], object] = lambda: None):
    """One training step each for bpcore (two ways) and native; `space()` runs between building the models
    (the benchmark allocates unused buffers of random size there, so each set's tensors sit elsewhere)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(batch, sizes[0], generator=g)
    t = torch.randint(0, sizes[-1], (batch,), generator=g)
    ours = MLP(sizes, activation, seed=0)
    space()
    native = ours.to_torch()
    space()
    fused = MLP(sizes, activation, seed=0)
    space()
    opt_ours = GradientDescent(ours.parameters(), lr=0.01)
    opt_fused = GradientDescent(fused.parameters(), lr=0.01)
    opt_native = torch.optim.SGD(native.parameters(), lr=0.01, foreach=True)

    def step_ours():
        opt_ours.zero_grad()
        ours.loss(ours(x), t).backward()
        opt_ours.step()

    def step_fused():
        opt_fused.zero_grad()
        fused.objective(x, t).backward()
        opt_fused.step()

    def step_native():
        opt_native.zero_grad()
        F.cross_entropy(native(x), t).backward()
        opt_native.step()

    return {"bpcore": step_ours, "objective": step_fused, "native": step_native}


PATHS = {"bpcore": "MLP.loss(MLP(x))", "objective": "MLP.objective(x, t)"}


def _command(name: str, argv) -> str:
    """The command line that produced a table, as run."""
    args = sys.argv[1:] if argv is None else list(argv)
    return " ".join(["python -m benchmarks." + name, *map(shlex.quote, args)])


def main(argv=None) -> list[list[str]]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=201)
    ap.add_argument("--pairs", type=int, default=5, help="independent model sets (bpcore ×2, native) per case")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random spacing between the sets' tensors")
    ap.add_argument("--out", default=None, help="markdown file to update (section 'Engine')")
    args = ap.parse_args(argv)
    rows = []
    for sizes, batch in CASES:
        for activation in ("relu", "tanh"):
            fns, spacing, spacers = {}, random.Random(args.seed), []

            def space(spacers=spacers, spacing=spacing):
                spacers.append(torch.empty(spacing.randrange(1, 1 << 19)))

            for i in range(args.pairs):  # each set's tensors sit at other addresses: placement varies
                for name, fn in _steps(sizes, batch, activation, space).items():
                    fns[f"{name}{i}"] = fn
            times = interleaved(fns, rounds=args.rounds, target_s=0.004)
            floor = [median_ratio(times, f"native{i}", "native0") for i in range(1, args.pairs)]
            for path, label in PATHS.items():
                ratios = [median_ratio(times, f"{path}{i}", f"native{i}") for i in range(args.pairs)]
                # on a loaded machine the fastest round of each is the one least disturbed by others
                fastest = [min(times[f"{path}{i}"]) / min(times[f"native{i}"]) for i in range(args.pairs)]
                row = ["-".join(map(str, sizes)), str(batch), activation, label,
                       f"{median(times[f'{path}0']) * 1e6:.1f}", f"{median(times['native0']) * 1e6:.1f}",
                       f"{median(ratios):.3f}", " / ".join(f"{r:.3f}" for r in ratios),
                       " / ".join(f"{r:.3f}" for r in floor), f"{median(fastest):.3f}"]
                print(" | ".join(row), flush=True)
                rows.append(row)
    if args.out:
        write_section(
            args.out, "Engine: autograd path (bpcore.nn.MLP + GradientDescent vs nn.Sequential + SGD foreach)",
            _command("bench_engine", argv),
            ["net", "batch", "φ", "bpcore path", "bpcore µs/step", "native µs/step", "ratio (median of pairs)",
             "each pair", "native copy / native", "fastest rounds' ratio (median of pairs)"], rows,
            f"Bars: ratio ≤ 1.05 at 2-8-8-2 (issue 13), ≤ 1.02 at 784-512-512-10. MLP.loss(MLP(x)) is two autograd "
            "Functions (network, loss), MLP.objective(x, t) one (bpcore.fused.mlp_loss); both GradientDescent. "
            f"{args.pairs} independent model sets per row, unused buffers of random size between their tensors, "
            f"{args.rounds} interleaved rounds of ~4 ms each; the last column times identical native models "
            "against each other: the spread that memory placement alone gives. The last column divides each "
            "model's fastest round by its native partner's: the figure least moved by other processes on a "
            "loaded machine.",
        )
    return rows


if __name__ == "__main__":
    main()
