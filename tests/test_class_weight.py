"""Class weights (``skbackprop._class_weight``), scikit-learn's meaning.

A class weight of ``k`` is a sample weight of ``k`` for the samples of that
class, on top of any given sample weights; ``'balanced'`` equals
:func:`sklearn.utils.class_weight.compute_sample_weight`, also for multilabel
targets, and counts the classes with their sample weights, so that integer
weights still act as repeats. Unknown classes are refused, and so is
``partial_fit`` with ``'balanced'`` (one batch's class frequencies are not the
data's); a dict works incrementally.
"""

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_sample_weight

from skbackprop import MLPBackpropClassifier
from tests._data import classification
from tests._estimators import assert_same_weights, flat_params

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize("solver", ["sgd", "adam", "lbfgs"])
@pytest.mark.parametrize("with_sample_weight", [False, True])
def test_class_weight_dict_equals_sample_weight(solver, with_sample_weight):
    X, y = classification(150)
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
    assert_same_weights(by_class, by_sample, rtol=1e-12)
    # ... and it is not the unweighted model.
    unweighted = MLPBackpropClassifier(**params).fit(X, y, sample_weight=sample_weight)
    assert not np.allclose(flat_params(unweighted), flat_params(by_class))


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
    assert_same_weights(balanced, reference, rtol=1e-10, atol=1e-14)
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
    X, y = classification(60)
    by_dict = MLPBackpropClassifier(class_weight={0: 2.0}, random_state=0)
    by_dict.partial_fit(X, y, classes=[0, 1, 2])
    by_weight = MLPBackpropClassifier(random_state=0)
    by_weight.partial_fit(
        X, y, classes=[0, 1, 2], sample_weight=np.where(y == 0, 2.0, 1.0)
    )
    assert_same_weights(by_dict, by_weight, rtol=1e-12)
