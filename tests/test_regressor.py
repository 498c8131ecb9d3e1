"""MLPBackpropRegressor: the estimator for real-valued targets.

Its losses against finite differences and their formulas, the same training
run as scikit-learn's MLPRegressor for the losses both have, single and
multiple outputs, and what the regressor refuses.
"""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import mean_pinball_loss, r2_score
from sklearn.neural_network import MLPRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from skbackprop import (
    MLPBackpropRegressor,
    check_gradients,
    load_model,
    save_model,
)
from skbackprop._activations import ACTIVATIONS
from skbackprop._losses import REGRESSION_LOSSES, regression_output
from tests._finite_differences import (
    numerical_gradient,
    objective,
    random_network,
    relative_error,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y / 100


def _targets(loss, n_samples, n_outputs, rng):
    """Targets the loss accepts: non-negative counts for Poisson."""
    if loss == "poisson":
        return rng.poisson(2.0, size=(n_samples, n_outputs)).astype(float)
    return rng.normal(size=(n_samples, n_outputs))


# ------------------------------------------------------------ the losses
@pytest.mark.parametrize("n_outputs", [1, 2])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("loss", REGRESSION_LOSSES)
def test_loss_gradients_match_finite_differences(loss, activation, n_outputs):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(9, 4))
    Y = _targets(loss, 9, n_outputs, rng)
    sample_weight = rng.uniform(0.2, 3.0, size=9)
    output = regression_output(loss, huber_delta=0.7, quantile=0.3)
    network = random_network([4, 5, n_outputs], [activation], output, scale=0.5)
    loss_value = objective(network, X, Y, sample_weight, alpha=0.3)
    loss_value()
    analytic = network.grads.copy()
    step = 1e-6
    numeric = numerical_gradient(loss_value, network.params, step)
    # |r| and the pinball loss have kinks: away from them the gradient is exact.
    assert relative_error(analytic, numeric) < 1e-5


@pytest.mark.parametrize("n_outputs", [1, 3])
@pytest.mark.parametrize("loss", REGRESSION_LOSSES)
def test_loss_is_the_documented_formula(loss, n_outputs):
    # Sum over outputs of the sample-weighted mean of the per-element loss.
    rng = np.random.RandomState(1)
    Z = rng.normal(size=(20, n_outputs))
    Y = _targets(loss, 20, n_outputs, rng)
    weights = rng.uniform(0.5, 2.0, size=20)
    delta, q = 0.8, 0.3
    output = regression_output(loss, huber_delta=delta, quantile=q)
    A = np.empty_like(Z)
    total = output.activate_and_loss(Z, A, Y, weights) / weights.sum()
    Y_hat = np.exp(Z) if loss == "poisson" else Z
    np.testing.assert_allclose(A, Y_hat, rtol=1e-15)
    r = Y_hat - Y
    element = {
        "squared_error": 0.5 * r**2,
        "absolute_error": np.abs(r),
        "huber": np.where(
            np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - delta / 2)
        ),
        "quantile": np.maximum(q * -r, (q - 1) * -r),
        "poisson": Y_hat
        - Y * np.log(Y_hat)
        + np.where(Y > 0, Y * np.log(np.where(Y > 0, Y, 1)), 0)
        - Y,
    }[loss]
    expected = np.average(element, weights=weights, axis=0).sum()
    np.testing.assert_allclose(total, expected, rtol=1e-12)
    if loss == "quantile":
        pinball = sum(
            mean_pinball_loss(Y[:, k], Y_hat[:, k], alpha=q, sample_weight=weights)
            for k in range(n_outputs)
        )
        np.testing.assert_allclose(total, pinball, rtol=1e-12)


# ---------------------------------------------- the same run as MLPRegressor
SCHEDULES = [
    dict(solver="adam"),
    dict(solver="sgd", learning_rate="invscaling"),
    dict(solver="sgd", learning_rate="adaptive"),
    dict(solver="lbfgs"),
]


