"""Saving and loading: pickle, joblib, the pickle-free format, and skops.

The pickle-free format (``save_model``/``load_model``) must give back a model
that is indistinguishable from the saved one; ``tests/test_persistence_files.py``
checks that damaged and tampered files are refused.
"""

import doctest
import io
import json
import os
import pickle
import stat
import zipfile
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.preprocessing import LabelBinarizer

import skbackprop
from skbackprop import MLPBackpropClassifier, _persistence, load_model, save_model
from tests._extras import import_extra
from tests._saved_models import (
    archive,
    assert_same_predictions,
    assert_same_state,
    data,
    edit_metadata,
    fit,
    members,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _round_trip(clf, tmp_path, name="model.npz"):
    path = tmp_path / name
    save_model(clf, path)
    return load_model(path)


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
    X, y = data()
    clf = fit(X, y, **params)
    if how == "pickle":
        restored = pickle.loads(pickle.dumps(clf))
    else:
        compress = 3 if how == "joblib-compressed" else 0
        joblib.dump(clf, tmp_path / "m.joblib", compress=compress)
        restored = joblib.load(tmp_path / "m.joblib")
    assert_same_state(clf, restored)
    assert_same_predictions(clf, restored, X)


def test_pickle_holds_no_private_class_but_the_estimator():
    # The training state travels as plain values; pickling leaves the
    # estimator's own state untouched.
    clf = fit(*data(), solver="adam")
    state = clf.__getstate__()
    assert isinstance(state["_training_state"], dict)
    assert not isinstance(clf.__dict__["_training_state"], dict)
    payload = pickle.dumps(clf)
    for name in (b"_optimizers", b"_state", b"_blas"):
        assert b"skbackprop." + name not in payload


# ---------------------------------------------------------- the safe format
MODELS = {
    "adam-multiclass": lambda: fit(*data()),
    "sgd-binary-strings": lambda: fit(
        *data(["no", "yes"]), solver="sgd", learning_rate="invscaling"
    ),
    "lbfgs": lambda: fit(*data(), solver="lbfgs"),
    "early-stopping": lambda: fit(*data(), early_stopping=True, max_iter=8),
    "per-layer-activations": lambda: fit(
        *data(), hidden_layer_sizes=(7, 5, 3), activation=["gelu", "silu", "elu"]
    ),
    "no-hidden-layer": lambda: fit(*data(), hidden_layer_sizes=()),
    "float32": lambda: fit(data()[0].astype(np.float32), data()[1]),
    "sparse-input": lambda: fit(sp.csr_matrix(data()[0]), data()[1]),
    "multilabel": lambda: fit(
        data()[0], (data()[0][:, :3] > 0).astype(int), max_iter=20
    ),
    "one-class": lambda: fit(data()[0], np.full(90, 7)),
    "feature-names": lambda: fit(
        pd.DataFrame(data()[0], columns=[f"f{i}" for i in range(5)]), data()[1]
    ),
    "seed-none": lambda: fit(*data(), random_state=None),
    "seed-instance": lambda: fit(*data(), random_state=np.random.RandomState(4)),
    "warm-start-inf-patience": lambda: fit(
        *data(), warm_start=True, n_iter_no_change=np.inf, tol=0.0
    ),
    "list-parameters": lambda: fit(
        *data(), hidden_layer_sizes=[6, 4], activation=("relu", "tanh")
    ),
    "dropout-class-weight": lambda: fit(
        *data(), dropout=0.2, class_weight={0: 2.0, 2: 0.5}, solver="rmsprop"
    ),
}


@pytest.mark.parametrize("name", MODELS)
def test_safe_format_round_trip_is_exact(tmp_path, name):
    clf = MODELS[name]()
    restored = _round_trip(clf, tmp_path)
    assert_same_state(clf, restored)
    assert type(restored.get_params()["hidden_layer_sizes"]) is type(
        clf.hidden_layer_sizes
    )
    X = data()[0]
    if hasattr(clf, "feature_names_in_"):
        X = pd.DataFrame(X, columns=clf.feature_names_in_)
    assert_same_predictions(clf, restored, X)
    assert restored.score(X, clf.predict(X)) == 1.0


def test_a_generator_shared_by_parameter_and_state_stays_one():
    clf = fit(*data(), random_state=np.random.RandomState(4))
    assert clf.random_state is clf._training_state.random_state
    restored = load_model(archive(members(clf)))
    assert restored.random_state is restored._training_state.random_state


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
    X, y = data(labels)
    clf = fit(X, y)
    restored = _round_trip(clf, tmp_path)
    assert restored.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(restored.classes_, clf.classes_)
    prediction = restored.predict(X)
    assert prediction.dtype == clf.predict(X).dtype
    np.testing.assert_array_equal(prediction, clf.predict(X))


def test_object_string_classes_round_trip(tmp_path):
    # scikit-learn turns object labels into a str array today; a classes_ of
    # Python strings in an object array is kept as such all the same.
    X, y = data(["a", "b", "c"])
    clf = fit(X, y)
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
    X, y = data(n_samples=150)
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
    assert_same_state(uninterrupted, resumed)


@pytest.mark.parametrize("solver", ["adam", "sgd", "lbfgs"])
def test_warm_start_continues_exactly_after_loading(tmp_path, solver):
    X, y = data(n_samples=150)
    params = dict(
        solver=solver, warm_start=True, tol=0.0, n_iter_no_change=50, max_iter=4
    )
    uninterrupted = fit(X, y, **params)
    resumed = _round_trip(uninterrupted, tmp_path)
    uninterrupted.fit(X, y)
    resumed.fit(X, y)
    assert_same_state(uninterrupted, resumed)


def test_changed_optimizer_parameters_start_a_fresh_optimizer(tmp_path):
    # The file keeps the optimizer with the settings it was built with; the
    # next warm fit of the original and of the copy both rebuild it.
    X, y = data()
    clf = fit(X, y, warm_start=True)
    clf.set_params(learning_rate_init=0.01)
    restored = _round_trip(clf, tmp_path)
    assert restored._training_state.optimizer.settings.learning_rate_init == 0.001
    clf.fit(X, y)
    restored.fit(X, y)
    assert_same_state(clf, restored)
    assert restored._training_state.optimizer.settings.learning_rate_init == 0.01


def test_loading_never_unpickles(tmp_path, monkeypatch):
    clf = fit(*data(["a", "b"]), solver="sgd")
    path = tmp_path / "model.npz"
    save_model(clf, path)
    reads = []
    real_read = np.lib.format.read_array_header_1_0

    def spy(*args, **kwargs):
        reads.append(args)
        return real_read(*args, **kwargs)

    def refuse(*args, **kwargs):
        raise AssertionError("load_model unpickled something")

    monkeypatch.setattr(np.lib.format, "read_array_header_1_0", spy)
    monkeypatch.setattr(np, "load", refuse)
    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    monkeypatch.setattr(pickle, "Unpickler", refuse)
    restored = load_model(path)
    assert len(reads) == len(members(clf)) - 1  # every array, header first
    np.testing.assert_array_equal(restored.predict(data()[0]), clf.predict(data()[0]))


def test_file_layout(tmp_path):
    clf = fit(*data(), hidden_layer_sizes=(6, 4))
    path = tmp_path / "model"
    save_model(clf, path)
    assert path.exists() and not (tmp_path / "model.npz").exists()  # name as given
    with zipfile.ZipFile(path) as zipped:
        names = zipped.namelist()
        metadata = json.loads(zipped.read("metadata.json"))
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zipped.infolist())
    assert names[0] == "metadata.json"
    assert set(names) == {
        "metadata.json",
        *(f"{kind}.{i}.npy" for kind in ("coefs_", "intercepts_") for i in range(3)),
        "classes_.npy",
        "training.random_state.npy",
        "training.shuffle_order.npy",
        "training.optimizer.m.npy",
        "training.optimizer.v.npy",
    }
    assert metadata["format"] == "skbackprop-model"
    assert metadata["format_version"] == 2
    assert metadata["estimator"] == "MLPBackpropClassifier"
    assert metadata["params"]["hidden_layer_sizes"] == {"tuple": [6, 4]}
    assert metadata["fitted"]["coefs_"][1] == {"array": "coefs_.1"}
    assert metadata["fitted"]["training"]["n_iter"] == 5
    assert metadata["fitted"]["training"]["optimizer"]["settings"]["solver"] == "adam"
    # Any numpy reads it, without pickling.
    with np.load(path, allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["coefs_.1"], clf.coefs_[1])
        np.testing.assert_array_equal(npz["classes_"], clf.classes_)


