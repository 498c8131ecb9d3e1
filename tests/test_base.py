"""What every estimator of the family shares (``skbackprop._base``).

Warm starts and ``partial_fit`` continue training exactly (weights, optimizer
state, step count, learning rate and the shuffling generator carry over, also
through a pickle or a model file: two warm fits of four epochs are one fit of
eight), a change of the optimizer's parameters rebuilds it, and
``partial_fit`` is hidden where it cannot work. A refit that is refused leaves
the fitted model as it was, and a refused first fit leaves the estimator
unfitted. ``transform`` returns the hidden activations of
any layer, in the input's dtype, as a pipeline step and as a DataFrame.
"""

import io
import pickle

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline

from skbackprop import MLPBackpropClassifier, load_model, save_model
from skbackprop.callbacks import Checkpoint
from tests._custom_activations import WRONG_MISH
from tests._data import classification
from tests._estimators import hidden_activations, quiet_fit

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


@pytest.mark.parametrize("seed", ["int", "RandomState"])
@pytest.mark.parametrize("how", ["warm-fit", "pickle", "save_model"])
def test_warm_fits_with_shuffling_equal_one_long_fit(small_digits, seed, how):
    # The shuffling generator carries over too: with shuffle=True, epochs
    # 5..8 of two warm fits see the batches that epochs 5..8 of one fit see,
    # also across a pickle or a model file between the two fits.
    X, y = small_digits

    def make(**params):
        random_state = 3 if seed == "int" else np.random.RandomState(3)
        return MLPBackpropClassifier(
            random_state=random_state,
            batch_size=50,
            tol=0,
            n_iter_no_change=100,
            **params,
        )

    warm = _epochs(make(warm_start=True), X, y, 4)
    if how == "pickle":
        warm = pickle.loads(pickle.dumps(warm))
    elif how == "save_model":
        buffer = io.BytesIO()
        save_model(warm, buffer)
        buffer.seek(0)
        warm = load_model(buffer)
    _epochs(warm, X, y, 4)
    single = _epochs(make(), X, y, 8)
    for a, b in zip(warm.coefs_ + warm.intercepts_, single.coefs_ + single.intercepts_):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    assert warm.loss_curve_ == pytest.approx(single.loss_curve_, rel=1e-12)


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


def _no_fit_params(X, y):
    return {}


@pytest.mark.parametrize(
    "params, fit_params",
    [
        # Refused before anything changes.
        (dict(dropout=[0.1, 0.1]), _no_fit_params),
        pytest.param(dict(solver="lbfgs", dropout=0.3), _no_fit_params),
        pytest.param(dict(class_weight={9: 2.0}), _no_fit_params),
        pytest.param({}, lambda X, y: dict(X_val=X, y_val=y + 7)),
        pytest.param({}, lambda X, y: dict(X_val=X)),
    ],
    ids=["dropout-length", "lbfgs-dropout", "class-weight", "y_val", "X_val-only"],
)
def test_rejected_refit_keeps_the_fitted_model(params, fit_params):
    X, y = classification(90)
    clf = MLPBackpropClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    proba = clf.fit(X, y).predict_proba(X)
    n_iter = clf.n_iter_
    clf.set_params(**params)
    with pytest.raises(ValueError):
        clf.fit(X, y, **fit_params(X, y))
    assert clf.n_iter_ == n_iter
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


