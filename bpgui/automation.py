"""Unattended runs for docs and CI: build the window, train N epochs, draw, save a screenshot, exit.

`main.py --dataset spirals --train-epochs 50 --screenshot docs/img/app-spirals.png` works without a screen
(QT_QPA_PLATFORM=offscreen). The run goes through the same training process and drawing clock as a user's.
"""

from __future__ import annotations

import argparse
import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from bpcore.config import Experiment
from bpcore.errors import ConfigError
from bpgui.main_window import MainWindow

TIMEOUT_S = 600.0


def experiment_from_args(args: argparse.Namespace) -> Experiment:
    """The default experiment with the command line's data set (and CSV target and task), layers, activation,
    μ and epoch count."""
    exp = Experiment()
    data, model, training = {}, {}, {}
    if args.dataset:
        data["source"] = args.dataset
    if args.target is not None:
        data["target"] = args.target
    if args.task:
        data["task"] = args.task
    if args.layers is not None:
        model["hidden"] = [int(n) for n in args.layers.split(",") if n.strip()]
    if args.activation:
        model["activation"] = args.activation
    if args.optimizer:
        training["optimizer"] = args.optimizer
    if args.lr is not None:
        training["lr"] = args.lr
    if args.train_epochs:
        training["epochs"] = args.train_epochs
    return exp.replace(data=data, model=model, training=training)


def run_and_capture(app: QApplication, args: argparse.Namespace) -> int:
    """Train args.train_epochs epochs in a window of args.size, draw, grab it to args.screenshot; 0 on success."""
    window = MainWindow(experiment_from_args(args), settings=None, ask_on_close=False,
                        in_process=getattr(args, "in_process", False))
    width, height = (int(v) for v in args.size.lower().split("x"))
    window.resize(width, height)
    window.show()
    app.processEvents()
    for key in args.show:
        dock = window.views.docks.get(key)
        if dock is None:
            raise ConfigError(f"--show {key}: no such panel; choose from {', '.join(window.views.docks)}")
        dock.raise_()
    if args.train_epochs:
        window.controller.play()
        deadline = time.monotonic() + TIMEOUT_S
        while window.controller.running and time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.01)
        window.controller.stop()
    if "inspector" in args.show:  # the inspector on the first sample, every stage revealed, given room
        window.inspect_sample(0)
        window.views.inspector.step_all()
        window.views.inspector.run_check(wait=True)  # the verdict is in the screenshot
        dock = window.views.docks["inspector"]
        window.resizeDocks([dock], [int(window.height() * 0.58)], Qt.Orientation.Vertical)
    for _ in range(3):  # let layouts settle, then draw every view once more
        window.refresher.tick()
        app.processEvents()
    window.refresher.draw_now()
    app.processEvents()
    ok = True
    if args.screenshot:
        ok = window.grab().save(args.screenshot)
        print(f"{'saved' if ok else 'could not save'} {args.screenshot} "
              f"(epoch {window.controller.latest.epoch}, {window.status.text()})")
    window.close()
    return 0 if ok else 1
