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