@pytest.mark.parametrize("params", SCHEDULES, ids=lambda p: "-".join(p.values()))
@pytest.mark.parametrize("loss", ["squared_error", "poisson"])
def test_same_training_run_as_mlpregressor(diabetes, loss, params):
    X, y = diabetes
    kwargs = dict(hidden_layer_sizes=(16, 8), max_iter=15, random_state=0, loss=loss)
    theirs = MLPRegressor(**kwargs, **params).fit(X, y)
    ours = MLPBackpropRegressor(**kwargs, **params).fit(X, y)
    for a, b in zip(theirs.coefs_ + theirs.intercepts_, ours.coefs_ + ours.intercepts_):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-9)
    if params["solver"] != "lbfgs":
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-9)
    np.testing.assert_allclose(ours.predict(X), theirs.predict(X), rtol=1e-9)


@pytest.mark.parametrize("params", SCHEDULES[:3], ids=lambda p: "-".join(p.values()))
def test_multi_output_run_is_mlpregressors_and_loss_is_the_sum(diabetes, params):
    # MLPRegressor descends the sum over outputs, as we do, but reports the
    # mean over outputs; loss_ here is the objective descended (the sum).
    X, y = diabetes
    Y = np.column_stack([y, y**2, -y])
    kwargs = dict(hidden_layer_sizes=(8,), max_iter=10, random_state=0, alpha=0.0)
    theirs = MLPRegressor(**kwargs, **params).fit(X, Y)
    ours = MLPBackpropRegressor(**kwargs, **params).fit(X, Y)
    for a, b in zip(theirs.coefs_ + theirs.intercepts_, ours.coefs_ + ours.intercepts_):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ours.loss_, 3 * theirs.loss_, rtol=1e-9)


def test_lbfgs_hands_scipy_a_consistent_objective(diabetes):
    # For several outputs the value given to L-BFGS is the sum over outputs,
    # whose gradient is the one backpropagation gives.
    X, y = diabetes
    Y = np.column_stack([y, 2 * y])
    reg = MLPBackpropRegressor(
        hidden_layer_sizes=(6,), solver="lbfgs", max_iter=20, alpha=0.1, random_state=0
    ).fit(X, Y)
    report = check_gradients(reg, X[:60], Y[:60], max_checks_per_layer=None)
    assert (report["relative_error"] < 1e-6).all()
    penalty = 0.5 * 0.1 * sum((w**2).sum() for w in reg.coefs_) / len(X)
    residual = reg.predict(X) - Y
    np.testing.assert_allclose(
        reg.loss_, 0.5 * (residual**2).mean(axis=0).sum() + penalty, rtol=1e-9
    )


# ----------------------------------------------------------- outputs, use
def test_one_dimensional_y_gives_one_dimensional_predictions(diabetes):
    X, y = diabetes
    reg = MLPBackpropRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0)
    assert reg.fit(X, y).predict(X).shape == (len(X),)
    with pytest.warns(Warning, match="column-vector y"):
        column = reg.fit(X, y[:, None]).predict(X)
    assert column.shape == (len(X),)
    assert reg.fit(X, np.column_stack([y, y])).predict(X).shape == (len(X), 2)


def test_partial_fit_with_several_outputs(diabetes):
    X, y = diabetes
    Y = np.column_stack([y, -y])
    reg = MLPBackpropRegressor(hidden_layer_sizes=(8,), random_state=0)
    for start in range(0, 300, 100):
        reg.partial_fit(X[start : start + 100], Y[start : start + 100])
    assert reg.n_outputs_ == 2 and reg.predict(X).shape == (len(X), 2)
    with pytest.raises(
        ValueError, match="layer sizes \\[10, 8, 2\\] but .* \\[10, 8, 1\\]"
    ):
        reg.partial_fit(X, y)


def test_partial_fit_is_not_offered_with_lbfgs():
    # MLPRegressor offers it and runs a whole warm lbfgs fit; like the
    # classifier, ours offers incremental learning to stochastic solvers only.
    reg = MLPBackpropRegressor(solver="lbfgs")
    assert not hasattr(reg, "partial_fit")
    with pytest.raises(AttributeError, match="partial_fit"):
        reg.partial_fit  # noqa: B018 (the lookup is what raises)
    assert hasattr(MLPBackpropRegressor(solver="sgd"), "partial_fit")


