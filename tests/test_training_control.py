"""Training control: dropout, class weights, L1, clipping, initialisation,
optimizers and schedules, validation data, history, callbacks, transform.

Every feature is checked against ground truth rather than against itself:
finite differences for the gradients, the closed-form update rules for the
optimizers and initialisers, scikit-learn's own utilities (class weights,
metrics, callbacks) and exact equivalences (a class weight of ``k`` is a
sample weight of ``k``, a sample weight of ``k`` is ``k`` copies).
"""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.callback import ProgressBar, ScoringMonitor
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, balanced_accuracy_score, log_loss
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.class_weight import compute_sample_weight

from skbackprop import MLPBackpropClassifier
from skbackprop._dropout import Dropout, DropoutBatch
from skbackprop._initializers import initial_weights
from skbackprop._network import Network
from skbackprop._optimizers import OptimizerSettings, make_optimizer
from skbackprop._rows import row_keys
from skbackprop._targets import one_hot
from tests._finite_differences import (
    numerical_gradient,
    objective,
    random_network,
    relative_error,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

STOCHASTIC_SOLVERS = ["sgd", "adam", "adamw", "rmsprop", "adagrad"]
SCHEDULES = ["constant", "invscaling", "adaptive"]


# ----------------------------------------------------------------- helpers
def _classification(n_samples=240, n_classes=3, seed=0):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=10,
        n_informative=6,
        n_redundant=0,
        n_classes=n_classes,
        random_state=seed,
    )
    return X, y


def _split(n_train=180, n_samples=240, seed=0):
    X, y = _classification(n_samples, seed=seed)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def _params(clf):
    """All weights, then all biases, as one vector (the training layout)."""
    return np.concatenate([c.ravel() for c in clf.coefs_] + list(clf.intercepts_))


def _assert_same_weights(a, b, rtol=0.0, atol=0.0):
    for left, right in zip(
        a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True
    ):
        np.testing.assert_allclose(left, right, rtol=rtol, atol=atol)


def _manual_hidden_activations(clf, X, activations):
    """Forward pass written out with numpy, one array per hidden layer."""
    functions = {"relu": lambda Z: np.maximum(Z, 0), "tanh": np.tanh}
    A, layers = X, []
    for coef, intercept, name in zip(
        clf.coefs_[:-1], clf.intercepts_[:-1], activations, strict=True
    ):
        A = functions[name](A @ coef + intercept)
        layers.append(A)
    return layers


class _Callback:
    """A scikit-learn FitCallback that does nothing; subclasses add to it."""

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        return False


class _StopAfter(_Callback):
    """Asks training to stop once ``n`` epochs (or iterations) have ended."""

    def __init__(self, n):
        self.n = n
        self.ended = 0

    def on_fit_task_end(self, estimator, context):
        if context.parent is None:  # the whole fit, not an epoch
            return False
        self.ended += 1
        return self.ended >= self.n


class _InitialWeights(_Callback):
    """Copies the weights the estimator holds when its fit task begins."""

    def on_fit_task_begin(self, estimator, context):
        if context.parent is None:
            self.coefs = [c.copy() for c in estimator.coefs_]
            self.intercepts = [b.copy() for b in estimator.intercepts_]


# ----------------------------------------------------------------- dropout
@pytest.mark.parametrize("n_hidden", [1, 2])
@pytest.mark.parametrize("activation", ["tanh", "relu", "softplus"])
@pytest.mark.parametrize("target", ["multiclass", "binary"])
def test_dropout_gradient_matches_finite_differences(activation, n_hidden, target):
    # With the masks fixed (same rows, same epoch) the objective is a fixed
    # function of the parameters, and backpropagation must be its gradient.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(12, 4))
    if target == "multiclass":
        Y, output = np.eye(3)[rng.randint(0, 3, size=12)], "softmax"
    else:
        Y, output = rng.randint(0, 2, size=(12, 1)).astype(float), "logistic"
    sample_weight = rng.uniform(0.2, 3.0, size=12)
    hidden_units = [6, 5][:n_hidden]
    rates = (0.4, 0.3)[:n_hidden]
    network = random_network(
        [4, *hidden_units, Y.shape[1]], [activation] * n_hidden, output
    )
    dropout = DropoutBatch(
        Dropout(rates, 12345, hidden_units, len(X), np.float64), row_keys(X), 1
    )
    loss = objective(network, X, Y, sample_weight, alpha=0.1, dropout=dropout)
    loss()
    analytic = network.grads.copy()
    mask = loss.workspace.masks[0][: len(X)]
    assert 0 < np.count_nonzero(mask) < mask.size  # some units really dropped
    numeric = numerical_gradient(loss, network.params)
    assert relative_error(analytic, numeric) < 1e-6

    # The masks change the gradient: dropout is not a no-op.
    objective(network, X, Y, sample_weight, alpha=0.1)()
    assert relative_error(analytic, network.grads) > 1e-3


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_mask_keeps_one_minus_p_and_scales_by_its_inverse(rate):
    n_rows, width = 4000, 50
    X = np.random.RandomState(0).normal(size=(n_rows, 5))
    dropout = Dropout((rate,), 7, (width,), n_rows, np.float64)
    mask = dropout.fill_mask(0, row_keys(X), 0, out=np.empty((n_rows, width)))
    kept = mask != 0
    np.testing.assert_allclose(mask[kept], 1 / (1 - rate), rtol=1e-15)
    # 200 000 Bernoulli draws: the kept fraction is within 0.01 of 1 - p and
    # the mask's mean (the expected scale of a unit) within 0.03 of 1.
    assert abs(kept.mean() - (1 - rate)) < 0.01
    assert abs(mask.mean() - 1) < 0.03
    # Every unit is dropped at about the same rate.
    assert np.ptp(kept.mean(axis=0)) < 0.1


