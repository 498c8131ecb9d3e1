"""Central finite differences: the ground truth for every gradient test."""

import numpy as np

from skbackprop._network import Network
from skbackprop._objective import Objective
from skbackprop._penalty import WeightPenalty


def numerical_gradient(objective, params, step=1e-5):
    """Central differences of ``objective()`` in every entry of ``params``.

    Parameters
    ----------
    objective : callable
        Takes no argument and returns the objective at the current ``params``.
    params : ndarray of shape (n_params,)
        The point, changed in place one entry at a time and restored.
    step : float, default=1e-5
        Half the width of each difference.

    Returns
    -------
    gradient : ndarray of shape (n_params,)
    """
    gradient = np.empty_like(params)
    for i in range(params.size):
        original = params[i]
        params[i] = original + step
        loss_plus = objective()
        params[i] = original - step
        loss_minus = objective()
        params[i] = original
        gradient[i] = (loss_plus - loss_minus) / (2 * step)
    return gradient


def relative_error(a, b):
    """``||a - b|| / max(||a||, ||b||)``."""
    return np.linalg.norm(a - b) / max(np.linalg.norm(a), np.linalg.norm(b))


def random_network(units, activations, output, scale=0.7, seed=1):
    """A float64 network of the given layer sizes with N(0, scale) parameters."""
    network = Network(units, activations, output, np.float64)
    network.params[:] = np.random.RandomState(seed).normal(
        scale=scale, size=network.params.size
    )
    return network


def objective(network, X, Y, sample_weight=None, alpha=0.0, alpha_l1=0.0, **kwargs):
    """The training objective of ``network`` on ``(X, Y)`` with these penalties."""
    penalty = WeightPenalty(alpha, alpha_l1, network.n_coef, network.dtype)
    return Objective(network, penalty, X, Y, sample_weight, **kwargs)
