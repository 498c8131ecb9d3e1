"""Dropout (``skbackprop._dropout``): its masks, their gradient, their use.

A mask keeps ``1 - p`` of the units and scales them by ``1 / (1 - p)``; it
depends on the row's content, the epoch, the layer and the seed, and on
nothing else (not the row's place in the batch). With the masks fixed,
backpropagation is the gradient of the objective (finite differences); a
sample weight of ``k`` is ``k`` copies of the row; every ``partial_fit`` call
is a new epoch as in ``fit``; prediction uses every unit, unscaled; and the
masks computed in another array namespace (on a GPU, say) are NumPy's.
"""

import warnings

import numpy as np
import pytest

from skbackprop import MLPBackpropClassifier
from skbackprop._array_api import ArraySpace
from skbackprop._dropout import Dropout, DropoutBatch, PortableDropout
from skbackprop._rows import row_keys
from tests._data import classification
from tests._estimators import assert_same_weights, flat_params, hidden_activations
from tests._extras import import_extra
from tests._finite_differences import (
    numerical_gradient,
    objective,
    random_network,
    relative_error,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


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
    dropout = DropoutBatch(Dropout(rates, 12345, hidden_units, len(X)), row_keys(X), 1)
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
    dropout = Dropout((rate,), 7, (width,), n_rows)
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
    dropout = Dropout((0.5, 0.5), 11, (40, 40), len(X))

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
    other_seed = Dropout((0.5, 0.5), 12, (40, 40), len(X))
    for other in [mask(epoch=1), mask(layer=1), mask(drop=other_seed)]:
        assert 0.45 < (other != first).mean() < 0.55


def test_dropout_mask_of_a_late_epoch_emits_no_overflow_warning():
    X = np.random.RandomState(0).normal(size=(10, 3))
    dropout = Dropout((0.5,), 3, (8,), 10)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mask = dropout.fill_mask(0, row_keys(X), 5, out=np.empty((10, 8)))
    assert set(np.unique(mask)) <= {0.0, 2.0}


def test_dropout_is_seeded_training_only_and_deterministic_in_prediction():
    X, y = classification(150)
    params = dict(
        hidden_layer_sizes=(16, 8), dropout=0.3, max_iter=5, learning_rate_init=0.01
    )
    first = MLPBackpropClassifier(random_state=0, **params).fit(X, y)
    again = MLPBackpropClassifier(random_state=0, **params).fit(X, y)
    assert_same_weights(first, again)  # bit for bit
    # Dropout changed training: without it the same seed gives other weights.
    plain = MLPBackpropClassifier(random_state=0, **{**params, "dropout": 0.0})
    assert not np.allclose(flat_params(plain.fit(X, y)), flat_params(first))
    # Prediction uses every unit, unscaled: the network's plain forward pass.
    proba = first.predict_proba(X)
    np.testing.assert_array_equal(proba, first.predict_proba(X))
    hidden = hidden_activations(first, X, ["relu", "relu"])[-1]
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
    assert_same_weights(weighted, repeated, rtol=1e-8, atol=1e-12)


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
    assert_same_weights(incremental, fitted, rtol=1e-12)


def _space(namespace, device):
    """The array space of ``namespace`` (its array-API namespace) on ``device``."""
    from sklearn.externals.array_api_compat import array_namespace

    module = import_extra(namespace)
    if namespace == "torch" and device == "cuda" and not module.cuda.is_available():
        pytest.skip("no CUDA device")
    if namespace == "array_api_strict":
        device = module.Device(device)
    return ArraySpace(array_namespace(module.asarray(1)), device)


@pytest.mark.parametrize(
    ("namespace", "device"),
    [
        ("torch", "cpu"),
        ("torch", "cuda"),
        ("array_api_strict", "CPU_DEVICE"),
        ("array_api_strict", "device1"),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_masks_in_another_namespace_equal_numpy_masks(namespace, device, dtype):
    # The device hash runs in int64; its masks must be the uint64 hash's bit
    # for bit, over the whole key range: keys of 2^63 and more are negative
    # as int64, where an arithmetic shift differs from a logical one.
    space = _space(namespace, device)
    rng = np.random.RandomState(0)
    edges = np.array([0, 1, 2**63 - 1, 2**63, 2**64 - 1], dtype=np.uint64)
    drawn = rng.randint(0, 2**64 - 1, size=400, dtype=np.uint64)
    rows = row_keys(rng.normal(size=(100, 3)))
    keys = np.concatenate([edges, drawn, rows])
    assert (keys >= 2**63).sum() > 100
    widths, rates = (7, 40, 3), (0.1, 0.5, 0.9)
    for seed in (0, 11, 2**31 - 2, 2**64 - 1):
        host = Dropout(rates, seed, widths, len(keys))
        device = PortableDropout(rates, seed, widths, dtype, space)
        device_keys = device.keys_in_space(keys)
        for epoch in (0, 1, 37, 10**6):
            for layer, width in enumerate(widths):
                expected = host.fill_mask(
                    layer, keys, epoch, out=np.empty((len(keys), width), dtype)
                )
                mask = space.to_numpy(device.mask(layer, device_keys, epoch))
                assert mask.dtype == dtype
                np.testing.assert_array_equal(mask, expected)
                assert 0 < np.count_nonzero(mask) < mask.size
