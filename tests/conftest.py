"""Shared fixtures: devices to parametrise over (CUDA cases skip cleanly without a GPU)."""

from __future__ import annotations

import pytest
import torch

DEVICES = [
    "cpu",
    pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")),
]


@pytest.fixture(params=DEVICES)
def device(request) -> str:
    return request.param
