"""Models, files and comparisons shared by the persistence tests."""

import io
import json
import zipfile

import numpy as np
from sklearn.preprocessing import LabelBinarizer

from skbackprop import MLPBackpropClassifier, save_model
from skbackprop._state import TrainingState


def data(labels=(0, 1, 2), n_samples=90, n_features=5, seed=0):
    """Learnable blobs with the given labels, in turn."""
    rng = np.random.RandomState(seed)
    labels = np.asarray(labels)
    y = labels[np.arange(n_samples) % len(labels)]
    X = rng.normal(size=(n_samples, n_features))
    X[:, 0] += np.searchsorted(np.unique(labels), y)  # learnable
    return X, y


def fit(X, y, **params):
    """A small classifier fitted for five epochs."""
    params = {"hidden_layer_sizes": (8,), "max_iter": 5, "random_state": 0, **params}
    return MLPBackpropClassifier(**params).fit(X, y)


def assert_same_value(a, b, where):
    """Equal values of the same types, through containers and generators."""
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), where
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, z) in enumerate(zip(a, b)):
            assert_same_value(x, z, f"{where}[{i}]")
    elif isinstance(a, np.random.RandomState):
        np.testing.assert_equal(a.get_state(legacy=False), b.get_state(legacy=False))
    elif isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a) == sorted(b), where
        for key in a:
            assert_same_value(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, TrainingState):
        assert isinstance(b, TrainingState), where
        assert_same_value(a.to_dict(), b.to_dict(), where)
    elif isinstance(a, LabelBinarizer):
        assert type(a) is type(b), where
        assert_same_state(a, b, where)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert type(a) is type(b) and a == b, f"{where}: {a!r} != {b!r}"


def assert_same_state(a, b, where="estimator"):
    """Every attribute, fitted or private, is equal in value and type."""
    assert sorted(vars(a)) == sorted(vars(b)), where
    for name, value in vars(a).items():
        assert_same_value(value, vars(b)[name], f"{where}.{name}")


def assert_same_predictions(a, b, X):
    methods = ["predict", "predict_proba", "predict_log_proba", "decision_function"]
    for method in methods:
        assert_same_value(getattr(a, method)(X), getattr(b, method)(X), method)


def members(clf):
    """The members of ``clf``'s model file, by name."""
    buffer = io.BytesIO()
    save_model(clf, buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def archive(contents, compression=zipfile.ZIP_STORED):
    """A model file from members."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as zipped:
        for name, payload in contents.items():
            zipped.writestr(name, payload)
    buffer.seek(0)
    return buffer


def npy(array, allow_pickle=False):
    """The bytes of a .npy member holding ``array``."""
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def edit_metadata(contents, edit):
    """Apply ``edit`` to the parsed metadata of the members ``contents``."""
    metadata = json.loads(contents["metadata.json"])
    edit(metadata)
    contents["metadata.json"] = json.dumps(metadata).encode()
    return contents
