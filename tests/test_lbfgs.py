"""Full-batch training with L-BFGS (``skbackprop._lbfgs``).

The history records the loss and the per-layer gradient norms at each
accepted iterate (the last ones are those of the fitted weights), ``verbose``
prints one line per recorded iteration, and an iteration whose loss is not
finite never ends training in garbage: the last finite iterate is kept, or
the initial weights when there is none, and a warning says so. A Ctrl-C
during an evaluation of the loss keeps the last finished iteration, exactly
the model of a run stopped there by ``max_iter``.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skbackprop import MLPBackpropClassifier
from skbackprop._network import Network
from skbackprop._objective import Objective
from skbackprop._targets import one_hot
from tests._data import blobs, classification, unscaled_binary
from tests._estimators import all_weights, assert_valid_probabilities, quiet_fit
from tests._finite_differences import objective

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_lbfgs_grad_norm_is_the_gradient_at_each_accepted_iterate():
    X, y = classification(120)
    alpha = 0.01
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(8, 5),
        solver="lbfgs",
        alpha=alpha,
        max_iter=15,
        random_state=0,
    ).fit(X, y)
    network = Network([10, 8, 5, 3], ["relu", "relu"], "softmax", np.float64)
    network.set_weights(clf.coefs_, clf.intercepts_)
    Y = one_hot(np.searchsorted(clf.classes_, y), 3, np.float64)
    loss = objective(network, X, Y, alpha=alpha)()
    assert loss == pytest.approx(clf.history_["loss"][-1], rel=1e-12)
    np.testing.assert_allclose(
        clf.history_["grad_norm"][-1],
        np.sqrt(network.layer_gradient_norms(np.empty(3))),
        rtol=1e-9,
    )


def test_verbose_lbfgs_prints_one_line_per_recorded_iteration(capsys):
    X, y = classification(60)
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(5,),
        solver="lbfgs",
        max_iter=40,
        verbose=True,
        random_state=0,
    ).fit(X, y)
    lines = [
        line
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("Iteration")
    ]
    assert len(lines) == clf.n_iter_ == len(clf.history_["loss"]) > 3
    assert lines[-1] == f"Iteration {clf.n_iter_}, loss = {clf.loss_curve_[-1]:.8f}"


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


def test_interrupt_during_an_evaluation_keeps_the_last_finished_iteration(
    small_digits, monkeypatch
):
    # lbfgs spends its time evaluating the loss; a KeyboardInterrupt raised
    # by the eighth evaluation (some iterations in) stands for a Ctrl-C that
    # lands there, without depending on a timer.
    X, y = small_digits[0][:200], small_digits[1][:200]
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", tol=0.0, random_state=0)
    evaluate, calls = Objective.__call__, []

    def interrupted(self):
        calls.append(None)
        if len(calls) == 8:
            raise KeyboardInterrupt
        return evaluate(self)

    monkeypatch.setattr(Objective, "__call__", interrupted)
    clf = MLPBackpropClassifier(max_iter=100, **params)
    with pytest.warns(UserWarning, match="Training interrupted by user"):
        clf.fit(X, y)
    monkeypatch.undo()
    assert 1 <= clf.n_iter_ < 8
    assert len(clf.loss_curve_) == clf.n_iter_ == len(clf.history_["loss"])
    assert clf.loss_ == clf.loss_curve_[-1]
    stopped = quiet_fit(MLPBackpropClassifier(max_iter=clf.n_iter_, **params), X, y)
    for kept, reference in zip(all_weights(clf), all_weights(stopped), strict=True):
        np.testing.assert_allclose(kept, reference, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(clf.loss_curve_, stopped.loss_curve_, rtol=1e-10)
    assert_valid_probabilities(clf, X)