def test_dropout_masks_depend_on_row_epoch_layer_and_seed():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4))
    X[1] = X[0]  # an identical row
    keys = row_keys(X)
    dropout = Dropout((0.5, 0.5), 11, (40, 40), len(X), np.float64)

    def mask(layer=0, epoch=0, keys=keys, drop=dropout):
        return drop.fill_mask(layer, keys, epoch, out=np.empty((len(keys), 40)))

    first = mask()
    np.testing.assert_array_equal(first, mask())  # deterministic
    np.testing.assert_array_equal(first[0], first[1])  # identical rows, same mask
    assert (first[2:] != first[2]).any(axis=1).mean() > 0.99  # distinct rows differ
    # A row's mask does not depend on its place in the batch.
    order = rng.permutation(len(X))
    np.testing.assert_array_equal(mask(keys=keys[order]), first[order])
    # New masks every epoch, for every layer and for another seed: about half
    # the entries of two independent masks with p = 0.5 disagree.
    other_seed = Dropout((0.5, 0.5), 12, (40, 40), len(X), np.float64)
    for other in [mask(epoch=1), mask(layer=1), mask(drop=other_seed)]:
        assert 0.45 < (other != first).mean() < 0.55


def test_dropout_mask_of_a_late_epoch_emits_no_overflow_warning():
    X = np.random.RandomState(0).normal(size=(10, 3))
    dropout = Dropout((0.5,), 3, (8,), 10, np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mask = dropout.fill_mask(0, row_keys(X), 5, out=np.empty((10, 8)))
    assert set(np.unique(mask)) <= {0.0, 2.0}


def test_dropout_is_seeded_training_only_and_deterministic_in_prediction():
    X, y = _classification(150)
    params = dict(
        hidden_layer_sizes=(16, 8), dropout=0.3, max_iter=5, learning_rate_init=0.01
    )
    first = MLPBackpropClassifier(random_state=0, **params).fit(X, y)
    again = MLPBackpropClassifier(random_state=0, **params).fit(X, y)
    _assert_same_weights(first, again)  # bit for bit
    # Dropout changed training: without it the same seed gives other weights.
    plain = MLPBackpropClassifier(random_state=0, **{**params, "dropout": 0.0})
    assert not np.allclose(_params(plain.fit(X, y)), _params(first))
    # Prediction uses every unit, unscaled: the network's plain forward pass.
    proba = first.predict_proba(X)
    np.testing.assert_array_equal(proba, first.predict_proba(X))
    hidden = _manual_hidden_activations(first, X, ["relu", "relu"])[-1]
    logits = hidden @ first.coefs_[-1] + first.intercepts_[-1]
    expected = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(
        proba, expected / expected.sum(axis=1, keepdims=True), rtol=1e-12
    )


def test_dropout_sample_weight_acts_as_repeats():
    # Masks are keyed on the row's content, so a weight of k is k copies even
    # with dropout (one batch each, so the batches agree too).
    rng = np.random.RandomState(0)
    X = rng.normal(size=(40, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    counts = rng.randint(0, 4, size=40)
    params = dict(
        hidden_layer_sizes=(8, 6),
        dropout=[0.3, 0.5],
        shuffle=False,
        max_iter=10,
        learning_rate_init=0.01,
        random_state=0,
    )
    weighted = MLPBackpropClassifier(**params).fit(X, y, sample_weight=counts)
    repeated = MLPBackpropClassifier(**params).fit(
        np.repeat(X, counts, axis=0), np.repeat(y, counts)
    )
    np.testing.assert_allclose(weighted.loss_curve_, repeated.loss_curve_, rtol=1e-10)
    _assert_same_weights(weighted, repeated, rtol=1e-8, atol=1e-12)


def test_dropout_partial_fit_epochs_equal_fit_epochs(small_digits):
    # Every partial_fit call is a new epoch with new masks, as in fit. (Without
    # shuffling: each partial_fit call shuffles its data from the original
    # order, whereas fit keeps permuting one order, so the batches would differ.)
    X, y = small_digits
    params = dict(hidden_layer_sizes=(20,), dropout=0.4, shuffle=False, random_state=0)
    fitted = MLPBackpropClassifier(max_iter=3, **params).fit(X, y)
    incremental = MLPBackpropClassifier(**params)
    for _ in range(3):
        incremental.partial_fit(X, y, classes=np.unique(y))
    np.testing.assert_allclose(incremental.loss_curve_, fitted.loss_curve_, rtol=1e-12)
    _assert_same_weights(incremental, fitted, rtol=1e-12)


@pytest.mark.parametrize(
    "params, error, message",
    [
        (
            dict(hidden_layer_sizes=(8, 4), dropout=[0.2]),
            ValueError,
            "dropout has 1 entries but hidden_layer_sizes defines 2",
        ),
        (
            dict(hidden_layer_sizes=(8,), dropout=[0.2, 0.2, 0.2]),
            ValueError,
            "dropout has 3 entries",
        ),
        (
            dict(hidden_layer_sizes=(8, 4), dropout=[0.2, 1.0]),
            ValueError,
            r"in \[0, 1\)",
        ),
        (
            dict(hidden_layer_sizes=(8, 4), dropout=[-0.1, 0.2]),
            ValueError,
            r"in \[0, 1\)",
        ),
        (dict(dropout=1.0), InvalidParameterError, "dropout"),
        (dict(dropout=0.5, solver="lbfgs"), ValueError, "stochastic solver"),
    ],
)
def test_dropout_invalid_settings_are_refused(params, error, message):
    X, y = _classification(60)
    with pytest.raises(error, match=message):
        MLPBackpropClassifier(max_iter=2, **params).fit(X, y)


# ------------------------------------------------------------ class_weight
@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("with_sample_weight", [False, True])
def test_class_weight_dict_equals_sample_weight(solver, with_sample_weight):
    X, y = _classification(150)
    class_weight = {0: 3.0, 2: 0.5}  # class 1 keeps weight 1
    per_class = np.array([3.0, 1.0, 0.5])
    sample_weight = (
        np.random.RandomState(0).uniform(0.5, 2.0, size=len(y))
        if with_sample_weight
        else None
    )
    expected_weight = per_class[y] * (1 if sample_weight is None else sample_weight)
    params = dict(
        hidden_layer_sizes=(10,),
        solver=solver,
        shuffle=False,
        batch_size=50,
        max_iter=8,
        random_state=0,
    )
    by_class = MLPBackpropClassifier(class_weight=class_weight, **params).fit(
        X, y, sample_weight=sample_weight
    )
    by_sample = MLPBackpropClassifier(**params).fit(X, y, sample_weight=expected_weight)
    _assert_same_weights(by_class, by_sample, rtol=1e-12)
    # ... and it is not the unweighted model.
    unweighted = MLPBackpropClassifier(**params).fit(X, y, sample_weight=sample_weight)
    assert not np.allclose(_params(unweighted), _params(by_class))


@pytest.mark.parametrize("target", ["multiclass", "multilabel"])
def test_class_weight_balanced_equals_compute_sample_weight(target):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(90, 5))
    if target == "multiclass":  # imbalanced: about 55%, 30%, 15%
        y = np.digitize(X[:, 0], [0.1, 1.0])
    else:
        y = (rng.uniform(size=(90, 3)) < [0.2, 0.5, 0.8]).astype(int)
    params = dict(hidden_layer_sizes=(8,), solver="lbfgs", max_iter=30, random_state=0)
    balanced = MLPBackpropClassifier(class_weight="balanced", **params).fit(X, y)
    reference = MLPBackpropClassifier(**params).fit(
        X, y, sample_weight=compute_sample_weight("balanced", y)
    )
    _assert_same_weights(balanced, reference, rtol=1e-10, atol=1e-14)
    assert balanced.predict(X).shape == np.shape(y)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_class_weight_balanced_with_integer_weights_equals_repeats(solver):
    # 'balanced' counts the classes with their weights: k copies or a weight
    # of k give the same class balance and the same model.
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    y = np.where(X[:, 0] > 0.6, 2, np.where(X[:, 1] > 0, 1, 0))
    counts = rng.randint(0, 4, size=60)
    counts[[np.flatnonzero(y == c)[0] for c in range(3)]] = 1  # every class kept
    params = dict(
        hidden_layer_sizes=(6,),
        solver=solver,
        class_weight="balanced",
        shuffle=False,
        max_iter=30,
        random_state=0,
    )
    weighted = MLPBackpropClassifier(**params).fit(X, y, sample_weight=counts)
    repeated = MLPBackpropClassifier(**params).fit(
        np.repeat(X, counts, axis=0), np.repeat(y, counts)
    )
    assert weighted.n_iter_ == repeated.n_iter_
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-8, atol=1e-12
    )
    # The weights really matter: unit weights give another model.
    unit = MLPBackpropClassifier(**params).fit(X, y)
    assert np.abs(unit.predict_proba(X) - weighted.predict_proba(X)).max() > 1e-3


@pytest.mark.parametrize(
    "y_kind, class_weight, message",
    [
        ("multilabel", {0: 2.0}, "single-label targets"),
        ("multiclass", {0: 2.0, 7: 1.5}, r"not in the data: \[7\]"),
        ("multiclass", {"a": 2.0}, "not in the data"),
    ],
)
def test_class_weight_dict_errors(y_kind, class_weight, message):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 3))
    y = (rng.uniform(size=(30, 2)) < 0.5).astype(int)
    if y_kind == "multiclass":
        y = np.arange(30) % 3
    clf = MLPBackpropClassifier(class_weight=class_weight, max_iter=2)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y)


