"""Property-based tests: random data and parameters, never a crash.

For random shapes, dtypes, label types, architectures, activations, solvers
and sample weights, ``fit`` and the prediction methods either succeed with
valid output (probabilities in [0, 1] that sum to one, predictions among
``classes_``, a model that survives a save/load round trip) or raise a
ValueError or TypeError whose message is one of the documented ones. Anything
else (an IndexError, a ZeroDivisionError, a RuntimeWarning, NaN output, an
unknown message) fails the test.

Two hypothesis profiles are registered here: ``ci`` (the default: a few
hundred examples in all, the same ones on every run, so CI is fast and
deterministic) and ``long`` (thousands of new random examples, for local runs).
Choose one with the ``HYPOTHESIS_PROFILE`` environment variable::

    HYPOTHESIS_PROFILE=long python -m pytest tests/test_fuzz.py
"""

import io
import os
import re
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from skbackprop import (
    MLPBackpropClassifier,
    MLPBackpropRegressor,
    load_model,
    save_model,
)

settings.register_profile(
    "ci",
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "long",
    max_examples=2000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Applied per test rather than loaded globally, so that this module does not
# change the settings of any other test.
PROFILE = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

pytestmark = [
    pytest.mark.filterwarnings("error::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
    pytest.mark.filterwarnings("ignore:Got `batch_size` less than 1 or larger"),
    pytest.mark.filterwarnings("ignore:The number of unique classes is greater"),
    pytest.mark.filterwarnings("ignore:A column-vector y was passed"),
]

ACTIVATIONS = [
    "identity",
    "logistic",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "gelu",
    "silu",
]

# Every message a refusal may carry: a failure with any other message is a
# bug to look at (either in the estimator, or a new message to add here).
EXPECTED_MESSAGES = [
    r"Input X contains (NaN|infinity)",
    r"Input sample_weight contains (NaN|infinity)",
    r"Sample weights must contain at least one non-zero number",
    r"Negative values in data passed to `sample_weight`",
    r"The sum of sample_weight overflows",
    r"activation has \d+ entries but hidden_layer_sizes defines",
    r"The validation set is too small",
    r"The network's output overflowed",
    r"Unknown label type",
    r"classes",
    r"Input y contains (NaN|infinity)",
    r"y are negative which is not allowed for Poisson",
]


def _assert_clear_refusal(error):
    assert isinstance(error, (ValueError, TypeError)), repr(error)
    message = str(error)
    matches = [p for p in EXPECTED_MESSAGES if re.search(p, message)]
    assert matches, message
    event(f"refused: {matches[0]}")  # see --hypothesis-show-statistics


# ------------------------------------------------------------------ strategies
LABEL_POOLS = {
    "small-ints": st.integers(-3, 6),
    "large-ints": st.integers(-(10**15), 10**15),
    "strings": st.text(alphabet="abcXYZ_é日 ", min_size=0, max_size=6),
    "bools": st.booleans(),
    "integral-floats": st.integers(-5, 5).map(float),
}


@st.composite
def labels(draw, n_samples):
    """Labels of one type, with 1 to 5 distinct values."""
    kind = draw(st.sampled_from(sorted(LABEL_POOLS)))
    pool = draw(st.lists(LABEL_POOLS[kind], min_size=1, max_size=5, unique=True))
    y = draw(st.lists(st.sampled_from(pool), min_size=n_samples, max_size=n_samples))
    dtype = {
        "small-ints": np.int64,
        "large-ints": np.int64,
        "bools": bool,
        "integral-floats": np.float64,
        "strings": None,
    }[kind]
    return np.asarray(y, dtype=dtype)


@st.composite
def inputs(draw, n_samples, n_features):
    """X of a random dtype and scale, sometimes sparse, rarely non-finite."""
    dtype = draw(
        st.sampled_from([np.float64, np.float32, np.int64, np.int32, np.uint8, bool])
    )
    scale = draw(st.sampled_from([1.0, 1e-3, 1e3, 1e15]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.RandomState(seed)
    X = rng.normal(scale=scale, size=(n_samples, n_features))
    if draw(st.booleans()):
        X[rng.rand(*X.shape) < 0.5] = 0  # sparse-looking, constant columns
    if dtype is bool:
        X = X > 0
    elif np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        X = np.clip(np.round(X), info.min, info.max).astype(dtype)
    else:
        X = X.astype(dtype)
        if draw(st.integers(0, 9)) == 0:
            X.flat[draw(st.integers(0, X.size - 1))] = draw(
                st.sampled_from([np.nan, np.inf, -np.inf])
            )
    if draw(st.integers(0, 3)) == 0:
        X = sp.csr_matrix(X)
    return X


@st.composite
def estimators(draw):
    hidden = tuple(draw(st.lists(st.integers(1, 8), min_size=0, max_size=3)))
    if draw(st.booleans()):
        activation = draw(st.sampled_from(ACTIVATIONS))
    else:
        # One name per layer, and now and then one too many or too few.
        n_names = len(hidden) + draw(st.sampled_from([0, 0, 0, 0, 1, -1]))
        activation = draw(
            st.lists(
                st.sampled_from(ACTIVATIONS),
                min_size=max(n_names, 0),
                max_size=max(n_names, 0),
            )
        )
    solver = draw(st.sampled_from(["adam", "sgd", "lbfgs"]))
    params = dict(
        hidden_layer_sizes=hidden,
        activation=activation,
        solver=solver,
        max_iter=draw(st.integers(1, 8)),
        batch_size=draw(st.one_of(st.just("auto"), st.integers(1, 64))),
        learning_rate_init=draw(st.sampled_from([1e-4, 1e-2, 0.5])),
        alpha=draw(st.sampled_from([0.0, 1e-4, 10.0])),
        random_state=draw(st.integers(0, 100)),
    )
    if solver != "lbfgs" and draw(st.integers(0, 4)) == 0:
        params["early_stopping"] = True
    return MLPBackpropClassifier(**params)


@st.composite
def sample_weights(draw, n_samples):
    kind = draw(
        st.sampled_from(
            ["none", "none", "positive", "with-zeros", "all-zero", "negative", "huge"]
        )
    )
    if kind == "none":
        return None
    weights = np.asarray(
        draw(st.lists(st.floats(0.0, 10.0), min_size=n_samples, max_size=n_samples))
    )
    if kind == "positive":
        weights = weights + 0.1
    elif kind == "all-zero":
        weights[:] = 0
    elif kind == "negative":
        weights[draw(st.integers(0, n_samples - 1))] = -1.0
    elif kind == "huge":
        weights = np.full(n_samples, 1e308)
    return weights


@st.composite
def problems(draw):
    n_samples = draw(st.integers(1, 40))
    n_features = draw(st.integers(1, 6))
    X = draw(inputs(n_samples, n_features))
    y = draw(labels(n_samples))
    return X, y, draw(sample_weights(n_samples)), draw(estimators())


# ---------------------------------------------------------------------- checks
def _check_predictions(clf, X):
    """Valid output, or a clear refusal (an overflow on extreme inputs)."""
    try:
        proba = clf.predict_proba(X)
    except (ValueError, TypeError) as error:
        _assert_clear_refusal(error)
        return None
    n_samples = X.shape[0]
    assert proba.shape == (n_samples, len(clf.classes_))
    assert np.isfinite(proba).all()
    assert ((proba >= 0) & (proba <= 1)).all()
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-4)
    log_proba = clf.predict_log_proba(X)
    assert np.isfinite(log_proba).all() and (log_proba <= 0).all()
    prediction = clf.predict(X)
    assert prediction.shape == (n_samples,)
    assert np.isin(prediction, clf.classes_).all()
    np.testing.assert_array_equal(prediction, clf.classes_[proba.argmax(axis=1)])
    return proba


def _check_round_trip(clf, X, proba):
    buffer = io.BytesIO()
    save_model(clf, buffer)
    buffer.seek(0)
    restored = load_model(buffer)
    np.testing.assert_array_equal(restored.classes_, clf.classes_)
    assert restored.classes_.dtype == clf.classes_.dtype
    np.testing.assert_array_equal(restored.predict_proba(X), proba)


@PROFILE
@given(problems())
def test_fit_and_predict_succeed_or_refuse_clearly(problem):
    X, y, sample_weight, clf = problem
    try:
        clf.fit(X, y, sample_weight=sample_weight)
    except (ValueError, TypeError) as error:
        _assert_clear_refusal(error)
        return
    event("fitted")
    np.testing.assert_array_equal(clf.classes_, np.unique(y))
    assert all(np.isfinite(w).all() for w in clf.coefs_ + clf.intercepts_)
    assert len(clf.loss_curve_) == clf.n_iter_ or clf.solver == "lbfgs"
    proba = _check_predictions(clf, X)
    if proba is not None:
        _check_round_trip(clf, X, proba)


@st.composite
def incremental_problems(draw):
    n_features = draw(st.integers(1, 5))
    classes = draw(labels(draw(st.integers(2, 6))))
    classes = np.unique(classes)
    batches = []
    for _ in range(draw(st.integers(1, 4))):
        n_samples = draw(st.integers(1, 20))
        X = draw(inputs(n_samples, n_features))
        y = np.asarray(
            draw(
                st.lists(
                    st.sampled_from(list(classes)),
                    min_size=n_samples,
                    max_size=n_samples,
                )
            ),
            dtype=classes.dtype,
        )
        batches.append((X, y))
    solver = draw(st.sampled_from(["adam", "sgd"]))
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=tuple(draw(st.lists(st.integers(1, 6), max_size=2))),
        activation=draw(st.sampled_from(ACTIVATIONS)),
        solver=solver,
        batch_size=draw(st.one_of(st.just("auto"), st.integers(1, 16))),
        random_state=0,
    )
    unknown = draw(st.booleans())
    return classes, batches, clf, unknown


@PROFILE
@given(incremental_problems())
def test_partial_fit_succeeds_or_refuses_clearly(problem):
    classes, batches, clf, add_unknown_label = problem
    for X, y in batches:
        try:
            clf.partial_fit(X, y, classes=classes)
        except (ValueError, TypeError) as error:
            _assert_clear_refusal(error)
            return
        np.testing.assert_array_equal(clf.classes_, classes)
        _check_predictions(clf, X)
    if add_unknown_label and classes.dtype.kind in "iU":
        stranger = "zz-unknown" if classes.dtype.kind == "U" else classes.max() + 1
        y_bad = np.array([stranger] * X.shape[0])
        with pytest.raises(ValueError, match=re.escape(str(stranger))):
            clf.partial_fit(X, y_bad)


@PROFILE
@given(
    n_samples=st.integers(1, 30),
    n_features=st.integers(1, 5),
    n_predict_features=st.integers(0, 7),
    n_dims=st.sampled_from([1, 2, 3]),
    data=st.data(),
)
def test_predict_on_malformed_input_refuses_clearly(
    n_samples, n_features, n_predict_features, n_dims, data
):
    # The shape, dtype or content of X at predict time differs from fit's.
    X = data.draw(inputs(n_samples, n_features))
    y = np.arange(n_samples) % 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            clf = MLPBackpropClassifier(
                hidden_layer_sizes=(4,), max_iter=2, random_state=0
            ).fit(X, y)
        except ValueError as error:
            _assert_clear_refusal(error)
            return
    rng = np.random.RandomState(n_samples)
    shape = [
        (n_samples,),
        (n_samples, n_predict_features),
        (n_samples, n_predict_features, 2),
    ][n_dims - 1]
    X_new = rng.normal(size=shape)
    kind = data.draw(st.sampled_from(["float", "complex", "string", "object"]))
    if kind == "complex":
        X_new = X_new + 1j
    elif kind == "string":
        X_new = X_new.astype(str)
        if X_new.size:
            X_new.flat[0] = "nope"
    elif kind == "object":
        X_new = X_new.astype(object)
    valid = (
        n_dims == 2 and n_predict_features == n_features and kind in ("float", "object")
    )
    for method in [
        "predict",
        "predict_proba",
        "predict_log_proba",
        "decision_function",
    ]:
        if valid:
            output = getattr(clf, method)(X_new)
            assert np.isfinite(np.asarray(output, dtype=float)).all()
            continue
        with pytest.raises((ValueError, TypeError)) as error:
            getattr(clf, method)(X_new)
        message = str(error.value)
        assert re.search(
            r"Expected 2D array|Found array with|X has \d+ features, but|Complex data"
            r"|could not convert string to float",
            message,
        ), message


# ------------------------------------------------------------------ regressor
@st.composite
def targets(draw, n_samples):
    """Real targets, one or several columns, of varied scale, rarely NaN."""
    n_outputs = draw(st.sampled_from([None, 1, 2, 3]))  # None: a 1-D y
    scale = draw(st.sampled_from([1.0, 1e-3, 1e3]))
    rng = np.random.RandomState(draw(st.integers(0, 2**16)))
    shape = (n_samples,) if n_outputs is None else (n_samples, n_outputs)
    y = rng.normal(scale=scale, size=shape)
    if draw(st.booleans()):
        y = np.abs(y)  # counts and other non-negative targets
    if draw(st.integers(0, 9)) == 0:
        y.flat[draw(st.integers(0, y.size - 1))] = draw(
            st.sampled_from([np.nan, np.inf])
        )
    return y


@st.composite
def regression_problems(draw):
    n_samples = draw(st.integers(1, 40))
    X = draw(inputs(n_samples, draw(st.integers(1, 6))))
    y = draw(targets(n_samples))
    loss = draw(
        st.sampled_from(
            ["squared_error", "poisson", "absolute_error", "huber", "quantile"]
        )
    )
    params = draw(estimators()).get_params()
    regressor = MLPBackpropRegressor(
        loss=loss,
        quantile=draw(st.sampled_from([0.05, 0.5, 0.95])),
        huber_delta=draw(st.sampled_from([1e-3, 1.0, 100.0])),
        **{k: v for k, v in params.items() if k != "class_weight"},
    )
    return X, y, draw(sample_weights(n_samples)), regressor


@PROFILE
@given(regression_problems())
def test_regressor_fit_and_predict_succeed_or_refuse_clearly(problem):
    X, y, sample_weight, reg = problem
    try:
        reg.fit(X, y, sample_weight=sample_weight)
    except (ValueError, TypeError) as error:
        _assert_clear_refusal(error)
        return
    try:
        prediction = reg.predict(X)
    except (ValueError, TypeError) as error:
        _assert_clear_refusal(error)
        return
    one_output = np.ndim(y) == 1 or np.shape(y)[1] == 1
    assert prediction.shape == ((len(y),) if one_output else np.shape(y))
    assert np.isfinite(prediction).all()
    if reg.loss == "poisson":
        assert (prediction >= 0).all()
    buffer = io.BytesIO()
    save_model(reg, buffer)
    buffer.seek(0)
    np.testing.assert_array_equal(load_model(buffer).predict(X), prediction)
