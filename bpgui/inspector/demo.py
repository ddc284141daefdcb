"""The inspector on its own, on the lecture-sized 2-3-2 example network: for class use and screenshots.

    python -m bpgui.inspector.demo                                   # a window
    python -m bpgui.inspector.demo --screenshot docs/img/inspector.png --size 1400x900
    python -m bpgui.inspector.demo --screenshot docs/img/inspector-layers.png --size 2300x1000 --layers all
    python -m bpgui.inspector.demo --lesson example                  # the lesson preset: large type, all layers,
    python -m bpgui.inspector.demo --lesson my-lesson.json --edit    # sized to fit 1920×1080; --edit types W, x, t
"""

from __future__ import annotations

import argparse
import os
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
    ap.add_argument("--size", default="1400x900", help="window size WxH (default 1400x900; lessons fit themselves)")
    ap.add_argument("--layers", default="output", choices=("output", "all"), help="which layer tab to show")
    ap.add_argument("--batch", type=int, default=1, help="inspect this many rows at once")
    ap.add_argument("--lr", type=float, default=0.5, help="μ of eq. 10")
    ap.add_argument("--lesson", help="'example' or a lesson file (JSON with W, activations, output, x, t, lr)")
    ap.add_argument("--edit", action="store_true", help="type the lesson's W, x and t first")
    ap.add_argument("--scale", type=float, default=None, help="Qt scale factor (lessons: 1.25)")
    ap.add_argument("--seed", type=int, default=0, help="torch's seed (fixed: every run shows the same numbers)")
    args = ap.parse_args(argv)

    from bpgui.inspector.lesson import LESSON_SCALE

    scale = args.scale if args.scale is not None else (LESSON_SCALE if args.lesson else None)
    if scale is not None:
        os.environ["QT_SCALE_FACTOR"] = f"{scale:g}"  # before the application: every font and sheet scales
    torch.manual_seed(args.seed)

    from PySide6.QtWidgets import QApplication

    from bpcore.errors import BackpropLabError
    from bpcore.lesson import load_lesson
    from bpgui.inspector import InspectorPanel
    from bpgui.inspector.lesson import LessonDialog, apply_lesson, example_lesson, lesson_size

    app = QApplication.instance() or QApplication(sys.argv[:1])
    panel = InspectorPanel()
    panel.setWindowTitle("Backprop Lab — inspector")
    w, h = (int(v) for v in args.size.lower().split("x"))
    if args.lesson:
        try:
            lesson = example_lesson() if args.lesson == "example" else load_lesson(args.lesson)
        except BackpropLabError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
        if args.edit:
            dialog = LessonDialog(lesson)
            if not dialog.exec():
                return 0
            lesson = dialog.result_lesson()
        apply_lesson(panel, lesson)
        panel.step_all()
        panel.show()
        app.processEvents()
        size = lesson_size(panel, scale or 1.0)
        w, h = size.width(), size.height()
        panel.move(0, 0)  # the whole screen is the lesson's
    else:
        panel.set_source([torch.tensor(W1), torch.tensor(W2)], ["sigmoid"], "softmax", X, T, args.lr)
        if args.batch > 1:
            panel.set_batch_mode(True, args.batch)
        panel.show_layer(None if args.layers == "all" else 2)
        panel.step_all()
    panel.resize(w, h)
    panel.show()
    panel.chain.choose(1, 1)
    panel.run_check()
    panel.controls.step_all.setFocus()
    if args.screenshot:
        panel.wait_check()
        app.processEvents()
        panel.export_png(args.screenshot)
        return 0
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
