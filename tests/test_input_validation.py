"""Bad input is refused with a ValueError or TypeError that names the problem.

Wherever scikit-learn has wording for a problem (``validate_data``,
``_check_sample_weight``, parameter constraints, ``partial_fit``'s class
checks), the estimator uses it, so the tests match scikit-learn's messages.
Every test here runs with RuntimeWarnings turned into errors: bad input must
be refused up front, never discovered through overflow warnings, an
IndexError or a ZeroDivisionError deep in the training loop, or NaN output.
"""

import re

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skbackprop import MLPBackpropClassifier

pytestmark = [
    pytest.mark.filterwarnings("error::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
]

N_SAMPLES, N_FEATURES = 24, 3
PREDICT_METHODS = ["predict", "predict_proba", "predict_log_proba", "decision_function"]
CONTAINERS = {"dense": np.asarray, "csr": sp.csr_matrix, "csc": sp.csc_matrix}


def _data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES))
    y = np.arange(N_SAMPLES) % 3
    return X, y


def _estimator(**params):
    params = {"hidden_layer_sizes": (5,), "max_iter": 3, "random_state": 0, **params}
    return MLPBackpropClassifier(**params)


@pytest.fixture(scope="module")
def fitted():
    X, y = _data()
    return _estimator().fit(X, y)


def _with(X, row, column, value):
    X = X.copy()
    X[row, column] = value
    return X


