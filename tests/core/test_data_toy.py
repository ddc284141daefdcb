"""bpcore.data toy sets: shapes, dtypes, determinism, balance, noise, geometry, learnability of spirals."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bpcore.data import TOY_SETS, Dataset, load_dataset, make_toy
from bpcore.errors import DataError

CLASSIFICATION = ("xor", "circles", "spirals", "gaussians", "moons")
REGRESSION = ("plane", "sine")


def test_toy_set_names():
    assert set(TOY_SETS) == set(CLASSIFICATION) | set(REGRESSION) and len(TOY_SETS) == 7


@pytest.mark.parametrize("name", CLASSIFICATION)
@pytest.mark.parametrize("n", [4, 7, 400])
def test_classification_shapes_dtypes_balance(name, n):
    ds = make_toy(name, n_samples=n)
    assert isinstance(ds, Dataset) and ds.name == name and len(ds) == n
    assert ds.X.shape == (n, 2) and ds.X.dtype == np.float64 and ds.X.flags.c_contiguous
    assert ds.y.shape == (n,) and ds.y.dtype == np.int64
    assert ds.task == "classification" and ds.n_classes == 2 and ds.n_features == 2
    counts = np.bincount(ds.y, minlength=2)
    assert counts.max() - counts.min() <= 1 and counts.sum() == n
    assert np.isfinite(ds.X).all()


@pytest.mark.parametrize("name, d", [("plane", 2), ("sine", 1)])
def test_regression_shapes(name, d):
    ds = make_toy(name, n_samples=50)
    assert ds.X.shape == (50, d) and ds.y.shape == (50, 1) and ds.y.dtype == np.float64
    assert ds.task == "regression" and ds.n_classes == 0 and ds.class_names is None
    assert len(ds.feature_names) == d


@pytest.mark.parametrize("name", TOY_SETS)
def test_deterministic_for_a_seed_and_different_across_seeds(name):
    a, b, c = make_toy(name, seed=3), make_toy(name, seed=3), make_toy(name, seed=4)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert not np.allclose(a.X, c.X)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_rows_are_shuffled_not_grouped_by_class(name):
    y = make_toy(name, n_samples=400).y
    assert 50 < np.count_nonzero(np.diff(y)) < 350  # sorted labels would change once


def test_noise_free_geometry():
    xor = make_toy("xor", noise=0.0)
    prod = xor.X[:, 0] * xor.X[:, 1]
    assert np.all((prod > 0) == (xor.y == 0)) and np.abs(xor.X).min() >= 0.1
    circ = make_toy("circles", noise=0.0)
    r = np.hypot(circ.X[:, 0], circ.X[:, 1])
    assert np.allclose(r, np.where(circ.y == 0, 1.0, 0.5), atol=1e-12)
    plane = make_toy("plane", noise=0.0)
    assert np.allclose(plane.y[:, 0], plane.X @ np.array([1.0, -0.5]), atol=1e-12)
    sine = make_toy("sine", noise=0.0)
    assert np.allclose(sine.y[:, 0], np.sin(sine.X[:, 0]), atol=1e-12)
    moons = make_toy("moons", noise=0.0)
    upper = moons.X[moons.y == 0]
    assert np.allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0) and upper[:, 1].min() >= 0


def test_noise_moves_points_by_about_sigma():
    clean = make_toy("circles", noise=0.0, n_samples=4000)
    noisy = make_toy("circles", noise=0.2, n_samples=4000)
    r_err = np.hypot(noisy.X[:, 0], noisy.X[:, 1]) - np.where(noisy.y == 0, 1.0, 0.5)
    assert 0.17 < r_err.std() < 0.23
    assert np.abs(np.hypot(clean.X[:, 0], clean.X[:, 1]) - np.where(clean.y == 0, 1.0, 0.5)).max() < 1e-12
    resid = make_toy("sine", noise=0.3, n_samples=4000)
    assert 0.28 < (resid.y[:, 0] - np.sin(resid.X[:, 0])).std() < 0.32


def test_gaussian_blobs_centred_at_plus_minus_one():
    ds = make_toy("gaussians", n_samples=4000, noise=0.0)
    assert np.allclose(ds.X[ds.y == 0].mean(0), [-1, -1], atol=0.05)
    assert np.allclose(ds.X[ds.y == 1].mean(0), [1, 1], atol=0.05)
    assert 0.47 < ds.X[ds.y == 1].std() < 0.53


@pytest.fixture
def one_thread():
    n = torch.get_num_threads()  # tiny matmuls: extra threads only contend on a loaded machine
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.mark.usefixtures("one_thread")
def test_spirals_learnable_by_small_tanh_net():
    train, test = make_toy("spirals", seed=0), make_toy("spirals", n_samples=2000, seed=100)
    mu, sd = train.X.mean(0), train.X.std(0)
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Tanh(), torch.nn.Linear(16, 2)
    ).double()
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    X, y = torch.from_numpy((train.X - mu) / sd), torch.from_numpy(train.y)
    for _ in range(800):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(X), y).backward()
        opt.step()
    with torch.no_grad():
        pred = net(torch.from_numpy((test.X - mu) / sd)).argmax(1).numpy()
    assert (pred == test.y).mean() >= 0.95


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"n_samples": 3}, "n_samples"),
        ({"n_samples": 2.5}, "n_samples"),
        ({"noise": -0.1}, "noise"),
        ({"noise": float("nan")}, "noise"),
        ({"noise": "a"}, "noise"),
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_bad_parameters_name_the_parameter(kwargs, word):
    with pytest.raises(DataError, match=word):
        make_toy("xor", **kwargs)


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(DataError, match="spirals"):
        make_toy("spiral")
    with pytest.raises(DataError, match=r"xor.*iris"):
        load_dataset("nope")
    with pytest.raises(DataError, match="unknown"):
        load_dataset(None)  # type: ignore[arg-type]


def test_load_dataset_passes_toy_parameters():
    ds = load_dataset("Moons", n_samples=30, noise=0.0, seed=5)
    assert np.array_equal(ds.X, make_toy("moons", 30, 0.0, 5).X)
