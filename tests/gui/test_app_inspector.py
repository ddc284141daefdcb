"""The inspector inside the main window: a click in the data plot inspects that sample."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bpcore.config import Experiment
from bpcore.inspect import trace
from bpgui.main_window import MainWindow


def test_clicking_a_sample_inspects_it_with_the_trainers_numbers(qtbot):
    window = MainWindow(Experiment(), settings=None, ask_on_close=False)
    qtbot.addWidget(window)
    window.show()
    trainer = window.controller.trainer
    before = [W.clone() for W in trainer.net.weights]
    window.views.scatter.sampleClicked.emit(5)
    panel = window.views.inspector
    assert window.views.docks["inspector"].isVisible()
    panel.step_all()
    X, targets = trainer.rows()
    ref = trace(trainer.net.weights, trainer.net.activations, trainer.output, torch.as_tensor(X[5:6]),
                torch.as_tensor(targets[5:6]), lr=trainer.base_lr)
    shown = panel.current_trace()
    for ours, theirs in zip(shown.layers, ref.layers, strict=True):
        assert np.array_equal(ours.delta, theirs.delta) and np.array_equal(ours.grad_W, theirs.grad_W)
    assert all(torch.equal(a, b) for a, b in zip(before, trainer.net.weights, strict=True))  # training untouched
    # the inspector holds copies: writing the record trainer's tensors (a newer snapshot) changes nothing shown
    with torch.no_grad():
        for W in trainer.net.weights:
            W.add_(1.0)
    assert all(torch.equal(a, b) for a, b in zip(panel.session.source_weights(), before, strict=True))
    assert panel.run_check(wait=True).ok and panel.check_state() == "ok"
    window.close()


def test_the_window_gives_the_inspector_the_trainers_update_rule(qtbot):
    """Adam with L2 λ, a step schedule and clipping in the experiment: the inspector's update is the trainer's
    rule (its card then says what it applies), not plain W − μ h δᵀ with the base μ."""
    exp = Experiment().replace(training={"optimizer": "adam", "l2": 0.01, "schedule": "step", "step_size": 2,
                                         "gamma": 0.5, "clip_norm": 1.0, "lr": 0.02})
    window = MainWindow(exp, settings=None, ask_on_close=False, in_process=True)
    qtbot.addWidget(window)
    window.show()
    window.views.scatter.sampleClicked.emit(3)
    session = window.views.inspector.session
    rule = session.rule()
    assert session.rule_given()
    assert (rule.optimizer, rule.l2, rule.clip_norm, rule.schedule) == ("adam", 0.01, 1.0, "step")
    assert not rule.is_plain()
    window.close()


def test_view_lesson_opens_a_lesson_window_with_its_numbers(qtbot, monkeypatch):
    """View ▸ Lesson…: the typed network (here the example, the dialog accepted as it opens) in a window of its
    own, every card shown without scrolling, its step plain eq. 10; the trainer's network is not touched."""
    from bpgui.inspector import lesson as lesson_module

    monkeypatch.setattr(lesson_module.LessonDialog, "exec", lambda self: (self.accept(), self.result())[1])
    window = MainWindow(Experiment(), settings=None, ask_on_close=False, in_process=True)
    qtbot.addWidget(window)
    window.show()
    weights = [W.clone() for W in window.controller.trainer.net.weights]
    window.lesson_action.trigger()
    (panel,) = window.lesson_windows
    assert panel.isVisible() and panel.windowTitle() == "Backprop Lab — lesson"
    shown = panel.session.source_weights()
    example = lesson_module.example_lesson()
    assert all(np.allclose(a.numpy(), b) for a, b in zip(shown, example.weights, strict=True))
    assert panel.session.rule().is_plain()
    assert all(torch.equal(a, b) for a, b in zip(weights, window.controller.trainer.net.weights, strict=True))
    window.close()
    assert not panel.isVisible()


@pytest.mark.parametrize("source", ["spirals", "digits"])  # a plane; a projection drawing 600 of 1,797 rows
def test_clicking_a_sample_in_the_central_plot_inspects_its_row(qtbot, source):
    from bpcore.config import DataSpec

    window = MainWindow(Experiment(data=DataSpec(source=source)), settings=None, ask_on_close=False,
                        in_process=True)
    qtbot.addWidget(window)
    window.show()
    decision = window.views.decision
    point = decision.points_item().points()[7]
    rows = decision._rows
    want = 7 if rows is None else int(rows[7])
    assert source == "spirals" or want != 7  # the projected view's point 7 is another row of the data set
    decision._on_clicked(decision.points_item(), [point], None)  # what pyqtgraph's sigClicked delivers
    panel = window.views.inspector
    assert window.views.docks["inspector"].isVisible()
    assert panel.session.row() == want
    window.close()
