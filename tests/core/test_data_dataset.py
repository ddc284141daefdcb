"""Dataset checks and subset; project_2d for scatter plots; the package's public names."""

from __future__ import annotations

import numpy as np
import pytest

import bpcore.data as data
from bpcore.data import Dataset, load_bundled, make_toy, project_2d
from bpcore.errors import DataError


def test_public_api_names():
    assert set(data.__all__) >= {
        "Dataset", "Split", "TOY_SETS", "REAL_SETS", "make_toy", "load_bundled", "load_dataset",
        "read_csv", "preview_csv", "split_dataset", "project_2d",
    }
    assert data.REAL_SETS == ("iris", "wine", "breast_cancer", "digits")


def test_constructor_coerces_types():
    X = np.asfortranarray(np.arange(6, dtype=np.int32).reshape(3, 2))
    ds = Dataset("d", X, [0, 1, 0], ["a", "b"], ["n", "p"])
    assert ds.X.dtype == np.float64 and ds.X.flags.c_contiguous and ds.y.dtype == np.int64
    assert ds.feature_names == ("a", "b") and ds.class_names == ("n", "p") and len(ds) == 3
    reg = Dataset("r", X, np.array([1.5, 2, 3]), ("a", "b"), None)
    assert reg.y.shape == (3, 1) and reg.y.dtype == np.float64 and reg.n_classes == 0
    assert repr(ds) == "Dataset('d', 3×2, classification, 2 classes)"


@pytest.mark.parametrize(
    "kwargs, pattern",
    [
        ({"X": np.zeros(3)}, "shape"),
        ({"X": np.array([[0.0, np.nan]] * 3)}, r"X\[0, 1\]"),
        ({"X": np.array([[0.0, 1.0], [2.0, np.inf], [0.0, 0.0]])}, r"X\[1, 1\] = inf"),
        ({"X": np.array([[0.0, 1.0], [2.0, 3.0], [-np.inf, 0.0]])}, r"X\[2, 0\] = -inf"),
        ({"X": np.array([[np.inf, 1.0], [-np.inf, 3.0], [0.0, 0.0]])}, r"X\[0, 0\] = inf"),  # sums to NaN
        ({"X": np.array([[1e308, 1e308], [1e308, np.nan], [0.0, 0.0]])}, r"X\[1, 1\] = nan"),  # sum overflows
        ({"feature_names": ("a",)}, "1 feature names for 2"),
        ({"y": np.array([0, 1, 2])}, r"0\.\.1"),
        ({"y": np.array([0.0, 1.0, 0.0])}, "integers"),
        ({"y": np.array([0, 1])}, "shape"),
        ({"class_names": ("a", "a")}, "unique"),
        ({"class_names": ()}, "non-empty"),
        ({"y": np.array([[1.0], [np.inf], [0.0]]), "class_names": None}, "not finite"),
        ({"y": np.array(["a", "b", "c"]), "class_names": None}, "numbers"),
    ],
)
def test_constructor_rejects_bad_parts(kwargs, pattern):
    parts = {"name": "d", "X": np.zeros((3, 2)), "y": np.array([0, 1, 0]), "feature_names": ("a", "b"),
             "class_names": ("n", "p")}
    parts.update(kwargs)
    with pytest.raises(DataError, match=pattern):
        Dataset(**parts)


def test_large_finite_values_whose_sum_overflows_are_accepted():
    """The finiteness check sums X first (no temporary); a sum that overflows to inf is settled entry by entry."""
    ds = Dataset("d", np.full((3, 2), 1e308), np.array([0, 1, 0]), ("a", "b"), ("n", "p"))
    assert ds.X[0, 0] == 1e308
    reg = Dataset("r", np.zeros((2, 1)), np.array([1e308, 1e308]), ("a",), None)
    assert reg.y[1, 0] == 1e308


