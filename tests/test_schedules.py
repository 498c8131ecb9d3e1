"""Schedules that set each epoch's rate from its number (``skbackprop._schedules``).

For every stochastic solver, ``history_['learning_rate']`` follows the cosine
formula and a callable schedule exactly, with epochs counted from 0 across
``partial_fit`` calls and warm starts (past ``max_iter`` the cosine climbs
back), and the recorded rate is the one the updates use. A schedule's output
that is not a finite rate >= 0 is refused with the epoch. A callable schedule
is cloned, pickled and saved like a custom activation: by reference, with a
clear refusal for a lambda. (The schedules of scikit-learn, 'constant',
'invscaling' and 'adaptive', are tested in ``test_optimizers.py`` and pinned
in ``test_numerics_pin.py``.)
"""

import copy
import io
import math
import pickle

import numpy as np
import pytest
from sklearn.base import clone

from skbackprop import (
    MLPBackpropClassifier,
    MLPBackpropRegressor,
    load_model,
    save_model,
)
from skbackprop._optimizers import OptimizerSettings
from tests._custom_activations import step_decay, warmup
from tests._data import classification
from tests._estimators import STOCHASTIC_SOLVERS, assert_same_weights
from tests._extras import import_extra

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

LEARNING_RATE_INIT = 0.01


def _cosine(epoch, max_iter):
    return LEARNING_RATE_INIT * 0.5 * (1 + math.cos(math.pi * epoch / max_iter))


def _model(Estimator=MLPBackpropClassifier, **params):
    defaults = dict(
        hidden_layer_sizes=(8,),
        learning_rate_init=LEARNING_RATE_INIT,
        n_iter_no_change=np.inf,
        random_state=0,
    )
    return Estimator(**{**defaults, **params})


@pytest.mark.parametrize("solver", STOCHASTIC_SOLVERS)
def test_cosine_rates_follow_the_formula(solver):
    X, y = classification()
    clf = _model(solver=solver, learning_rate="cosine", max_iter=10).fit(X, y)
    expected = [_cosine(e, 10) for e in range(10)]
    np.testing.assert_allclose(clf.history_["learning_rate"], expected, rtol=1e-15)
    assert clf.history_["learning_rate"][0] == LEARNING_RATE_INIT


@pytest.mark.parametrize("solver", STOCHASTIC_SOLVERS)
def test_epochs_count_across_partial_fit_and_warm_starts(solver):
    X, y = classification()
    # Each partial_fit call is one epoch of the same cosine.
    clf = _model(solver=solver, learning_rate="cosine", max_iter=6)
    for _ in range(4):
        clf.partial_fit(X, y, classes=np.unique(y))
    expected = [_cosine(e, 6) for e in range(4)]
    np.testing.assert_allclose(clf.history_["learning_rate"], expected, rtol=1e-15)
    # Warm fits go on counting; past max_iter the cosine climbs back up.
    warm = _model(solver=solver, learning_rate="cosine", max_iter=6, warm_start=True)
    warm.fit(X, y).fit(X, y)
    expected = [_cosine(e, 6) for e in range(12)]
    np.testing.assert_allclose(warm.history_["learning_rate"], expected, rtol=1e-15)
    assert warm.history_["learning_rate"][6] == 0.0
    assert warm.history_["learning_rate"][11] == pytest.approx(_cosine(1, 6))


@pytest.mark.parametrize("solver", STOCHASTIC_SOLVERS)
def test_callable_schedule_gives_every_epoch_its_rate(solver):
    X, y = classification()
    calls = []

    def recorded(epoch, learning_rate_init):
        calls.append((epoch, learning_rate_init))
        return step_decay(epoch, learning_rate_init)

    clf = _model(solver=solver, learning_rate=recorded, max_iter=7, warm_start=True)
    clf.fit(X, y)
    clf.set_params(max_iter=2).fit(X, y)
    clf.partial_fit(X, y)
    assert calls == [(e, LEARNING_RATE_INIT) for e in range(10)]
    expected = [step_decay(e, LEARNING_RATE_INIT) for e in range(10)]
    assert clf.history_["learning_rate"] == expected


@pytest.mark.parametrize("solver", STOCHASTIC_SOLVERS)
def test_the_recorded_rate_is_the_one_the_updates_use(solver):
    # A schedule returning 0.03 trains as a constant rate of 0.03 does.
    X, y = classification()
    scheduled = _model(solver=solver, learning_rate=_three_hundredths, max_iter=4)
    constant = _model(solver=solver, learning_rate_init=0.03, max_iter=4)
    assert_same_weights(scheduled.fit(X, y), constant.fit(X, y))
    assert scheduled.history_["learning_rate"] == [0.03] * 4


