"""The early-stopping split (``skbackprop._holdout``).

Identical rows are held out together, so duplicates never sit on both sides
of the split; and the split depends only on the distinct rows, so a sample
weight of ``k`` gives the same split, validation scores and model as ``k``
copies of the row, with and without class weights.
"""

import warnings

import numpy as np
import pytest

from skbackprop import MLPBackpropClassifier
from skbackprop._holdout import grouped_validation_split

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_early_stopping_holds_out_duplicates_together():
    rng = np.random.RandomState(0)
    X = np.repeat(rng.normal(size=(40, 3)), 3, axis=0)  # every row three times
    strata = np.repeat(rng.randint(0, 2, size=40), 3)
    train, validation = grouped_validation_split(
        X, strata, None, 0.2, np.random.RandomState(0)
    )
    train_rows = {row.tobytes() for row in X[train]}
    assert not any(row.tobytes() in train_rows for row in X[validation])
    assert len(validation) >= 2 * 3


def test_early_stopping_weights_act_as_repeats():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] > 0).astype(int)
    counts = rng.randint(0, 4, size=60)
    order = rng.permutation(counts.sum())
    X_rep, y_rep = np.repeat(X, counts, axis=0)[order], np.repeat(y, counts)[order]
    params = dict(
        early_stopping=True,
        random_state=0,
        max_iter=30,
        batch_size=500,
        hidden_layer_sizes=(10,),
    )
    weighted = MLPBackpropClassifier(**params).fit(X, y, sample_weight=counts)
    repeated = MLPBackpropClassifier(**params).fit(X_rep, y_rep)
    np.testing.assert_allclose(weighted.validation_scores_, repeated.validation_scores_)
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-6
    )


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
