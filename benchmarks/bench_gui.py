"""GUI benchmark: does drawing slow training down, and does training freeze the GUI?

In one process, in alternating rounds:
- headless: a Trainer (the default experiment) runs on a thread while the main thread only waits;
- GUI: the same experiment trained from the MainWindow (worker thread + the 25 Hz drawing clock), with a
  10 ms QTimer whose lateness measures how long the event loop is blocked.
Reported: steps/s with the GUI over steps/s headless (target >= 0.8), timer lateness p50/p99 (target
p99 < 50 ms), and, for a 64-512-512-10 network on digits, how often the weight heatmaps are redrawn
(target >= 10 per second). The trainer and the GUI share the GIL, so GUI time is training time lost.

Usage: QT_QPA_PLATFORM=offscreen python -m benchmarks.bench_gui [--seconds 3] [--rounds 3]
       [--switch-interval 0.005] [--out docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QElapsedTimer, QTimer
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


def gui_run(app: QApplication, exp: Experiment, seconds: float, show: str | None = None) -> dict:
    """Train from the window for `seconds`; steps/s, 10 ms timer lateness and redraw counts."""
    from bpgui.main_window import MainWindow

    window = MainWindow(exp, settings=None, ask_on_close=False)
    window.resize(1600, 1000)
    window.show()
    for _ in range(5):
        app.processEvents()
    if show:
        window.views.docks[show].raise_()
        app.processEvents()
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
    end = time.perf_counter() + 0.3  # warm-up: first drawings create their items
    while time.perf_counter() < end:
        app.processEvents()
        time.sleep(0.001)
    counts0 = dict(window.refresher.counts)
    s0, t0 = ctl.trainer.step_count, time.perf_counter()
    clock.start()
    probe.start()
    end = t0 + seconds
    while time.perf_counter() < end:
        app.processEvents()  # the event loop of the app, driven here so the run has a fixed length
        time.sleep(0.0005)
    probe.stop()
    s1, t1 = ctl.trainer.step_count, time.perf_counter()
    counts = {k: (v - counts0.get(k, 0)) / (t1 - t0) for k, v in window.refresher.counts.items()}
    ctl.stop()
    window.close()
    window.deleteLater()
    app.processEvents()
    return {"rate": (s1 - s0) / (t1 - t0), "lateness": lateness[1:], "per_second": counts}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--switch-interval", type=float, default=None,
                    help="sys.setswitchinterval for the whole run (default: Python's 0.005 s)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    app = QApplication.instance() or QApplication([])
    exp = _default()
    ratios, lat, gui_rates, head_rates, fps = [], [], [], [], []
    for r in range(args.rounds):
        order = ("headless", "gui") if r % 2 == 0 else ("gui", "headless")
        res = {}
        for kind in order:
            res[kind] = headless_rate(exp, args.seconds) if kind == "headless" else gui_run(app, exp, args.seconds)
        g, h = res["gui"], res["headless"]
        ratios.append(g["rate"] / h)
        gui_rates.append(g["rate"])
        head_rates.append(h)
        lat.extend(g["lateness"])
        fps.append(g["per_second"].get("frames", 0.0))
        print(f"round {r}: headless {h:,.0f} steps/s, GUI {g['rate']:,.0f} steps/s, ratio {ratios[-1]:.2f}, "
              f"frames/s {fps[-1]:.1f}, draws/s {g['per_second']}", flush=True)
    big = gui_run(app, _big(), args.seconds, show="weights")
    heat = big["per_second"].get("weights", 0.0)
    print(f"64-512-512-10 digits: weight heatmaps {heat:.1f}/s, {big['rate']:,.0f} steps/s, "
          f"lateness p99 {np.percentile(big['lateness'], 99):.1f} ms", flush=True)
    p50, p99 = np.percentile(lat, 50), np.percentile(lat, 99)
    ratio = statistics.median(ratios)
    print(f"timer lateness p50 {p50:.1f} ms, p99 {p99:.1f} ms; throughput ratio GUI/headless {ratio:.2f}")
    if args.out:
        si = args.switch_interval or sys.getswitchinterval()
        rows = [
            ["UI event-loop lateness of a 10 ms QTimer, p50 / p99 (default net)", f"{p50:.1f} / {p99:.1f} ms",
             "p99 < 50 ms"],
            ["training steps/s with the GUI / headless (median of rounds)",
             f"{ratio:.2f} ({statistics.median(gui_rates):,.0f} / {statistics.median(head_rates):,.0f})", ">= 0.8"],
            ["GUI frames drawn per second while training (default net)", f"{statistics.median(fps):.1f}", "~25"],
            ["weight heatmap updates per second, 64-512-512-10 on digits", f"{heat:.1f}", ">= 10"],
            ["UI lateness p99 while training 64-512-512-10", f"{np.percentile(big['lateness'], 99):.1f} ms",
             "p99 < 50 ms"],
        ]
        cmd = "QT_QPA_PLATFORM=offscreen python -m benchmarks.bench_gui"
        if args.switch_interval:
            cmd += f" --switch-interval {args.switch_interval}"
        write_section(args.out, "GUI responsiveness and training throughput", cmd, ["measure", "value", "target"],
                      rows, note=f"{args.rounds} interleaved rounds of {args.seconds:g} s, 1600×1000 offscreen "
                                 f"window, Python switch interval {si * 1000:g} ms.")


if __name__ == "__main__":
    main()
