"""Intra-op threads by the work's size: one for small matrices, the pool for large GEMMs, in every entry point."""

from __future__ import annotations

import pytest
import torch

from bpcore.config import DataSpec, Experiment, ModelSpec, TrainSpec
from bpcore.nn import MLP
from bpcore.train import Trainer
from bpcore.train.network import FlatNetwork
from bpcore.train.threads import threads_for, using_threads


@pytest.mark.parametrize("sizes,batch,cores,spare,expected", [
    ((2, 8, 8, 2), 32, 2, 0, 1), ((2, 8, 8, 2), 32, 16, 0, 1),      # tiny: one thread whatever the machine
    ((4, 16, 3), 32, 64, 1, 1),                                       # iris with 16 units: tiny too
    ((784, 512, 512, 10), 256, 16, 0, 16),                            # large, CLI: every core
    ((784, 512, 512, 10), 256, 16, 1, 15),                            # large, beside the window: all but its core
    ((784, 512, 512, 10), 256, 2, 1, 1),                              # two cores and a window: nothing to share
    ((784, 512, 512, 10), 256, 2, 0, 2),
    ((784, 512, 512, 10), 256, 1, 0, 1),
])
def test_threads_for(sizes, batch, cores, spare, expected):
    assert threads_for(sizes, batch, cores, spare) == expected


@pytest.mark.parametrize("sizes,batch,augmented", [
    ((2, 8, 8, 2), 32, True), ((4, 64, 3), 32, True), ((13, 64, 3), 32, True),  # iris / wine with 64 units
    ((784, 128, 10), 8, True),                                # 101,632 multiply-adds a row, 8 rows: still small
    ((784, 128, 10), 16, False),                              # 16 rows: 1.6 M, the pool's size of work
    ((784, 512, 512, 10), 256, False),
])
def test_the_layers_carry_h_1_exactly_where_one_thread_runs_them(sizes, batch, augmented):
    """[h, 1] pays for small work (fewer Python-level operations a step) and costs on large products run by the
    pool: one measure of the work decides both."""
    net = FlatNetwork(MLP(sizes, seed=0), batch)
    assert net.augmented is augmented
    assert (threads_for(sizes, batch, cores=2) == 1) is augmented
    assert net.prepare(torch.zeros(3, sizes[0])).shape == (3, sizes[0] + augmented)


def test_using_threads_puts_the_count_back():
    before = torch.get_num_threads()
    other = 1 if before != 1 else 2
    with using_threads(other):
        assert torch.get_num_threads() == other
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("threads", [None, 1, 2])
def test_trainer_trains_with_its_threads_and_restores_torchs(threads, monkeypatch):
    """run() uses `threads` (None: threads_for of its network and batch, here one) and leaves torch as it was."""
    seen = []
    exp = Experiment(data=DataSpec(source="xor", n_samples=40), model=ModelSpec(hidden=(4,)),
                     training=TrainSpec(epochs=2))
    t = Trainer(exp)
    t.threads = threads
    real = t._train_epoch
    monkeypatch.setattr(t, "_train_epoch", lambda: (seen.append(torch.get_num_threads()), real()))
    before = torch.get_num_threads()
    t.run()
    assert seen == [threads or 1] * 2
    assert torch.get_num_threads() == before



def test_one_blas_thread_limits_numpy_blas_and_leaves_torch_alone():
    """Run in a fresh interpreter: the limit is process-wide."""
    import ast
    import subprocess
    import sys

    code = ("import numpy, torch, threadpoolctl\n"
            "torch.set_num_threads(2)\n"
            "from bpcore.train.threads import one_blas_thread\n"
            "one_blas_thread()\n"
            "blas = [p['num_threads'] for p in threadpoolctl.threadpool_info() if p['user_api'] == 'blas']\n"
            "print(blas, torch.get_num_threads())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")[0]
    blas, torch_threads = out.rsplit(" ", 1)
    assert set(ast.literal_eval(blas)) <= {1} and torch_threads == "2"