def test_quantile_models_bracket_the_data():
    X, y = make_regression(n_samples=600, n_features=3, noise=20.0, random_state=0)
    X, y = StandardScaler().fit_transform(X), y / 50
    coverage = {}
    for q in (0.1, 0.9):
        reg = MLPBackpropRegressor(
            loss="quantile",
            quantile=q,
            hidden_layer_sizes=(16,),
            learning_rate_init=0.01,
            max_iter=300,
            random_state=0,
        ).fit(X, y)
        coverage[q] = np.mean(y <= reg.predict(X))
    assert 0.03 < coverage[0.1] < 0.2 and 0.8 < coverage[0.9] < 0.97


@pytest.mark.parametrize("loss", ["absolute_error", "huber"])
def test_robust_losses_resist_outliers(loss):
    rng = np.random.RandomState(0)
    X = rng.uniform(-2, 2, size=(300, 1))
    y = 2 * X[:, 0] + rng.normal(scale=0.1, size=300)
    y_dirty = y.copy()
    y_dirty[:15] += 200  # 5% wild outliers
    params = dict(hidden_layer_sizes=(), solver="lbfgs", max_iter=500, random_state=0)
    robust = MLPBackpropRegressor(loss=loss, **params).fit(X, y_dirty)
    squared = MLPBackpropRegressor(**params).fit(X, y_dirty)
    assert r2_score(y[15:], robust.predict(X[15:])) > 0.95
    assert r2_score(y[15:], squared.predict(X[15:])) < r2_score(
        y[15:], robust.predict(X[15:])
    )


def test_early_stopping_scores_r2_by_default(diabetes):
    X, y = diabetes
    reg = MLPBackpropRegressor(
        hidden_layer_sizes=(8,), early_stopping=True, max_iter=20, random_state=0
    )
    reg.fit(X[:300], y[:300], X_val=X[300:], y_val=y[300:])
    reg_copy = MLPBackpropRegressor(**reg.get_params()).set_params(max_iter=reg.n_iter_)
    assert len(reg.validation_scores_) == reg.n_iter_
    assert reg.best_validation_score_ == max(reg.validation_scores_)
    # the last recorded score is the R² of the weights of that epoch
    reg_copy.set_params(early_stopping=False).fit(X[:300], y[:300])
    np.testing.assert_allclose(
        reg.history_["val_score"][-1], reg_copy.score(X[300:], y[300:]), rtol=1e-9
    )


def test_scoring_loss_records_the_negative_validation_loss(diabetes):
    X, y = diabetes
    reg = MLPBackpropRegressor(
        hidden_layer_sizes=(8,), scoring="loss", max_iter=5, alpha=0.0, random_state=0
    )
    reg.fit(X[:300], y[:300], X_val=X[300:], y_val=y[300:])
    residual = reg.predict(X[300:]) - y[300:]
    assert reg.history_["val_score"][-1] == pytest.approx(-0.5 * np.mean(residual**2))


def test_transform_gives_the_hidden_layer(diabetes):
    X, y = diabetes
    reg = MLPBackpropRegressor(hidden_layer_sizes=(8, 4), max_iter=5, random_state=0)
    hidden = reg.fit(X, y).transform(X)
    expected = np.maximum(
        np.maximum(X @ reg.coefs_[0] + reg.intercepts_[0], 0) @ reg.coefs_[1]
        + reg.intercepts_[1],
        0,
    )
    np.testing.assert_allclose(hidden, expected, rtol=1e-12)


# ----------------------------------------------------------------- refusals
def test_poisson_refuses_negative_targets(diabetes):
    X, y = diabetes
    with pytest.raises(ValueError, match="y are negative .* Poisson"):
        MLPBackpropRegressor(loss="poisson").fit(X, y - 10)
    reg = MLPBackpropRegressor(loss="poisson", max_iter=2).fit(X, np.abs(y))
    with pytest.raises(ValueError, match="y are negative .* Poisson"):
        reg.fit(X, np.abs(y), X_val=X[:5], y_val=-np.ones(5))


