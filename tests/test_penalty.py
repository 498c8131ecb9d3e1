"""The penalty on the weights (``skbackprop._penalty``): L1 beside L2.

The L1 term's gradient matches finite differences of the objective; its value
is ``alpha_l1 * sum(|W|) / sum(sample_weight)`` over the weights, never the
biases, as for L2; and a larger ``alpha_l1`` trains sparser weights. (The L2
term is in every gradient check of ``test_network.py``.)
"""

import numpy as np
import pytest

from skbackprop import MLPBackpropClassifier
from tests._finite_differences import (
    numerical_gradient,
    objective,
    random_network,
    relative_error,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize("hidden_units", [[5], [5, 4]])
@pytest.mark.parametrize("activation", ["tanh", "gelu"])
def test_l1_gradient_matches_finite_differences(activation, hidden_units):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(9, 4))
    Y = np.eye(3)[rng.randint(0, 3, size=9)]
    sample_weight = rng.uniform(0.2, 3.0, size=9)
    network = random_network(
        [4, *hidden_units, 3], [activation] * len(hidden_units), "softmax"
    )
    step = 1e-5
    # |W| is differentiable away from 0: no weight within a step of it.
    assert np.abs(network.params[: network.n_coef]).min() > 10 * step
    loss = objective(network, X, Y, sample_weight, alpha=0.2, alpha_l1=0.3)
    loss()
    analytic = network.grads.copy()
    numeric = numerical_gradient(loss, network.params, step)
    assert relative_error(analytic, numeric) < 1e-6


def test_l1_penalty_is_added_to_the_loss_as_a_weighted_mean():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(9, 4))
    Y = np.eye(3)[rng.randint(0, 3, size=9)]
    sample_weight = rng.uniform(0.2, 3.0, size=9)
    network = random_network([4, 5, 3], ["tanh"], "softmax")
    without = objective(network, X, Y, sample_weight, alpha=0.1)()
    grads_without = network.grads.copy()
    alpha_l1 = 0.3
    with_l1 = objective(network, X, Y, sample_weight, alpha=0.1, alpha_l1=alpha_l1)()
    # Weights only, as for L2: the biases are not penalised.
    weights = np.concatenate([c.ravel() for c in network.coefs])
    np.testing.assert_allclose(
        with_l1 - without,
        alpha_l1 * np.abs(weights).sum() / sample_weight.sum(),
        rtol=1e-12,
    )
    expected = grads_without.copy()
    expected[: network.n_coef] += alpha_l1 * np.sign(weights) / sample_weight.sum()
    np.testing.assert_allclose(network.grads, expected, rtol=1e-12, atol=1e-15)


def test_larger_alpha_l1_gives_sparser_weights(small_digits):
    X, y = small_digits
    near_zero, l1_norms = [], []
    for alpha_l1 in [0.0, 0.01, 0.1]:
        clf = MLPBackpropClassifier(
            hidden_layer_sizes=(32,),
            alpha=0.0,
            alpha_l1=alpha_l1,
            learning_rate_init=0.01,
            max_iter=50,
            random_state=0,
        ).fit(X, y)
        weights = np.concatenate([c.ravel() for c in clf.coefs_])
        near_zero.append(np.mean(np.abs(weights) < 1e-2))
        l1_norms.append(np.abs(weights).sum())
        assert clf.score(X, y) > 0.95
    assert near_zero[0] < near_zero[1] < near_zero[2]
    assert near_zero[2] > 2 * near_zero[0]
    assert l1_norms[0] > l1_norms[1] > l1_norms[2]
