"""MLPBackpropClassifier used the way scikit-learn users use estimators.

A grid search over a pipeline in parallel, cross-validation, ``clone``,
pickle and joblib round trips that predict identically, and a pickled model
that goes on with ``partial_fit`` exactly where it left off.
"""

import pickle

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from skbackprop import MLPBackpropClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_grid_search_over_pipeline_in_parallel(digits_split):
    X_train, X_test, y_train, y_test = digits_split
    pipeline = Pipeline(
        [
            ("scale", StandardScaler()),
            ("mlp", MLPBackpropClassifier(max_iter=60, random_state=0)),
        ]
    )
    grid = [
        {
            "mlp__hidden_layer_sizes": [(32,), (64,)],
            "mlp__activation": ["relu", "tanh", "gelu"],
        },
        # A per-layer list needs as many hidden layers as names.
        {
            "mlp__hidden_layer_sizes": [(48, 24)],
            "mlp__activation": [["relu", "tanh"], ["silu", "elu"]],
        },
    ]
    search = GridSearchCV(pipeline, grid, cv=3, n_jobs=2, error_score="raise")
    search.fit(X_train, y_train)
    assert len(search.cv_results_["params"]) == 8
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_score_ > 0.9
    assert search.score(X_test, y_test) > 0.9
    assert isinstance(search.best_estimator_[-1], MLPBackpropClassifier)


def test_cross_val_score(digits_split):
    X_train, _, y_train, _ = digits_split
    scores = cross_val_score(
        make_pipeline(
            StandardScaler(),
            MLPBackpropClassifier(
                hidden_layer_sizes=(32,), max_iter=50, random_state=0
            ),
        ),
        X_train,
        y_train,
        cv=3,
    )
    assert scores.shape == (3,) and scores.min() > 0.9


def test_clone_keeps_parameters_and_drops_fitted_state(small_digits):
    X, y = small_digits
    clf = MLPBackpropClassifier(
        activation=["relu", "tanh"], hidden_layer_sizes=(8, 4), max_iter=3
    ).fit(X, y)
    copy = clone(clf)
    assert copy.get_params() == clf.get_params()
    assert not hasattr(copy, "coefs_")


@pytest.mark.parametrize("how", ["pickle", "joblib"])
def test_pickle_round_trip_predicts_identically(small_digits, tmp_path, how):
    X, y = small_digits
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(16, 8), activation="gelu", max_iter=10, random_state=0
    ).fit(X, y)
    if how == "pickle":
        restored = pickle.loads(pickle.dumps(clf))
    else:
        joblib.dump(clf, tmp_path / "model.joblib")
        restored = joblib.load(tmp_path / "model.joblib")
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))


def test_partial_fit_continues_exactly_after_pickle(small_digits):
    # Weights, optimizer moments and the shuffling generator all travel.
    X, y = small_digits
    classes = np.unique(y)
    uninterrupted = MLPBackpropClassifier(random_state=0)
    resumed = MLPBackpropClassifier(random_state=0)
    for _ in range(2):
        uninterrupted.partial_fit(X, y, classes=classes)
        resumed.partial_fit(X, y, classes=classes)
    resumed = pickle.loads(pickle.dumps(resumed))
    for _ in range(2):
        uninterrupted.partial_fit(X, y)
        resumed.partial_fit(X, y)
    for a, b in zip(uninterrupted.coefs_, resumed.coefs_):
        np.testing.assert_array_equal(a, b)
