"""Initial weights and biases.

The default is scikit-learn's Glorot-uniform scheme, drawn in the same order
from the same generator: for equal ``random_state`` both estimators start from
identical weights, so their training runs can be compared step for step.
"""

import numpy as np

__all__ = ["glorot_uniform"]


def glorot_uniform(layer_units, activation_per_layer, random_state, dtype):
    """Draw weights and biases uniformly in ``[-bound, bound]``.

    ``bound = sqrt(factor / (fan_in + fan_out))`` with ``factor = 2`` for
    logistic layers and 6 otherwise (Glorot and Bengio, 2010). Biases use the
    same bound.

    Parameters
    ----------
    layer_units : sequence of int
        Units per layer, input first and output last.
    activation_per_layer : sequence of str
        Activation whose scale sets each weight layer's bound, one per weight
        layer.
    random_state : numpy.random.RandomState
        Source of randomness.
    dtype : numpy dtype
        Dtype of the returned arrays.

    Returns
    -------
    coefs, intercepts : list of ndarray
        Weights of shape ``(fan_in, fan_out)`` and biases of shape
        ``(fan_out,)`` per layer.
    """
    coefs, intercepts = [], []
    for fan_in, fan_out, activation in zip(
        layer_units[:-1], layer_units[1:], activation_per_layer
    ):
        factor = 2.0 if activation == "logistic" else 6.0
        bound = np.sqrt(factor / (fan_in + fan_out))
        coef = random_state.uniform(-bound, bound, (fan_in, fan_out))
        intercept = random_state.uniform(-bound, bound, fan_out)
        coefs.append(coef.astype(dtype, copy=False))
        intercepts.append(intercept.astype(dtype, copy=False))
    return coefs, intercepts
