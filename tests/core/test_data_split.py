"""split_dataset: stratification, disjoint parts covering every row, train-only standardisation, errors."""

from __future__ import annotations

import numpy as np
import pytest

from bpcore.data import Dataset, load_bundled, make_toy, split_dataset
from bpcore.errors import DataError


def _rows(ds: Dataset) -> set[tuple[float, ...]]:
    return {tuple(r) for r in ds.X}


def test_parts_are_disjoint_and_cover_every_row():
    ds = load_bundled("wine")
    sp = split_dataset(ds, seed=1, standardise=False)
    assert len(sp.train) + len(sp.val) + len(sp.test) == len(ds)
    parts = [_rows(sp.train), _rows(sp.val), _rows(sp.test)]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert parts[0] | parts[1] | parts[2] == _rows(ds)
    assert (len(sp.train), len(sp.val), len(sp.test)) == (125, 27, 26)  # per class: 41+9+9, 50+11+10, 34+7+7


def test_stratified_proportions_per_class():
    ds = load_bundled("wine")  # classes of 59, 71, 48
    sp = split_dataset(ds, (0.6, 0.2, 0.2), seed=0)
    for part, share in [(sp.train, 0.6), (sp.val, 0.2), (sp.test, 0.2)]:
        counts = np.bincount(part.y, minlength=3)
        assert np.all(np.abs(counts - share * np.array([59, 71, 48])) <= 1), counts


def test_unstratified_split_has_the_right_sizes_and_shuffles():
    ds = load_bundled("iris")  # sorted by class in the file
    sp = split_dataset(ds, (0.5, 0.25, 0.25), seed=0, stratify=False)
    assert (len(sp.train), len(sp.val), len(sp.test)) == (75, 38, 37)  # 37.5 each: the tie goes to val
    assert np.count_nonzero(np.diff(sp.train.y)) > 10


def test_deterministic_for_a_seed():
    ds = make_toy("moons")
    a, b, c = split_dataset(ds, seed=2), split_dataset(ds, seed=2), split_dataset(ds, seed=3)
    assert np.array_equal(a.train.X, b.train.X) and np.array_equal(a.test.y, b.test.y)
    assert not np.array_equal(a.train.X, c.train.X)


def test_standardisation_fitted_on_train_only():
    ds = load_bundled("breast_cancer")
    raw = split_dataset(ds, seed=4, standardise=False)
    sp = split_dataset(ds, seed=4)
    assert raw.mean is None and raw.std is None and np.array_equal(raw.transform(ds.X[:3]), ds.X[:3])
    np.testing.assert_allclose(sp.mean, raw.train.X.mean(0), rtol=1e-12)
    np.testing.assert_allclose(sp.std, raw.train.X.std(0), rtol=1e-12)
    np.testing.assert_allclose(sp.train.X.mean(0), 0.0, atol=1e-12)
    np.testing.assert_allclose(sp.train.X.std(0), 1.0, atol=1e-12)
    np.testing.assert_allclose(sp.test.X, (raw.test.X - sp.mean) / sp.std, atol=1e-12)
    np.testing.assert_allclose(sp.transform(raw.val.X), sp.val.X, atol=1e-12)
    assert abs(sp.val.X.mean()) > 1e-6  # val/test are not re-centred on their own statistics
    with pytest.raises(DataError, match=r"\(N, 30\)"):
        sp.transform(np.zeros((2, 3)))


def test_constant_feature_gets_std_one():
    X = np.column_stack([np.full(20, 3.3), np.arange(20.0)])
    ds = Dataset("c", X, np.arange(20) % 2, ("k", "v"), ("a", "b"))
    sp = split_dataset(ds, seed=0)
    assert sp.std[0] == 1.0 and np.allclose(sp.train.X[:, 0], 0.0, atol=1e-12)


def test_zero_val_ratio_gives_empty_val_with_right_shapes():
    sp = split_dataset(make_toy("xor", 40), (0.8, 0.0, 0.2))
    assert sp.val.X.shape == (0, 2) and sp.val.y.shape == (0,) and sp.val.class_names == sp.train.class_names
    reg = split_dataset(make_toy("sine", 40), (0.8, 0.0, 0.2))
    assert reg.val.X.shape == (0, 1) and reg.val.y.shape == (0, 1) and len(reg.train) == 32


def test_every_class_keeps_a_training_row():
    X = np.arange(12.0).reshape(-1, 1)
    y = np.array([0] * 10 + [1, 2])  # classes 1 and 2 have one row each
    sp = split_dataset(Dataset("tiny", X, y, ("x",), ("a", "b", "c")), (0.2, 0.4, 0.4), seed=0)
    assert set(sp.train.y.tolist()) == {0, 1, 2}
    assert len(sp.train) + len(sp.val) + len(sp.test) == 12


@pytest.mark.parametrize(
    "ratios, pattern",
    [
        ((0.7, 0.2, 0.2), "sum to 1"),
        ((0.7, 0.3 + 1e-8, 0.0), "sum to 1"),
        ((0.0, 0.5, 0.5), "train ratio must be > 0"),
        ((1.2, -0.2, 0.0), ">= 0"),
        ((0.5, 0.5), "three"),
        ((0.5, float("nan"), 0.5), "finite"),
        ("abc", "three numbers"),
    ],
)
def test_bad_ratios(ratios, pattern):
    with pytest.raises(DataError, match=pattern):
        split_dataset(make_toy("xor", 20), ratios)


def test_ratio_sum_tolerance_and_bad_seed():
    split_dataset(make_toy("xor", 20), (0.7, 0.3 + 1e-10, 0.0))
    with pytest.raises(DataError, match="seed"):
        split_dataset(make_toy("xor", 20), seed=-1)


# (rows, targets, ratios, expected train/val/test sizes): tiny regression sets keep every part's (N, T) shape
TINY_REGRESSION = [
    (1, 1, (0.7, 0.15, 0.15), (1, 0, 0)),
    (1, 2, (0.8, 0.2, 0.0), (1, 0, 0)),
    (2, 1, (0.7, 0.15, 0.15), (2, 0, 0)),
    (2, 3, (0.5, 0.5, 0.0), (1, 1, 0)),
    (2, 1, (0.5, 0.0, 0.5), (1, 0, 1)),
    (3, 1, (1.0, 0.0, 0.0), (3, 0, 0)),
    (5, 2, (0.2, 0.0, 0.8), (1, 0, 4)),
]


@pytest.mark.parametrize("rows, targets, ratios, sizes", TINY_REGRESSION, ids=lambda v: str(v))
def test_tiny_regression_sets_split_with_empty_parts(rows, targets, ratios, sizes):
    X = np.arange(2.0 * rows).reshape(rows, 2)
    ds = Dataset("tiny", X, np.arange(float(rows * targets)).reshape(rows, targets), ("a", "b"))
    sp = split_dataset(ds, ratios, seed=1)
    for part, n in zip((sp.train, sp.val, sp.test), sizes, strict=True):
        assert part.X.shape == (n, 2) and part.y.shape == (n, targets) and part.class_names is None
    assert np.isfinite(sp.mean).all() and np.isfinite(sp.std).all() and (sp.std > 0).all()