def test_transform_returns_hidden_activations(small_digits):
    X, y = small_digits
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(20, 12),
        activation=["relu", "tanh"],
        max_iter=5,
        random_state=0,
    ).fit(X, y)
    first, last = hidden_activations(clf, X, ["relu", "tanh"])
    np.testing.assert_allclose(clf.transform(X), last, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(clf.transform(X, layer=0), first, rtol=1e-12)
    np.testing.assert_array_equal(clf.transform(X, layer=-2), clf.transform(X, 0))
    np.testing.assert_array_equal(clf.transform(X, layer=1), clf.transform(X))
    assert clf.transform(X).shape == (len(X), 12)
    assert clf.transform(X, layer=0).shape == (len(X), 20)


@pytest.mark.parametrize("layer", [2, -3, 1.0, "0", None])
def test_transform_refuses_an_invalid_layer(layer):
    X, y = classification(40)
    clf = MLPBackpropClassifier(hidden_layer_sizes=(6, 4), max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="layer must be an integer"):
        clf.transform(X, layer=layer)


def test_transform_without_hidden_layer_is_refused():
    X, y = classification(40)
    clf = MLPBackpropClassifier(hidden_layer_sizes=(), max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="0 hidden layer"):
        clf.transform(X)


def test_transform_as_a_pipeline_step(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    pipeline = make_pipeline(
        MLPBackpropClassifier(hidden_layer_sizes=(32,), max_iter=30, random_state=0),
        LogisticRegression(max_iter=500),
    ).fit(X_train, y_train)
    assert pipeline.score(X_test, y_test) > 0.9
    names = pipeline[0].get_feature_names_out()
    assert list(names) == [f"mlpbackpropclassifier{i}" for i in range(32)]
    np.testing.assert_array_equal(pipeline[:-1].get_feature_names_out(), names)
    assert pipeline[-1].n_features_in_ == 32
    np.testing.assert_array_equal(
        pipeline[-1].predict(pipeline[0].transform(X_test)), pipeline.predict(X_test)
    )


def test_transform_keeps_float32(small_digits):
    X, y = small_digits
    X32 = X.astype(np.float32)
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(16, 8), max_iter=3, random_state=0
    ).fit(X32, y)
    for layer in [0, -1]:
        features = clf.transform(X32, layer=layer)
        assert features.dtype == np.float32
    reference = MLPBackpropClassifier(
        hidden_layer_sizes=(16, 8), max_iter=3, random_state=0
    ).fit(X, y)
    np.testing.assert_allclose(
        clf.transform(X32), reference.transform(X), rtol=1e-3, atol=1e-4
    )


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


def _refusals(tmp_path):
    """Estimator parameters, and callbacks, that refuse a fit after validation."""
    return {
        # The derivative check runs once the data are validated.
        "derivative": (dict(activation=WRONG_MISH), ()),
        # A callback can refuse the fit when it is set up.
        "callback": (dict(), (Checkpoint(tmp_path / "best.skbp", monitor="val_loss"),)),
    }


@pytest.mark.parametrize("cause", ["derivative", "callback"])
def test_a_fit_refused_after_validation_leaves_a_new_model_unfitted(tmp_path, cause):
    X, y = classification()
    params, callbacks = _refusals(tmp_path)[cause]
    clf = MLPBackpropClassifier(max_iter=2, random_state=0, **params)
    if callbacks:
        clf.set_callbacks(*callbacks)
    with pytest.raises(ValueError):
        clf.fit(X, y)
    # Nothing that validation set is left behind to look like a fitted model.
    assert not [name for name in vars(clf) if name.endswith("_")]
    with pytest.raises(NotFittedError):
        clf.predict(X)


@pytest.mark.parametrize("cause", ["derivative", "callback"])
def test_a_refit_refused_after_validation_keeps_the_fitted_model(tmp_path, cause):
    X, y = classification()
    clf = quiet_fit(MLPBackpropClassifier(max_iter=2, random_state=0), X, y)
    expected = clf.predict_proba(X)
    params, callbacks = _refusals(tmp_path)[cause]
    clf.set_params(**params)
    if callbacks:
        clf.set_callbacks(*callbacks)
    fitted = dict(vars(clf))
    # Other data: fewer features and other classes, which validation records.
    with pytest.raises(ValueError):
        clf.fit(X[:, :3], np.where(y == 0, "a", "b"))
    assert clf.n_features_in_ == X.shape[1]
    assert set(vars(clf)) == set(fitted)
    assert all(vars(clf)[name] is value for name, value in fitted.items())
    np.testing.assert_array_equal(clf.predict_proba(X), expected)
