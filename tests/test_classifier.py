"""The classifier (``skbackprop._classifier``) as a drop-in for MLPClassifier.

With the same seed and parameters it runs the same training as scikit-learn's
``MLPClassifier``, and its fitted attributes have the same layout. It returns
labels as given; handles binary, multiclass and multilabel targets, float32,
sparse input and DataFrames; never writes into ``X``; learns incrementally
with ``partial_fit``, which checks the labels; refuses invalid parameters with
a message that says what is wrong; and prints one line per epoch when verbose.
"""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.neural_network import MLPClassifier

from skbackprop import MLPBackpropClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _both(**params):
    return MLPBackpropClassifier(**params), MLPClassifier(**params)


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam"),
        dict(solver="sgd", nesterovs_momentum=True),
        dict(
            solver="sgd",
            nesterovs_momentum=False,
            learning_rate="invscaling",
            learning_rate_init=0.05,
        ),
        dict(solver="lbfgs"),
        dict(solver="adam", activation="logistic", hidden_layer_sizes=(20, 10)),
        dict(solver="sgd", learning_rate="adaptive", tol=0.5, n_iter_no_change=2),
    ],
    ids=lambda p: "-".join(f"{k}={v}" for k, v in p.items()),
)
def test_same_training_run_as_mlpclassifier(small_digits, params):
    # Same seed, same initial weights, same batches, same update rule: the
    # weights after training agree up to floating-point reordering.
    X, y = small_digits
    ours, theirs = _both(random_state=3, max_iter=15, **params)
    ours.fit(X, y)
    theirs.fit(X, y)
    assert ours.n_iter_ == theirs.n_iter_
    assert len(ours.coefs_) == len(theirs.coefs_)
    for mine, reference in zip(
        ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_
    ):
        np.testing.assert_allclose(mine, reference, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.loss_, theirs.loss_, rtol=1e-7)
    if params["solver"] != "lbfgs":
        np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-7)


def test_weights_copied_from_mlpclassifier_predict_the_same(small_digits):
    X, y = small_digits
    theirs = MLPClassifier(
        hidden_layer_sizes=(30, 20), random_state=0, max_iter=30
    ).fit(X, y)
    ours = MLPBackpropClassifier(hidden_layer_sizes=(30, 20), max_iter=1).fit(X, y)
    ours.coefs_ = [c.copy() for c in theirs.coefs_]
    ours.intercepts_ = [b.copy() for b in theirs.intercepts_]
    np.testing.assert_allclose(
        ours.predict_proba(X), theirs.predict_proba(X), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


def test_default_parameters_reach_097_on_digits(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    clf = MLPBackpropClassifier(random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.97


def test_fitted_attributes_have_mlpclassifier_layout(small_digits):
    X, y = small_digits
    ours, theirs = _both(hidden_layer_sizes=(16, 8), random_state=0, max_iter=5)
    ours.fit(X, y)
    theirs.fit(X, y)
    for name in [
        "classes_",
        "n_features_in_",
        "n_layers_",
        "n_outputs_",
        "out_activation_",
        "t_",
        "n_iter_",
        "best_validation_score_",
        "validation_scores_",
    ]:
        np.testing.assert_equal(getattr(ours, name), getattr(theirs, name))
    assert [c.shape for c in ours.coefs_] == [c.shape for c in theirs.coefs_]
    assert [b.shape for b in ours.intercepts_] == [b.shape for b in theirs.intercepts_]
    assert isinstance(ours.loss_curve_, list) and len(ours.loss_curve_) == 5
    assert ours.best_loss_ == min(ours.loss_curve_)


@pytest.mark.parametrize(
    "labels",
    [
        np.array(["cat", "dog", "emu"]),
        np.array([10**12, -(10**12), 7]),
        np.array([-1.0, 1.0, 0.0]),
    ],
)
def test_labels_are_returned_as_given(labels):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 4))
    y = labels[np.argmax(X[:, :3], axis=1)]
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(16,), random_state=0, max_iter=400
    ).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.unique(labels))
    predictions = clf.predict(X)
    assert predictions.dtype == y.dtype
    assert set(predictions) <= set(labels)
    assert clf.score(X, y) > 0.8


def test_binary_outputs():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(80, 3))
    y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    clf = MLPBackpropClassifier(random_state=0, max_iter=300).fit(X, y)
    assert clf.n_outputs_ == 1 and clf.out_activation_ == "logistic"
    proba = clf.predict_proba(X)
    assert proba.shape == (80, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    scores = clf.decision_function(X)
    assert scores.shape == (80,)
    np.testing.assert_array_equal(
        clf.classes_[(scores > 0).astype(int)], clf.predict(X)
    )
    np.testing.assert_allclose(clf.predict_log_proba(X), np.log(proba), rtol=1e-9)


def test_multilabel_targets():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(120, 5))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0.5, X[:, 0] + X[:, 2] > 0]).astype(int)
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(16,), random_state=0, max_iter=400
    ).fit(X, Y)
    assert clf.out_activation_ == "logistic" and clf.n_outputs_ == 3
    assert clf.predict(X).shape == Y.shape
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and np.all((proba > 0) & (proba < 1))
    np.testing.assert_array_equal(clf.predict(X), (clf.decision_function(X) > 0))
    assert clf.score(X, Y) > 0.8  # subset accuracy


