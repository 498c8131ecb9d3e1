"""Validation data during training (``skbackprop._validation``).

Given validation data, the loss and score of every epoch are recorded in
``history_``, and the last entries are those of the final weights, computed
the way scikit-learn's metrics compute them; monitoring alone changes nothing
in training. Early stopping watches the given data (or the held-out part of
``X``) and restores the best epoch's weights; ``scoring`` takes a name, a
callable or ``'loss'``; and inconsistent validation data is refused.
"""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, log_loss

from skbackprop import MLPBackpropClassifier
from tests._data import split
from tests._estimators import assert_same_weights

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize("solver", ["adam", "rmsprop", "lbfgs"])
def test_validation_data_is_recorded_every_epoch(solver):
    X, y, X_val, y_val = split()
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
    assert_same_weights(clf, MLPBackpropClassifier(**params).fit(X, y))


def test_early_stopping_monitors_the_given_validation_data():
    X, y, X_val, y_val = split()
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


def test_early_stopping_restores_best_epoch(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    clf = MLPBackpropClassifier(early_stopping=True, random_state=0).fit(
        X_train, y_train
    )
    assert clf.n_iter_ < clf.max_iter
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert clf.best_loss_ is None
    assert clf.score(X_test, y_test) > 0.95


def test_scoring_loss_monitors_the_negative_validation_log_loss():
    X, y, X_val, y_val = split()
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
    X, y, X_val, y_val = split()
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
    X, y, X_val, y_val = split()

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
    X, y, X_val, y_val = split()
    clf = MLPBackpropClassifier(hidden_layer_sizes=(4,), max_iter=2)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, y, **validation(X_val, y_val))
