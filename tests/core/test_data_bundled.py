"""bpcore.data bundled real sets: sizes, classes, exact cell values, and the files that ship with them."""

from __future__ import annotations

import numpy as np
import pytest

from bpcore.data import REAL_SETS, load_bundled, load_dataset
from bpcore.data.bundled import DATA_DIR
from bpcore.errors import DataError

SIZES = {"iris": (150, 4, 3), "wine": (178, 13, 3), "breast_cancer": (569, 30, 2), "digits": (1797, 64, 10)}


@pytest.mark.parametrize("name", REAL_SETS)
def test_sizes_and_types(name):
    ds = load_bundled(name)
    n, d, k = SIZES[name]
    assert ds.name == name and ds.X.shape == (n, d) and ds.y.shape == (n,)
    assert ds.X.dtype == np.float64 and ds.y.dtype == np.int64 and ds.task == "classification"
    assert ds.n_classes == k and len(ds.feature_names) == d
    assert set(np.unique(ds.y)) == set(range(k))


def test_iris_cells_and_classes():
    ds = load_bundled("iris")
    assert ds.X[0].tolist() == [5.1, 3.5, 1.4, 0.2] and ds.class_names[ds.y[0]] == "setosa"
    assert ds.X[-1].tolist() == [5.9, 3.0, 5.1, 1.8] and ds.class_names[ds.y[-1]] == "virginica"
    assert ds.class_names == ("setosa", "versicolor", "virginica")
    assert np.bincount(ds.y).tolist() == [50, 50, 50]
    assert ds.feature_names[0] == "sepal length (cm)"


def test_wine_breast_cancer_digits_cells():
    wine = load_bundled("wine")
    assert wine.X[0, [0, 4, 12]].tolist() == [14.23, 127.0, 1065.0] and wine.class_names[wine.y[0]] == "class_0"
    assert np.bincount(wine.y).tolist() == [59, 71, 48]
    bc = load_bundled("breast_cancer")
    assert bc.X[0, :3].tolist() == [17.99, 10.38, 122.8] and bc.class_names[bc.y[0]] == "malignant"
    assert bc.class_names == ("benign", "malignant") and np.bincount(bc.y).tolist() == [357, 212]
    digits = load_bundled("digits")
    assert digits.class_names == tuple("0123456789")
    assert digits.X[0, :8].tolist() == [0, 0, 5, 13, 9, 1, 0, 0] and digits.class_names[digits.y[0]] == "0"
    assert digits.X.min() == 0 and digits.X.max() == 16 and np.all(digits.X == np.round(digits.X))
    assert digits.feature_names[9] == "pixel_1_1"


def test_load_dataset_reaches_bundled_sets_and_unknown_is_an_error():
    assert len(load_dataset("breast_cancer")) == 569
    with pytest.raises(DataError, match="iris, wine, breast_cancer, digits"):
        load_bundled("mnist")


def test_licence_and_attribution_ship_with_the_data():
    licence = (DATA_DIR / "LICENSE.txt").read_text(encoding="utf-8")
    assert "BSD 3-Clause" in licence and "scikit-learn developers" in licence
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    for words in ("Fisher", "Forina", "Wolberg", "Alpaydin", "UCI"):
        assert words in readme
    for name in REAL_SETS:
        header = (DATA_DIR / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0]
        assert header.endswith(",target")