def _three_hundredths(epoch, learning_rate_init):
    return 0.03


def test_regressor_and_lbfgs():
    X, y = classification()
    reg = _model(MLPBackpropRegressor, learning_rate="cosine", max_iter=5)
    reg.fit(X, y.astype(float))
    np.testing.assert_allclose(
        reg.history_["learning_rate"], [_cosine(e, 5) for e in range(5)]
    )
    # lbfgs takes no steps of a learning rate, and ignores schedules.
    lbfgs = _model(solver="lbfgs", learning_rate=warmup, max_iter=5).fit(X, y)
    assert np.isnan(lbfgs.history_["learning_rate"]).all()


@pytest.mark.parametrize(
    "rate, shown",
    [
        (float("nan"), "nan"),
        (-0.1, "-0.1"),
        (float("inf"), "inf"),
        ("0.1", "'0.1'"),
        (True, "True"),
        (None, "None"),
    ],
)
def test_a_schedule_must_return_a_finite_rate(rate, shown):
    X, y = classification()

    def bad_at_epoch_two(epoch, learning_rate_init):
        return rate if epoch == 2 else learning_rate_init

    clf = _model(learning_rate=bad_at_epoch_two, max_iter=5)
    with pytest.raises(ValueError) as error:
        clf.fit(X, y)
    assert str(error.value) == (
        f"The learning_rate schedule {bad_at_epoch_two.__qualname__} returned "
        f"{shown} for epoch 2: a schedule must return a finite learning rate >= 0."
    )
    assert clf.n_iter_ == 2  # the epochs before it are kept


def test_parameter_validation():
    X, y = classification()
    for value in ("cosine_annealing", 0.1):
        with pytest.raises(ValueError, match="'learning_rate' parameter .* or a call"):
            _model(learning_rate=value).fit(X, y)


def test_a_warm_start_keeps_the_optimizer_while_the_schedule_is_the_same():
    X, y = classification()
    clf = _model(learning_rate=warmup, max_iter=3, warm_start=True).fit(X, y)
    settings = OptimizerSettings.of(clf)
    assert settings.learning_rate == "tests._custom_activations:warmup"
    optimizer = clf._training_state.optimizer
    clf.fit(X, y)
    assert clf._training_state.optimizer is optimizer
    clf.set_params(learning_rate=step_decay).fit(X, y)
    assert clf._training_state.optimizer is not optimizer  # a new schedule


def test_callable_schedule_is_cloned_pickled_and_saved_by_reference(tmp_path):
    X, y = classification()
    clf = _model(learning_rate=warmup, max_iter=4, warm_start=True).fit(X, y)
    assert clone(clf).learning_rate is warmup
    restored = pickle.loads(pickle.dumps(clf))
    assert restored.learning_rate is warmup
    buffer = io.BytesIO()
    save_model(clf, buffer)
    buffer.seek(0)
    with pytest.raises(ValueError, match="tests._custom_activations:warmup"):
        load_model(buffer)
    buffer.seek(0)
    loaded = load_model(buffer, functions=[warmup])
    sio = import_extra("skops.io")
    sio.dump(clf, tmp_path / "model.skops")
    trusted = sio.get_untrusted_types(file=tmp_path / "model.skops")
    assert "tests._custom_activations.warmup" in trusted
    skopsed = sio.load(tmp_path / "model.skops", trusted=trusted)
    clf.fit(X, y)  # epochs 4 to 7, with the optimizer of the first four
    for other in (restored, loaded, skopsed):
        other.fit(X, y)
        assert_same_weights(clf, other)
        assert other.history_ == clf.history_


def test_lambda_schedule_is_copied_but_not_pickled():
    X, y = classification()
    clf = _model(learning_rate=lambda e, lr: lr / (1 + e), max_iter=3).fit(X, y)
    assert copy.deepcopy(clf).learning_rate is clf.learning_rate
    assert copy.copy(clf).learning_rate is clf.learning_rate
    assert clone(clf).learning_rate is clf.learning_rate
    with pytest.raises(pickle.PicklingError, match="learning_rate, <function"):
        pickle.dumps(clf)
    with pytest.raises(TypeError, match="The function params.learning_rate, <"):
        save_model(clf, io.BytesIO())
