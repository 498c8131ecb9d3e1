"""The optimizers and learning-rate schedules (``skbackprop._optimizers``).

RMSprop, Adagrad and AdamW learn, and follow their update rules written out
by hand; AdamW without weight decay is Adam, and its decay shrinks the
weights but never the biases; every schedule works with every stochastic
solver, with the rates scikit-learn's rules give, and the scheduled rate is
the one the updates use. (The compiled steps are checked against the same
rules in ``test_kernels.py``.)
"""

import numpy as np
import pytest

from skbackprop import MLPBackpropClassifier
from skbackprop._optimizers import OptimizerSettings, make_optimizer
from tests._data import classification
from tests._estimators import STOCHASTIC_SOLVERS, assert_same_weights, flat_params

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SCHEDULES = ["constant", "invscaling", "adaptive"]


@pytest.mark.parametrize(
    "solver, learning_rate_init",
    [("rmsprop", 1e-3), ("adagrad", 0.05), ("adamw", 1e-2)],
)
def test_new_optimizers_learn_digits(digits_split, solver, learning_rate_init):
    X_train, X_test, y_train, y_test = digits_split
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(32,),
        solver=solver,
        learning_rate_init=learning_rate_init,
        max_iter=30,
        random_state=0,
    ).fit(X_train[:600], y_train[:600])
    assert clf.score(X_test, y_test) > 0.9


def test_adamw_without_weight_decay_is_adam(small_digits):
    X, y = small_digits
    params = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    adam = MLPBackpropClassifier(solver="adam", **params).fit(X, y)
    adamw = MLPBackpropClassifier(solver="adamw", weight_decay=0.0, **params)
    adamw.fit(X, y)
    assert_same_weights(adam, adamw)
    assert adam.loss_curve_ == adamw.loss_curve_
    # The default decay does change the run.
    decayed = MLPBackpropClassifier(solver="adamw", **params).fit(X, y)
    assert not np.array_equal(flat_params(decayed), flat_params(adam))


def test_adamw_decays_weights_but_not_biases():
    n_params, n_coef = 12, 8  # eight weights, then four biases
    lr, decay, beta_1, beta_2, eps = 0.1, 0.5, 0.9, 0.999, 1e-8
    rng = np.random.RandomState(0)
    start = rng.normal(size=n_params)

    settings = OptimizerSettings.of(
        MLPBackpropClassifier(
            solver="adamw",
            learning_rate_init=lr,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=eps,
            weight_decay=decay,
        )
    )

    def adamw():
        return make_optimizer(settings, n_params, n_coef, np.float64)

    # A zero gradient leaves only the decay: weights shrink, biases stay.
    params = start.copy()
    adamw().update(params, np.zeros(n_params))
    np.testing.assert_allclose(
        params[:n_coef], start[:n_coef] * (1 - lr * decay), rtol=1e-15
    )
    np.testing.assert_array_equal(params[n_coef:], start[n_coef:])

    # With a gradient: decay first, then Adam's bias-corrected step.
    grads = rng.normal(size=n_params)
    params = start.copy()
    adamw().update(params, grads.copy())
    m, v = (1 - beta_1) * grads, (1 - beta_2) * grads**2
    step = lr * np.sqrt(1 - beta_2) / (1 - beta_1) * m / (np.sqrt(v) + eps)
    expected = start.copy()
    expected[:n_coef] *= 1 - lr * decay
    np.testing.assert_allclose(params, expected - step, rtol=1e-12)
    # Plain Adam on the same gradient differs only on the weights.
    plain = start.copy()
    adam = make_optimizer(
        settings._replace(solver="adam"), n_params, n_coef, np.float64
    )
    adam.update(plain, grads.copy())
    np.testing.assert_allclose(plain[n_coef:], params[n_coef:], rtol=1e-15)
    assert not np.allclose(plain[:n_coef], params[:n_coef])


@pytest.mark.parametrize("solver", ["rmsprop", "adagrad"])
def test_rmsprop_and_adagrad_follow_their_update_rules(solver):
    rng = np.random.RandomState(0)
    clf = MLPBackpropClassifier(
        solver=solver, learning_rate_init=0.05, beta_2=0.9, epsilon=1e-6
    )
    optimizer = make_optimizer(OptimizerSettings.of(clf), 6, 4, np.float64)
    params = rng.normal(size=6)
    expected, accumulated = params.copy(), np.zeros(6)
    for _ in range(3):
        grads = rng.normal(size=6)
        if solver == "rmsprop":  # decay rate beta_2
            accumulated = 0.9 * accumulated + 0.1 * grads**2
        else:
            accumulated += grads**2
        expected -= 0.05 * grads / (np.sqrt(accumulated) + 1e-6)
        optimizer.update(params, grads.copy())
        np.testing.assert_allclose(params, expected, rtol=1e-13)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("solver", STOCHASTIC_SOLVERS)
def test_every_schedule_works_with_every_stochastic_solver(solver, schedule):
    X, y = classification(100)
    lr = 0.01
    params = dict(
        hidden_layer_sizes=(8,),
        solver=solver,
        learning_rate=schedule,
        learning_rate_init=lr,
        power_t=0.5,
        max_iter=8,
        random_state=0,
    )
    if schedule == "adaptive":
        # A tolerance no epoch can meet: the run stalls from the start.
        params.update(tol=1e6, n_iter_no_change=1)
    clf = MLPBackpropClassifier(**params).fit(X, y)
    assert clf.n_iter_ == 8
    rates = np.array(clf.history_["learning_rate"])
    assert len(rates) == 8
    if schedule == "constant":
        np.testing.assert_array_equal(rates, lr)
    elif schedule == "invscaling":
        # lr / (t + 1)^power_t after t samples, t = epoch * n_samples.
        expected = lr / (np.arange(8) * len(X) + 1) ** 0.5
        np.testing.assert_allclose(rates, expected, rtol=1e-12)
    else:
        # scikit-learn's rule: the first epoch sets the best loss, and every
        # time the count of stalled epochs exceeds n_iter_no_change (two in a
        # row) the rate is divided by 5.
        expected = lr / 5.0 ** np.array([0, 0, 0, 1, 1, 2, 2, 3])
        np.testing.assert_allclose(rates, expected, rtol=1e-12)
    if schedule != "constant":
        # The scheduled rate is the one the updates use.
        constant = MLPBackpropClassifier(**{**params, "learning_rate": "constant"})
        assert not np.allclose(flat_params(constant.fit(X, y)), flat_params(clf))