def test_partial_fit_unavailable_with_balanced_class_weight():
    clf = MLPBackpropClassifier(class_weight="balanced")
    assert not hasattr(clf, "partial_fit")
    with pytest.raises(AttributeError) as error:
        clf.partial_fit  # noqa: B018
    assert "class_weight='balanced'" in str(error.value.__cause__)
    assert "compute_class_weight" in str(error.value.__cause__)
    # A dict is fixed in advance, so incremental training keeps it.
    X, y = _classification(60)
    by_dict = MLPBackpropClassifier(class_weight={0: 2.0}, random_state=0)
    by_dict.partial_fit(X, y, classes=[0, 1, 2])
    by_weight = MLPBackpropClassifier(random_state=0)
    by_weight.partial_fit(
        X, y, classes=[0, 1, 2], sample_weight=np.where(y == 0, 2.0, 1.0)
    )
    _assert_same_weights(by_dict, by_weight, rtol=1e-12)


# --------------------------------------------------------------- L1 penalty
@pytest.mark.parametrize("hidden_units", [[5], [5, 4]])
@pytest.mark.parametrize("activation", ["tanh", "gelu"])
def test_l1_gradient_matches_finite_differences(activation, hidden_units):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(9, 4))
    Y = np.eye(3)[rng.randint(0, 3, size=9)]
    sample_weight = rng.uniform(0.2, 3.0, size=9)
    network = random_network(
        [4, *hidden_units, 3], [activation] * len(hidden_units), "softmax"
    )
    step = 1e-5
    # |W| is differentiable away from 0: no weight within a step of it.
    assert np.abs(network.params[: network.n_coef]).min() > 10 * step
    loss = objective(network, X, Y, sample_weight, alpha=0.2, alpha_l1=0.3)
    loss()
    analytic = network.grads.copy()
    numeric = numerical_gradient(loss, network.params, step)
    assert relative_error(analytic, numeric) < 1e-6


