"""The stochastic solvers' training loop (``skbackprop._stochastic``).

Gradient clipping moves the weights by exactly ``lr * min(|g|, max_grad_norm)``
and the history records the norm before clipping; a batch whose weights are
all zero takes no step. Training never ends in silent garbage: the first
epoch that diverges is undone, the weights are those of the last sound epoch
(bit for bit those of a run stopped there by ``max_iter``), a diverged
``partial_fit`` call leaves the weights as the previous call left them, and a
warning says what happened, for every solver and activation.
"""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skbackprop import MLPBackpropClassifier
from skbackprop._initializers import initial_weights
from skbackprop._network import Network
from skbackprop._targets import one_hot
from tests._data import blobs, classification, unscaled_binary
from tests._estimators import (
    all_weights,
    assert_same_weights,
    assert_valid_probabilities,
    flat_params,
    quiet_fit,
)
from tests._finite_differences import objective

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize("max_grad_norm", [1e-3, 1e6])
def test_max_grad_norm_clips_the_step_by_global_norm(max_grad_norm):
    # A full-batch SGD step without momentum moves the parameters by
    # lr * min(|g|, max_grad_norm); history_ records |g| before clipping.
    X, y = classification(60)
    learning_rate, alpha = 0.1, 1e-3
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(7,),
        solver="sgd",
        momentum=0.0,
        shuffle=False,
        max_iter=1,
        warm_start=True,
        alpha=alpha,
        learning_rate_init=learning_rate,
        max_grad_norm=max_grad_norm,
        random_state=0,
    )
    network = Network([10, 7, 3], ["relu"], "softmax", np.float64)
    Y = one_hot(y, 3, np.float64)
    loss = objective(network, X, Y, alpha=alpha)

    def gradient_at(coefs, intercepts):
        network.set_weights(coefs, intercepts)
        loss()
        layer_norms = np.sqrt(network.layer_gradient_norms(np.empty(2)))
        return network.params.copy(), layer_norms, np.linalg.norm(network.grads)

    # The first step starts from the initial weights (see the init tests),
    # the second, after a warm start, from the weights after the first.
    before, layer_norms, gradient_norm = gradient_at(
        *initial_weights(
            "glorot_uniform",
            [10, 7, 3],
            ["relu", "relu"],
            np.random.RandomState(0),
            np.float64,
        )
    )
    for epoch in range(2):
        clf.fit(X, y)
        step = np.linalg.norm(flat_params(clf) - before)
        np.testing.assert_allclose(
            step, learning_rate * min(gradient_norm, max_grad_norm), rtol=1e-10
        )
        np.testing.assert_allclose(
            clf.history_["grad_norm"][epoch], layer_norms, rtol=1e-10
        )
        assert gradient_norm > 100 * 1e-3  # the small threshold really clips
        before, layer_norms, gradient_norm = gradient_at(clf.coefs_, clf.intercepts_)


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("solver", ["adam", "sgd"])
def test_mini_batch_of_zero_weights_is_skipped(solver):
    # A batch whose weights are all zero holds no data: it must neither
    # divide by its zero total weight nor take a step. Without shuffling,
    # training then equals training on the data without those rows.
    X, y = blobs(n_samples=12)
    weights = np.array([1.0, 2.0, 0.0, 0.0, 1.0, 3.0, 0.0, 0.0, 1.0, 1.0, 2.0, 1.0])
    params = dict(
        hidden_layer_sizes=(5,),
        solver=solver,
        batch_size=2,
        shuffle=False,
        max_iter=6,
        random_state=0,
    )
    weighted = quiet_fit(MLPBackpropClassifier(**params), X, y, sample_weight=weights)
    kept = weights > 0
    reference = quiet_fit(
        MLPBackpropClassifier(**params), X[kept], y[kept], sample_weight=weights[kept]
    )
    assert_same_weights(weighted, reference)
    assert weighted.loss_curve_ == reference.loss_curve_
    assert_valid_probabilities(weighted, X)