def test_saving_is_deterministic(tmp_path):
    clf = fit(*data())
    first, second = io.BytesIO(), io.BytesIO()
    save_model(clf, first)
    save_model(clf, second)
    assert first.getvalue() == second.getvalue()
    save_model(clf, tmp_path / "m.npz")
    assert (tmp_path / "m.npz").read_bytes() == first.getvalue()


@pytest.mark.parametrize("kind", ["str", "pathlib", "file"])
def test_paths_and_file_objects(tmp_path, kind):
    clf = fit(*data())
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
    assert_same_state(clf, restored)


def test_failed_save_leaves_the_previous_file_intact(tmp_path, monkeypatch):
    clf = fit(*data())
    path = tmp_path / "model.npz"
    save_model(clf, path)
    before = path.read_bytes()

    def broken_write_array(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", broken_write_array)
    with pytest.raises(OSError, match="disk full"):
        save_model(fit(*data(), hidden_layer_sizes=(3,)), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporaries


def test_saved_file_reaches_the_disk_before_the_rename(tmp_path, monkeypatch):
    # Renamed before its data are on disk, a file could be empty after a crash.
    calls = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor):
        calls.append(("fsync", os.fstat(descriptor).st_size))
        real_fsync(descriptor)

    def replace(source, target):
        calls.append(("replace", Path(target).name))
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    save_model(fit(*data()), tmp_path / "model.npz")
    size = (tmp_path / "model.npz").stat().st_size
    assert calls == [("fsync", size), ("replace", "model.npz")]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_saved_file_has_the_permissions_of_any_new_file(tmp_path):
    (tmp_path / "plain").write_bytes(b"")
    save_model(fit(*data()), tmp_path / "model.npz")
    mode = stat.S_IMODE((tmp_path / "model.npz").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "plain").stat().st_mode)


