"""The public gradient checker, ``check_gradients`` (``skbackprop._gradient_check``).

Its report has one row per layer and parameter, weights before biases, with
the shapes of ``coefs_`` and ``intercepts_`` and as many entries checked as
asked for. On a correct gradient (penalties, class weights and sample weights
included) every relative error is tiny; on a wrong one the rows of the wrong
parameters show it and the others do not. The estimator it is given is left
as it was, fitted or not.
"""

import numpy as np
import pandas as pd
import pytest

from skbackprop import MLPBackpropClassifier, check_gradients
from skbackprop._penalty import WeightPenalty
from tests._data import classification

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _estimator():
    return MLPBackpropClassifier(
        hidden_layer_sizes=(6, 4),
        activation="tanh",
        alpha=0.1,
        alpha_l1=0.01,
        class_weight={0: 2.0},
        max_iter=3,
        random_state=0,
    )


def _data():
    X, y = classification(60)
    sample_weight = np.random.RandomState(0).uniform(0.5, 2.0, size=len(y))
    return X, y, sample_weight


def test_report_of_a_correct_gradient():
    X, y, sample_weight = _data()
    clf = _estimator().fit(X, y, sample_weight=sample_weight)
    report = check_gradients(clf, X, y, sample_weight, max_checks_per_layer=5)
    assert isinstance(report, pd.DataFrame)
    assert list(report.columns) == [
        "layer",
        "parameter",
        "shape",
        "n_checked",
        "max_abs_error",
        "relative_error",
    ]
    assert list(zip(report["layer"], report["parameter"])) == [
        (1, "weights"),
        (1, "biases"),
        (2, "weights"),
        (2, "biases"),
        (3, "weights"),
        (3, "biases"),
    ]
    shapes = [
        array.shape for layer in zip(clf.coefs_, clf.intercepts_) for array in layer
    ]
    assert list(report["shape"]) == shapes
    # Five entries of every parameter that has more, all of a smaller one.
    assert list(report["n_checked"]) == [min(5, int(np.prod(s))) for s in shapes]
    assert (report["relative_error"] < 1e-6).all()
    assert (report["max_abs_error"] < 1e-6).all()

    everything = check_gradients(clf, X, y, sample_weight, max_checks_per_layer=None)
    assert list(everything["n_checked"]) == [int(np.prod(s)) for s in shapes]
    assert (everything["relative_error"] < 1e-6).all()


def test_a_wrong_gradient_shows_in_the_rows_it_affects(monkeypatch):
    # Twice the L2 gradient, with the right value: the weights' rows must
    # show the error, the biases' rows (never penalised) must not.
    X, y, sample_weight = _data()
    clf = _estimator().fit(X, y, sample_weight=sample_weight)
    factor = WeightPenalty.l2_gradient_factor
    monkeypatch.setattr(
        WeightPenalty,
        "l2_gradient_factor",
        lambda self, weight_sum: 2 * factor(self, weight_sum),
    )
    report = check_gradients(clf, X, y, sample_weight)
    weights = report[report["parameter"] == "weights"]
    biases = report[report["parameter"] == "biases"]
    assert (weights["relative_error"] > 1e-3).all()
    assert (biases["relative_error"] < 1e-6).all()


def test_the_estimator_is_left_as_it_was():
    X, y, sample_weight = _data()
    unfitted = _estimator()
    report = check_gradients(unfitted, X, y, sample_weight)
    assert not hasattr(unfitted, "coefs_")  # checked on a fitted copy
    assert (report["relative_error"] < 1e-6).all()

    fitted = _estimator().fit(X, y, sample_weight=sample_weight)
    before = [w.copy() for w in fitted.coefs_ + fitted.intercepts_]
    n_iter, loss_curve = fitted.n_iter_, list(fitted.loss_curve_)
    check_gradients(fitted, X, y, sample_weight)
    for now, then in zip(fitted.coefs_ + fitted.intercepts_, before, strict=True):
        np.testing.assert_array_equal(now, then)
    assert fitted.n_iter_ == n_iter and fitted.loss_curve_ == loss_curve
