"""GUI benchmark: does drawing slow training down, and does training freeze the GUI?

In one process, in alternating rounds:
- headless: a Trainer (the default experiment) runs on a thread while the main thread only waits;
- GUI: the same experiment trained from the MainWindow (worker thread + the 25 Hz drawing clock), with a
  10 ms QTimer whose lateness measures how long the event loop is blocked.
Reported: steps/s with the GUI over steps/s headless (target >= 0.8), timer lateness p50/p99 (target
p99 < 50 ms), and, for a 64-512-512-10 network on digits, how often the weight heatmaps are redrawn
(target >= 10 per second). The trainer and the GUI share the GIL, so GUI time is training time lost.

Usage: QT_QPA_PLATFORM=offscreen python -m benchmarks.bench_gui [--seconds 3] [--rounds 3]
       [--switch-interval 0.001] [--out docs/benchmarks.md]
(--switch-interval adds rounds with that interval for comparison; the app keeps Python's default.)
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


def gui_run(app: QApplication, exp: Experiment, seconds: float, show: str | None = None) -> dict:
    """Train from the window for `seconds`; steps/s, 10 ms timer lateness and redraw counts."""
    from bpgui.main_window import MainWindow

    window = MainWindow(exp, settings=None, ask_on_close=False)
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
    _spin(0.3)  # warm-up: first drawings create their items
    counts0 = dict(window.refresher.counts)
    s0, t0 = ctl.trainer.step_count, time.perf_counter()
    clock.start()
    probe.start()
    _spin(seconds)
    probe.stop()
    s1, t1 = ctl.trainer.step_count, time.perf_counter()
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


def _rounds(app: QApplication, exp: Experiment, args) -> tuple:
    """Alternating headless / GUI rounds: (median ratio, lateness p50, p99, GUI and headless steps/s, fps)."""
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
        print(f"switch interval {sys.getswitchinterval() * 1000:g} ms, round {r}: headless {h:,.0f} steps/s, "
              f"GUI {g['rate']:,.0f} steps/s, ratio {ratios[-1]:.2f}, frames/s {fps[-1]:.1f}, "
              f"draws/s { {k: round(v, 1) for k, v in g['per_second'].items()} }", flush=True)
    p50, p99 = float(np.percentile(lat, 50)), float(np.percentile(lat, 99))
    print(f"  lateness p50 {p50:.1f} ms, p99 {p99:.1f} ms; ratio {statistics.median(ratios):.2f}", flush=True)
    return (statistics.median(ratios), p50, p99, statistics.median(gui_rates), statistics.median(head_rates),
            statistics.median(fps))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--switch-interval", type=float, default=None,
                    help="also measure with this sys.setswitchinterval (the app keeps Python's 0.005 s)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    from bpgui.app import configure_threads

    threads = configure_threads()  # as the app does (one core left to the GUI)
    app = QApplication.instance() or QApplication([])
    exp = _default()
    main_si = sys.getswitchinterval()
    results = {}
    for si in (main_si, args.switch_interval) if args.switch_interval else (main_si,):
        sys.setswitchinterval(si)
        results[si] = _rounds(app, exp, args)
    sys.setswitchinterval(main_si)
    ratio, p50, p99, gui_rate, head_rate, fps = results[main_si]
    big = gui_run(app, _big(), args.seconds, show="weights")
    heat = big["per_second"].get("weights", 0.0)
    big_p99 = float(np.percentile(big["lateness"], 99))
    print(f"64-512-512-10 digits: weight heatmaps {heat:.1f}/s, {big['rate']:,.0f} steps/s, "
          f"frames/s {big['per_second'].get('frames', 0.0):.1f}, lateness p99 {big_p99:.1f} ms", flush=True)
    if args.out:
        rows = [
            ["UI event-loop lateness of a 10 ms QTimer, p50 / p99 (default net)", f"{p50:.1f} / {p99:.1f} ms",
             "p99 < 50 ms"],
            ["training steps/s with the GUI / headless (median of rounds)",
             f"{ratio:.2f} ({gui_rate:,.0f} / {head_rate:,.0f})", ">= 0.8"],
            ["GUI frames per second while training the default net", f"{fps:.1f}", "(paced to the GUI budget)"],
            ["weight heatmap updates per second, 64-512-512-10 on digits", f"{heat:.1f}", ">= 10"],
            ["UI lateness p99 while training 64-512-512-10", f"{big_p99:.1f} ms", "p99 < 50 ms"],
        ]
        if args.switch_interval:
            r2 = results[args.switch_interval]
            rows.append([f"same with sys.setswitchinterval({args.switch_interval:g}): ratio, lateness p99",
                         f"{r2[0]:.2f}, {r2[2]:.1f} ms", "(comparison)"])
        cmd = "QT_QPA_PLATFORM=offscreen python -m benchmarks.bench_gui"
        if args.switch_interval:
            cmd += f" --switch-interval {args.switch_interval}"
        write_section(args.out, "GUI responsiveness and training throughput", cmd, ["measure", "value", "target"],
                      rows, note=f"{args.rounds} interleaved rounds of {args.seconds:g} s per setting, 1600×1000 "
                                 f"offscreen window, switch interval {main_si * 1000:g} ms, {threads} torch "
                                 f"thread(s) (the app leaves one core to the GUI).")


if __name__ == "__main__":
    main()
