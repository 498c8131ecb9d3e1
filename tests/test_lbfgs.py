"""Full-batch training with L-BFGS (``skbackprop._lbfgs``).

An iteration whose loss is not finite never ends training in garbage: the
last finite iterate is kept, or the initial weights when there is none, and a
warning says so.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skbackprop import MLPBackpropClassifier
from tests._data import blobs, unscaled_binary
from tests._estimators import all_weights, assert_valid_probabilities, quiet_fit

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize("activation", ["relu", "identity"])
def test_lbfgs_divergence_keeps_the_last_finite_iterate(activation):
    X, y = unscaled_binary(1e200)
    clf = MLPBackpropClassifier(
        solver="lbfgs", activation=activation, max_iter=50, random_state=0
    )
    with pytest.warns(ConvergenceWarning, match="lbfgs diverged.*last finite iterate"):
        clf.fit(X, y)
    assert all(np.isfinite(w).all() for w in all_weights(clf))
    assert len(clf.loss_curve_) == clf.n_iter_
    assert np.isfinite(clf.loss_)
    if clf.n_iter_:
        assert clf.loss_ == clf.loss_curve_[-1]
    assert_valid_probabilities(clf, X / 1e200)


def test_lbfgs_with_no_finite_iteration_keeps_the_initial_weights():
    # A penalty this strong overflows at once: not one iteration is kept.
    X, y = blobs()
    clf = MLPBackpropClassifier(solver="lbfgs", alpha=1e300, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.warns(ConvergenceWarning, match="lbfgs diverged"):
            clf.fit(X, y)
    initial = quiet_fit(
        MLPBackpropClassifier(
            solver="sgd", learning_rate_init=1e-300, max_iter=1, random_state=0
        ),
        X,
        y,
    )
    for kept, start in zip(all_weights(clf), all_weights(initial)):
        np.testing.assert_allclose(kept, start, rtol=1e-12)
    assert clf.n_iter_ == len(clf.loss_curve_) == 0
    assert_valid_probabilities(clf, X)
