"""scikit-learn's fit callbacks (``skbackprop._callbacks``).

``ScoringMonitor`` logs one row per epoch (per iteration for lbfgs) and one
for the fitted model, as for ``LogisticRegression``; ``ProgressBar`` leaves
training unchanged; and a callback that asks to stop ends training after the
epoch it names, with the model of that epoch and no ConvergenceWarning.
"""

import warnings

import pytest
from sklearn.callback import ProgressBar, ScoringMonitor
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from skbackprop import MLPBackpropClassifier
from tests._data import classification
from tests._estimators import assert_same_weights
from tests._fit_callbacks import StopAfter

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


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
    X, y = classification(60)
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
    assert_same_weights(clf, reference)


@pytest.mark.parametrize("solver", ["sgd", "adam", "rmsprop", "lbfgs"])
def test_callback_can_stop_training(solver):
    X, y = classification(120)
    stopper = StopAfter(3)
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
    assert_same_weights(clf, reference)
