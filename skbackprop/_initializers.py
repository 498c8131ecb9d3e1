"""Initial weights and biases.

The default is scikit-learn's Glorot-uniform scheme, drawn in the same order
from the same generator: for equal ``random_state`` both estimators start from
identical weights, so their training runs can be compared step for step.

The He (Kaiming) and LeCun variants scale with the fan-in only, which suits
rectifiers (He) and self-normalising or tanh-like units (LeCun); their biases
start at zero.
"""

import numpy as np

__all__ = ["INITIALIZERS", "initial_weights"]

INITIALIZERS = (
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_uniform",
    "lecun_normal",
)


def _glorot_scale(fan_in, fan_out, activation):
    # Glorot and Bengio (2010): variance 2 / (fan_in + fan_out); scikit-learn
    # uses factor 2 instead of 6 for the uniform bound of logistic layers.
    factor = 2.0 if activation == "logistic" else 6.0
    return np.sqrt(factor / (fan_in + fan_out))


def initial_weights(scheme, layer_units, activation_per_layer, random_state, dtype):
    """Draw the initial weights and biases of every layer.

    Parameters
    ----------
    scheme : str
        One of :data:`INITIALIZERS`.

        - ``glorot_uniform``: ``U(-b, b)`` with ``b = sqrt(6 / (fan_in +
          fan_out))`` (``sqrt(2 / ...)`` for logistic layers), biases too;
          scikit-learn's scheme.
        - ``glorot_normal``: ``N(0, 2 / (fan_in + fan_out))``.
        - ``he_uniform`` / ``he_normal``: ``U(-sqrt(6 / fan_in), ...)`` /
          ``N(0, 2 / fan_in)``.
        - ``lecun_uniform`` / ``lecun_normal``: ``U(-sqrt(3 / fan_in), ...)``
          / ``N(0, 1 / fan_in)``.
    layer_units : sequence of int
        Units per layer, input first and output last.
    activation_per_layer : sequence of str
        Activation that sets each weight layer's Glorot bound, one per layer.
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
        shape = (fan_in, fan_out)
        if scheme == "glorot_uniform":
            bound = _glorot_scale(fan_in, fan_out, activation)
            coef = random_state.uniform(-bound, bound, shape)
            intercept = random_state.uniform(-bound, bound, fan_out)
        else:
            family, distribution = scheme.rsplit("_", 1)
            variance = {
                "glorot": 2.0 / (fan_in + fan_out),
                "he": 2.0 / fan_in,
                "lecun": 1.0 / fan_in,
            }[family]
            if distribution == "normal":
                coef = random_state.normal(0.0, np.sqrt(variance), shape)
            else:
                # U(-b, b) has variance b^2 / 3.
                bound = np.sqrt(3.0 * variance)
                coef = random_state.uniform(-bound, bound, shape)
            intercept = np.zeros(fan_out)
        coefs.append(coef.astype(dtype, copy=False))
        intercepts.append(intercept.astype(dtype, copy=False))
    return coefs, intercepts
