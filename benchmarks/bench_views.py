"""Drawing cost of the live views: one update = set_*(new data) + a full repaint (widget.grab()).

Each large view is built at a realistic size (1600 × 1000 unless stated) with the data the window gives it
for the default network (2-8-8-2 on spirals: 100 × 100 decision field, 50 × 50 neuron thumbnails) and for
64-512-512-10 on digits. Every update hands the view new arrays (four variants in turn, as training moves
the weights), then grabs the widget, which runs its paintEvent. Reported: median ms per update over
--repeats updates (wall clock, and CPU time of the process, which other processes on a shared machine move
less), and the rate that allows (updates/s); --ref REV measures the views of a git revision in
alternating rounds of fresh processes in the same run (--rounds), so both columns share the machine's state;
the speed-up is the median over rounds of the CPU-time ratio within a round. "window" cases put the main window's large
views (network diagram with thumbnails, decision field, loss curves, weight heatmaps) in one 1600 × 1000
widget and update all of them per frame, the cost of one frame of the live window.

Usage: QT_QPA_PLATFORM=offscreen python -m benchmarks.bench_views [--repeats 40] [--ref REV [--rounds 3]]
       [--profile CASE] [--only CASE ...]
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import json
import os
import pstats
import shlex
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SMALL = [2, 8, 8, 2]
DIGITS = [64, 512, 512, 10]
FIELD = 100  # the window's decision field: FIELD² points (bpgui.refresh.FIELD_RESOLUTION)
THUMB = 50  # neuron thumbnails: every 2nd field point per axis
VARIANTS = 4


def _weights(sizes: list[int], rng: np.random.Generator) -> list[np.ndarray]:
    return [rng.normal(0, np.sqrt(2 / (a + b)), (a + 1, b)).astype(np.float32) for a, b in itertools.pairwise(sizes)]


def _training(weights: list[np.ndarray], rng: np.random.Generator) -> list[list[np.ndarray]]:
    """VARIANTS successive states of training: every weight moves a little (1 % of its scale) per frame, so
    colour levels step only now and then, as in a run."""
    out = [weights]
    for _ in range(VARIANTS - 1):
        out.append([w + 0.01 * w.std() * rng.standard_normal(w.shape, dtype=np.float32) for w in out[-1]])
    return out


def _spirals(rng: np.random.Generator, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    t = rng.uniform(0.3, 3 * np.pi, n)
    labels = rng.integers(0, 2, n)
    sign = np.where(labels == 0, 1.0, -1.0)
    x = np.column_stack([sign * t * np.cos(t), sign * t * np.sin(t)]) / 5
    return x + rng.normal(0, 0.05, x.shape), labels


def _thumbnails(sizes: list[int], rng: np.random.Generator) -> list[np.ndarray]:
    g = np.linspace(-1, 1, THUMB)
    gx, gy = np.meshgrid(g, g)
    out = [np.stack([gx, gy])[: sizes[0]] if sizes[0] == 2 else np.stack([gx] * min(sizes[0], 16))]
    for d in sizes[1:]:
        a = rng.normal(0, 2, (d, 2))
        out.append(np.tanh(a[:, 0, None, None] * gx + a[:, 1, None, None] * gy + rng.normal(0, 0.3, (d, 1, 1))))
    return out


def _field(rng: np.random.Generator) -> np.ndarray:
    g = np.linspace(-3, 3, FIELD)
    gx, gy = np.meshgrid(g, g)
    r, th = np.hypot(gx, gy), np.arctan2(gy, gx) + rng.normal(0, 0.1)
    p1 = 1 / (1 + np.exp(-4 * np.sin(th - 2 * r)))
    return np.stack([1 - p1, p1], axis=2)


def _cases(rng: np.random.Generator) -> dict[str, tuple[Callable[[], object], tuple[int, int], Callable]]:
    """name -> (factory, size, update(widget, k))."""
    from PySide6.QtWidgets import QGridLayout, QWidget

    from bpgui.views import ConfusionView, DecisionView, GradientView, LayerHeatmaps, LossPlot, NetworkDiagram

    titles = ["W(1)", "W(2)", "W(3)"]
    w_small = _training(_weights(SMALL, rng), rng)
    w_digits = _training(_weights(DIGITS, rng), rng)
    g_digits = [[1e-3 * w for w in ws] for ws in w_digits]
    fields = [_field(rng) for _ in range(VARIANTS)]
    x, labels = _spirals(rng)
    t_small = [_thumbnails(SMALL, rng) for _ in range(VARIANTS)]
    t_digits = [_thumbnails(DIGITS, rng)[1:] for _ in range(VARIANTS)]
    conf = [rng.integers(0, 40, (10, 10)) + np.diag(rng.integers(100, 200, 10)) for _ in range(VARIANTS)]
    n_ep = 2000
    ep = np.arange(1, n_ep + 1, dtype=float)
    hist = {"epoch": ep, "train_loss": 0.7 * np.exp(-ep / 300) + 0.02, "val_loss": 0.7 * np.exp(-ep / 280) + 0.03}

    def decision() -> DecisionView:
        v = DecisionView()
        v.set_points(x, labels)
        return v

    def network(sizes: list[int]) -> Callable[[], NetworkDiagram]:
        def make() -> NetworkDiagram:
            v = NetworkDiagram()
            v.set_architecture(sizes, ["tanh"] * (len(sizes) - 2) + ["softmax"])
            return v

        return make

    def loss_update(v: LossPlot, k: int) -> None:
        n = n_ep - VARIANTS + k
        v.set_history({key: a[:n] for key, a in hist.items()}, best_epoch=n - 10)

    def net_update(ws: list, ts: list) -> Callable:
        def update(v: NetworkDiagram, k: int) -> None:
            v.set_weights(ws[k])
            v.set_thumbnails(ts[k])

        return update

    def window(sizes: list[int]) -> Callable[[], QWidget]:
        """The main window's large views in its 1600 × 1000 layout, all in one widget (one paint for all)."""

        def make() -> QWidget:
            w = QWidget()
            grid = QGridLayout(w)
            w.views = {"network": network(sizes)(), "decision": decision(), "loss": LossPlot(),
                       "weights": LayerHeatmaps()}
            grid.addWidget(w.views["network"], 0, 0, 2, 1)
            grid.addWidget(w.views["decision"], 0, 1)
            grid.addWidget(w.views["loss"], 0, 2)
            grid.addWidget(w.views["weights"], 1, 1, 1, 2)
            grid.setColumnStretch(0, 37), grid.setColumnStretch(1, 55), grid.setColumnStretch(2, 46)
            grid.setRowStretch(0, 5), grid.setRowStretch(1, 3)
            return w

        return make

    def window_update(ws: list, ts: list) -> Callable:
        net = net_update(ws, ts)

        def update(w: QWidget, k: int) -> None:
            net(w.views["network"], k)
            w.views["decision"].set_probabilities(fields[k], (-3, 3, -3, 3))
            loss_update(w.views["loss"], k)
            w.views["weights"].set_matrices(ws[k], titles)

        return update

    return {
        "window 2-8-8-2 (network, decision, loss, weights)": (window(SMALL), (1600, 1000),
                                                              window_update(w_small, t_small)),
        "window 64-512-512-10 (same views)": (window(DIGITS), (1600, 1000), window_update(w_digits, t_digits)),
        "weights 2-8-8-2": (LayerHeatmaps, (1600, 1000), lambda v, k: v.set_matrices(w_small[k], titles)),
        "weights 64-512-512-10": (LayerHeatmaps, (1600, 1000), lambda v, k: v.set_matrices(w_digits[k], titles)),
        "gradients 64-512-512-10": (GradientView, (1600, 1000), lambda v, k: v.set_gradients(g_digits[k])),
        "decision 100x100": (decision, (1600, 1000), lambda v, k: v.set_probabilities(fields[k], (-3, 3, -3, 3))),
        "network+thumbs 2-8-8-2": (network(SMALL), (1600, 1000), net_update(w_small, t_small)),
        "network+thumbs 64-512-512-10": (network(DIGITS), (1600, 1000), net_update(w_digits, t_digits)),
        "confusion 10x10": (ConfusionView, (800, 700), lambda v, k: v.set_matrix(conf[k])),
        "loss 2000 epochs": (LossPlot, (1600, 1000), loss_update),
    }