def test_save_refuses_what_it_cannot_store(tmp_path):
    with pytest.raises(NotFittedError):
        save_model(MLPBackpropClassifier(), tmp_path / "m.npz")
    with pytest.raises(
        TypeError,
        match="saves one of \\['MLPBackpropClassifier', 'MLPBackpropRegressor'\\]",
    ):
        save_model(LabelBinarizer().fit([0, 1]), tmp_path / "m.npz")
    clf = fit(*data())
    clf.set_params(verbose=object())
    with pytest.raises(TypeError, match="Cannot save params.verbose of type object"):
        save_model(clf, tmp_path / "m.npz")
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    "change, message",
    [
        (
            dict(hidden_layer_sizes=(17,)),
            "hidden_layer_sizes=\\(17,\\) but the weights",
        ),
        (dict(activation="tanh"), "activation='tanh' but the network's hidden layers"),
    ],
)
def test_save_refuses_parameters_that_no_longer_describe_the_network(
    tmp_path, change, message
):
    clf = fit(*data())
    clf.set_params(**change)
    with pytest.raises(ValueError, match=message):
        save_model(clf, tmp_path / "m.npz")
    assert not any(tmp_path.iterdir())


def test_missing_file_is_a_file_not_found_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "absent.npz")


def test_parameters_missing_from_the_file_take_their_defaults():
    # A file written before a parameter existed still loads.
    clf = fit(*data())

    def forget(metadata):
        del metadata["params"]["power_t"], metadata["params"]["max_fun"]

    restored = load_model(archive(edit_metadata(members(clf), forget)))
    assert restored.power_t == 0.5 and restored.max_fun == 15000
    np.testing.assert_array_equal(restored.predict(data()[0]), clf.predict(data()[0]))


def test_public_names():
    assert {"save_model", "load_model"} <= set(skbackprop.__all__)
    assert skbackprop.save_model is save_model and skbackprop.load_model is load_model


def test_docstring_examples_run():
    result = doctest.testmod(_persistence, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


# ------------------------------------------------------------------- skops
# What skops cannot vouch for by itself is the estimator class alone: the
# training state is stored as plain values (numbers, lists, dicts, numpy
# arrays and a RandomState), which skops trusts by default, and so is the
# label binarizer. docs/persistence.rst lists the same types.
SKOPS_UNTRUSTED = ["skbackprop._classifier.MLPBackpropClassifier"]
SOLVERS = ["lbfgs", "sgd", "adam", "adamw", "rmsprop", "adagrad"]


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("labels", [(0, 1, 2), ("no", "yes")])
def test_skops_round_trip_with_the_documented_trusted_types(tmp_path, solver, labels):
    sio = import_extra("skops.io")
    X, y = data(labels)
    clf = fit(X, y, solver=solver, random_state=np.random.RandomState(2))
    path = tmp_path / "model.skops"
    sio.dump(clf, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert sorted(untrusted) == SKOPS_UNTRUSTED
    with pytest.raises(sio.exceptions.UntrustedTypesFoundException):
        sio.load(path)
    restored = sio.load(path, trusted=SKOPS_UNTRUSTED)
    assert_same_state(clf, restored)
    assert_same_predictions(clf, restored, X)
    if solver != "lbfgs":
        clf.partial_fit(X, y)
        restored.partial_fit(X, y)
        assert_same_state(clf, restored)


def test_documentation_lists_the_types_to_trust():
    # docs/persistence.rst tells users what to pass to skops' ``trusted``.
    page = (Path(__file__).parents[1] / "docs" / "persistence.rst").read_text()
    for name in SKOPS_UNTRUSTED:
        assert f"``{name}``" in page, name
    for private in ("_optimizers", "_blas.Axpy", "numpy.dtype"):
        assert private not in page, private
