"""Application entry point: `python main.py`, `python -m bpgui` or the `bpgui` gui-script.

Without options the window opens ready to train (two spirals, a small tanh network). With --screenshot
(or --train-epochs) it trains unattended, saves a picture of the window and exits; see bpgui.automation.
"""

from __future__ import annotations

import argparse
import sys

from bpcore.config import BUNDLED_SOURCES, TOY_SOURCES


def configure_threads() -> int:
    """Leave one CPU core to the GUI thread: torch's intra-op pool gets the others (at least one).

    The trainer runs on a worker thread and the GUI computes decision fields with torch on its own
    thread; with a pool as large as the machine, the GUI's small tensor ops start parallel regions
    whose threads spin against the trainer's (on 2 cores a 2 ms field took 30 ms of CPU).
    """
    import os

    import torch

    n = max(1, (os.cpu_count() or 2) - 1)
    torch.set_num_threads(n)
    return n


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (argv without the program name; None: sys.argv[1:])."""
    ap = argparse.ArgumentParser(prog="bpgui", description="Backprop Lab desktop trainer")
    ap.add_argument("--dataset", help=f"data set: {', '.join((*TOY_SOURCES, *BUNDLED_SOURCES))} or csv:<path>")
    ap.add_argument("--layers", help="hidden layer sizes, e.g. 8,8")
    ap.add_argument("--activation", help="hidden activation, e.g. tanh, relu, sigmoid")
    ap.add_argument("--lr", type=float, help="learning rate μ (eq. 10)")
    ap.add_argument("--optimizer", help="sgd (eq. 10), momentum, nesterov or adam")
    ap.add_argument("--train-epochs", type=int, default=0, help="train this many epochs unattended, then exit")
    ap.add_argument("--screenshot", help="save a PNG of the whole window after training, then exit")
    ap.add_argument("--show", action="append", default=[], metavar="PANEL",
                    help="bring a tabbed panel to the front for --screenshot: data, architecture, weights, "
                         "gradients or confusion (repeatable)")
    ap.add_argument("--size", default="1600x1000", help="window size for --screenshot, WIDTHxHEIGHT")
    return ap.parse_args(sys.argv[1:] if argv is None else argv)


def main(argv: list[str] | None = None) -> int:
    """Start the desktop trainer (or an unattended screenshot run)."""
    args = parse_args(argv)
    from PySide6.QtWidgets import QApplication

    from bpgui.settings import APPLICATION, ORGANIZATION

    configure_threads()
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "bpgui"])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    unattended = bool(args.screenshot or args.train_epochs)
    from bpcore.errors import BackpropLabError

    if unattended:
        from bpgui.automation import run_and_capture

        try:
            return run_and_capture(app, args)
        except BackpropLabError as e:
            print(f"bpgui: {e}", file=sys.stderr)
            return 2
    from bpgui.automation import experiment_from_args
    from bpgui.main_window import MainWindow
    from bpgui.settings import open_settings

    experiment = None
    if args.dataset or args.layers or args.activation or args.optimizer or args.lr is not None:
        try:
            experiment = experiment_from_args(args)
        except BackpropLabError as e:
            print(f"bpgui: {e}", file=sys.stderr)
            return 2
    window = MainWindow(experiment, settings=open_settings())
    window.show()
    return app.exec()
