"""The status line says what the run is doing now: a steps/s figure only while it runs."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QStatusBar

from bpcore.train import Trainer
from bpgui.status import StatusLine


@pytest.mark.parametrize("mode,speed", [("running", "1,234 steps/s"), ("paused", "— steps/s"),
                                        ("finished", "— steps/s"), ("ready", "— steps/s"), ("failed", "— steps/s")])
def test_speed_only_while_running(qtbot, mode, speed):
    import dataclasses

    bar = QStatusBar()
    qtbot.addWidget(bar)
    status = StatusLine(bar)
    snap = dataclasses.replace(Trainer().snapshot(), steps_per_second=1234.0)
    status.show(snap, mode, "cpu")
    assert status.labels["speed"].text() == speed and status.labels["mode"].text() == mode


def test_a_long_reason_is_cut_to_its_room_and_never_covers_the_numbers(qtbot):
    """Why the run stopped sits left of the numbers in a label of its own: a long reason ends in '…' (the
    whole of it in the tooltip), never widens the bar and never overlaps the run state."""
    from PySide6.QtWidgets import QApplication, QMainWindow

    window = QMainWindow()
    qtbot.addWidget(window)
    status = StatusLine(window.statusBar())
    status.show(Trainer().snapshot(), "diverged", "cpu")
    window.resize(1400, 300)
    window.show()
    qtbot.waitExposed(window)
    before = window.minimumSizeHint().width()
    reason = ("Training paused: the loss became nan at epoch 1, step 1 (μ = 1e+09 too large?); the last finite weights "
              "are kept (step 0), and this sentence goes on for a long while to be longer than any room")
    status.set_reason(reason)
    QApplication.processEvents()
    label = status.reason
    assert label.text().endswith("…") and len(label.text()) < len(reason)
    assert label.toolTip() == reason and status.text().startswith(reason)
    assert label.geometry().right() < status.labels["mode"].geometry().left()
    assert window.minimumSizeHint().width() == before and window.width() == 1400
    window.statusBar().showMessage("Saved run.safetensors")  # a passing message takes the reason's place
    QApplication.processEvents()
    assert not label.isVisible()
    window.statusBar().clearMessage()
    QApplication.processEvents()
    assert label.isVisible()
    status.set_reason("")
    assert label.text() == "" and status.text().startswith("diverged")
