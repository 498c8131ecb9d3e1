"""What every estimator of the family shares (``skbackprop._base``).

Warm starts and ``partial_fit`` continue training exactly (weights, optimizer
state, step count and learning rate carry over: two warm fits of four epochs
are one fit of eight), a change of the optimizer's parameters rebuilds it, and
``partial_fit`` is hidden where it cannot work. ``transform`` with pandas
output returns a DataFrame of the last hidden layer.
"""

import numpy as np
import pytest
from sklearn.neural_network import MLPClassifier

from skbackprop import MLPBackpropClassifier
from tests._estimators import quiet_fit

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _epochs(clf, X, y, n):
    """``n`` epochs on ``(X, y)``, ignoring ConvergenceWarnings."""
    return quiet_fit(clf.set_params(max_iter=n), X, y)


@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_warm_start_continues_the_optimizer(small_digits, solver):
    # Two warm fits of 4 epochs are exactly one fit of 8: weights, moments,
    # step count and learning rate all carry over.
    X, y = small_digits
    params = dict(
        solver=solver,
        shuffle=False,
        random_state=0,
        tol=0,
        n_iter_no_change=100,
        learning_rate="invscaling" if solver == "sgd" else "constant",
        learning_rate_init=0.01,
    )
    warm = MLPBackpropClassifier(warm_start=True, **params)
    _epochs(warm, X, y, 4)
    _epochs(warm, X, y, 4)
    assert warm.n_iter_ == 4  # a warm refit runs its max_iter epochs again
    single = _epochs(MLPBackpropClassifier(**params), X, y, 8)
    for a, b in zip(warm.coefs_ + warm.intercepts_, single.coefs_ + single.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert warm.t_ == single.t_ and warm.loss_curve_ == pytest.approx(
        single.loss_curve_
    )

    # MLPClassifier restarts Adam's moments (scikit-learn issue 6091).
    if solver == "adam":
        theirs = MLPClassifier(warm_start=True, **params)
        _epochs(theirs, X, y, 4)
        _epochs(theirs, X, y, 4)
        assert not np.allclose(theirs.coefs_[0], single.coefs_[0], rtol=1e-6)


def test_warm_start_rebuilds_optimizer_when_its_parameters_change(small_digits):
    X, y = small_digits
    clf = _epochs(MLPBackpropClassifier(warm_start=True, random_state=0), X, y, 2)
    first = clf._training_state.optimizer
    _epochs(clf, X, y, 2)
    assert clf._training_state.optimizer is first
    clf.set_params(learning_rate_init=0.01)
    _epochs(clf, X, y, 2)
    rebuilt = clf._training_state.optimizer
    assert rebuilt is not first and rebuilt.settings.learning_rate_init == 0.01


def test_partial_fit_epochs_equal_fit_epochs(small_digits):
    X, y = small_digits
    params = dict(shuffle=False, random_state=0, tol=0, n_iter_no_change=100)
    incremental = MLPBackpropClassifier(**params)
    for _ in range(5):
        incremental.partial_fit(X, y, classes=np.unique(y))
    single = _epochs(MLPBackpropClassifier(**params), X, y, 5)
    for a, b in zip(incremental.coefs_, single.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_partial_fit_hidden_where_it_cannot_work():
    assert not hasattr(MLPBackpropClassifier(solver="lbfgs"), "partial_fit")
    with pytest.raises(AttributeError) as error:
        getattr(MLPBackpropClassifier(early_stopping=True), "partial_fit")  # noqa: B009
    assert "early_stopping=True" in str(error.value.__cause__)


def test_transform_with_dataframe_output(small_digits):
    X, y = small_digits
    clf = MLPBackpropClassifier(hidden_layer_sizes=(8, 4), max_iter=3).fit(X, y)
    clf.set_output(transform="pandas")
    frame = clf.transform(X)
    assert list(frame.columns) == list(clf.get_feature_names_out())
    with pytest.raises(ValueError, match="set_output"):
        clf.transform(X, layer=0)
    no_hidden = MLPBackpropClassifier(hidden_layer_sizes=(), max_iter=3).fit(X, y)
    with pytest.raises(ValueError, match="needs a hidden layer"):
        no_hidden.transform(X)
