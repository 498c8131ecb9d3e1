"""Validation during training (``skbackprop._validation``).

Early stopping watches the held-out part of ``X`` and restores the weights of
the best epoch.
"""

import pytest

from skbackprop import MLPBackpropClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


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
