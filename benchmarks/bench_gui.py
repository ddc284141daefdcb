"""GUI benchmark: how often each view repaints while training, does drawing slow training, is the window responsive?

For each runner — the training process (the app's default) and the thread fallback (`--in-process`) — in one
process, in alternating rounds:
- headless: a Trainer (the default experiment) runs on a thread while the main thread only waits (the reference);
- window: the same experiment trained from the MainWindow, with a 10 ms QTimer whose lateness measures how long
  the event loop is blocked.
Reported per runner: repaints per second of every large view (decision field, neuron thumbnails, network,
weight heatmaps, loss curves), steps/s with the window over steps/s headless, timer lateness p50/p99; and, for
a 64-512-512-10 network on digits, weight-heatmap repaints per second and lateness p99.
Targets (issue 10): default net ≥ 25 repaints/s of every large view, p99 ≤ 30 ms, ratio ≥ 0.9; 64-512-512-10
heatmaps ≥ 20/s, p99 ≤ 30 ms.

Usage: QT_QPA_PLATFORM=offscreen python -m benchmarks.bench_gui [--seconds 3] [--rounds 3] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import os
import statistics
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
from PySide6.QtWidgets import QApplication

from benchmarks.report import write_section
from bpcore.config import Experiment
from bpcore.train import Trainer

LONG = 10_000_000  # epochs: a run that lasts longer than any measurement


def _default() -> Experiment:
    return Experiment().replace(training={"epochs": LONG})


def _big() -> Experiment:
    return Experiment().replace(data={"source": "digits"}, model={"hidden": [512, 512]},
                                training={"epochs": LONG, "batch_size": 64, "lr": 0.05})


def headless_rate(exp: Experiment, seconds: float) -> float:
    """Steps per second of a Trainer on a thread while the main thread waits."""
    trainer = Trainer(exp)
    thread = threading.Thread(target=trainer.run, kwargs={"snapshot_interval": 0.03, "with_weights": True})
    thread.start()
    time.sleep(0.3)  # warm-up
    s0, t0 = trainer.step_count, time.perf_counter()
    time.sleep(seconds)
    s1, t1 = trainer.step_count, time.perf_counter()
    trainer.stop()
    thread.join()
    return (s1 - s0) / (t1 - t0)


VIEWS = ("decision", "thumbnails", "network", "weights", "frames")  # frames: loss curves, criteria, status


def gui_run(app: QApplication, exp: Experiment, seconds: float, in_process: bool, show: str | None = None) -> dict:
    """Train from the window for `seconds`; steps/s, 10 ms timer lateness and repaints per view per second."""
    from bpgui.main_window import MainWindow

    window = MainWindow(exp, settings=None, ask_on_close=False, in_process=in_process)
    window.resize(1600, 1000)
    window.show()
    _spin(0.2)
    if show:
        window.views.docks[show].raise_()
        _spin(0.1)
    lateness: list[float] = []
    clock = QElapsedTimer()
    probe = QTimer()
    probe.setInterval(10)
    last = [0.0]

    def on_probe() -> None:
        now = clock.nsecsElapsed() / 1e6
        lateness.append(max(0.0, now - last[0] - 10.0))
        last[0] = now

    probe.timeout.connect(on_probe)
    ctl = window.controller
    ctl.play()
    deadline = time.monotonic() + 60  # the training process imports torch first
    while (ctl.latest is None or ctl.latest.epoch < 2) and time.monotonic() < deadline:
        _spin(0.05)
    _spin(0.3)  # warm-up: first drawings create their items
    counts0 = dict(window.refresher.counts)
    s0, t0 = ctl.latest.step, time.perf_counter()
    clock.start()
    probe.start()
    _spin(seconds)
    probe.stop()
    s1, t1 = ctl.latest.step, time.perf_counter()
    counts = {k: (v - counts0.get(k, 0)) / (t1 - t0) for k, v in window.refresher.counts.items()}
    ctl.stop()
    window.close()
    window.deleteLater()
    app.processEvents()
    return {"rate": (s1 - s0) / (t1 - t0), "lateness": lateness[1:], "per_second": counts}


def _spin(seconds: float) -> None:
    """Run a real Qt event loop (idle waits sleep) for a number of seconds."""
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def _rounds(app: QApplication, exp: Experiment, args, in_process: bool) -> dict:
    """Alternating headless / window rounds: median ratio, lateness p50/p99, steps/s, repaints/s per view."""
    ratios, lat, gui_rates, head_rates, per_view = [], [], [], [], {v: [] for v in VIEWS}
    for r in range(args.rounds):
        order = ("headless", "gui") if r % 2 == 0 else ("gui", "headless")
        res = {}
        for kind in order:
            res[kind] = (headless_rate(exp, args.seconds) if kind == "headless"
                         else gui_run(app, exp, args.seconds, in_process))
        g, h = res["gui"], res["headless"]
        ratios.append(g["rate"] / h)
        gui_rates.append(g["rate"])
        head_rates.append(h)
        lat.extend(g["lateness"])
        for v in VIEWS:
            per_view[v].append(g["per_second"].get(v, 0.0))
        print(f"{_name(in_process)}, round {r}: headless {h:,.0f} steps/s, window {g['rate']:,.0f} steps/s, "
              f"ratio {ratios[-1]:.2f}, repaints/s { {v: round(per_view[v][-1], 1) for v in VIEWS} }", flush=True)
    out = {"ratio": statistics.median(ratios), "p50": float(np.percentile(lat, 50)),
           "p99": float(np.percentile(lat, 99)), "gui": statistics.median(gui_rates),
           "headless": statistics.median(head_rates), "views": {v: statistics.median(per_view[v]) for v in VIEWS}}
    print(f"  {_name(in_process)}: lateness p50 {out['p50']:.1f} ms, p99 {out['p99']:.1f} ms; ratio {out['ratio']:.2f}",
          flush=True)
    return out


def _name(in_process: bool) -> str:
    return "thread fallback" if in_process else "training process"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    from bpgui.app import configure_threads

    app = QApplication.instance() or QApplication([])
    rows = []
    for in_process in (False, True):
        configure_threads(in_process)  # as the app does for each runner
        r = _rounds(app, _default(), args, in_process)
        big = gui_run(app, _big(), args.seconds, in_process, show="weights")
        heat, big_p99 = big["per_second"].get("weights", 0.0), float(np.percentile(big["lateness"], 99))
        print(f"  {_name(in_process)}, 64-512-512-10 digits: weight heatmaps {heat:.1f}/s, {big['rate']:,.0f} "
              f"steps/s, lateness p99 {big_p99:.1f} ms", flush=True)
        v = r["views"]
        rows += [
            [_name(in_process), "default net: repaints/s of decision field / neuron thumbnails / network / "
             "weight heatmaps / loss curves",
             " / ".join(f"{v[k]:.1f}" for k in VIEWS), ">= 25 each" if not in_process else "(fallback)"],
            [_name(in_process), "default net: UI lateness of a 10 ms QTimer, p50 / p99",
             f"{r['p50']:.1f} / {r['p99']:.1f} ms", "p99 <= 30 ms" if not in_process else "(fallback)"],
            [_name(in_process), "default net: steps/s with the window / headless (median of rounds)",
             f"{r['ratio']:.2f} ({r['gui']:,.0f} / {r['headless']:,.0f})",
             ">= 0.9" if not in_process else "(fallback)"],
            [_name(in_process), "64-512-512-10 on digits: weight heatmap repaints/s, lateness p99",
             f"{heat:.1f}, {big_p99:.1f} ms", ">= 20, <= 30 ms" if not in_process else "(fallback)"],
        ]
    if args.out:
        write_section(args.out, "GUI responsiveness and training throughput",
                      "QT_QPA_PLATFORM=offscreen python -m benchmarks.bench_gui",
                      ["runner", "measure", "value", "target"], rows,
                      note=f"{args.rounds} interleaved rounds of {args.seconds:g} s per runner, 1600×1000 offscreen "
                           "window; headless = the Trainer on a thread of an otherwise idle process, with the torch "
                           "threads the app sets for that runner (1 beside a training process, all cores but one "
                           "for the thread fallback).")


if __name__ == "__main__":
    main()
