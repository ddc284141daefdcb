"""Application entry point: `python main.py`, `python -m bpgui` or the `bpgui` gui-script.

Without options the window opens ready to train (two spirals, a small tanh network) at the remembered speed
(10 epochs per second at first) with no epoch limit. With --screenshot
(or --train-epochs) it trains unattended, saves a picture of the window and exits; see bpgui.automation.
"""

from __future__ import annotations

import argparse
import re
import sys
import typing
from collections.abc import Callable
from typing import Any

from bpcore.cli import target_column
from bpcore.config import BUNDLED_SOURCES, MAX_EPOCHS, TOY_SOURCES, validate
from bpcore.errors import ConfigError

_SIZE = re.compile(r"\s*(\d{1,6})\s*[xX×]\s*(\d{1,6})\s*")  # at most 6 digits: int() of a 5000-digit string fails


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:  # one line, like bpcore's CLI: no usage block
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _checked(key: str, value: Any) -> Any:
    """validate(key, value) for argparse: its ConfigError becomes argparse's one-line error (exit 2)."""
    try:
        return validate(key, value)
    except ConfigError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _window_size(text: str) -> str:
    """--size WIDTHxHEIGHT, each side in the range of window.width/window.height; normalised to 'WxH'."""
    m = _SIZE.fullmatch(text)
    if m is None:
        raise argparse.ArgumentTypeError(f"WIDTHxHEIGHT in pixels expected, e.g. 1600x1000, got {text[:40]!r}")
    return f"{_checked('window.width', int(m[1]))}x{_checked('window.height', int(m[2]))}"


def _number(key: str, kind: type) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            value = kind(text)
        except (ValueError, OverflowError):
            raise argparse.ArgumentTypeError(f"{key} must be {'an integer' if kind is int else 'a number'}, "
                                             f"got {text[:40]!r}") from None
        return _checked(key, value)

    convert.__name__ = key  # argparse names the type in some messages
    return convert


def _choice(key: str) -> Callable[[str], str]:
    def convert(text: str) -> str:
        return _checked(key, text)

    convert.__name__ = key
    return convert


def _layers(text: str) -> str:
    """--layers 8,8: every size in the range of model.hidden; normalised to '8,8' ('' for none)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not all(re.fullmatch(r"\d{1,9}", p) for p in parts):
        raise argparse.ArgumentTypeError(f"model.hidden must be a list of integers, e.g. 8,8, got {text[:40]!r}")
    return ",".join(str(n) for n in _checked("model.hidden", tuple(int(p) for p in parts)))


def _epochs(text: str) -> int:
    """--train-epochs: 0 (open the window) or an epoch count in the range of training.epochs."""
    return 0 if text.strip() == "0" else _number("training.epochs", int)(text)


def configure_threads(in_process: bool = False) -> int:
    """torch intra-op threads of the window's process. Training runs in a child process that sizes its own pool
    to the network (bpcore.train.runner.threads_for); the window computes no torch while a run goes on, so one
    thread here, whose pool never spins against the child's. With the thread fallback (--in-process) the
    trainer's pool gets every core but the GUI's."""
    import os

    import torch

    from bpcore.train.threads import one_blas_thread

    n = max(1, (os.cpu_count() or 2) - 1) if in_process else 1
    torch.set_num_threads(n)
    one_blas_thread()  # numpy's spinning BLAS threads would take the core the child trains on
    return n


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options (argv without the program name; None: sys.argv[1:])."""
    ap = _Parser(prog="bpgui", description="Backprop Lab desktop trainer")
    ap.add_argument("--dataset", help=f"data set: {', '.join((*TOY_SOURCES, *BUNDLED_SOURCES))} or csv:<path>")
    ap.add_argument("--target", type=target_column, metavar="COL",
                    help="CSV target column: name or 0-based index (default: the last)")
    ap.add_argument("--task", type=_choice("data.task"), help="CSV target as: auto | classification | regression")
    ap.add_argument("--layers", type=_layers, help="hidden layer sizes, e.g. 8,8")
    ap.add_argument("--activation", help="hidden activation, e.g. tanh, relu, sigmoid")
    ap.add_argument("--lr", type=_number("training.lr", float), help="learning rate μ (eq. 10)")
    ap.add_argument("--optimizer", help="sgd (eq. 10), momentum, nesterov or adam")
    ap.add_argument("--train-epochs", type=_epochs, default=0,
                    help="train this many epochs unattended, then exit")
    ap.add_argument("--screenshot", help="save a PNG of the whole window after training, then exit")
    ap.add_argument("--show", action="append", default=[], metavar="PANEL",
                    help="bring a tabbed panel to the front for --screenshot: data, architecture, weights, "
                         "gradients or confusion (repeatable)")
    ap.add_argument("--in-process", action="store_true",
                    help="train on a thread of the window's process instead of a process of its own (for "
                         "single-core machines; the views then repaint less often)")
    ap.add_argument("--size", type=_window_size, default="1600x1000",
                    help="window size for --screenshot, WIDTHxHEIGHT (each 200..8192 pixels)")
    return ap.parse_args(sys.argv[1:] if argv is None else argv)


def main(argv: list[str] | None = None) -> int:
    """Start the desktop trainer (or an unattended screenshot run)."""
    args = parse_args(argv)
    from bpgui import platform_check

    if platform_check.uses_xcb() and (missing := platform_check.missing_xcb_packages()):
        print(platform_check.xcb_hint(missing), file=sys.stderr)  # instead of Qt's abort, which blames one
        return 2
    from PySide6.QtWidgets import QApplication

    from bpgui.settings import APPLICATION, ORGANIZATION

    configure_threads(args.in_process)
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
    from bpgui.settings import load_pace, open_settings

    experiment = None
    if args.dataset or args.layers or args.activation or args.optimizer or args.lr is not None \
            or args.target is not None or args.task:
        try:
            # a window trains until Pause or a stopping criterion, at a watchable pace: no epoch limit
            experiment = experiment_from_args(args).replace(training={"epochs": MAX_EPOCHS})
        except BackpropLabError as e:
            print(f"bpgui: {e}", file=sys.stderr)
            return 2
    interrupted = _CtrlC()
    settings = open_settings()
    window = MainWindow(experiment, settings=settings, in_process=args.in_process, pace=load_pace(settings))
    window.show()
    interrupted.window = window  # from here on Ctrl+C closes it; one that came earlier closes it now
    code = app.exec() if not interrupted.close() else 0
    return 130 if interrupted.seen else code


class _CtrlC:
    """Ctrl+C in the terminal closes the window without questions (the training process ends with it), as a
    terminal user expects. Python runs the handler between two Qt events (the drawing clock ticks often), and
    it never raises: a KeyboardInterrupt inside a Qt virtual call (a paint, a show) would crash the process."""

    def __init__(self) -> None:
        import signal

        self.window = None
        self.seen = False
        signal.signal(signal.SIGINT, self._handle)

    def _handle(self, _signum, _frame) -> None:
        from PySide6.QtCore import QTimer

        self.seen = True
        QTimer.singleShot(0, self.close)  # from the event loop, not from inside whatever Qt call was running

    def close(self) -> bool:
        """Close the window if Ctrl+C was pressed; True when it was."""
        if self.seen and self.window is not None:
            self.window.ask_on_close = False
            self.window.close()
        return self.seen
