"""The training state's record of a fit (``skbackprop._state``): ``history_``.

Every solver records one entry per epoch (per iteration for lbfgs) in every
column of ``history_``: the loss (``loss_curve_``), the validation loss and
score, the learning rate and one gradient norm per layer, ready for a
DataFrame. The history goes on across warm starts and ``partial_fit`` calls,
and a cold fit starts a new one.
"""

import numpy as np
import pandas as pd
import pytest

from skbackprop import MLPBackpropClassifier
from tests._data import classification
from tests._estimators import STOCHASTIC_SOLVERS

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize("solver", ["lbfgs", *STOCHASTIC_SOLVERS])
def test_history_has_one_entry_per_epoch_for_every_solver(solver):
    X, y = classification(120)
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