def test_l1_penalty_is_added_to_the_loss_as_a_weighted_mean():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(9, 4))
    Y = np.eye(3)[rng.randint(0, 3, size=9)]
    sample_weight = rng.uniform(0.2, 3.0, size=9)
    network = random_network([4, 5, 3], ["tanh"], "softmax")
    without = objective(network, X, Y, sample_weight, alpha=0.1)()
    grads_without = network.grads.copy()
    alpha_l1 = 0.3
    with_l1 = objective(network, X, Y, sample_weight, alpha=0.1, alpha_l1=alpha_l1)()
    # Weights only, as for L2: the biases are not penalised.
    weights = np.concatenate([c.ravel() for c in network.coefs])
    np.testing.assert_allclose(
        with_l1 - without,
        alpha_l1 * np.abs(weights).sum() / sample_weight.sum(),
        rtol=1e-12,
    )
    expected = grads_without.copy()
    expected[: network.n_coef] += alpha_l1 * np.sign(weights) / sample_weight.sum()
    np.testing.assert_allclose(network.grads, expected, rtol=1e-12, atol=1e-15)


def test_larger_alpha_l1_gives_sparser_weights(small_digits):
    X, y = small_digits
    near_zero, l1_norms = [], []
    for alpha_l1 in [0.0, 0.01, 0.1]:
        clf = MLPBackpropClassifier(
            hidden_layer_sizes=(32,),
            alpha=0.0,
            alpha_l1=alpha_l1,
            learning_rate_init=0.01,
            max_iter=50,
            random_state=0,
        ).fit(X, y)
        weights = np.concatenate([c.ravel() for c in clf.coefs_])
        near_zero.append(np.mean(np.abs(weights) < 1e-2))
        l1_norms.append(np.abs(weights).sum())
        assert clf.score(X, y) > 0.95
    assert near_zero[0] < near_zero[1] < near_zero[2]
    assert near_zero[2] > 2 * near_zero[0]
    assert l1_norms[0] > l1_norms[1] > l1_norms[2]


