"""Shared fixtures: devices to parametrise over (CUDA cases skip cleanly without a GPU)."""

from __future__ import annotations

import signal

import pytest
import torch

DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")),
]


@pytest.fixture(params=DEVICES)
def device(request) -> str:
    return request.param


@pytest.fixture
def ten_seconds():
    """Fail (not hang) when a test blocks: SIGALRM interrupts a blocking open() or read() after 10 s."""

    def expire(signum, frame):
        raise TimeoutError("the test blocked for more than 10 s (a FIFO or device read?)")

    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(10)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)
