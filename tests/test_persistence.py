"""Saving and loading: pickle, joblib, the pickle-free format, and skops.

The pickle-free format (``save_model``/``load_model``) must give back a model
that is indistinguishable from the saved one, and must turn every damaged or
tampered file into a ValueError without ever unpickling or over-allocating.
"""

import doctest
import io
import json
import pickle
import warnings
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from _extras import import_extra
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.preprocessing import LabelBinarizer

import skbackprop
from skbackprop import MLPBackpropClassifier, _persistence, load_model, save_model

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _data(labels=(0, 1, 2), n_samples=90, n_features=5, seed=0):
    rng = np.random.RandomState(seed)
    labels = np.asarray(labels)
    y = labels[np.arange(n_samples) % len(labels)]
    X = rng.normal(size=(n_samples, n_features))
    X[:, 0] += np.searchsorted(np.unique(labels), y)  # learnable
    return X, y


def _fit(X, y, **params):
    params = {"hidden_layer_sizes": (8,), "max_iter": 5, "random_state": 0, **params}
    return MLPBackpropClassifier(**params).fit(X, y)


def _round_trip(clf, tmp_path, name="model.npz"):
    path = tmp_path / name
    save_model(clf, path)
    return load_model(path)


def _assert_same_value(a, b, where):
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), where
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, z) in enumerate(zip(a, b)):
            _assert_same_value(x, z, f"{where}[{i}]")
    elif isinstance(a, np.random.RandomState):
        np.testing.assert_equal(a.get_state(legacy=False), b.get_state(legacy=False))
    elif isinstance(a, dict):
        assert isinstance(b, dict) and sorted(a) == sorted(b), where
        for key in a:
            _assert_same_value(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, LabelBinarizer) or (
        type(a).__module__ == "skbackprop._optimizers"
    ):
        # The label binarizer, or the optimizer: compared attribute by attribute.
        assert type(a) is type(b), where
        _assert_same_state(a, b, where)
    elif type(a).__module__.startswith("skbackprop"):
        # A helper the training loop configures afresh at every fit (such as
        # the optimizer's BLAS routine), not state.
        assert type(a) is type(b), where
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def _assert_same_state(a, b, where="estimator"):
    """Every attribute, fitted or private, is equal in value and type."""
    assert sorted(vars(a)) == sorted(vars(b)), where
    for name, value in vars(a).items():
        _assert_same_value(value, vars(b)[name], f"{where}.{name}")


def _assert_same_predictions(a, b, X):
    methods = ["predict", "predict_proba", "predict_log_proba", "decision_function"]
    for method in methods:
        _assert_same_value(getattr(a, method)(X), getattr(b, method)(X), method)


# ------------------------------------------------------------- pickle/joblib
@pytest.mark.parametrize("how", ["pickle", "joblib", "joblib-compressed"])
@pytest.mark.parametrize(
    "params",
    [
        dict(solver="sgd"),
        dict(solver="lbfgs"),
        dict(early_stopping=True),
        dict(activation=["tanh", "elu"], hidden_layer_sizes=(6, 4)),
    ],
    ids=["sgd", "lbfgs", "early-stopping", "per-layer"],
)
def test_pickle_and_joblib_keep_the_whole_state(tmp_path, how, params):
    X, y = _data()
    clf = _fit(X, y, **params)
    if how == "pickle":
        restored = pickle.loads(pickle.dumps(clf))
    else:
        compress = 3 if how == "joblib-compressed" else 0
        joblib.dump(clf, tmp_path / "m.joblib", compress=compress)
        restored = joblib.load(tmp_path / "m.joblib")
    _assert_same_state(clf, restored)
    _assert_same_predictions(clf, restored, X)