# -------------------------------------------------------- gradient clipping
@pytest.mark.parametrize("max_grad_norm", [1e-3, 1e6])
def test_max_grad_norm_clips_the_step_by_global_norm(max_grad_norm):
    # A full-batch SGD step without momentum moves the parameters by
    # lr * min(|g|, max_grad_norm); history_ records |g| before clipping.
    X, y = _classification(60)
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
        step = np.linalg.norm(_params(clf) - before)
        np.testing.assert_allclose(
            step, learning_rate * min(gradient_norm, max_grad_norm), rtol=1e-10
        )
        np.testing.assert_allclose(
            clf.history_["grad_norm"][epoch], layer_norms, rtol=1e-10
        )
        assert gradient_norm > 100 * 1e-3  # the small threshold really clips
        before, layer_norms, gradient_norm = gradient_at(clf.coefs_, clf.intercepts_)


# --------------------------------------------------------- initialisation
@pytest.mark.parametrize(
    "scheme, std, bound",
    [
        ("glorot_uniform", np.sqrt(2 / 900), np.sqrt(6 / 900)),
        ("glorot_normal", np.sqrt(2 / 900), None),
        ("he_uniform", np.sqrt(2 / 500), np.sqrt(6 / 500)),
        ("he_normal", np.sqrt(2 / 500), None),
        ("lecun_uniform", np.sqrt(1 / 500), np.sqrt(3 / 500)),
        ("lecun_normal", np.sqrt(1 / 500), None),
    ],
)
def test_initializers_have_the_documented_scale(scheme, std, bound):
    # fan_in 500, fan_out 400: 200 000 draws pin the std to within 1%.
    coefs, intercepts = initial_weights(
        scheme, [500, 400, 3], ["relu", "relu"], np.random.RandomState(0), np.float64
    )
    W = coefs[0]
    assert W.shape == (500, 400)
    np.testing.assert_allclose(W.std(), std, rtol=0.01)
    assert abs(W.mean()) < 0.01 * std
    if bound is not None:
        assert np.abs(W).max() <= bound
        assert np.abs(W).max() > 0.999 * bound
    if scheme == "glorot_uniform":  # biases drawn like the weights
        assert 0 < np.abs(intercepts[0]).max() <= bound
    elif scheme.startswith(("he", "lecun")):
        assert all(not b.any() for b in intercepts)


@pytest.mark.parametrize("activation", ["relu", "logistic", "tanh"])
def test_glorot_uniform_is_mlpclassifiers_scheme(activation):
    # sklearn.neural_network.MLPClassifier._init_coef, layer after layer from
    # one generator: U(-b, b) weights, then biases, b = sqrt(6 / (in + out)),
    # with factor 2 instead of 6 for logistic layers.
    units = [64, 30, 20, 10]
    ours = initial_weights(
        "glorot_uniform", units, [activation] * 3, np.random.RandomState(42), np.float64
    )
    rng = np.random.RandomState(42)
    factor = 2.0 if activation == "logistic" else 6.0
    for layer, (fan_in, fan_out) in enumerate(zip(units[:-1], units[1:])):
        bound = np.sqrt(factor / (fan_in + fan_out))
        np.testing.assert_array_equal(
            ours[0][layer], rng.uniform(-bound, bound, (fan_in, fan_out))
        )
        np.testing.assert_array_equal(
            ours[1][layer], rng.uniform(-bound, bound, fan_out)
        )


@pytest.mark.parametrize("init", ["glorot_uniform", "he_normal", "lecun_uniform"])
def test_estimator_starts_from_the_chosen_initializer(small_digits, init):
    X, y = small_digits
    recorder = _InitialWeights()
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(16, 8),
        activation="tanh",
        init=init,
        max_iter=1,
        random_state=5,
    )
    clf.set_callbacks(recorder).fit(X, y)
    # The output layer is scaled like the last hidden layer.
    coefs, intercepts = initial_weights(
        init, [64, 16, 8, 10], ["tanh"] * 3, np.random.RandomState(5), np.float64
    )
    for got, expected in zip(
        recorder.coefs + recorder.intercepts, coefs + intercepts, strict=True
    ):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("init", ["xavier", "he", "normal", None])
