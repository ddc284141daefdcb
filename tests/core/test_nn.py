"""bpcore.nn: Linear, activations, MLP — shapes, init, torch round trip, module behaviour."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from bpcore.nn import MLP, Activation, Linear

f64 = torch.float64


def test_linear_module_has_one_weight_with_bias_row():
    lin = Linear(3, 2)
    (p,) = list(lin.parameters())
    assert p.shape == (4, 2) and torch.all(p[-1] == 0)
    x = torch.randn(5, 3)
    assert torch.allclose(lin(x), x @ p[:-1] + p[-1])


def test_mlp_parameters_one_per_layer_in_order():
    m = MLP([4, 7, 5, 3])
    shapes = [tuple(p.shape) for p in m.parameters()]
    assert shapes == [(5, 7), (8, 5), (6, 3)]
    assert list(m.state_dict()) == ["layers.0.weight", "layers.1.weight", "layers.2.weight"]


def test_activation_list_and_errors():
    m = MLP([2, 4, 4, 2], ["relu", "tanh"])
    assert m.activations == ("relu", "tanh")
    with pytest.raises(ValueError, match="2 hidden layers need 2 activations"):
        MLP([2, 4, 4, 2], ["relu"])
    with pytest.raises(ValueError, match="unknown activation"):
        MLP([2, 4, 2], "swish")
    with pytest.raises(ValueError, match="unknown output"):
        MLP([2, 4, 2], output="hinge")
    with pytest.raises(ValueError, match="sizes"):
        MLP([2])


def test_init_glorot_for_tanh_and_he_for_relu():
    big = 400
    W_tanh = MLP([big, big, 2], "tanh", seed=0).weights[0][:-1]
    bound = math.sqrt(6 / (2 * big))
    assert W_tanh.abs().max() <= bound and W_tanh.abs().max() > 0.99 * bound
    assert abs(W_tanh.std().item() - bound / math.sqrt(3)) < 0.01 * bound
    W_relu = MLP([big, big, 2], "relu", seed=0).weights[0][:-1]
    assert abs(W_relu.std().item() - math.sqrt(2 / big)) < 0.02 * math.sqrt(2 / big)
    assert all(torch.all(W[-1] == 0) for W in MLP([3, 4, 2], "relu", seed=0).weights)


def test_seeded_init_is_reproducible():
    a, b, c = MLP([3, 5, 2], seed=1), MLP([3, 5, 2], seed=1), MLP([3, 5, 2], seed=2)
    assert all(torch.equal(x, y) for x, y in zip(a.weights, b.weights, strict=True))
    assert not torch.equal(a.weights[0], c.weights[0])


@pytest.mark.parametrize("acts", ["tanh", "relu", ["sigmoid", "softplus"], ["leaky_relu", "identity"]])
def test_to_torch_equal_outputs_and_gradients(acts):
    m = MLP([3, 6, 5, 4], acts, seed=0, dtype=f64)
    seq = m.to_torch()
    x = torch.randn(9, 3, dtype=f64)
    t = torch.randint(0, 4, (9,))
    z1, z2 = m(x), seq(x)
    assert (z1 - z2).abs().max() < 1e-12
    m.loss(z1, t).backward()
    F.cross_entropy(z2, t).backward()
    lins = [mod for mod in seq if isinstance(mod, torch.nn.Linear)]
    for W, lin in zip(m.weights, lins, strict=True):
        assert (W.grad[:-1] - lin.weight.grad.mT).abs().max() < 1e-12
        assert (W.grad[-1] - lin.bias.grad).abs().max() < 1e-12


def test_from_torch_round_trip():
    seq = torch.nn.Sequential(torch.nn.Linear(2, 4), torch.nn.ReLU(), torch.nn.Linear(4, 3)).double()
    m = MLP.from_torch(seq)
    x = torch.randn(6, 2, dtype=f64)
    assert (m(x) - seq(x)).abs().max() < 1e-12
    assert m.activations == ("relu",) and m.sizes == (2, 4, 3)
    with pytest.raises(ValueError, match="no bpcore activation"):
        MLP.from_torch(torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.GELU(), torch.nn.Linear(2, 2)))


def test_predict_applies_output_activation():
    x = torch.randn(4, 3)
    cls = MLP([3, 5, 4], output="softmax", seed=0)
    assert torch.allclose(cls.predict(x).sum(1), torch.ones(4))
    binary = MLP([3, 5, 1], output="sigmoid", seed=0)
    assert torch.allclose(binary.predict(x), torch.sigmoid(binary(x)).detach())
    reg = MLP([3, 5, 2], output="identity", seed=0)
    assert torch.equal(reg.predict(x), reg(x).detach())
    assert not cls.predict(x).requires_grad


def test_to_dtype_and_state_dict_round_trip():
    m = MLP([2, 3, 2], seed=0).to(dtype=f64)
    assert all(W.dtype == f64 for W in m.weights)
    m2 = MLP([2, 3, 2], seed=5, dtype=f64)
    m2.load_state_dict(m.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(m.weights, m2.weights, strict=True))


def test_device_placement(device):
    m = MLP([2, 3, 2], seed=0).to(device)
    x = torch.randn(4, 2, device=device)
    z = m(x)
    z.sum().backward()
    assert z.device.type == device and m.weights[0].grad.device.type == device


def test_torch_optimizers_train_the_mlp():
    torch.manual_seed(0)
    x = torch.randn(64, 2)
    t = (x[:, 0] * x[:, 1] > 0).long()
    m = MLP([2, 16, 2], "tanh", seed=0)
    opt = torch.optim.Adam(m.parameters(), lr=0.05)
    first = None
    for _ in range(150):
        opt.zero_grad()
        J = m.loss(m(x), t)
        J.backward()
        opt.step()
        first = first if first is not None else J.item()
    assert J.item() < 0.3 * first


def test_activation_module():
    a = Activation("softmax")
    assert torch.allclose(a(torch.zeros(2, 4)), torch.full((2, 4), 0.25))
    with pytest.raises(ValueError):
        Activation("gelu")