# ---------------------------------------------------------- the safe format
MODELS = {
    "adam-multiclass": lambda: _fit(*_data()),
    "sgd-binary-strings": lambda: _fit(
        *_data(["no", "yes"]), solver="sgd", learning_rate="invscaling"
    ),
    "lbfgs": lambda: _fit(*_data(), solver="lbfgs"),
    "early-stopping": lambda: _fit(*_data(), early_stopping=True, max_iter=8),
    "per-layer-activations": lambda: _fit(
        *_data(), hidden_layer_sizes=(7, 5, 3), activation=["gelu", "silu", "elu"]
    ),
    "no-hidden-layer": lambda: _fit(*_data(), hidden_layer_sizes=()),
    "float32": lambda: _fit(_data()[0].astype(np.float32), _data()[1]),
    "sparse-input": lambda: _fit(sp.csr_matrix(_data()[0]), _data()[1]),
    "multilabel": lambda: _fit(
        _data()[0], (_data()[0][:, :3] > 0).astype(int), max_iter=20
    ),
    "one-class": lambda: _fit(_data()[0], np.full(90, 7)),
    "feature-names": lambda: _fit(
        pd.DataFrame(_data()[0], columns=[f"f{i}" for i in range(5)]), _data()[1]
    ),
    "seed-none": lambda: _fit(*_data(), random_state=None),
    "seed-instance": lambda: _fit(*_data(), random_state=np.random.RandomState(4)),
    "warm-start-inf-patience": lambda: _fit(
        *_data(), warm_start=True, n_iter_no_change=np.inf, tol=0.0
    ),
    "list-parameters": lambda: _fit(
        *_data(), hidden_layer_sizes=[6, 4], activation=("relu", "tanh")
    ),
}


@pytest.mark.parametrize("name", MODELS)
def test_safe_format_round_trip_is_exact(tmp_path, name):
    clf = MODELS[name]()
    restored = _round_trip(clf, tmp_path)
    _assert_same_state(clf, restored)
    assert type(restored.get_params()["hidden_layer_sizes"]) is type(
        clf.hidden_layer_sizes
    )
    X = _data()[0]
    if hasattr(clf, "feature_names_in_"):
        X = pd.DataFrame(X, columns=clf.feature_names_in_)
    _assert_same_predictions(clf, restored, X)
    assert restored.score(X, clf.predict(X)) == 1.0


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog", "emu"]),
        np.array(["naïve", "日本", "x" * 40]),
        np.array([10**15, -(10**15), 3]),
        np.array([2**63 + 5, 1, 2], dtype=np.uint64),
        np.array([-1.0, 0.0, 1.0]),
        np.array([False, True]),
        np.array([3, 250], dtype=np.uint8),
        np.array([-2, 5, 9, 11], dtype=np.int16),
    ],
    ids=["str", "unicode", "large-int", "uint64", "float", "bool", "uint8", "int16"],
)
def test_classes_of_every_type_round_trip(tmp_path, labels):
    X, y = _data(labels)
    clf = _fit(X, y)
    restored = _round_trip(clf, tmp_path)
    assert restored.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(restored.classes_, clf.classes_)
    prediction = restored.predict(X)
    assert prediction.dtype == clf.predict(X).dtype
    np.testing.assert_array_equal(prediction, clf.predict(X))


def test_object_string_classes_round_trip(tmp_path):
    # scikit-learn turns object labels into a str array today; a classes_ of
    # Python strings in an object array is kept as such all the same.
    X, y = _data(["a", "b", "c"])
    clf = _fit(X, y)
    clf.classes_ = clf._label_binarizer.classes_ = clf.classes_.astype(object)
    restored = _round_trip(clf, tmp_path)
    assert restored.classes_.dtype == object
    assert all(type(c) is str for c in restored.classes_)
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam"),
        dict(solver="sgd", learning_rate="invscaling"),
        dict(solver="sgd", learning_rate="adaptive", tol=10.0, n_iter_no_change=1),
    ],
    ids=["adam", "sgd-invscaling", "sgd-adaptive"],
)
def test_partial_fit_continues_exactly_after_loading(tmp_path, params):
    # The optimizer's state and the shuffling generator are saved too.
    X, y = _data(n_samples=150)
    classes = np.unique(y)

    def make():
        return MLPBackpropClassifier(
            hidden_layer_sizes=(8,), batch_size=40, random_state=0, **params
        )

    uninterrupted, saved = make(), make()
    for _ in range(3):
        uninterrupted.partial_fit(X, y, classes=classes)
        saved.partial_fit(X, y, classes=classes)
    resumed = _round_trip(saved, tmp_path)
    for _ in range(3):
        uninterrupted.partial_fit(X, y)
        resumed.partial_fit(X, y)
    _assert_same_state(uninterrupted, resumed)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_warm_start_continues_exactly_after_loading(tmp_path, solver):
    X, y = _data(n_samples=150)
    params = dict(
        solver=solver, warm_start=True, tol=0.0, n_iter_no_change=50, max_iter=4
    )
    uninterrupted = _fit(X, y, **params)
    resumed = _round_trip(uninterrupted, tmp_path)
    uninterrupted.fit(X, y)
    resumed.fit(X, y)
    _assert_same_state(uninterrupted, resumed)


