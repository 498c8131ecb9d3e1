"""Activations that users bring (``skbackprop.Activation``).

A custom activation is checked before training, against central differences
of its function: a wrong derivative and a step function are refused with the
activation's name and the worst point, and a refused fit changes nothing.
It trains wherever a name does (per-layer lists, the regressor, float32,
sparse input, ``check_gradients``), as well as the built-ins do: mish matches
relu on the digits, and relu written by hand trains bit for bit like the
built-in. It is cloned, searched over, pickled, sent to loky's workers and
saved by skops and ``save_model`` through references to its functions, and a
lambda is refused with a message that says what to do.
"""

import io
import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV

from skbackprop import (
    Activation,
    MLPBackpropClassifier,
    MLPBackpropRegressor,
    check_gradients,
    load_model,
    save_model,
)
from tests._custom_activations import (
    CUSTOM_LOGISTIC,
    CUSTOM_RELU,
    MISH,
    NEGATED_MISH,
    STEP,
    WRONG_MISH,
    mish,
    mish_derivative,
)
from tests._estimators import assert_same_weights, quiet_fit
from tests._extras import import_extra
from tests._saved_models import (
    archive,
    assert_same_predictions,
    assert_same_state,
    edit_metadata,
    members,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# mish written as a lambda: it trains, but cannot be stored.
LAMBDA_MISH = Activation(
    "lambda_mish", lambda Z: Z * np.tanh(np.logaddexp(0, Z)), mish_derivative
)


def _digits(n=300):
    X, y = load_digits(return_X_y=True)
    return X[:n] / 16.0, y[:n]


def _small(**params):
    return MLPBackpropClassifier(
        **{"hidden_layer_sizes": (8,), "max_iter": 5, "random_state": 0, **params}
    )


# ------------------------------------------------------------------ checks
@pytest.mark.parametrize(
    "activation, name",
    [(WRONG_MISH, "mish_doubled"), (NEGATED_MISH, "mish_negated")],
)
def test_wrong_derivative_is_refused_with_the_worst_point(activation, name):
    with pytest.raises(ValueError) as error:
        _small(activation=activation).fit(*_digits())
    message = str(error.value)
    assert f"derivative of activation {name!r} does not match" in message
    assert "on the grid of [-6, 6]" in message
    # The worst point, what the differences give and what came back.
    assert "at z=1.48872, derivative(Z, A) returns" in message
    assert "central differences of function(Z) give 1.0885" in message


def test_step_function_is_refused_because_no_gradient_passes():
    with pytest.raises(ValueError, match="no gradient can pass through it"):
        _small(activation=STEP).fit(*_digits())


def _correct_on_the_grid_only(Z, A):
    # Right on [-6, 6], off by a factor of 3 beyond: only data reach it.
    return np.where(np.abs(Z) <= 6, 1.0, 3.0)


def test_derivative_is_checked_on_the_first_batch_too():
    # The identity's derivative, wrong for pre-activations beyond the grid.
    wide = Activation("wide", np.copy, _correct_on_the_grid_only)
    X, y = _digits()
    _small(activation=wide).fit(X, y)  # scaled data stay on the grid
    with pytest.raises(ValueError) as error:
        _small(activation=["relu", wide], hidden_layer_sizes=(8, 8)).fit(X * 400, y)
    message = str(error.value)
    assert "'wide' does not match its function on hidden layer 2" in message
    assert "for the first 200 training rows" in message
    assert "returns 3 but central differences of function(Z) give 1" in message


def test_a_refused_fit_changes_nothing():
    X, y = _digits()
    with pytest.raises(ValueError):
        _small(activation=WRONG_MISH).fit(X, y)
    unfitted = _small(activation=WRONG_MISH)
    with pytest.raises(ValueError):
        unfitted.fit(X, y)
    assert not hasattr(unfitted, "coefs_")
    fitted = _small(activation=MISH, warm_start=True).fit(X, y)
    before = [c.copy() for c in fitted.coefs_], list(fitted.loss_curve_)
    fitted.set_params(activation=WRONG_MISH)
    with pytest.raises(ValueError, match="mish_doubled"):
        fitted.fit(X, y)
    assert fitted.loss_curve_ == before[1]
    for coef, kept in zip(fitted.coefs_, before[0]):
        np.testing.assert_array_equal(coef, kept)


def _in_place(Z):
    Z *= 2
    return Z


@pytest.mark.parametrize(
    "function, derivative, message",
    [
        (lambda Z: Z.sum(axis=1), mish_derivative, "function .* returned ndarray "
         "of shape \\(50,\\)"),
        (mish, lambda Z, A: 1.0, "derivative .* returned float of shape \\(\\)"),
        (lambda Z: Z.astype(complex), mish_derivative, "dtype complex128"),
        (lambda Z: list(Z), mish_derivative, "returned list"),
        (np.log, lambda Z, A: 1 / Z, "not finite at \\(or within 1e-6 of\\) z=-6"),
        (mish, lambda Z, A: np.full_like(Z, np.nan), "returns nan"),
        (_in_place, lambda Z, A: 2.0 + 0 * Z, "read-only"),
    ],
    ids=["not-element-wise", "scalar", "complex", "list", "log", "nan", "in-place"],
)  # fmt: skip
def test_malformed_functions_are_refused_clearly(function, derivative, message):
    activation = Activation("odd", function, derivative)
    with pytest.raises(ValueError, match=message):
        _small(activation=activation).fit(*_digits())


def test_activation_is_checked_when_made():
    with pytest.raises(ValueError, match="'relu' is the name of a built-in"):
        Activation("relu", mish, mish_derivative)
    with pytest.raises(ValueError, match="'sigmoid' is the name of a built-in"):
        Activation("sigmoid", mish, mish_derivative)
    with pytest.raises(TypeError, match="derivative of activation 'm' must be"):
        Activation("m", mish, "mish_derivative")
    with pytest.raises(TypeError, match="non-empty str"):
        Activation("", mish, mish_derivative)
    assert Activation.builtin("sigmoid") is Activation.builtin("logistic")
    with pytest.raises(ValueError, match="cannot be trained by backpropagation"):
        Activation.builtin("step")


def test_activation_is_a_value():
    again = Activation("mish", mish, mish_derivative)
    assert again == MISH and hash(again) == hash(MISH)
    assert MISH != Activation("mish", mish, lambda Z, A: 0 * Z)
    assert repr(MISH) == "Activation('mish', mish, mish_derivative)"
    assert repr(Activation.builtin("tanh")) == "Activation.builtin('tanh')"


# ---------------------------------------------------------------- training
def test_mish_trains_as_well_as_relu(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    scores = {}
    for activation in ("relu", MISH):
        clf = MLPBackpropClassifier(
            hidden_layer_sizes=(64,), max_iter=60, random_state=0
        )
        clf.set_params(activation=activation)
        scores[repr(activation)] = quiet_fit(clf, X_train, y_train).score(
            X_test, y_test
        )
    relu, mish_score = scores.values()
    assert relu > 0.95
    assert abs(mish_score - relu) <= 0.01


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_relu_by_hand_trains_like_the_builtin(small_digits, solver):
    X, y = small_digits
    builtin = _small(solver=solver, hidden_layer_sizes=(16, 8)).fit(X, y)
    by_hand = _small(
        solver=solver, hidden_layer_sizes=(16, 8), activation=CUSTOM_RELU
    ).fit(X, y)
    assert_same_weights(builtin, by_hand)
    np.testing.assert_array_equal(builtin.predict_proba(X), by_hand.predict_proba(X))


def test_per_layer_lists_mix_names_and_custom_activations(small_digits):
    X, y = small_digits
    clf = _small(
        hidden_layer_sizes=(12, 10, 8), activation=["relu", MISH, CUSTOM_LOGISTIC]
    ).fit(X, y)
    assert [a.name for a in clf._hidden_activations] == ["relu", "mish", "my_logistic"]
    # transform is the forward pass written out with the user's functions.
    A = X
    for coef, intercept, f in zip(
        clf.coefs_[:-1],
        clf.intercepts_[:-1],
        (lambda Z: np.maximum(Z, 0), mish, CUSTOM_LOGISTIC.function),
    ):
        A = f(A @ coef + intercept)
    np.testing.assert_allclose(clf.transform(X), A, rtol=1e-12)


def test_float32_sparse_and_the_regressor_train(small_digits):
    X, y = small_digits
    clf32 = _small(activation=MISH).fit(X.astype(np.float32), y)
    assert clf32.coefs_[0].dtype == np.float32
    assert clf32.predict_proba(X.astype(np.float32)).dtype == np.float32
    dense = _small(activation=MISH).fit(X, y)
    sparse = _small(activation=MISH).fit(sp.csr_matrix(X), y)
    assert_same_weights(dense, sparse, rtol=1e-10, atol=1e-12)
    reg = MLPBackpropRegressor(
        activation=MISH,
        hidden_layer_sizes=(16,),
        learning_rate_init=0.01,
        max_iter=100,
        random_state=0,
    )
    assert reg.fit(X, y.astype(float)).score(X, y) > 0.8


@pytest.mark.parametrize("activation", [MISH, CUSTOM_LOGISTIC, LAMBDA_MISH])
def test_check_gradients_with_a_custom_activation(activation):
    X, y = _digits(120)
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(6, 5), activation=[activation, "tanh"], alpha=0.1
    )
    report = check_gradients(clf, X, y)
    assert (report["relative_error"] < 1e-6).all()
    fitted = check_gradients(quiet_fit(clf, X, y), X, y)  # deep-copies a lambda
    assert (fitted["relative_error"] < 1e-6).all()


# ------------------------------------------- parameters, copies, searches
def test_clone_and_parameters_keep_the_activation():
    clf = _small(activation=["relu", MISH], hidden_layer_sizes=(8, 8))
    copy = clone(clf)
    assert copy.get_params()["activation"][1] is MISH
    assert clone(_small(activation=LAMBDA_MISH)).activation is LAMBDA_MISH
    fitted = copy.set_params(activation=MISH).fit(*_digits())
    assert fitted.activation is MISH
    assert all(a is MISH for a in fitted._hidden_activations)


def test_grid_search_over_activations_in_worker_processes():
    X, y = _digits()
    search = GridSearchCV(
        _small(), {"activation": ["relu", MISH]}, cv=2, n_jobs=2, error_score="raise"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    assert search.cv_results_["param_activation"][1] == MISH
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_lambda_is_refused_with_the_reason_wherever_it_would_be_stored(tmp_path):
    X, y = _digits()
    clf = _small(activation=LAMBDA_MISH).fit(X, y)  # trains and predicts
    expected = "The function of activation 'lambda_mish', <function <lambda>"
    advice = "Define it with def at the top level of a module"
    with pytest.raises(pickle.PicklingError, match=expected) as error:
        pickle.dumps(clf)
    assert advice in str(error.value)
    search = GridSearchCV(_small(), {"activation": [LAMBDA_MISH]}, cv=2, n_jobs=2)
    with pytest.raises(pickle.PicklingError) as error:
        search.fit(X, y)
    assert "activation 'lambda_mish'" in str(error.value.__cause__)
    in_file = "The function of activation 'lambda_mish' \\(params.activation\\), <"
    with pytest.raises(TypeError, match=in_file):
        save_model(clf, tmp_path / "model.npz")
    sio = import_extra("skops.io")
    with pytest.raises(pickle.PicklingError, match=expected):
        sio.dump(clf, tmp_path / "model.skops")


# ------------------------------------------------------------- persistence
def _fitted(Estimator=MLPBackpropClassifier):
    X, y = _digits()
    est = Estimator(
        activation=[MISH, "relu"], hidden_layer_sizes=(8, 6), max_iter=5, random_state=0
    )
    return est.fit(X, y), X, y


@pytest.mark.parametrize("Estimator", [MLPBackpropClassifier, MLPBackpropRegressor])
def test_pickle_round_trip_predicts_and_trains_on_alike(Estimator):
    est, X, y = _fitted(Estimator)
    restored = pickle.loads(pickle.dumps(est))
    assert_same_state(est, restored)
    assert restored._hidden_activations[0] == MISH
    np.testing.assert_array_equal(restored.predict(X), est.predict(X))
    est.partial_fit(X, y)
    restored.partial_fit(X, y)
    assert_same_weights(est, restored)


def test_pickle_of_builtins_names_no_activation_object():
    clf = _small().fit(*_digits())
    assert clf.__getstate__()["_hidden_activations"] == ["relu"]
    assert b"Activation" not in pickle.dumps(clf)


def test_skops_round_trip_trusts_the_class_and_the_functions(tmp_path):
    sio = import_extra("skops.io")
    clf, X, y = _fitted()
    path = tmp_path / "model.skops"
    sio.dump(clf, path)
    assert sorted(sio.get_untrusted_types(file=path)) == [
        "skbackprop.Activation",
        "skbackprop._classifier.MLPBackpropClassifier",
        "tests._custom_activations.mish",
        "tests._custom_activations.mish_derivative",
    ]
    restored = sio.load(path, trusted=sio.get_untrusted_types(file=path))
    assert_same_state(clf, restored)
    assert_same_predictions(clf, restored, X)


@pytest.mark.parametrize("Estimator", [MLPBackpropClassifier, MLPBackpropRegressor])
def test_save_model_stores_references_that_load_model_binds(Estimator):
    est, X, y = _fitted(Estimator)
    buffer = io.BytesIO()
    save_model(est, buffer)
    for functions in ([MISH], [mish, mish_derivative]):
        buffer.seek(0)
        restored = load_model(buffer, functions=functions)
        assert_same_state(est, restored)
        np.testing.assert_array_equal(restored.predict(X), est.predict(X))
    restored.partial_fit(X, y)
    est.partial_fit(X, y)
    assert_same_weights(est, restored)


def test_load_model_imports_nothing_and_names_what_it_needs():
    clf, X, _ = _fitted()
    buffer = io.BytesIO()
    save_model(clf, buffer)
    buffer.seek(0)
    with pytest.raises(ValueError) as error:
        load_model(buffer)
    message = str(error.value)
    assert "calls functions that load_model does not import" in message
    assert "'tests._custom_activations:mish' (params.activation[0].function)" in message
    assert "'tests._custom_activations:mish_derivative'" in message
    # A dict binds the references to functions explicitly, even to lambdas.
    buffer.seek(0)
    restored = load_model(
        buffer,
        functions={
            "tests._custom_activations:mish": LAMBDA_MISH.function,
            "tests._custom_activations:mish_derivative": mish_derivative,
        },
    )
    np.testing.assert_allclose(restored.predict_proba(X), clf.predict_proba(X))
    with pytest.raises(TypeError, match="A function given to load_model"):
        load_model(buffer, functions=[LAMBDA_MISH])
    with pytest.raises(TypeError, match="map references"):
        load_model(buffer, functions={"m:f": "not callable"})
    with pytest.raises(TypeError, match="functions or Activations, not 'mish'"):
        load_model(buffer, functions=["mish"])


def test_a_file_cannot_make_load_model_import_anything():
    clf = _small().fit(*_digits())

    def refer_to_os_system(metadata):
        metadata["params"]["scoring"] = {"function": "os:system"}
        metadata["fitted"]["hidden_activations"] = [
            {"activation": {"name": "x", "function": "os:system", "derivative": "m:f"}}
        ]

    tampered = edit_metadata(members(clf), refer_to_os_system)
    with pytest.raises(ValueError, match="'os:system' \\(params.scoring\\)"):
        load_model(archive(tampered))
    # Bound by the reader alone, and then checked like any other value.
    with pytest.raises(ValueError, match="activation='relu' but the network's"):
        load_model(
            archive(tampered), functions={"os:system": mish, "m:f": mish_derivative}
        )

    def malformed(metadata):
        metadata["params"]["activation"] = {"activation": {"name": "x"}}

    with pytest.raises(ValueError, match="names no built-in activation: 'x'"):
        load_model(archive(edit_metadata(members(clf), malformed)))
