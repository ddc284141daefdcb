"""Trainer.evaluate_all: the three parts' losses and scores in one pass, equal to evaluate() per part."""

from __future__ import annotations

import math

import pytest

import bpcore.train.trainer as trainer_module
from bpcore.config import DataSpec, Experiment, TrainSpec
from bpcore.train import Trainer


@pytest.mark.parametrize("join", [True, False])
@pytest.mark.parametrize("source,split", [("iris", (0.7, 0.15, 0.15)), ("spirals", (0.8, 0.0, 0.2)),
                                          ("sine", (0.7, 0.15, 0.15))])
def test_evaluate_all_equals_evaluate_per_part(join, source, split, monkeypatch):
    """One forward pass over the joined parts (small data) or part by part (large): the same numbers as
    evaluate(), to float64 rounding (the joined matrix product may sum in another order: 1e-12 relative)."""
    if not join:
        monkeypatch.setattr(trainer_module, "JOIN_ELEMENTS", 0)
    t = Trainer(Experiment(data=DataSpec(source=source, split=split), training=TrainSpec(dtype="float64", epochs=3)))
    t.run()
    both = t.evaluate_all()
    for part in ("train", "val", "test"):
        one = t.evaluate(part)
        for key in ("loss", "score"):
            if math.isnan(one[key]):
                assert math.isnan(both[part][key])
            else:
                assert both[part][key] == pytest.approx(one[key], rel=1e-12, abs=1e-15)