FINITE_FLAG = {  # X given, finite= → whether the N × D finiteness pass runs
    "float64 C-contiguous, not vouched": (np.zeros((3, 2)), False, True),
    "float64 C-contiguous, vouched": (np.zeros((3, 2)), True, False),
    "vouched but float32 (converted: checked)": (np.zeros((3, 2), dtype=np.float32), True, True),
    "vouched but Fortran order (converted: checked)": (np.asfortranarray(np.zeros((3, 2))), True, True),
}


@pytest.mark.parametrize("case", list(FINITE_FLAG))
def test_the_finiteness_pass_is_skipped_only_for_a_vouched_x_used_as_given(case, monkeypatch):
    from bpcore.data import dataset

    X, finite, checked = FINITE_FLAG[case]
    seen = []
    monkeypatch.setattr(dataset, "_all_finite", lambda a: seen.append(a.shape) or True)
    Dataset("d", X, np.array([0, 1, 0]), ("a", "b"), ("n", "p"), finite=finite)
    assert seen == ([(3, 2)] if checked else [])


def test_a_subset_is_not_checked_again(monkeypatch):
    """Rows of a checked Dataset are finite: subset (train / validation / test splits) skips the pass."""
    from bpcore.data import dataset

    ds = load_bundled("iris")
    monkeypatch.setattr(dataset, "_all_finite", lambda a: pytest.fail("X checked again"))
    assert ds.subset(np.arange(10)).X.shape == (10, 4)


def test_subset_by_index_and_mask():
    ds = load_bundled("iris")
    sub = ds.subset(np.array([0, 149, -1]))
    assert sub.X.shape == (3, 4) and sub.y.tolist() == [0, 2, 2] and sub.class_names == ds.class_names
    sub.X[0, 0] = -1.0
    assert ds.X[0, 0] == 5.1  # a copy
    assert len(ds.subset(ds.y == 1)) == 50 and len(ds.subset(np.array([], dtype=int))) == 0
    assert ds.subset([]).X.shape == (0, 4)
    for bad, pattern in [(np.array([150]), "out of range"), (np.ones(3, bool), "mask"), (np.array([0.5]), "integer")]:
        with pytest.raises(DataError, match=pattern):
            ds.subset(bad)


def test_project_2d_low_dimensions_pass_through():
    X2 = make_toy("moons").X
    assert np.array_equal(project_2d(X2), X2)
    X1 = make_toy("sine", 10).X
    out = project_2d(X1)
    assert out.shape == (10, 2) and np.array_equal(out[:, 0], X1[:, 0]) and not out[:, 1].any()


def test_project_2d_is_pca():
    rng = np.random.default_rng(0)
    # variance mostly along (1, 1, 0)/sqrt2, then along z
    X = rng.normal(size=(500, 1)) * 5 * np.array([1, 1, 0]) / np.sqrt(2) + rng.normal(size=(500, 3)) * [0.1, 0.1, 1]
    P = project_2d(X + 7.0)
    assert P.shape == (500, 2) and np.allclose(P.mean(0), 0, atol=1e-10)
    assert abs(np.corrcoef(P[:, 0], X[:, 0] + X[:, 1])[0, 1]) > 0.99
    assert abs(np.corrcoef(P[:, 1], X[:, 2])[0, 1]) > 0.99
    assert abs(P[:, 0] @ P[:, 1]) < 1e-8 * len(P) * P.std() ** 2  # uncorrelated scores
    Xc = X - X.mean(0)
    total = (Xc**2).sum()
    assert (P**2).sum() / total > 0.99 and P[:, 0].var() > P[:, 1].var()
    assert np.array_equal(project_2d(X), project_2d(X.copy()))  # signs are fixed: same picture every time


def test_project_2d_edge_cases():
    assert project_2d(np.zeros((0, 5))).shape == (0, 2)
    assert np.array_equal(project_2d(np.ones((1, 5))), np.zeros((1, 2)))
    assert project_2d(load_bundled("digits").X).shape == (1797, 2)
    with pytest.raises(DataError, match="shape"):
        project_2d(np.zeros(4))
    with pytest.raises(DataError, match="NaN"):
        project_2d(np.array([[0.0, np.inf, 1.0]]))