def measure(only: list[str] | None, repeats: int, profile: str | None) -> dict[str, dict[str, float]]:
    """Median ms of set_* alone and of set_* + grab() per case."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    out = {}
    for name, (factory, size, update) in _cases(np.random.default_rng(0)).items():
        if only and name not in only:
            continue
        w = factory()
        w.resize(*size)
        w.show()
        for k in range(VARIANTS):  # warm-up: first drawings create items, caches, axis text
            update(w, k)
            w.grab()
            app.processEvents()
        sets, draws, cpus = [], [], []
        for r in range(repeats):
            c0, t0 = time.process_time(), time.perf_counter()
            update(w, r % VARIANTS)
            t1 = time.perf_counter()
            w.grab()
            t2, c2 = time.perf_counter(), time.process_time()
            sets.append(t1 - t0)
            draws.append(t2 - t0)
            cpus.append(c2 - c0)
            app.processEvents()
        if profile == name:
            prof = cProfile.Profile()
            prof.enable()
            for r in range(repeats):
                update(w, r % VARIANTS)
                w.grab()
            prof.disable()
            pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(25)
        out[name] = {"set_ms": 1e3 * statistics.median(sets), "update_ms": 1e3 * statistics.median(draws),
                     "cpu_ms": 1e3 * statistics.median(cpus)}
        w.close()
        w.deleteLater()
        app.processEvents()
    return out


def _subprocess(views_from: str | None, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    cmd = [sys.executable, "-m", "benchmarks.bench_views", "--json", "--repeats", str(args.repeats),
           *(["--views-from", views_from] if views_from else []), *(["--only", *args.only] if args.only else [])]
    res = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _rounds(ref: str, args: argparse.Namespace) -> tuple[dict, dict, dict]:
    """Alternating rounds, each a fresh process: this checkout's views and those of git revision `ref` (bpcore
    from here for both). Returns medians over rounds (now, ref) and the median of the per-round ratios."""
    tar = subprocess.run(["git", "archive", ref, "bpgui"], cwd=ROOT, check=True, capture_output=True).stdout
    runs: dict[str, list[dict]] = {"now": [], "ref": []}
    with tempfile.TemporaryDirectory() as tmp:
        tarfile.open(fileobj=BytesIO(tar)).extractall(tmp, filter="data")
        for r in range(args.rounds):
            for which in ("now", "ref") if r % 2 == 0 else ("ref", "now"):
                runs[which].append(_subprocess(tmp if which == "ref" else None, args))

    def med(which: str) -> dict:
        names = runs[which][0]
        return {n: {k: statistics.median(run[n][k] for run in runs[which]) for k in names[n]} for n in names}

    pairs = list(zip(runs["now"], runs["ref"], strict=True))
    ratio = {n: statistics.median(b[n]["cpu_ms"] / a[n]["cpu_ms"] for a, b in pairs) for n in runs["now"][0]}
    return med("now"), med("ref"), ratio


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=40)
    ap.add_argument("--ref", help="also measure the views of this git revision (e.g. HEAD~3), as a baseline")
    ap.add_argument("--rounds", type=int, default=3, help="with --ref: alternating rounds (fresh processes) per side")
    ap.add_argument("--only", nargs="*", help="case names to run")
    ap.add_argument("--profile", help="print a cProfile of this case's updates to stderr")
    ap.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--views-from", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.views_from:
        sys.path.insert(0, args.views_from)
    if args.json or not args.ref:
        now = measure(args.only, args.repeats, args.profile)
        if args.json:
            print(json.dumps(now))
            return
        base = ratio = None
    else:
        now, base, ratio = _rounds(args.ref, args)
    print("`QT_QPA_PLATFORM=offscreen .venv/bin/python -m benchmarks.bench_views " + shlex.join(sys.argv[1:]) + "`\n")
    head = ["view (widget size)", "set_* ms", "set_* + repaint ms", "CPU ms", "updates/s"]
    if base:
        head += [f"{args.ref}: set_* + repaint ms", f"{args.ref}: CPU ms", f"{args.ref}: updates/s",
                 "CPU speed-up (median of rounds)"]
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for name, r in now.items():
        row = [name, f"{r['set_ms']:.2f}", f"{r['update_ms']:.2f}", f"{r['cpu_ms']:.2f}", f"{1e3 / r['update_ms']:.0f}"]
        if base and name in base:
            b = base[name]
            row += [f"{b['update_ms']:.2f}", f"{b['cpu_ms']:.2f}", f"{1e3 / b['update_ms']:.0f}", f"{ratio[name]:.1f}×"]
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