# ------------------------------------------------------------------ X at fit
@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize(
    "value, message",
    [
        (np.nan, "Input X contains NaN"),
        (np.inf, "Input X contains infinity"),
        (-np.inf, "Input X contains infinity"),
    ],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_non_finite_X_is_refused_at_fit(container, value, message, method):
    X, y = _data()
    X_bad = CONTAINERS[container](_with(X, 5, 1, value))
    kwargs = {"classes": [0, 1, 2]} if method == "partial_fit" else {}
    with pytest.raises(ValueError, match=message):
        getattr(_estimator(), method)(X_bad, y, **kwargs)


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize(
    "value, message",
    [(np.nan, "Input X contains NaN"), (np.inf, "Input X contains infinity")],
)
@pytest.mark.parametrize("method", PREDICT_METHODS)
def test_non_finite_X_is_refused_at_predict(fitted, container, value, message, method):
    X, _ = _data()
    X_bad = CONTAINERS[container](_with(X, 0, 2, value))
    with pytest.raises(ValueError, match=message):
        getattr(fitted, method)(X_bad)


@pytest.mark.parametrize("container", CONTAINERS)
@pytest.mark.parametrize("n_features", [1, 2, 4, 10])
@pytest.mark.parametrize("method", PREDICT_METHODS + ["score"])
def test_wrong_number_of_features_at_predict(fitted, container, n_features, method):
    rng = np.random.RandomState(1)
    X = CONTAINERS[container](rng.normal(size=(6, n_features)))
    args = (X, np.zeros(6, dtype=int)) if method == "score" else (X,)
    expected = (
        f"X has {n_features} features, but MLPBackpropClassifier is expecting "
        f"{N_FEATURES} features as input"
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        getattr(fitted, method)(*args)


def test_wrong_number_of_features_at_later_partial_fit():
    X, y = _data()
    clf = _estimator().partial_fit(X, y, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="X has 2 features, but .* expecting 3"):
        clf.partial_fit(X[:, :2], y)


def test_wrong_number_of_features_at_warm_refit():
    X, y = _data()
    clf = _estimator(warm_start=True).fit(X, y)
    with pytest.raises(ValueError, match="X has 4 features, but .* expecting 3"):
        clf.fit(np.hstack([X, X[:, :1]]), y)


@pytest.mark.parametrize(
    "make_X, message",
    [
        (lambda X: X[:, 0], "Expected 2D array, got 1D array instead"),
        (lambda X: X[:, :, np.newaxis], "Found array with dim 3"),
        (lambda X: X[0, 0], "Expected 2D array, got scalar array instead"),
        (lambda X: None, "Expected 2D array, got scalar array instead"),
    ],
    ids=["1-D", "3-D", "scalar", "None"],
)
def test_X_of_the_wrong_dimension(fitted, make_X, message):
    X, y = _data()
    X_bad = make_X(X)
    with pytest.raises(ValueError, match=message):
        _estimator().fit(X_bad, y)
    with pytest.raises(ValueError, match=message):
        _estimator().partial_fit(X_bad, y, classes=[0, 1, 2])
    for method in PREDICT_METHODS:
        with pytest.raises(ValueError, match=message):
            getattr(fitted, method)(X_bad)


def test_one_sample_1d_at_predict_says_how_to_reshape(fitted):
    # check_fit2d_predict1d's wording: the fix is spelled out.
    X, _ = _data()
    with pytest.raises(ValueError, match=r"Reshape your data.*reshape\(1, -1\)"):
        fitted.predict(X[0])


@pytest.mark.parametrize("container", CONTAINERS)
def test_zero_samples(fitted, container):
    X, y = _data()
    empty = CONTAINERS[container](X[:0])
    message = r"Found array with 0 sample\(s\) \(shape=\(0, 3\)\) while a minimum of 1"
    with pytest.raises(ValueError, match=message):
        _estimator().fit(empty, y[:0])
    with pytest.raises(ValueError, match=message):
        _estimator().partial_fit(empty, y[:0], classes=[0, 1, 2])
    for method in PREDICT_METHODS:
        with pytest.raises(ValueError, match=message):
            getattr(fitted, method)(empty)


@pytest.mark.parametrize("container", CONTAINERS)
def test_zero_features(fitted, container):
    X, y = _data()
    no_features = CONTAINERS[container](X[:, :0])
    message = (
        r"Found array with 0 feature\(s\) \(shape=\(24, 0\)\) while a minimum of 1"
    )
    with pytest.raises(ValueError, match=message):
        _estimator().fit(no_features, y)
    with pytest.raises(ValueError, match=message):
        fitted.predict(no_features)


@pytest.mark.parametrize(
    "make_X",
    [
        lambda X: X.astype(str).astype(object),  # numbers as strings, object
        lambda X: np.where(X > 0, "up", "down"),  # words, unicode dtype
        lambda X: pd.DataFrame({"a": X[:, 0], "b": ["x", "y"] * 12, "c": X[:, 2]}),
        lambda X: pd.DataFrame({"a": pd.Categorical(["x", "y"] * 12), "b": X[:, 1]}),
        lambda X: [["1.0", "2.0", "three"]] * len(X),
    ],
    ids=[
        "object-strings",
        "unicode",
        "frame-string-column",
        "frame-categorical",
        "list-of-strings",
    ],
)
def test_string_X_is_refused(make_X):
    X, y = _data()
    X_bad = make_X(X)
    if isinstance(X_bad, np.ndarray) and X_bad.dtype == object:
        # Numeric strings in an object array convert silently in numpy; make
        # one of them a word so that the data is really not numeric.
        X_bad[3, 1] = "n/a"
    with pytest.raises(ValueError, match="could not convert string to float"):
        _estimator().fit(X_bad, y)


def test_string_X_is_refused_at_predict(fitted):
    X, _ = _data()
    with pytest.raises(ValueError, match="could not convert string to float"):
        fitted.predict(np.where(X > 0, "up", "down"))


def test_non_array_X_is_refused():
    _, y = _data()
    with pytest.raises(TypeError, match="not 'dict'"):
        _estimator().fit({"a": 1.0}, y)
    with pytest.raises(ValueError, match="inhomogeneous shape"):
        _estimator().fit([[1.0, 2.0, 3.0], [1.0, 2.0]], [0, 1])


@pytest.mark.parametrize("container", CONTAINERS)
def test_complex_X_is_refused(fitted, container):
    X, y = _data()
    X_complex = CONTAINERS[container](X + 1j)
    with pytest.raises(ValueError, match="Complex data not supported"):
        _estimator().fit(X_complex, y)
    for method in PREDICT_METHODS:
        with pytest.raises(ValueError, match="Complex data not supported"):
            getattr(fitted, method)(X_complex)


def test_predict_before_fit_is_refused():
    X, _ = _data()
    for method in PREDICT_METHODS:
        with pytest.raises(NotFittedError, match="is not fitted yet"):
            getattr(_estimator(), method)(X)


# ---------------------------------------------------------------------- y
@pytest.mark.parametrize(
    "make_y, error, message",
    [
        (lambda y: np.where(y == 0, np.nan, y), ValueError, "Input y contains NaN"),
        (
            lambda y: np.where(y == 0, np.inf, y),
            ValueError,
            "Input y contains infinity",
        ),
        (
            lambda y: np.linspace(0, 1, len(y)),
            ValueError,
            "Unknown label type: continuous",
        ),
        (lambda y: y + 0.5, ValueError, "Unknown label type: continuous"),
        (
            lambda y: np.array(["a", 1] * (len(y) // 2), dtype=object),
            TypeError,
            "'<' not supported between instances of 'int' and 'str'",
        ),
        (
            lambda y: np.array([1, 2] * (len(y) // 2), dtype=object),
            ValueError,
            "Unknown label type: unknown",
        ),
        (
            lambda y: np.column_stack([y, y]),
            ValueError,
            "Multioutput target data is not supported with label binarization",
        ),
        (
            lambda y: np.array([b"a", b"b"] * (len(y) // 2)),
            TypeError,
            "labels represented as bytes is not supported",
        ),
    ],
    ids=[
        "nan",
        "inf",
        "continuous",
        "fractional",
        "mixed-types",
        "object-ints",
        "multiclass-multioutput",
        "bytes",
    ],
)
def test_bad_y_is_refused(make_y, error, message):
    X, y = _data()
    with pytest.raises(error, match=message):
        _estimator().fit(X, make_y(y))


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
@pytest.mark.parametrize("n_labels", [N_SAMPLES - 1, N_SAMPLES + 5, 1])
def test_y_of_the_wrong_length_is_refused(method, n_labels):
    X, _ = _data()
    y = np.arange(n_labels) % 3
    kwargs = {"classes": [0, 1, 2]} if method == "partial_fit" else {}
    expected = f"inconsistent numbers of samples: [{N_SAMPLES}, {n_labels}]"
    with pytest.raises(ValueError, match=re.escape(expected)):
        getattr(_estimator(), method)(X, y, **kwargs)


def test_missing_y_is_refused():
    X, _ = _data()
    with pytest.raises(ValueError, match="requires y to be passed, but the target y"):
        _estimator().fit(X, None)


def test_score_with_y_of_the_wrong_length(fitted):
    X, y = _data()
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        fitted.score(X, y[:-1])


# ----------------------------------------------------------- sample_weight
@pytest.mark.parametrize(
    "make_weights, message",
    [
        (lambda n: -np.ones(n), "Negative values in data passed to `sample_weight`"),
        (
            lambda n: np.r_[np.ones(n - 1), -1e-3],
            "Negative values in data passed to `sample_weight`",
        ),
        (lambda n: np.zeros(n), "Sample weights must contain at least one non-zero"),
        (
            lambda n: np.ones(n - 1),
            re.escape(
                f"sample_weight.shape == ({N_SAMPLES - 1},), expected ({N_SAMPLES},)!"
            ),
        ),
        (lambda n: np.ones((n, 1)), "Sample weights must be 1D array or scalar"),
        (lambda n: np.full(n, np.nan), "Input sample_weight contains NaN"),
        (lambda n: np.full(n, np.inf), "Input sample_weight contains infinity"),
        (lambda n: ["heavy"] * n, "could not convert string to float"),
        (lambda n: np.full(n, 1e308), "The sum of sample_weight overflows float64"),
    ],
    ids=[
        "negative",
        "one-negative",
        "all-zero",
        "short",
        "2-D",
        "nan",
        "inf",
        "strings",
        "sum-overflows",
    ],
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_bad_sample_weight_is_refused(make_weights, message, method):
    X, y = _data()
    kwargs = {"classes": [0, 1, 2]} if method == "partial_fit" else {}
    with pytest.raises(ValueError, match=message):
        getattr(_estimator(), method)(
            X, y, sample_weight=make_weights(len(y)), **kwargs
        )


def test_sample_weight_sum_overflowing_float32_is_refused():
    # Each weight fits in float32, their sum does not.
    X, y = _data()
    with pytest.raises(ValueError, match="sum of sample_weight overflows float32"):
        _estimator().fit(X.astype(np.float32), y, sample_weight=np.full(len(y), 1e38))


# ------------------------------------------------------------ partial_fit
def test_partial_fit_first_call_needs_classes():
    X, y = _data()
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        _estimator().partial_fit(X, y)


@pytest.mark.parametrize(
    "classes, labels, unknown",
    [
        ([0, 1], [0, 1, 2], "[2]"),
        (["cat", "dog"], ["cat", "dog", "zebra"], "['zebra']"),
        ([-1, 1], [-1, 1, 7, 9], "[7 9]"),
        ([10**12, 5], [5, 10**12, -(10**12)], "[-1000000000000]"),
    ],
)
def test_partial_fit_names_the_unknown_label(classes, labels, unknown):
    X, _ = _data()
    y = np.asarray(labels)[np.arange(N_SAMPLES) % len(labels)]
    clf = _estimator()
    message = re.escape(f"not in `self.classes_`: {unknown}")
    with pytest.raises(ValueError, match=message):
        clf.partial_fit(X, y, classes=classes)
    # A later call is checked the same way.
    known = np.isin(y, classes)
    clf.partial_fit(X[known], y[known], classes=classes)
    with pytest.raises(ValueError, match=re.escape(unknown)):
        clf.partial_fit(X, y)


def test_partial_fit_refuses_changed_classes():
    X, y = _data()
    clf = _estimator().partial_fit(X, y, classes=[0, 1, 2])
    message = "is not the same as on last call to partial_fit"
    with pytest.raises(ValueError, match=message):
        clf.partial_fit(X, y, classes=[0, 1, 2, 3])


def test_warm_start_refuses_new_classes():
    X, y = _data()
    clf = _estimator(warm_start=True).fit(X, y)
    with pytest.raises(
        ValueError, match="warm_start can only be used where `y` has the same classes"
    ):
        clf.fit(X, y + 1)


# ---------------------------------------------------------- hyperparameters
# Every parameter with values of the right type but out of range, and values
# of a wrong type; scikit-learn's constraint message names the parameter and
# what it accepts.
INVALID_PARAMETERS = {
    "hidden_layer_sizes": [0, -3, 2.5, "10", None],
    "activation": [3, None, 1.5],
    "solver": ["newton", "LBFGS", None, 1],
    "alpha": [-1e-4, np.nan, np.inf, "0.1", None],
    "batch_size": [0, -5, 1.5, "all", None],
    "learning_rate": ["fast", None, 0.1],
    "learning_rate_init": [0, -0.1, np.nan, np.inf, "0.01", None],
    "power_t": [-0.5, np.nan, "half"],
    "max_iter": [0, -1, 1.5, np.inf, "200", None],
    "shuffle": ["yes", 2, None],
    "random_state": [-1, 2**40, 1.5, "seed"],
    "tol": [-1e-4, np.nan, "small", None],
    "verbose": [-1, "loud", None],
    "warm_start": ["no", None, 2],
    "momentum": [-0.1, 1.5, np.nan, "high"],
    "nesterovs_momentum": ["yes", None],
    "early_stopping": [1, "yes", None],
    "validation_fraction": [-0.1, 1.0, "tenth", None],
    "beta_1": [-0.1, 1.0, "0.9", None],
    "beta_2": [-0.1, 1.0, "0.999", None],
    "epsilon": [0, -1e-8, "tiny", None],
    "n_iter_no_change": [0, -np.inf, 1.5, np.nan, "10", None],
    "max_fun": [0, -1, 1.5, "many", None],
    "alpha_l1": [-1e-4, np.nan, "0.1", None],
    "class_weight": ["balance", 3, ["a"]],
    "dropout": [-0.1, 1.0, "half", None],
    "init": ["bogus", 3, None],
    "max_grad_norm": [0, -1.0, np.nan, "1"],
    "scoring": [3, 1.5],
    "weight_decay": [-0.01, np.nan, "x", None],
}


def test_every_parameter_has_invalid_cases():
    assert set(INVALID_PARAMETERS) == set(MLPBackpropClassifier().get_params())


@pytest.mark.parametrize(
    "name, value",
    [(name, value) for name, values in INVALID_PARAMETERS.items() for value in values],
    ids=lambda v: repr(v),
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_invalid_hyperparameter_is_refused(name, value, method):
    X, y = _data()
    params = {name: value}
    if method == "partial_fit" and name in ("solver", "early_stopping"):
        method = "fit"  # partial_fit is hidden for some of these values
    clf = _estimator(**params)
    kwargs = {"classes": [0, 1, 2]} if method == "partial_fit" else {}
    message = f"The '{name}' parameter of MLPBackpropClassifier must be"
    # InvalidParameterError is both a ValueError and a TypeError.
    with pytest.raises(InvalidParameterError, match=re.escape(message)):
        getattr(clf, method)(X, y, **kwargs)


@pytest.mark.parametrize(
    "params, message",
    [
        (
            dict(hidden_layer_sizes=(5, 0)),
            r"hidden_layer_sizes must be > 0, got \[5, 0\]",
        ),
        (dict(hidden_layer_sizes=[0]), r"hidden_layer_sizes must be > 0"),
        (dict(hidden_layer_sizes=np.array([4, -2])), "hidden_layer_sizes must be > 0"),
        (dict(hidden_layer_sizes=(5, 2.0)), "hidden_layer_sizes must contain integers"),
        (dict(hidden_layer_sizes=(5, "3")), "hidden_layer_sizes must contain integers"),
        (
            dict(hidden_layer_sizes=(5, None)),
            "hidden_layer_sizes must contain integers",
        ),
        (dict(hidden_layer_sizes=(True,)), "hidden_layer_sizes must contain integers"),
        (dict(hidden_layer_sizes=[[5]]), "hidden_layer_sizes must contain integers"),
        (
            dict(hidden_layer_sizes=(5, 4), activation=["relu"]),
            "activation has 1 entries but hidden_layer_sizes defines 2 hidden layer",
        ),
        (
            dict(hidden_layer_sizes=(5,), activation=["relu", "tanh"]),
            "activation has 2 entries but hidden_layer_sizes defines 1 hidden layer",
        ),
        (
            dict(hidden_layer_sizes=(5,), activation=[]),
            "activation has 0 entries but hidden_layer_sizes defines 1 hidden layer",
        ),
        (
            dict(hidden_layer_sizes=(5, 4), activation=["relu", 3]),
            "Each activation must be a string naming one of",
        ),
        (dict(activation="RELU"), "Unknown activation 'RELU'. Valid names are"),
        (dict(activation="swish"), "Unknown activation 'swish'. Valid names are"),
        (dict(activation=""), "Unknown activation ''"),
        (
            dict(hidden_layer_sizes=(5, 4), activation=["relu", "sigmoidal"]),
            "Unknown activation 'sigmoidal'",
        ),
        (dict(activation="step"), "activation='step' cannot be trained by backprop"),
        (dict(activation="sign"), "activation='sign' cannot be trained by backprop"),
        (dict(activation="softmax"), "activation='softmax' cannot be trained"),
    ],
    ids=lambda v: repr(v) if isinstance(v, dict) else "",
)
@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_invalid_architecture_is_refused(params, message, method):
    X, y = _data()
    kwargs = {"classes": [0, 1, 2]} if method == "partial_fit" else {}
    with pytest.raises(ValueError, match=message):
        getattr(_estimator(**params), method)(X, y, **kwargs)


def test_invalid_parameter_set_after_construction_is_refused():
    # set_params, like __init__, only stores; fit validates.
    X, y = _data()
    clf = _estimator().set_params(learning_rate_init=-1.0)
    with pytest.raises(ValueError, match="'learning_rate_init' parameter"):
        clf.fit(X, y)


# ----------------------------------------------------------- feature names
@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda f: f.rename(columns={"b": "z"}),
            r"Feature names unseen at fit time:\n- z",
        ),
        (lambda f: f[["b", "a", "c"]], "Feature names must be in the same order"),
        (
            lambda f: f.rename(columns=str.upper),
            "Feature names seen at fit time, yet now missing:\n- a",
        ),
        (lambda f: f.assign(d=1.0), r"Feature names unseen at fit time:\n- d"),
        (lambda f: f[["a", "b"]], "Feature names seen at fit time, yet now missing"),
    ],
    ids=["renamed", "reordered", "case-changed", "extra-column", "missing-column"],
)
@pytest.mark.parametrize("method", PREDICT_METHODS + ["partial_fit"])
def test_dataframe_columns_that_differ_from_fit(change, message, method):
    X, y = _data()
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    clf = _estimator().fit(frame, y)
    args = (change(frame), y) if method == "partial_fit" else (change(frame),)
    full = "The feature names should match those that were passed during fit"
    with pytest.raises(ValueError, match=full) as error:
        getattr(clf, method)(*args)
    assert re.search(message, str(error.value))


def test_frame_then_array_warns_about_feature_names():
    # scikit-learn's behaviour: a warning, not an error, with its wording.
    X, y = _data()
    clf = _estimator().fit(pd.DataFrame(X, columns=["a", "b", "c"]), y)
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        clf.predict(X)
