"""Data-parallel training: DDP over the autograd layers, the sharded graph-free step, torchrun + bpcore train."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from bpcore.cli import main
from bpcore.config import DataSpec, Experiment, ModelSpec, TrainSpec
from bpcore.distributed import World, init_from_env, sharded_step
from bpcore.errors import ConfigError
from bpcore.nn import MLP
from bpcore.session import load_model
from bpcore.train import Trainer

ROOT = Path(__file__).resolve().parents[2]
TORCHRUN = Path(sys.executable).with_name("torchrun")
TIMEOUT = 120  # seconds; a hung collective fails the test instead of blocking CI

needs_gloo = pytest.mark.skipif(
    not (torch.distributed.is_available() and torch.distributed.is_gloo_available()),
    reason="torch.distributed with the gloo backend is not available",
)


def _wait(procs: list[subprocess.Popen]) -> list[tuple[int, str, str]]:
    """(returncode, stdout, stderr) of each process; all are killed if any outlives TIMEOUT."""
    try:
        outputs = [p.communicate(timeout=TIMEOUT) for p in procs]
    except subprocess.TimeoutExpired:
        for p in procs:
            os.killpg(p.pid, signal.SIGKILL)
        pytest.fail(f"distributed processes did not finish within {TIMEOUT} s (a hung collective?)")
    return [(p.returncode, out, err) for p, (out, err) in zip(procs, outputs, strict=True)]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    return {**env, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", **extra}


# ----------------------------------------------------------------------------- DDP on the autograd layers

_DDP_WORKER = textwrap.dedent("""
    import os, sys, numpy as np, torch
    from pathlib import Path
    from bpcore.distributed import init_from_env, shutdown
    from bpcore.nn import MLP
    world = init_from_env()
    model = MLP([4, 6, 5, 3], ["tanh", "sigmoid"], "softmax", seed=0, dtype=torch.float64)
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(16, 4, generator=g, dtype=torch.float64)
    t = torch.randint(0, 3, (16,), generator=g)
    mine = slice(world.rank, None, world.size)
    model.loss(ddp(x[mine]), t[mine]).backward()  # mean over this rank's 8 rows; DDP averages the ranks
    np.savez(os.path.join(sys.argv[1], f"rank{world.rank}.npz"), *[W.grad.numpy() for W in model.weights])
    torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9).step()  # imports torch._dynamo, as the CLI's does
    del ddp  # it holds the process group
    shutdown(world)
    if sys.platform == "linux":  # gloo's worker threads must be joined, or they race the interpreter's exit
        names = [Path(f"/proc/self/task/{t}/comm").read_text().strip() for t in os.listdir("/proc/self/task")]
        if any("gloo" in n for n in names):
            print(world.rank, *[n for n in names if "gloo" in n])
""")


def _batch():
    g = torch.Generator().manual_seed(1)
    return torch.randn(16, 4, generator=g, dtype=torch.float64), torch.randint(0, 3, (16,), generator=g)


def _grads(x, t) -> list[torch.Tensor]:
    model = MLP([4, 6, 5, 3], ["tanh", "sigmoid"], "softmax", seed=0, dtype=torch.float64)
    model.loss(model(x), t).backward()
    return [W.grad for W in model.weights]


@needs_gloo
@pytest.mark.skipif(not TORCHRUN.is_file(), reason="torchrun is not installed beside this Python")
def test_ddp_averages_to_the_full_batch_gradient(tmp_path):
    # torchrun --standalone picks a free port itself: no port chosen here that another process may take first
    script = tmp_path / "worker.py"
    script.write_text(_DDP_WORKER)
    proc = subprocess.Popen([str(TORCHRUN), "--standalone", "--nproc-per-node", "2", str(script), str(tmp_path)],
                            cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    [(code, out, err)] = _wait([proc])
    assert code == 0, err
    assert out.strip() == "", f"gloo threads left running after shutdown: {out}"
    x, t = _batch()
    full = _grads(x, t)
    half = _grads(x[0::2], t[0::2])
    for r in range(2):
        with np.load(tmp_path / f"rank{r}.npz") as f:
            ddp = [torch.from_numpy(f[f"arr_{l}"]) for l in range(len(full))]
        for ours, ref, own in zip(ddp, full, half, strict=True):
            assert (ours - ref).abs().max() < 1e-12
            assert (own - ref).abs().max() > 1e-3  # a rank's own half-batch gradient is not the answer


# ------------------------------------------------------------------------------ the sharded graph-free step

class _Recorder(World):
    """One rank of a simulated world: all_reduce_sum_ keeps a copy of the rank's contribution."""

    def __init__(self, rank: int, size: int, sink: list[torch.Tensor]) -> None:
        super().__init__(rank, size)
        object.__setattr__(self, "sink", sink)

    def all_reduce_sum_(self, t):
        self.sink.append(t.clone())
        return t


@pytest.mark.parametrize("rows,size", [(16, 2), (7, 3), (1, 2), (5, 4)])
def test_shards_sum_to_the_full_batch_gradient(rows, size):
    tr = Trainer(Experiment(data=DataSpec(source="iris"), model=ModelSpec(hidden=(5, 4)),
                            training=TrainSpec(dtype="float64")))
    p = tr.parts["train"]
    inputs, target = p.inputs[:rows], p.target[:rows]
    with torch.no_grad():
        tr.net.step(inputs, target)
        full = tr.net.flat_grad.clone()
        parts: list[torch.Tensor] = []
        for rank in range(size):  # empty shards (rows < size) contribute zeros
            sharded_step(tr.net, _Recorder(rank, size, parts), inputs, target)
    assert len(parts) == size
    assert (sum(parts) - full).abs().max() < 1e-12
    assert rows == 1 or (parts[0] - full).abs().max() > 1e-6