def test_unknown_initializer_is_refused(init):
    X, y = _classification(30)
    with pytest.raises(InvalidParameterError, match="init") as error:
        MLPBackpropClassifier(init=init).fit(X, y)
    assert isinstance(error.value, ValueError)


# --------------------------------------------------------------- optimizers
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
    _assert_same_weights(adam, adamw)
    assert adam.loss_curve_ == adamw.loss_curve_
    # The default decay does change the run.
    decayed = MLPBackpropClassifier(solver="adamw", **params).fit(X, y)
    assert not np.array_equal(_params(decayed), _params(adam))


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
    X, y = _classification(100)
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
        assert not np.allclose(_params(constant.fit(X, y)), _params(clf))


# -------------------------------------------------------- validation data
@pytest.mark.parametrize("solver", ["adam", "rmsprop", "lbfgs"])
def test_validation_data_is_recorded_every_epoch(solver):
    X, y, X_val, y_val = _split()
    w_val = np.random.RandomState(0).uniform(0.5, 2.0, size=len(y_val))
    params = dict(
        hidden_layer_sizes=(16,),
        solver=solver,
        learning_rate_init=0.01,
        max_iter=12,
        random_state=0,
    )
    clf = MLPBackpropClassifier(**params).fit(
        X, y, X_val=X_val, y_val=y_val, sample_weight_val=w_val
    )
    history = clf.history_
    assert len(history["val_loss"]) == len(history["val_score"]) == clf.n_iter_ > 1
    assert np.isfinite(history["val_loss"]).all()
    # The last entries are those of the final weights (no early stopping).
    np.testing.assert_allclose(
        history["val_loss"][-1],
        log_loss(y_val, clf.predict_proba(X_val), sample_weight=w_val),
        rtol=1e-9,
    )
    assert history["val_score"][-1] == pytest.approx(
        accuracy_score(y_val, clf.predict(X_val), sample_weight=w_val), abs=1e-12
    )
    # Monitoring is passive: without early stopping, training is unchanged.
    _assert_same_weights(clf, MLPBackpropClassifier(**params).fit(X, y))


def test_early_stopping_monitors_the_given_validation_data():
    X, y, X_val, y_val = _split()
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(32,),
        early_stopping=True,
        n_iter_no_change=3,
        learning_rate_init=0.02,
        max_iter=300,
        random_state=0,
    ).fit(X, y, X_val=X_val, y_val=y_val)
    assert clf.n_iter_ < 300
    assert clf.t_ == clf.n_iter_ * len(X)  # nothing held out of X
    assert clf.validation_scores_ == clf.history_["val_score"]
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    # The best epoch's weights are restored.
    assert clf.score(X_val, y_val) == clf.best_validation_score_


def test_scoring_loss_monitors_the_negative_validation_log_loss():
    X, y, X_val, y_val = _split()
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(16,),
        early_stopping=True,
        scoring="loss",
        n_iter_no_change=3,
        learning_rate_init=0.05,
        max_iter=300,
        random_state=0,
    ).fit(X, y, X_val=X_val, y_val=y_val)
    val_loss = np.array(clf.history_["val_loss"])
    np.testing.assert_array_equal(clf.history_["val_score"], -val_loss)
    np.testing.assert_array_equal(clf.validation_scores_, -val_loss)
    assert clf.n_iter_ < 300  # the validation loss turned up and stopped it
    assert clf.best_validation_score_ == -val_loss.min()
    np.testing.assert_allclose(
        log_loss(y_val, clf.predict_proba(X_val)), val_loss.min(), rtol=1e-9
    )


def _weighted_accuracy(estimator, X, y, sample_weight=None):
    return accuracy_score(y, estimator.predict(X), sample_weight=sample_weight)


@pytest.mark.parametrize(
    "scoring, metric",
    [
        ("balanced_accuracy", balanced_accuracy_score),
        ("accuracy", accuracy_score),
        (_weighted_accuracy, accuracy_score),
    ],
    ids=["balanced_accuracy", "accuracy", "callable"],
)
def test_scoring_names_and_callables_score_validation_data(scoring, metric):
    X, y, X_val, y_val = _split()
    y_val = np.where(np.arange(len(y_val)) < 40, 0, y_val)  # imbalanced
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(16,),
        scoring=scoring,
        learning_rate_init=0.01,
        max_iter=6,
        random_state=0,
    )
    clf.fit(X, y, X_val=X_val, y_val=y_val)
    assert len(clf.history_["val_score"]) == 6
    assert clf.history_["val_score"][-1] == pytest.approx(
        metric(y_val, clf.predict(X_val)), abs=1e-12
    )


def test_plain_callable_scorer_without_sample_weight():
    X, y, X_val, y_val = _split()

    def accuracy(estimator, X, y):
        return float(np.mean(estimator.predict(X) == y))

    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(8,), scoring=accuracy, max_iter=3, random_state=0
    )
    clf.fit(X, y, X_val=X_val, y_val=y_val)
    assert clf.history_["val_score"][-1] == accuracy(clf, X_val, y_val)


