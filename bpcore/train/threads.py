"""How many torch intra-op threads a training run uses: chosen by the size of a step's matrices.

A parallel region costs more than it saves on small matrices, and idle pool threads spin against whatever else
the machine runs: with two busy processes on two cores, four threads on a tiny network made a run 6.6× slower
than one thread. So small work gets one thread and large GEMMs the pool.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Iterator, Sequence

import torch

from bpcore.backprop import SMALL_FLOPS  # a step's forward multiply-adds below which one thread is faster


def threads_for(sizes: Sequence[int], batch_size: int, cores: int | None = None, spare: int = 0) -> int:
    """Threads for a network of layer `sizes` trained in mini-batches of `batch_size` on `cores` cores (default:
    this machine's), leaving `spare` cores to another process (the window): one when a step's matrices are small
    or there are too few cores to share, else every core but the spare ones."""
    cores = cores or os.cpu_count() or 1
    flops = batch_size * sum(a * b for a, b in itertools.pairwise(sizes))
    return 1 if flops < SMALL_FLOPS or cores - spare < 2 else cores - spare


@contextlib.contextmanager
def using_threads(n: int) -> Iterator[None]:
    """torch's intra-op thread count set to `n` inside the block and put back after it."""
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def one_blas_thread() -> None:
    """numpy's BLAS (OpenBLAS) on one thread in this process. Its idle threads spin for a while after each
    product: the window's decision-field products (10,000 × 8 × 8) kept both cores of the machine busy and
    slowed the training beside them to 0.63 of its speed. torch's own pool is not touched."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1, user_api="blas")