def test_init_from_env_alone_and_bad_settings():
    assert init_from_env(env={}) == World(0, 1)
    assert init_from_env(env={"WORLD_SIZE": "1", "RANK": "0"}).is_main
    with pytest.raises(ConfigError, match="MASTER_ADDR, MASTER_PORT not set"):
        init_from_env(env={"WORLD_SIZE": "2", "RANK": "1"})
    with pytest.raises(ConfigError, match=r"RANK=2 is outside 0\.\.1"):
        init_from_env(env={"WORLD_SIZE": "2", "RANK": "2", "MASTER_ADDR": "x", "MASTER_PORT": "1"})
    with pytest.raises(ConfigError, match="WORLD_SIZE must be an integer, got 'two'"):
        init_from_env(env={"WORLD_SIZE": "two"})


# ------------------------------------------------------------------------------------ torchrun + bpcore train

@needs_gloo
@pytest.mark.skipif(not TORCHRUN.is_file(), reason="torchrun is not installed beside this Python")
def test_torchrun_two_ranks_train_like_one_process(tmp_path, capsys):
    """Two ranks stop together on a time limit, and their weights equal one process run for as many epochs."""
    flags = ["--dataset", "xor", "--samples", "200", "--layers", "6", "--optimizer", "momentum", "--batch-size",
             "15", "--dtype", "float64", "--quiet"]
    proc = subprocess.Popen([str(TORCHRUN), "--standalone", "--nproc-per-node", "2", "-m", "bpcore", "train",
                             *flags, "--epochs", "100000", "--time-limit", "0.3", "--out", "ddp.safetensors"],
                            cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    [(code, out, err)] = _wait([proc])
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 1, out  # only rank 0 prints
    res = json.loads(lines[0])
    assert res["world_size"] == 2 and res["state"] == "finished" and "time limit" in res["reason"]
    epochs = res["epochs"]
    assert epochs >= 1 and res["steps"] == epochs * 10  # 140 training rows in batches of 15
    assert main(["train", *flags, "--epochs", str(epochs), "--out", str(tmp_path / "one.safetensors")]) == 0
    one = json.loads(capsys.readouterr().out)
    ddp, single = load_model(tmp_path / "ddp.safetensors"), load_model(tmp_path / "one.safetensors")
    # the same maths summed in another order: float64 rounding, compounded over every step of the run
    with torch.no_grad():
        err = max(float((a - b).abs().max()) for a, b in zip(ddp.model.weights, single.model.weights, strict=True))
    assert err < 1e-9, f"{err:.2e} after {epochs} epochs"
    assert res["train_loss"] == pytest.approx(one["train_loss"], rel=1e-10)


@needs_gloo
@pytest.mark.skipif(not TORCHRUN.is_file(), reason="torchrun is not installed beside this Python")
def test_torchrun_ranks_diverge_together(tmp_path):
    """μ = 1e9: every rank finds the same first bad step (same weights, same rows, same criterion), so none
    waits in a collective for another; rank 0 reports it and writes the kept weights."""
    proc = subprocess.Popen([str(TORCHRUN), "--standalone", "--nproc-per-node", "2", "-m", "bpcore", "train",
                             "--dataset", "spirals", "--lr", "1e9", "--epochs", "50", "--out", "div.safetensors"],
                            cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    [(code, out, err)] = _wait([proc])
    res = json.loads(out.splitlines()[-1])
    assert res["state"] == "diverged" and res["reason"].startswith("diverged at epoch 1, step 1:"), err
    assert res["world_size"] == 2 and (res["epochs"], res["steps"]) == (0, 0)
    assert code != 0 and res["reason"] in err
    model = load_model(tmp_path / "div.safetensors").model
    assert all(bool(torch.isfinite(W).all()) for W in model.weights)


class _Pair(World):
    """Rank 0 of two whose partner is a copy of itself: the collectives run without a process group."""

    def __init__(self) -> None:
        super().__init__(0, 2)

    def all_reduce_sum_(self, t):
        return t.mul_(2)  # the partner holds the same rows' gradient here: the sum is twice this rank's

    def broadcast_(self, t, src=0):
        return t

    def agree(self, stop, elapsed):
        return stop, elapsed


def test_stop_with_several_ranks_ends_the_epoch_then_the_run():
    """stop() on one rank is a request the ranks agree on at the end of the epoch: the epoch completes on
    every rank (no rank leaves another waiting in an all-reduce), then run() returns STOPPED."""
    from bpcore.train import RunState

    tr = Trainer(Experiment(data=DataSpec(source="xor", n_samples=200), model=ModelSpec(hidden=(4,)),
                            training=TrainSpec(epochs=10**6, batch_size=10)), world=_Pair())
    steps_per_epoch = -(-len(tr.parts["train"]) // 10)

    def first_epoch(snap) -> None:
        if not snap.finished:  # (the last call brings the final snapshot)
            tr.stop()
            assert tr.state is RunState.RUNNING  # still going: the request waits for the next epoch's end

    snap = tr.run(first_epoch)
    assert snap.state is RunState.STOPPED and snap.epoch == 2 and snap.step == 2 * steps_per_epoch
