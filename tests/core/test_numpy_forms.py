"""The numpy forms of φ and o (drawing: bpcore.inspect.field) agree with the torch forms the engine trains with."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bpcore import backprop as bp

Z = np.concatenate([np.linspace(-30, 30, 601), [-1e-7, 0.0, 1e-7, -200.0, 200.0]])
TOL = {np.float32: 2e-6, np.float64: 1e-8}  # the two libraries differ in the last digits; torch.softplus returns z
# itself above z = 20 (off by e^−20 ≈ 2e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(bp.ACTIVATIONS))
def test_every_activation_has_a_numpy_phi_equal_to_the_torch_phi(name, dtype):
    a = bp.ACTIVATIONS[name]
    assert a.np_phi_ is not None, f"{name}: no numpy form for the window's fields"
    z = Z.astype(dtype)
    got = a.np_phi_(z.copy())
    want = a.phi(torch.from_numpy(z.copy())).numpy()
    assert got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", bp.OUTPUTS)
@pytest.mark.parametrize("k", [1, 2, 3, 10, 20])
def test_every_output_has_a_numpy_o_equal_to_the_torch_o(name, k, dtype):
    out = bp.output_kind(name)
    z = (np.random.default_rng(k).normal(size=(500, k)) * 20).astype(dtype)
    z[0] = 700  # e^z overflows: the max is taken out first
    got = out.np_o_(z.copy())
    want = out.o(torch.from_numpy(z.copy())).numpy()
    assert got.shape == z.shape and got.dtype == dtype
    np.testing.assert_allclose(got, want, rtol=TOL[dtype], atol=TOL[dtype])