@pytest.mark.parametrize(
    "validation, message",
    [
        (lambda Xv, yv: dict(X_val=Xv), "must be given together"),
        (lambda Xv, yv: dict(y_val=yv), "must be given together"),
        (lambda Xv, yv: dict(sample_weight_val=np.ones(len(yv))), "without X_val"),
        (
            lambda Xv, yv: dict(X_val=Xv, y_val=np.where(yv == 0, 7, yv)),
            r"y_val has classes not in the training data: \[7\]",
        ),
        (lambda Xv, yv: dict(X_val=Xv[:5], y_val=yv), "samples"),
        (lambda Xv, yv: dict(X_val=Xv[:, :3], y_val=yv), "features"),
    ],
)
def test_invalid_validation_data_is_refused(validation, message):
    X, y, X_val, y_val = _split()
    clf = MLPBackpropClassifier(hidden_layer_sizes=(4,), max_iter=2)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y, **validation(X_val, y_val))


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
    X, y = _classification(90)
    clf = MLPBackpropClassifier(hidden_layer_sizes=(8,), max_iter=30, random_state=0)
    proba = clf.fit(X, y).predict_proba(X)
    n_iter = clf.n_iter_
    clf.set_params(**params)
    with pytest.raises(ValueError):
        clf.fit(X, y, **fit_params(X, y))
    assert clf.n_iter_ == n_iter
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


@pytest.mark.parametrize("class_weight", ["balanced", {0: 3.0}])
def test_early_stopping_split_with_class_weight_acts_as_repeats(class_weight):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] > 0.5).astype(int)  # about 30% ones
    counts = rng.randint(0, 4, size=60)
    order = rng.permutation(counts.sum())
    X_rep, y_rep = np.repeat(X, counts, axis=0)[order], np.repeat(y, counts)[order]
    params = dict(
        early_stopping=True,
        class_weight=class_weight,
        random_state=0,
        max_iter=30,
        hidden_layer_sizes=(10,),
        batch_size=200,
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Got `batch_size`")
        weighted = MLPBackpropClassifier(**params).fit(X, y, sample_weight=counts)
        repeated = MLPBackpropClassifier(**params).fit(X_rep, y_rep)
    np.testing.assert_allclose(weighted.validation_scores_, repeated.validation_scores_)
    np.testing.assert_allclose(
        weighted.history_["val_loss"], repeated.history_["val_loss"], rtol=1e-8
    )
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-6
    )


# ------------------------------------------------------------------ history
@pytest.mark.parametrize("solver", ["lbfgs", *STOCHASTIC_SOLVERS])
def test_history_has_one_entry_per_epoch_for_every_solver(solver):
    X, y = _classification(120)
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(8, 6), solver=solver, max_iter=5, random_state=0
    ).fit(X, y)
    history = clf.history_
    assert set(history) == {
        "loss",
        "val_loss",
        "val_score",
        "learning_rate",
        "grad_norm",
    }
    assert all(len(values) == clf.n_iter_ for values in history.values())
    assert clf.n_iter_ == len(clf.loss_curve_) > 1
    assert history["loss"] == clf.loss_curve_
    assert history["val_loss"] == history["val_score"] == [None] * clf.n_iter_
    rates = np.array(history["learning_rate"])
    if solver == "lbfgs":
        assert np.isnan(rates).all()
    else:
        np.testing.assert_array_equal(rates, clf.learning_rate_init)
    # One gradient norm per layer, ready to plot.
    norms = pd.DataFrame(history["grad_norm"])
    assert norms.shape == (clf.n_iter_, clf.n_layers_ - 1)
    assert (norms.to_numpy() > 0).all() and np.isfinite(norms.to_numpy()).all()
    table = pd.DataFrame(history)
    assert table.shape == (clf.n_iter_, 5)
    np.testing.assert_array_equal(table["loss"], clf.loss_curve_)


def test_lbfgs_grad_norm_is_the_gradient_at_each_accepted_iterate():
    X, y = _classification(120)
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


def test_history_accumulates_across_warm_start_and_partial_fit(small_digits):
    X, y = small_digits
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(10,), warm_start=True, max_iter=3, random_state=0
    )
    clf.fit(X, y).fit(X, y)
    assert len(clf.loss_curve_) == 6
    assert all(len(values) == 6 for values in clf.history_.values())
    assert clf.history_["loss"] == clf.loss_curve_

    incremental = MLPBackpropClassifier(hidden_layer_sizes=(10,), random_state=0)
    for _ in range(4):
        incremental.partial_fit(X, y, classes=np.unique(y))
    assert all(len(values) == 4 for values in incremental.history_.values())
    # A fresh (cold) fit starts a new history.
    clf.set_params(warm_start=False).fit(X, y)
    assert all(len(values) == 3 for values in clf.history_.values())


