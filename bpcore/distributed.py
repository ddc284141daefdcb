"""Data-parallel training across processes (torchrun, gloo on CPU): who this process is, and the collectives.

Every rank holds the whole model and data. In each mini-batch a rank takes its rows ``rows[rank::world]``,
computes the gradient of the mean loss over those rows, scales it by n_rank / n_batch, and one all-reduce
(SUM) of the flat gradient buffer gives every rank the full-batch gradient, so the weights stay identical
(``sharded_step``). Ranks agree on stopping once per epoch (``World.agree``).
"""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass

import torch
from torch import Tensor

from bpcore.errors import ConfigError

__all__ = ["World", "init_from_env", "sharded_step", "shutdown"]

_ENV = ("RANK", "WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


@dataclass(frozen=True)
class World:
    """This process's place among `size` data-parallel ranks; size 1 (the default) means no collectives."""

    rank: int = 0
    size: int = 1

    @property
    def is_main(self) -> bool:
        """True on rank 0, the one that prints and writes files."""
        return self.rank == 0

    def all_reduce_sum_(self, t: Tensor) -> Tensor:
        """t ← Σ_ranks t, in place (nothing to do alone)."""
        if self.size > 1:
            torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.SUM)
        return t

    def broadcast_(self, t: Tensor, src: int = 0) -> Tensor:
        """t ← rank `src`'s t, in place."""
        if self.size > 1:
            torch.distributed.broadcast(t, src)
        return t

    def agree(self, stop: bool, elapsed: float) -> tuple[bool, float]:
        """(any rank wants to stop, the largest elapsed time): one small collective, so every rank takes the
        same stopping decision at the end of an epoch."""
        if self.size == 1:
            return stop, elapsed
        t = torch.tensor([float(stop), elapsed], dtype=torch.float64)
        torch.distributed.all_reduce(t, op=torch.distributed.ReduceOp.MAX)
        return bool(t[0] > 0), float(t[1])


def _env_int(name: str, env: dict[str, str]) -> int:
    try:
        return int(env[name])
    except ValueError:
        raise ConfigError(f"environment variable {name} must be an integer, got {env[name]!r}") from None


def init_from_env(backend: str = "gloo", timeout: float = 600.0, env: dict[str, str] | None = None) -> World:
    """The World torchrun describes (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT); joins the process group
    when WORLD_SIZE > 1. Without those variables, a World of one. ConfigError when they are incomplete."""
    env = dict(os.environ if env is None else env)
    if "WORLD_SIZE" not in env or _env_int("WORLD_SIZE", env) <= 1:
        return World()
    missing = [k for k in _ENV if not env.get(k)]
    if missing:
        raise ConfigError(f"distributed run (WORLD_SIZE={env['WORLD_SIZE']}) but {', '.join(missing)} "
                          "not set; start it with torchrun")
    rank, size = _env_int("RANK", env), _env_int("WORLD_SIZE", env)
    if not 0 <= rank < size:
        raise ConfigError(f"environment variable RANK={rank} is outside 0..{size - 1} (WORLD_SIZE={size})")
    if not torch.distributed.is_available():
        raise ConfigError("distributed run requested, but this torch build has no torch.distributed")
    if backend == "gloo" and not torch.distributed.is_gloo_available():
        raise ConfigError("distributed run requested, but this torch build has no gloo backend")
    if not torch.distributed.is_initialized():
        _import_dynamo_first()
        torch.distributed.init_process_group(backend, rank=rank, world_size=size,
                                             timeout=datetime.timedelta(seconds=timeout))
    return World(rank, size)


def _import_dynamo_first() -> None:
    """Import torch._dynamo before the process group exists.

    torch.optim's momentum and Adam steps import torch._dynamo on first use; imported after
    init_process_group, it keeps references to the default group (torch 2.13 and 2.14 alike), so
    destroy_process_group leaves gloo's worker threads running. At interpreter exit such a thread, still
    releasing the last collective's tensors, needs the GIL and aborts the rank ("terminate called without an
    active exception", SIGABRT). Imported first, it captures no group and the shutdown joins the threads."""
    import torch._dynamo  # noqa: F401


def shutdown(world: World) -> None:
    """Leave the process group joined by init_from_env (nothing to do for a World of one)."""
    if world.size > 1 and torch.distributed.is_initialized():
        torch.distributed.barrier()  # no rank tears its connections down while another still uses them
        torch.distributed.destroy_process_group()


def sharded_step(net, world: World, inputs: Tensor, target: Tensor, deltas: list[Tensor] | None = None,
                 loss: bool = False) -> Tensor | None:
    """Write the full mini-batch ∇_W J into net.flat_grad on every rank, each computing only its rows; with
    `loss` in a World of one, also return the batch's J (FlatNetwork.step), else None.

    ∇ of the batch mean = Σ_ranks (n_rank / n_batch) · ∇ of the mean over the rank's rows; one all-reduce.
    `net` is a bpcore.train.FlatNetwork.
    """
    if world.size == 1:
        return net.step(inputs, target, deltas, loss)
    n = len(target)
    mine = slice(world.rank, None, world.size)
    x, t = inputs[mine], target[mine]
    if len(t):
        net.step(x, t, deltas)
        net.flat_grad.mul_(len(t) / n)
    else:  # a last mini-batch smaller than the world: this rank adds nothing
        net.flat_grad.zero_()
    world.all_reduce_sum_(net.flat_grad)
    return None