def test_changed_optimizer_parameters_start_a_fresh_optimizer(tmp_path):
    # The original would rebuild its optimizer at the next warm fit, so the
    # file need not (and does not) carry the stale one.
    X, y = _data()
    clf = _fit(X, y, warm_start=True)
    clf.set_params(learning_rate_init=0.01)
    restored = _round_trip(clf, tmp_path)
    assert restored._optimizer is None
    clf.fit(X, y)
    restored.fit(X, y)
    _assert_same_state(clf, restored)


def test_loading_never_unpickles(tmp_path, monkeypatch):
    clf = _fit(*_data(["a", "b"]), solver="sgd")
    path = tmp_path / "model.npz"
    save_model(clf, path)
    calls = []
    real_load = np.load

    def spy_load(*args, **kwargs):
        calls.append(kwargs.get("allow_pickle"))
        return real_load(*args, **kwargs)

    def refuse(*args, **kwargs):
        raise AssertionError("load_model unpickled something")

    monkeypatch.setattr(np, "load", spy_load)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    restored = load_model(path)
    assert calls == [False]
    np.testing.assert_array_equal(restored.predict(_data()[0]), clf.predict(_data()[0]))


def test_file_layout(tmp_path):
    clf = _fit(*_data(), hidden_layer_sizes=(6, 4))
    path = tmp_path / "model"
    save_model(clf, path)
    assert path.exists() and not (tmp_path / "model.npz").exists()  # name as given
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        metadata = json.loads(archive.read("metadata.json"))
        assert all(i.compress_type == zipfile.ZIP_STORED for i in archive.infolist())
    assert names[0] == "metadata.json"
    assert set(names) == {
        "metadata.json",
        "coefs_0.npy",
        "coefs_1.npy",
        "coefs_2.npy",
        "intercepts_0.npy",
        "intercepts_1.npy",
        "intercepts_2.npy",
        "classes.npy",
        "random_state.npy",
        "optimizer_m.npy",
        "optimizer_v.npy",
    }
    assert metadata["format"] == "skbackprop-model"
    assert metadata["format_version"] == 1
    assert metadata["fitted"]["layer_units"] == [5, 6, 4, 3]
    assert metadata["params"]["hidden_layer_sizes"] == {"tuple": [6, 4]}
    # Any numpy reads it, without pickling.
    with np.load(path, allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["coefs_1"], clf.coefs_[1])
        np.testing.assert_array_equal(npz["classes"], clf.classes_)


def test_saving_is_deterministic(tmp_path):
    clf = _fit(*_data())
    first, second = io.BytesIO(), io.BytesIO()
    save_model(clf, first)
    save_model(clf, second)
    assert first.getvalue() == second.getvalue()
    save_model(clf, tmp_path / "m.npz")
    assert (tmp_path / "m.npz").read_bytes() == first.getvalue()


@pytest.mark.parametrize("kind", ["str", "pathlib", "file"])
def test_paths_and_file_objects(tmp_path, kind):
    clf = _fit(*_data())
    path = tmp_path / "model.skbp"
    if kind == "file":
        with open(path, "wb") as handle:
            save_model(clf, handle)
        with open(path, "rb") as handle:
            restored = load_model(handle)
    else:
        target = str(path) if kind == "str" else Path(path)
        save_model(clf, target)
        restored = load_model(target)
    _assert_same_state(clf, restored)