def test_verbose_lbfgs_prints_one_line_per_recorded_iteration(capsys):
    X, y = _classification(60)
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


# ---------------------------------------------------------------- callbacks
@pytest.mark.parametrize("solver, task", [("adam", "epoch"), ("lbfgs", "lbfgs-iter")])
def test_scoring_monitor_logs_every_epoch_or_iteration(small_digits, solver, task):
    X, y = small_digits
    monitor = ScoringMonitor(scoring="accuracy")
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(16,), solver=solver, max_iter=6, random_state=0
    ).set_callbacks(monitor)
    clf.fit(X, y)
    all_rows = monitor.get_logs().data
    assert all(row["estimator_name"] == "MLPBackpropClassifier" for row in all_rows)
    # One row for the fitted model as a whole, as LogisticRegression logs.
    fit_rows = [row for row in all_rows if row["task_name"] == "fit"]
    assert len(fit_rows) == 1 and fit_rows[0]["accuracy"] == clf.score(X, y)
    rows = [row for row in all_rows if row["task_name"] != "fit"]
    assert [row["task_name"] for row in rows] == [task] * clf.n_iter_
    assert [row["task_id"] for row in rows] == list(range(clf.n_iter_))
    # Each row scores the model of its epoch; the last is the fitted model.
    assert rows[-1]["accuracy"] == clf.score(X, y)
    assert rows[0]["accuracy"] < rows[-1]["accuracy"]
    if solver == "lbfgs":
        # LogisticRegression's lbfgs also logs one row per iteration (and one
        # more for the fitted model as a whole).
        reference = ScoringMonitor(scoring="accuracy")
        logistic = LogisticRegression(max_iter=6).set_callbacks(reference).fit(X, y)
        iterations = [
            row for row in reference.get_logs().data if row["task_name"] == "lbfgs-iter"
        ]
        assert len(iterations) == logistic.n_iter_[0]


def test_progress_bar():
    X, y = _classification(60)
    try:
        import rich  # noqa: F401
    except ImportError:
        # scikit-learn's ProgressBar needs the optional package rich.
        with pytest.raises(ImportError, match="rich"):
            ProgressBar()
        return
    reference = MLPBackpropClassifier(max_iter=4, random_state=0).fit(X, y)
    clf = MLPBackpropClassifier(max_iter=4, random_state=0)
    clf.set_callbacks(ProgressBar()).fit(X, y)
    assert clf.n_iter_ == 4
    _assert_same_weights(clf, reference)


@pytest.mark.parametrize("solver", ["sgd", "adam", "rmsprop", "lbfgs"])
def test_callback_can_stop_training(solver):
    X, y = _classification(120)
    stopper = _StopAfter(3)
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(8,), solver=solver, max_iter=50, random_state=0
    ).set_callbacks(stopper)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # a stop is no failure
        clf.fit(X, y)
    assert clf.n_iter_ == 3
    assert len(clf.loss_curve_) == 3
    assert all(len(values) == 3 for values in clf.history_.values())
    # The model is that of the third epoch: the same as three epochs' worth.
    reference = MLPBackpropClassifier(
        hidden_layer_sizes=(8,), solver=solver, max_iter=3, random_state=0
    ).fit(X, y)
    _assert_same_weights(clf, reference)


# ---------------------------------------------------------------- transform
def test_transform_returns_hidden_activations(small_digits):
    X, y = small_digits
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(20, 12),
        activation=["relu", "tanh"],
        max_iter=5,
        random_state=0,
    ).fit(X, y)
    first, last = _manual_hidden_activations(clf, X, ["relu", "tanh"])
    np.testing.assert_allclose(clf.transform(X), last, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(clf.transform(X, layer=0), first, rtol=1e-12)
    np.testing.assert_array_equal(clf.transform(X, layer=-2), clf.transform(X, 0))
    np.testing.assert_array_equal(clf.transform(X, layer=1), clf.transform(X))
    assert clf.transform(X).shape == (len(X), 12)
    assert clf.transform(X, layer=0).shape == (len(X), 20)


@pytest.mark.parametrize("layer", [2, -3, 1.0, "0", None])
def test_transform_refuses_an_invalid_layer(layer):
    X, y = _classification(40)
    clf = MLPBackpropClassifier(hidden_layer_sizes=(6, 4), max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="layer must be an integer"):
        clf.transform(X, layer=layer)


def test_transform_without_hidden_layer_is_refused():
    X, y = _classification(40)
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


# --------------------------------------------------------------- divergence
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
