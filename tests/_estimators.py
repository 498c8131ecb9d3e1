"""Fitting and comparing estimators: helpers that several test modules share."""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

# The tests' own list, so that a solver added to the package is added here
# on purpose.
STOCHASTIC_SOLVERS = ["sgd", "adam", "adamw", "rmsprop", "adagrad"]


def quiet_fit(clf, X, y, **kwargs):
    """Fit, ignoring the ConvergenceWarnings that short runs give."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y, **kwargs)


def all_weights(clf):
    """The weights, then the biases, of every layer: a list of arrays."""
    return clf.coefs_ + clf.intercepts_


def flat_params(clf):
    """All weights, then all biases, as one vector (the training layout)."""
    return np.concatenate([c.ravel() for c in clf.coefs_] + list(clf.intercepts_))


def assert_same_weights(a, b, rtol=0.0, atol=0.0):
    """Equal weights and biases, layer by layer: bit for bit without tolerance."""
    for left, right in zip(all_weights(a), all_weights(b), strict=True):
        if rtol == 0 and atol == 0:
            np.testing.assert_array_equal(left, right)
        else:
            np.testing.assert_allclose(left, right, rtol=rtol, atol=atol)


def assert_valid_probabilities(clf, X):
    """Finite probabilities in [0, 1] that sum to 1, and labels from classes_."""
    proba = clf.predict_proba(X)
    assert proba.shape == (X.shape[0], len(clf.classes_))
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert np.isfinite(clf.predict_log_proba(X)).all()
    assert np.isin(clf.predict(X), clf.classes_).all()
    return proba


def hidden_activations(clf, X, activations):
    """Forward pass written out with numpy, one array per hidden layer."""
    functions = {"relu": lambda Z: np.maximum(Z, 0), "tanh": np.tanh}
    A, layers = X, []
    for coef, intercept, name in zip(
        clf.coefs_[:-1], clf.intercepts_[:-1], activations, strict=True
    ):
        A = functions[name](A @ coef + intercept)
        layers.append(A)
    return layers