@pytest.mark.parametrize(
    "solver, learning_rate_init",
    [("adam", 1e6), ("adam", 1e10), ("sgd", 1e3)],
)
@pytest.mark.parametrize("activation", ["relu", "identity", "gelu"])
def test_stochastic_divergence_keeps_the_last_sound_epoch(
    solver, learning_rate_init, activation
):
    X, y = unscaled_binary(1e3)
    params = dict(
        solver=solver,
        activation=activation,
        random_state=0,
        learning_rate_init=learning_rate_init,
    )
    with pytest.warns(ConvergenceWarning, match="Training diverged in epoch"):
        diverged = MLPBackpropClassifier(max_iter=50, **params).fit(X, y)
    assert all(np.isfinite(w).all() for w in all_weights(diverged))
    assert len(diverged.loss_curve_) == diverged.n_iter_ >= 1
    assert np.isfinite(diverged.loss_) and diverged.loss_ == diverged.loss_curve_[-1]
    # The kept weights are exactly those at the end of the last sound epoch:
    # a run stopped there by max_iter ends with the same bits.
    stopped = quiet_fit(
        MLPBackpropClassifier(max_iter=diverged.n_iter_, **params), X, y
    )
    assert_same_weights(diverged, stopped)
    assert stopped.loss_curve_ == diverged.loss_curve_
    assert_valid_probabilities(diverged, X / 1e3)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_divergence_in_partial_fit_undoes_that_call(solver):
    # Each call is one epoch, checked on its own: the call whose epoch blows
    # up leaves the weights as the previous call left them.
    X, y = unscaled_binary(1e3)
    clf = MLPBackpropClassifier(
        solver=solver, learning_rate_init=1.0, batch_size=10, random_state=0
    )
    clf.partial_fit(X / 1e3, y, classes=[0, 1])  # a sound epoch on scaled data
    for _ in range(100):
        before = [w.copy() for w in all_weights(clf)]
        n_epochs = len(clf.loss_curve_)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            clf.partial_fit(X, y)
        if caught:
            break
    else:
        pytest.fail("100 epochs on unscaled data never diverged")
    assert [str(w.message) for w in caught if w.category is ConvergenceWarning]
    assert all("Training diverged" in str(w.message) for w in caught)
    assert clf.n_iter_ == 0 and len(clf.loss_curve_) == n_epochs >= 1
    assert np.isfinite(clf.loss_curve_).all()
    for kept, previous in zip(all_weights(clf), before, strict=True):
        np.testing.assert_array_equal(kept, previous)


@pytest.mark.parametrize("activation", ["identity", "relu"])
def test_divergence_keeps_last_sound_weights(activation):
    rng = np.random.RandomState(0)
    X = rng.normal(scale=1e3, size=(100, 5))  # unscaled, and a far too high rate
    y = (X[:, 0] > 0).astype(int)
    clf = MLPBackpropClassifier(
        solver="sgd",
        activation=activation,
        learning_rate_init=10,
        max_iter=50,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning, match="diverged.*learning rate"):
        clf.fit(X, y)
    assert all(np.isfinite(c).all() for c in clf.coefs_ + clf.intercepts_)
    assert len(clf.loss_curve_) == clf.n_iter_
    assert max(clf.loss_curve_) < 1e4 * max(1, clf.loss_curve_[0])
    proba = clf.predict_proba(X)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1)


def test_first_epoch_divergence_reports_nan_loss():
    X, y = load_digits(return_X_y=True)  # unscaled pixels, 0 to 16
    clf = MLPBackpropClassifier(
        activation="identity", solver="sgd", learning_rate_init=0.1, random_state=0
    )
    with pytest.warns(ConvergenceWarning, match="diverged in epoch 1"):
        clf.fit(X, y)
    assert clf.n_iter_ == 0 and np.isnan(clf.loss_)


@pytest.mark.parametrize("solver", ["rmsprop", "adagrad", "adamw"])
@pytest.mark.parametrize("learning_rate_init", [1e3, 1e8])
def test_new_optimizers_never_diverge_silently(solver, learning_rate_init):
    rng = np.random.RandomState(0)
    X = rng.normal(scale=1e3, size=(100, 5))  # unscaled, and an absurd rate
    y = (X[:, 0] > 0).astype(int)
    clf = MLPBackpropClassifier(
        solver=solver,
        learning_rate_init=learning_rate_init,
        max_iter=50,
        random_state=0,
    )
    with pytest.warns(ConvergenceWarning, match="Training diverged"):
        clf.fit(X, y)
    assert all(np.isfinite(w).all() for w in clf.coefs_ + clf.intercepts_)
    assert len(clf.loss_curve_) == clf.n_iter_ == len(clf.history_["loss"])
    assert np.isfinite(clf.loss_curve_).all()
    proba = clf.predict_proba(X / 1e3)
    assert np.isfinite(proba).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1)