def test_failed_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    clf = _fit(*_data())
    path = tmp_path / "model.npz"
    save_model(clf, path)
    before = path.read_bytes()

    def broken_write_array(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", broken_write_array)
    with pytest.raises(OSError, match="disk full"):
        save_model(_fit(*_data(), hidden_layer_sizes=(3,)), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporaries


def test_save_refuses_what_it_cannot_store(tmp_path):
    with pytest.raises(NotFittedError):
        save_model(MLPBackpropClassifier(), tmp_path / "m.npz")
    with pytest.raises(TypeError, match="saves an MLPBackpropClassifier"):
        save_model(LabelBinarizer().fit([0, 1]), tmp_path / "m.npz")
    clf = _fit(*_data())
    clf.set_params(verbose=object())
    message = "Cannot save parameter 'verbose' of type object"
    with pytest.raises(TypeError, match=message):
        save_model(clf, tmp_path / "m.npz")
    assert not any(tmp_path.iterdir())


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "absent.npz")


def test_parameters_missing_from_the_file_take_their_defaults():
    # A file written before a parameter existed still loads.
    clf = _fit(*_data())
    members = _members(clf)
    metadata = json.loads(members["metadata.json"])
    del metadata["params"]["power_t"], metadata["params"]["max_fun"]
    members["metadata.json"] = json.dumps(metadata).encode()
    restored = load_model(_archive(members))
    assert restored.power_t == 0.5 and restored.max_fun == 15000
    np.testing.assert_array_equal(restored.predict(_data()[0]), clf.predict(_data()[0]))


# ------------------------------------------------------ damaged and tampered
def _members(clf):
    buffer = io.BytesIO()
    save_model(clf, buffer)
    with zipfile.ZipFile(buffer) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _archive(members, compression=zipfile.ZIP_STORED):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    buffer.seek(0)
    return buffer


def _npy(array, allow_pickle=False):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def _edit_metadata(edit):
    def tamper(members):
        metadata = json.loads(members["metadata.json"])
        edit(metadata)
        members["metadata.json"] = json.dumps(metadata).encode()

    return tamper


def _set(path, value):
    def edit(metadata):
        *parents, last = path.split(".")
        node = metadata
        for key in parents:
            node = node[key]
        node[last] = value

    return _edit_metadata(edit)


def _delete(path):
    def edit(metadata):
        *parents, last = path.split(".")
        node = metadata
        for key in parents:
            node = node[key]
        del node[last]

    return _edit_metadata(edit)


def _replace(name, data):
    def tamper(members):
        members[name] = data

    return tamper


def _remove(name):
    def tamper(members):
        del members[name]

    return tamper


def _raw_metadata(text):
    def tamper(members):
        members["metadata.json"] = text

    return tamper


class _RunsCode:
    """A pickle that would create a file when unpickled."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


TAMPERED = {
    # The JSON.
    "newer-version": (_set("format_version", 2), "unsupported format version 2"),
    "version-as-string": (_set("format_version", "1"), "unsupported format version"),
    "other-format": (_set("format", "other"), "not a skbackprop model"),
    "other-estimator": (_set("estimator", "MLPClassifier"), "estimator must be one of"),
    "unknown-top-key": (_set("extra", 1), "unexpected keys \\['extra'\\]"),
    "missing-fitted-key": (
        _delete("fitted.attributes.t_"),
        "lacks the keys \\['t_'\\]",
    ),
    "unknown-fitted-key": (_set("fitted.coefs_", [1]), "unexpected keys"),
    "n-iter-as-string": (
        _set("fitted.attributes.n_iter_", "3"),
        "n_iter_ must be an integer",
    ),
    "negative-t": (_set("fitted.attributes.t_", -1), "t_ must be an integer >= 0"),
    "bool-as-int": (_set("fitted.n_features_in_", True), "n_features_in_ must be an"),
    "features-disagree": (_set("fitted.n_features_in_", 4), "first layer has 5 units"),
    "layers-disagree": (_set("fitted.n_layers_", 4), "n_layers_ must be 3"),
    "zero-units": (_set("fitted.layer_units", [5, 0, 3]), "layer_units\\[1\\] must"),
    "no-layers": (_set("fitted.layer_units", [5]), "at least 2 layer sizes"),
    "unknown-activation": (
        _set("fitted.hidden_activations", ["evil"]),
        "hidden_activations\\[0\\] must be one of",
    ),
    "activation-count": (
        _set("fitted.hidden_activations", ["relu", "relu"]),
        "one activation for each of the 1 hidden layers",
    ),
    "bad-label-type": (_set("fitted.label_type", "continuous"), "label_type must be"),
    "wrong-output": (
        _set("fitted.out_activation_", "logistic"),
        "out_activation_ must be one of \\['softmax'\\]",
    ),
    "bad-loss-curve": (
        _set("fitted.attributes.loss_curve_", ["x"]),
        "loss_curve_\\[0\\] must",
    ),
    "feature-names": (_set("fitted.feature_names_in_", ["a"]), "must list 5 strings"),
    "unknown-parameter": (_set("params.evil", 1), "unknown parameters \\['evil'\\]"),
    "invalid-parameter": (_set("params.solver", "evil"), "invalid parameter"),
    "invalid-parameter-type": (_set("params.alpha", [1, 2]), "invalid parameter"),
    "odd-encoding": (_set("params.alpha", {"pickle": "x"}), "unsupported encoding"),
    "object-dtype": (
        _set("params.activation", {"ndarray": ["relu"], "dtype": "|O"}),
        "not a valid array",
    ),
    "rng-pos": (_set("fitted.random_state.pos", 10**6), "pos must be at most 624"),
    "optimizer-class": (_set("fitted.optimizer.class", "SGD"), "uses 'Adam'"),
    "optimizer-scalar": (
        _set("fitted.optimizer.scalars.evil", 1),
        "evil is not part of the optimizer's state",
    ),
    "optimizer-type": (_set("fitted.optimizer.scalars.t", "3"), "t must be an integer"),
    "nan-literal": (_raw_metadata(b'{"format": NaN}'), "non-standard number NaN"),
    "duplicate-key": (_raw_metadata(b'{"format": 1, "format": 2}'), "repeats a key"),
    "not-json": (_raw_metadata(b"{'format': 1"), "not valid UTF-8 JSON"),
    "not-utf8": (_raw_metadata(b"\xff\xfe{}"), "not valid UTF-8 JSON"),
    "json-list": (_raw_metadata(b"[1, 2]"), "must hold a JSON object"),
    "metadata-is-npy": (_raw_metadata(_npy(np.zeros(3))), "not a text member"),
    # The members.
    "no-metadata": (_remove("metadata.json"), "has no metadata.json"),
    "missing-weights": (
        _remove("coefs_1.npy"),
        "lacks the members \\['coefs_1.npy'\\]",
    ),
    "missing-rng": (_remove("random_state.npy"), "lacks the members"),
    "extra-member": (
        _replace("payload.npy", _npy(np.zeros(2))),
        "unexpected members \\['payload.npy'\\]",
    ),
    "extra-text": (_replace("README", b"hello"), "unexpected members"),
    "stray-optimizer": (
        _replace("optimizer_w.npy", _npy(np.zeros(3))),
        "optimizer_w.npy is not part of the optimizer's state",
    ),
    # The arrays.
    "weights-shape": (
        _replace("coefs_0.npy", _npy(np.zeros((5, 9)))),
        "coefs_0.npy has shape \\(5, 9\\), expected \\(5, 8\\)",
    ),
    "weights-int": (
        _replace("coefs_0.npy", _npy(np.zeros((5, 8), dtype=int))),
        "coefs_0.npy has dtype int64, expected float64",
    ),
    "weights-nan": (
        _replace("intercepts_0.npy", _npy(np.full(8, np.nan))),
        "intercepts_0.npy contains NaN or infinity",
    ),
    "weights-inf": (
        _replace("coefs_1.npy", _npy(np.full((8, 3), np.inf))),
        "contains NaN or infinity",
    ),
    "weights-pickled": (
        _replace("coefs_0.npy", _npy(np.empty((5, 8), dtype=object), True)),
        "holds objects or records",
    ),
    "weights-structured": (
        _replace("coefs_0.npy", _npy(np.zeros(5, dtype=[("a", "f8")]))),
        "holds objects or records",
    ),
    "weights-not-npy": (
        _replace("coefs_0.npy", b"\x93NUMPY garbage" * 20),
        "coefs_0.npy is not a valid .npy array",
    ),
    "weights-short": (
        _replace("coefs_0.npy", _npy(np.zeros((5, 8)))[:-8]),
        "does not hold the 320 bytes",
    ),
    "classes-unsorted": (
        _replace("classes.npy", _npy(np.array([2, 0, 1]))),
        "sorted and distinct",
    ),
    "classes-duplicate": (
        _replace("classes.npy", _npy(np.array([0, 0, 1]))),
        "sorted and distinct",
    ),
    "classes-count": (
        _replace("classes.npy", _npy(np.arange(4))),
        "4 classes do not fit a multiclass model with 3 output",
    ),
    "classes-2d": (_replace("classes.npy", _npy(np.arange(3)[None])), "must be 1-D"),
    "classes-complex": (
        _replace("classes.npy", _npy(np.arange(3) + 1j)),
        "not one of kinds",
    ),
    "classes-pickled": (
        _replace("classes.npy", _npy(np.array([0, 1, 2], dtype=object), True)),
        "holds objects or records",
    ),
    "rng-shape": (
        _replace("random_state.npy", _npy(np.zeros(10, dtype=np.uint32))),
        "random_state.npy has shape \\(10,\\), expected \\(624,\\)",
    ),
    "optimizer-shape": (
        _replace("optimizer_m.npy", _npy(np.zeros(3))),
        "optimizer_m.npy has shape \\(3,\\)",
    ),
}


@pytest.mark.parametrize("case", TAMPERED)
def test_tampered_file_is_a_clear_value_error(case):
    tamper, message = TAMPERED[case]
    members = _members(_fit(*_data()))
    tamper(members)
    with pytest.raises(ValueError, match="Invalid skbackprop model file: .*" + message):
        load_model(_archive(members))


def test_header_promising_a_huge_array_is_refused_before_allocating():
    # A 100-byte member whose header announces 8 TB: refused from the header
    # and the member's size, without numpy ever allocating the array.
    members = _members(_fit(*_data()))
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)}
    )
    members["coefs_0.npy"] = header.getvalue() + b"\0" * 100
    metadata = json.loads(members["metadata.json"])
    metadata["fitted"]["layer_units"][0] = 10**6  # consistent with the header
    metadata["fitted"]["layer_units"][1] = 10**6
    with pytest.raises(ValueError, match="Invalid skbackprop model file"):
        load_model(_archive(members | {"metadata.json": json.dumps(metadata).encode()}))


def test_compressed_member_is_refused():
    # Compression would let a small file expand without bound.
    members = _members(_fit(*_data()))
    with pytest.raises(ValueError, match="compressed or encrypted"):
        load_model(_archive(members, compression=zipfile.ZIP_DEFLATED))


def test_duplicate_member_is_refused():
    members = _members(_fit(*_data()))
    buffer = _archive(members)
    with zipfile.ZipFile(buffer, "a") as archive, pytest.warns(UserWarning):
        archive.writestr("coefs_0.npy", members["coefs_0.npy"])
    buffer.seek(0)
    with pytest.raises(ValueError, match="repeats a member name"):
        load_model(buffer)


@pytest.mark.parametrize("keep", [0, 1, 5, 30, 0.5, 0.9, -22, -1])
def test_truncated_file_is_a_clear_value_error(keep):
    buffer = io.BytesIO()
    save_model(_fit(*_data()), buffer)
    data = buffer.getvalue()
    cut = int(len(data) * keep) if isinstance(keep, float) else keep
    with pytest.raises(ValueError, match="Invalid skbackprop model file"):
        load_model(io.BytesIO(data[:cut]))


@pytest.mark.parametrize("seed", range(5))
def test_corrupted_bytes_are_a_clear_value_error_or_an_identical_model(seed):
    # Flip bytes at random: the loader refuses the file, or the damage hit
    # bytes that carry no information (zip padding, unused header space).
    clf = _fit(*_data())
    buffer = io.BytesIO()
    save_model(clf, buffer)
    data = bytearray(buffer.getvalue())
    rng = np.random.RandomState(seed)
    for position in rng.randint(0, len(data), size=3):
        data[position] ^= 0xFF
    try:
        restored = load_model(io.BytesIO(bytes(data)))
    except ValueError as error:
        assert str(error).startswith("Invalid skbackprop model file")
    else:
        _assert_same_predictions(clf, restored, _data()[0])


@pytest.mark.parametrize(
    "content",
    [b"", b"PK", b"not a model at all", _npy(np.zeros(3)), b"\x80\x04K\x01."],
    ids=["empty", "zip-magic", "text", "npy", "pickle"],
)
def test_other_files_are_a_clear_value_error(tmp_path, content):
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="Invalid skbackprop model file"):
        load_model(path)


def test_malicious_pickle_is_never_run(tmp_path):
    marker = tmp_path / "was-run"
    for payload in [
        pickle.dumps(_RunsCode(marker)),  # the whole file a pickle
        _npy(np.array([_RunsCode(marker)], dtype=object), allow_pickle=True),
    ]:
        path = tmp_path / "model.npz"
        path.write_bytes(payload)
        with pytest.raises(ValueError, match="Invalid skbackprop model file"):
            load_model(path)
        members = _members(_fit(*_data()))
        members["classes.npy"] = _npy(
            np.array([_RunsCode(marker)] * 3, dtype=object), allow_pickle=True
        )
        with pytest.raises(ValueError, match="holds objects"):
            load_model(_archive(members))
    assert not marker.exists()


def test_public_names():
    assert {"save_model", "load_model"} <= set(skbackprop.__all__)
    assert skbackprop.save_model is save_model and skbackprop.load_model is load_model


# ------------------------------------------------------------------- skops
# What skops cannot vouch for by itself: the estimator class and, for the
# stochastic solvers, the optimizer object kept for warm starts (its class,
# its BLAS helper and the numpy dtype it records). Everything else in the
# state (numpy arrays, RandomState, LabelBinarizer, builtins) is on skops'
# default trusted list. docs/persistence.rst lists the same types.
_ESTIMATOR = "skbackprop._classifier.MLPBackpropClassifier"
SKOPS_UNTRUSTED = {
    "lbfgs": [_ESTIMATOR],
    **{
        solver: [
            "numpy.dtype",
            "skbackprop._blas.Axpy",
            _ESTIMATOR,
            f"skbackprop._optimizers.{name}",
        ]
        for solver, name in [
            ("sgd", "SGD"),
            ("adam", "Adam"),
            ("adamw", "AdamW"),
            ("rmsprop", "RMSprop"),
            ("adagrad", "Adagrad"),
        ]
    },
}


@pytest.mark.parametrize("solver", SKOPS_UNTRUSTED)
@pytest.mark.parametrize("labels", [(0, 1, 2), ("no", "yes")])
def test_skops_round_trip_with_the_documented_trusted_types(tmp_path, solver, labels):
    sio = import_extra("skops.io")
    X, y = _data(labels)
    clf = _fit(X, y, solver=solver, random_state=np.random.RandomState(2))
    path = tmp_path / "model.skops"
    sio.dump(clf, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert sorted(untrusted) == SKOPS_UNTRUSTED[solver]
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.load(path)
    restored = sio.load(path, trusted=SKOPS_UNTRUSTED[solver])
    _assert_same_state(clf, restored)
    _assert_same_predictions(clf, restored, X)
    if solver != "lbfgs":
        clf.partial_fit(X, y)
        restored.partial_fit(X, y)
        _assert_same_state(clf, restored)


def test_documentation_lists_the_types_to_trust():
    # docs/persistence.rst tells users what to pass to skops' ``trusted``.
    page = (Path(__file__).parents[1] / "docs" / "persistence.rst").read_text()
    for solver, types in SKOPS_UNTRUSTED.items():
        assert f"``'{solver}'``" in page, solver
        for name in types:
            assert f"``{name}``" in page, name


def test_docstring_examples_run():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = doctest.testmod(_persistence, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