def test_multiclass_decision_function_agrees_with_predict(small_digits):
    X, y = small_digits
    clf = MLPBackpropClassifier(random_state=0, max_iter=20).fit(X, y)
    scores = clf.decision_function(X)
    assert scores.shape == (len(X), 10)
    np.testing.assert_array_equal(clf.classes_[scores.argmax(axis=1)], clf.predict(X))


def test_predict_log_proba_is_finite_in_float32(small_digits):
    X, y = small_digits
    X32 = (X * 20).astype(np.float32)  # large logits: probabilities underflow
    ours = MLPBackpropClassifier(random_state=0, max_iter=50).fit(X32, y)
    log_proba = ours.predict_log_proba(X32)
    assert log_proba.dtype == np.float32
    assert np.isfinite(log_proba).all()
    proba = ours.predict_proba(X32)
    # Where the probability is representable, both agree.
    representable = proba > 1e-30
    np.testing.assert_allclose(
        log_proba[representable], np.log(proba[representable]), rtol=1e-4, atol=1e-5
    )
    # MLPClassifier returns -inf on the same kind of model.
    theirs = MLPClassifier(random_state=0, max_iter=50).fit(X32, y)
    with np.errstate(divide="ignore"):
        assert not np.isfinite(theirs.predict_log_proba(X32)).all()


def test_float32_trains_and_predicts_in_float32(small_digits):
    X, y = small_digits
    clf = MLPBackpropClassifier(random_state=0, max_iter=5).fit(X.astype(np.float32), y)
    assert all(c.dtype == np.float32 for c in clf.coefs_ + clf.intercepts_)
    assert clf.predict_proba(X.astype(np.float32)).dtype == np.float32
    clf64 = MLPBackpropClassifier(random_state=0, max_iter=5).fit(X.astype(np.int64), y)
    assert all(c.dtype == np.float64 for c in clf64.coefs_)


@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
@pytest.mark.parametrize("container", [sp.csr_matrix, sp.csc_matrix, sp.csr_array])
def test_sparse_input_equals_dense(small_digits, container, solver):
    X, y = small_digits
    X = np.where(np.abs(X) < 0.5, 0.0, X)  # make it genuinely sparse
    dense = MLPBackpropClassifier(random_state=0, max_iter=8, solver=solver).fit(X, y)
    sparse = MLPBackpropClassifier(random_state=0, max_iter=8, solver=solver).fit(
        container(X), y
    )
    for a, b in zip(dense.coefs_, sparse.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        dense.predict_proba(X), sparse.predict_proba(container(X)), rtol=1e-6, atol=1e-9
    )


def test_dataframe_feature_names(small_digits):
    X, y = small_digits
    frame = pd.DataFrame(X, columns=[f"pixel{i}" for i in range(X.shape[1])])
    clf = MLPBackpropClassifier(random_state=0, max_iter=5).fit(frame, y)
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns)
    np.testing.assert_array_equal(clf.predict(frame), clf.predict(X[:, :]))
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(frame.rename(columns={"pixel0": "other"}))


def test_fit_never_writes_into_x(small_digits):
    X, y = small_digits
    X_before = X.copy()
    for activation in ["relu", "gelu", "leaky_relu"]:
        MLPBackpropClassifier(activation=activation, max_iter=3, random_state=0).fit(
            X, y
        )
    np.testing.assert_array_equal(X, X_before)


def test_partial_fit_improves_accuracy(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    clf = MLPBackpropClassifier(random_state=0)
    classes = np.unique(y_train)
    scores = []
    for _ in range(6):
        for chunk in np.array_split(np.arange(len(X_train)), 4):
            clf.partial_fit(X_train[chunk], y_train[chunk], classes=classes)
        scores.append(clf.score(X_test, y_test))
    assert scores[-1] > scores[0] and scores[-1] > 0.85


def test_partial_fit_label_errors(small_digits):
    X, y = small_digits
    clf = MLPBackpropClassifier()
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        clf.partial_fit(X, y)
    clf.partial_fit(X, y, classes=np.arange(10))
    with pytest.raises(ValueError, match=r"not in `self.classes_`: \[11\]"):
        clf.partial_fit(X[:2], [1, 11])


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(hidden_layer_sizes=(10, 0)), "hidden_layer_sizes must be > 0"),
        (dict(hidden_layer_sizes=(10, 2.5)), "must contain integers"),
        (
            dict(hidden_layer_sizes=(10, 5), activation=["relu"]),
            "activation has 1 entries but hidden_layer_sizes defines 2",
        ),
        (dict(activation="step"), "cannot be trained by backpropagation"),
        (dict(activation="swish"), "Unknown activation 'swish'"),
        (dict(early_stopping=True, validation_fraction=0.0), "validation_fraction"),
        (dict(learning_rate_init=0.0), "learning_rate_init"),
        (dict(solver="newton"), "solver"),
    ],
)
def test_invalid_parameters_say_what_is_wrong(small_digits, params, message):
    X, y = small_digits
    with pytest.raises(ValueError, match=message):
        MLPBackpropClassifier(**params).fit(X, y)


def test_verbose_prints_one_line_per_epoch(small_digits, capsys):
    X, y = small_digits
    for solver in ["adam", "lbfgs"]:
        MLPBackpropClassifier(solver=solver, max_iter=3, verbose=True).fit(X, y)
        lines = [
            line
            for line in capsys.readouterr().out.splitlines()
            if line.startswith("Iteration")
        ]
        assert len(lines) == 3
