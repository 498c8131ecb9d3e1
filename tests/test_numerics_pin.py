"""Training numerics pinned: the same data, parameters and seed give the same run.

A refactor must not change what training computes. This module fits one small
model per configuration, covering every solver, schedule and training
feature, on the compiled-kernel path and on the numpy path, and compares the
weights, loss curve, validation scores and counters with reference values
stored in ``tests/data/pinned_training.npz``.

The references were written by the release whose numerics they pin. A change
that alters training on purpose re-pins the configurations it alters
(``python -m tests.test_numerics_pin NAME ...``; no name re-pins them all) in
a commit of its own that says which configurations changed and why.
"""

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skbackprop import MLPBackpropClassifier, _kernels

REFERENCE = Path(__file__).parent / "data" / "pinned_training.npz"
PATHS = ("numba", "numpy")


def _data():
    X, y = load_digits(return_X_y=True)
    X, y = X[:240] / 16.0, y[:240]
    weights = np.random.RandomState(0).randint(0, 4, size=len(y)).astype(float)
    return {
        "digits": (X, y),
        "binary": (X, (y >= 5).astype(int)),
        "strings": (X, np.array(["zero", "one", "two"])[y % 3]),
        "multilabel": (X, np.column_stack([y % 2, y >= 5, y % 3 == 0]).astype(int)),
        "sparse": (sp.csr_matrix(X), y),
        "float32": (X.astype(np.float32), y),
        "weights": weights,
    }


BASE = dict(hidden_layer_sizes=(8,), max_iter=8, random_state=0)

# name -> (data set, estimator parameters, how to train)
CONFIGURATIONS = {
    "adam": ("digits", {}, "fit"),
    "adam-float32": ("float32", {}, "fit"),
    "sgd-nesterov-invscaling": (
        "digits",
        dict(solver="sgd", learning_rate="invscaling", learning_rate_init=0.05),
        "fit",
    ),
    "sgd-momentum-adaptive": (
        "digits",
        dict(
            solver="sgd",
            nesterovs_momentum=False,
            learning_rate="adaptive",
            learning_rate_init=0.5,
            n_iter_no_change=1,
            tol=0.5,
            max_iter=12,
        ),
        "fit",
    ),
    "sgd-float32": ("float32", dict(solver="sgd", learning_rate_init=0.05), "fit"),
    "adamw": ("digits", dict(solver="adamw", weight_decay=0.1), "fit"),
    "rmsprop-invscaling": (
        "digits",
        dict(solver="rmsprop", learning_rate="invscaling", power_t=0.25),
        "fit",
    ),
    "adagrad": ("digits", dict(solver="adagrad", learning_rate_init=0.05), "fit"),
    "lbfgs": (
        "digits",
        dict(solver="lbfgs", hidden_layer_sizes=(6, 4), activation="tanh"),
        "fit",
    ),
    "lbfgs-float32": ("float32", dict(solver="lbfgs", alpha_l1=1e-3), "fit"),
    "lbfgs-weights": ("digits", dict(solver="lbfgs", max_iter=15), "fit-weighted"),
    "activations-gelu-silu": (
        "digits",
        dict(hidden_layer_sizes=(6, 4), activation=["gelu", "silu"]),
        "fit",
    ),
    "activations-elu-softplus": (
        "digits",
        dict(hidden_layer_sizes=(6, 4), activation=["elu", "softplus"]),
        "fit",
    ),
    "activations-leaky-logistic": (
        "digits",
        dict(hidden_layer_sizes=(6, 4), activation=["leaky_relu", "logistic"]),
        "fit",
    ),
    "activations-identity-tanh": (
        "digits",
        dict(hidden_layer_sizes=(6, 4), activation=["identity", "tanh"]),
        "fit",
    ),
    "no-hidden-layer": ("digits", dict(hidden_layer_sizes=()), "fit"),
    "dropout": ("digits", dict(hidden_layer_sizes=(8, 6), dropout=[0.3, 0.1]), "fit"),
    "dropout-sparse": ("sparse", dict(dropout=0.2), "fit"),
    "regularised-clipped": (
        "digits",
        dict(class_weight="balanced", alpha=0.05, alpha_l1=1e-3, max_grad_norm=0.5),
        "fit",
    ),
    "class-weight-dict": (
        "digits",
        dict(class_weight={0: 3.0, 7: 0.5}, solver="sgd"),
        "fit-weighted",
    ),
    "init-he-normal": ("digits", dict(init="he_normal"), "fit"),
    "init-lecun-uniform": ("digits", dict(init="lecun_uniform"), "fit"),
    "init-glorot-normal": ("digits", dict(init="glorot_normal"), "fit"),
    "early-stopping": (
        "digits",
        dict(early_stopping=True, n_iter_no_change=3, max_iter=15),
        "fit",
    ),
    "early-stopping-loss-weighted": (
        "digits",
        dict(early_stopping=True, scoring="loss", validation_fraction=0.2),
        "fit-weighted",
    ),
    "early-stopping-sparse": ("sparse", dict(early_stopping=True), "fit"),
    "validation-data": (
        "digits",
        dict(early_stopping=True, scoring="f1_macro"),
        "fit-val",
    ),
    "sample-weight": ("digits", dict(batch_size=50), "fit-weighted"),
    "binary": ("binary", dict(solver="rmsprop"), "fit"),
    "string-labels": ("strings", {}, "fit"),
    "multilabel": ("multilabel", dict(class_weight="balanced"), "fit"),
    "sparse": ("sparse", dict(solver="sgd"), "fit"),
    "no-shuffle-odd-batches": ("digits", dict(shuffle=False, batch_size=70), "fit"),
    "warm-start": ("digits", dict(warm_start=True, max_iter=4), "fit-twice"),
    "warm-start-no-shuffle": (
        "digits",
        dict(warm_start=True, max_iter=4, shuffle=False, solver="sgd"),
        "fit-twice",
    ),
    "warm-start-lbfgs": (
        "digits",
        dict(warm_start=True, max_iter=5, solver="lbfgs"),
        "fit-twice",
    ),
    "partial-fit": ("digits", dict(solver="sgd"), "partial-fit"),
    "partial-fit-dropout": ("digits", dict(dropout=0.25), "partial-fit"),
}


