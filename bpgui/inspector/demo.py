"""The inspector on its own, on the lecture-sized 2-3-2 example network: for class use and screenshots.

    python -m bpgui.inspector.demo                                   # a window
    python -m bpgui.inspector.demo --screenshot docs/img/inspector.png --size 1400x900
    python -m bpgui.inspector.demo --screenshot docs/img/inspector-layers.png --size 2300x1000 --layers all
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

# sigmoid hidden layer, softmax output; biases in the last rows (eq. 11); as in tests/core/test_inspect.py
W1 = np.array([[0.5, -0.3, 0.8], [0.2, 0.7, -0.6], [0.1, -0.2, 0.05]])
W2 = np.array([[0.9, -0.4], [-0.5, 0.6], [0.3, 0.2], [0.05, -0.1]])
X = np.array([[0.7, -1.2], [0.3, 0.4], [-1.0, 0.5], [1.5, 0.2], [0.0, -0.3]])
T = np.array([1, 0, 1, 0, 1])


def main(argv: list[str] | None = None) -> int:
    """Show the panel after Step all and Check; with --screenshot save it and quit."""
    ap = argparse.ArgumentParser(prog="python -m bpgui.inspector.demo", description=__doc__.splitlines()[0])
    ap.add_argument("--screenshot", help="save a PNG of the panel and exit")
    ap.add_argument("--size", default="1400x900", help="window size WxH (default 1400x900)")
    ap.add_argument("--layers", default="output", choices=("output", "all"), help="which layer tab to show")
    ap.add_argument("--batch", type=int, default=1, help="inspect this many rows at once")
    ap.add_argument("--lr", type=float, default=0.5, help="μ of eq. 10")
    args = ap.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from bpgui.inspector import InspectorPanel

    app = QApplication.instance() or QApplication(sys.argv[:1])
    panel = InspectorPanel()
    panel.setWindowTitle("Backprop Lab — inspector")
    panel.set_source([torch.tensor(W1), torch.tensor(W2)], ["sigmoid"], "softmax", X, T, args.lr)
    if args.batch > 1:
        panel.set_batch_mode(True, args.batch)
    w, h = (int(v) for v in args.size.lower().split("x"))
    panel.resize(w, h)
    panel.show_layer(None if args.layers == "all" else 2)
    panel.show()
    panel.step_all()
    panel.chain.choose(1, 1)
    panel.run_check()
    panel.controls.step_all.setFocus()
    if args.screenshot:
        app.processEvents()
        panel.export_png(args.screenshot)
        return 0
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