@pytest.mark.parametrize(
    "params, name",
    [
        (dict(quantile=0.0), "quantile"),
        (dict(quantile=1.0), "quantile"),
        (dict(quantile=1.5), "quantile"),
        (dict(huber_delta=0.0), "huber_delta"),
        (dict(huber_delta=-1.0), "huber_delta"),
        (dict(loss="log_loss"), "loss"),
    ],
)
def test_invalid_loss_parameters_are_refused(diabetes, params, name):
    X, y = diabetes
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter"):
        MLPBackpropRegressor(**params).fit(X, y)


@pytest.mark.parametrize(
    "bad_y, message",
    [
        (lambda y: np.where(np.arange(len(y)) == 3, np.nan, y), "NaN"),
        (lambda y: np.where(np.arange(len(y)) == 3, np.inf, y), "infinity"),
        (lambda y: y[:-1], "inconsistent numbers of samples"),
    ],
    ids=["nan", "inf", "length"],
)
def test_bad_targets_are_refused_clearly(diabetes, bad_y, message):
    X, y = diabetes
    with pytest.raises(ValueError, match=message):
        MLPBackpropRegressor(max_iter=1).fit(X, bad_y(y))


def test_switching_to_or_from_poisson_needs_a_fresh_fit(diabetes):
    X, y = diabetes
    reg = MLPBackpropRegressor(hidden_layer_sizes=(4,), max_iter=2, warm_start=True)
    reg.fit(X, np.abs(y)).set_params(loss="poisson")
    with pytest.raises(
        ValueError, match="output activation is 'identity' but .* 'exp'"
    ):
        reg.fit(X, np.abs(y))
    reg.set_params(loss="huber").fit(X, np.abs(y))  # same output: goes on


# -------------------------------------------------------------- persistence
@pytest.mark.parametrize("loss", REGRESSION_LOSSES)
def test_model_files_and_pickles_round_trip(tmp_path, diabetes, loss):
    X, y = diabetes
    reg = MLPBackpropRegressor(
        loss=loss, hidden_layer_sizes=(6,), max_iter=3, random_state=0
    ).fit(X, np.abs(y))
    save_model(reg, tmp_path / "model.npz")
    for restored in (
        load_model(tmp_path / "model.npz"),
        pickle.loads(pickle.dumps(reg)),
    ):
        assert type(restored) is MLPBackpropRegressor
        assert restored.get_params() == reg.get_params()
        np.testing.assert_array_equal(restored.predict(X), reg.predict(X))
        restored.partial_fit(X, np.abs(y))
    reg.set_params(loss="poisson" if loss != "poisson" else "huber")
    with pytest.raises(ValueError, match="output activation"):
        save_model(reg, tmp_path / "changed.npz")


def test_skops_trusts_the_regressor_class_only(tmp_path, diabetes):
    sio = pytest.importorskip("skops.io")
    X, y = diabetes
    reg = MLPBackpropRegressor(max_iter=2, random_state=0).fit(X, y)
    sio.dump(reg, tmp_path / "model.skops")
    trusted = ["skbackprop._regressor.MLPBackpropRegressor"]
    assert sio.get_untrusted_types(file=tmp_path / "model.skops") == trusted
    restored = sio.load(tmp_path / "model.skops", trusted=trusted)
    np.testing.assert_array_equal(restored.predict(X), reg.predict(X))


def test_check_gradients_works_for_the_regressor(diabetes):
    X, y = diabetes
    for loss in REGRESSION_LOSSES:
        reg = MLPBackpropRegressor(
            loss=loss,
            hidden_layer_sizes=(5,),
            alpha=0.2,
            activation="tanh",
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            report = check_gradients(reg, X[:80], np.abs(y[:80]))
        assert (report["relative_error"] < 1e-5).all(), loss