def _train(name):
    """Fit the configuration ``name``; return the estimator."""
    data = _data()
    dataset, params, how = CONFIGURATIONS[name]
    X, y = data[dataset]
    clf = MLPBackpropClassifier(**{**BASE, **params})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        if how == "fit":
            clf.fit(X, y)
        elif how == "fit-weighted":
            clf.fit(X, y, sample_weight=data["weights"])
        elif how == "fit-val":
            clf.fit(X[:180], y[:180], X_val=X[180:], y_val=y[180:])
        elif how == "fit-twice":
            clf.fit(X, y)
            clf.fit(X, y)
        else:
            for start in (0, 80, 160):
                rows = slice(start, start + 80)
                clf.partial_fit(X[rows], y[rows], classes=np.unique(y))
    return clf


def _summary(clf):
    """Arrays that describe a training run."""
    scores = clf.validation_scores_
    return {
        "weights": np.concatenate(
            [np.ravel(w) for w in clf.coefs_ + clf.intercepts_]
        ).astype(np.float64),
        "loss_curve": np.asarray(clf.loss_curve_, dtype=np.float64),
        "validation_scores": np.asarray(
            [] if scores is None else scores, dtype=np.float64
        ),
        "counters": np.array([clf.n_iter_, clf.t_]),
    }


def _set_path(path):
    _kernels.use_kernels = path == "numba"


def _measure(name, path):
    saved = _kernels.use_kernels
    try:
        _set_path(path)
        return _summary(_train(name))
    finally:
        _kernels.use_kernels = saved


@pytest.fixture(scope="module")
def reference():
    with np.load(REFERENCE) as stored:
        return dict(stored)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("name", sorted(CONFIGURATIONS))
def test_training_run_is_pinned(reference, name, path):
    if path == "numba":
        pytest.importorskip("numba")
    found = _measure(name, path)
    float32 = CONFIGURATIONS[name][0] == "float32"
    # Only rounding may differ: a few units in the last place of the dtype
    # trained in, grown over a handful of epochs.
    tolerance = dict(rtol=1e-5, atol=1e-6) if float32 else dict(rtol=1e-10, atol=1e-12)
    for key, value in found.items():
        expected = reference[f"{name}/{path}/{key}"]
        if key == "counters":
            np.testing.assert_array_equal(value, expected, err_msg=key)
        else:
            np.testing.assert_allclose(value, expected, err_msg=key, **tolerance)


def test_every_configuration_is_pinned(reference):
    stored = {key.split("/")[0] for key in reference}
    assert stored == set(CONFIGURATIONS)


def _write_reference(names):
    """Measure ``names`` (all configurations if empty) and store them.

    The stored values of the other configurations are kept as they are, so
    that re-pinning what a change meant to alter leaves the rest pinned to
    the release that wrote them.
    """
    arrays = {}
    if REFERENCE.exists():
        with np.load(REFERENCE) as stored:
            arrays = {k: v for k, v in stored.items() if k.split("/")[0] not in names}
    for name in names or sorted(CONFIGURATIONS):
        for path in PATHS:
            for key, value in _measure(name, path).items():
                arrays[f"{name}/{path}/{key}"] = value
    REFERENCE.parent.mkdir(exist_ok=True)
    np.savez_compressed(REFERENCE, **arrays)
    print(f"wrote {len(arrays)} arrays to {REFERENCE}")


if __name__ == "__main__":
    unknown = set(sys.argv[1:]) - set(CONFIGURATIONS)
    if unknown:
        sys.exit(f"unknown configurations: {sorted(unknown)}")
    _write_reference(sys.argv[1:])
