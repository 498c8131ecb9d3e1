"""The network's forward and backward pass (``skbackprop._network``).

Backpropagation against central finite differences of the objective, the
ground truth for every activation, output layer and depth: the gradient
written to ``Network.grads`` must match the numerical derivative of the
objective (weighted mean log-loss plus the L2 penalty) to a relative error
below 1e-6 in float64, layer by layer, and integer sample weights must give
the loss and gradient of repeated rows. Prediction's forward pass walks the
rows in blocks and must give the numbers of one block of all rows.
"""

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skbackprop import MLPBackpropClassifier, _network
from skbackprop._activations import ACTIVATIONS
from skbackprop._network import Network, layer_views
from tests._finite_differences import (
    numerical_gradient,
    objective,
    random_network,
    relative_error,
)

TARGETS = ["binary", "multiclass", "multilabel"]


def _problem(target, n_samples=9, n_features=4, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.normal(size=(n_samples, n_features))
    if target == "binary":
        Y = rng.randint(0, 2, size=(n_samples, 1)).astype(float)
        output = "logistic"
    elif target == "multiclass":
        Y = np.eye(3)[rng.randint(0, 3, size=n_samples)]
        output = "softmax"
    else:
        Y = rng.randint(0, 2, size=(n_samples, 3)).astype(float)
        output = "logistic"
    sample_weight = rng.uniform(0.2, 3.0, size=n_samples)
    return X, Y, sample_weight, output


def _check_network(hidden_units, activations, target, alpha=0.3, weighted=True):
    X, Y, sample_weight, output = _problem(target)
    if not weighted:
        sample_weight = None
    units = [X.shape[1], *hidden_units, Y.shape[1]]
    network = random_network(units, activations, output)
    loss = objective(network, X, Y, sample_weight, alpha=alpha)
    loss()
    analytic = network.grads.copy()
    numeric = numerical_gradient(loss, network.params)
    assert relative_error(analytic, numeric) < 1e-6
    # Every layer's weights and biases must agree, not just the whole vector.
    for analytic_part, numeric_part in zip(
        layer_views(analytic, units), layer_views(numeric, units)
    ):
        for analytic_layer, numeric_layer in zip(analytic_part, numeric_part):
            assert relative_error(analytic_layer, numeric_layer) < 1e-6


@pytest.mark.parametrize("n_hidden", [1, 2, 3])
@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_backprop_matches_finite_differences(activation, target, n_hidden):
    hidden_units = [5, 4, 3][:n_hidden]
    _check_network(hidden_units, [activation] * n_hidden, target)


@pytest.mark.parametrize("target", TARGETS)
def test_backprop_with_per_layer_activations(target):
    _check_network([6, 5, 4], ["gelu", "tanh", "leaky_relu"], target)


@pytest.mark.parametrize("target", TARGETS)
def test_backprop_without_hidden_layer_or_weights(target):
    # A network without hidden layer is logistic/softmax regression.
    _check_network([], [], target, alpha=0.0, weighted=False)


def test_sample_weight_is_a_weighted_mean():
    # Integer weights must give the loss and gradient of repeated rows.
    X, Y, _, output = _problem("multiclass")
    counts = np.array([0, 1, 2, 3, 1, 2, 0, 1, 4])
    network = Network([4, 5, 3], ["tanh"], output, np.float64)
    network.params[:] = np.random.RandomState(0).normal(size=network.params.size)

    weighted_loss = objective(network, X, Y, counts.astype(float), alpha=0.1)()
    weighted_grads = network.grads.copy()
    X_rep, Y_rep = np.repeat(X, counts, axis=0), np.repeat(Y, counts, axis=0)
    repeated_loss = objective(network, X_rep, Y_rep, alpha=0.1)()
    np.testing.assert_allclose(weighted_loss, repeated_loss, rtol=1e-12)
    np.testing.assert_allclose(weighted_grads, network.grads, rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("activation", ["relu", "tanh", "gelu", ["elu", "relu"]])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prediction_in_row_blocks_equals_one_block(
    small_digits, monkeypatch, activation, dtype
):
    # Prediction walks rows in blocks; tiny blocks (64 rows, a ragged last
    # block) must give the same numbers as one block of all rows.
    X, y = small_digits
    X = X.astype(dtype)
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(12, 7), activation=activation, max_iter=3, random_state=0
    )
    with pytest.warns(ConvergenceWarning):
        clf.fit(X, y)
    outputs = []
    for block_bytes in (1, 1 << 40):
        monkeypatch.setattr(_network, "_BLOCK_BYTES", block_bytes)
        outputs.append(
            [
                clf.predict_proba(X),
                clf.decision_function(X),
                clf.transform(X),
                clf.transform(X, layer=0),
            ]
        )
    assert len(X) % 64 and len(X) > 128
    rtol = 1e-6 if dtype == np.float32 else 1e-13  # BLAS may order sums by shape
    for blocked, whole in zip(*outputs):
        assert blocked.dtype == dtype
        np.testing.assert_allclose(blocked, whole, rtol=rtol, atol=rtol)
