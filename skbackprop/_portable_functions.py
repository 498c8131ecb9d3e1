"""Activations and output layers written against the array API standard.

The same functions as :mod:`._activations` and :mod:`._losses`, for any
array namespace ``xp`` (PyTorch, CuPy, array-api-strict, NumPy): each returns
fresh arrays instead of writing into buffers with ``out=``, which the
standard does not have, and which device allocators make cheap. The formulas,
and the reasons for their stable forms, are those of the NumPy modules; the
tests hold the two to rounding on NumPy arrays.

The special functions (``expit``, ``ndtr``) are those of :mod:`._special`,
written with the standard's elementary functions so that they run on any
device.
"""

import math

from ._activations import LEAKY_RELU_SLOPE, is_builtin
from ._special import expit, ndtr

__all__ = [
    "OUTPUTS",
    "activation_derivative",
    "activation_function",
    "output_error",
    "output_loss",
]

_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


# Each built-in activation: (f(Z), f'(Z) given Z and A = f(Z)), as in
# ._activations, where each formula is derived.
def _relu(xp, Z):
    return xp.where(Z > 0, Z, xp.zeros_like(Z))


def _leaky_relu(xp, Z):
    return xp.where(Z > 0, Z, Z * LEAKY_RELU_SLOPE)


def _elu(xp, Z):
    return xp.where(Z > 0, Z, xp.expm1(xp.minimum(Z, xp.zeros_like(Z))))


def _gelu_derivative(xp, Z, A):
    return ndtr(xp, Z) + Z * (xp.exp(-0.5 * Z * Z) * _INV_SQRT_2PI)


def _silu_derivative(xp, Z, A):
    sigma = expit(xp, Z)
    return sigma + A * (1 - sigma)


_ACTIVATIONS = {
    "identity": (lambda xp, Z: Z, None),
    "logistic": (lambda xp, Z: expit(xp, Z), lambda xp, Z, A: A * (1 - A)),
    "tanh": (lambda xp, Z: xp.tanh(Z), lambda xp, Z, A: 1 - A * A),
    "relu": (_relu, lambda xp, Z, A: xp.astype(A > 0, A.dtype)),
    "leaky_relu": (
        _leaky_relu,
        lambda xp, Z, A: xp.where(
            Z > 0, xp.ones_like(Z), xp.full_like(Z, LEAKY_RELU_SLOPE)
        ),
    ),
    "elu": (_elu, lambda xp, Z, A: xp.minimum(A + 1, xp.ones_like(A))),
    "softplus": (
        lambda xp, Z: xp.logaddexp(xp.zeros_like(Z), Z),
        lambda xp, Z, A: -xp.expm1(-A),
    ),
    "gelu": (lambda xp, Z: Z * ndtr(xp, Z), _gelu_derivative),
    "silu": (lambda xp, Z: Z * expit(xp, Z), _silu_derivative),
}


def activation_function(activation, xp, Z):
    """``A = f(Z)`` of an :class:`~skbackprop.Activation` in namespace ``xp``.

    A built-in runs its formula above; a custom activation's own ``function``
    is called with the namespace's arrays, so it must accept them (write it
    with ``array_api_compat.array_namespace(Z)`` to serve every library).
    """
    formulas = _ACTIVATIONS.get(activation.name) if is_builtin(activation) else None
    if formulas is None:
        return activation.function(Z)
    return formulas[0](xp, Z)


def activation_derivative(activation, xp, Z, A):
    """``f'(Z)`` from ``Z`` and ``A = f(Z)``; None for the identity (all ones)."""
    formulas = _ACTIVATIONS.get(activation.name) if is_builtin(activation) else None
    if formulas is None:
        return activation.derivative(Z, A)
    derivative = formulas[1]
    return None if derivative is None else derivative(xp, Z, A)


# Output layers: A_L from Z_L, the per-sample loss (summed over outputs), and
# dC/dZ_L before the per-sample scale; see ._losses for every derivation.
def _softmax(xp, Z):
    shifted = Z - xp.max(Z, axis=1, keepdims=True)
    exp = xp.exp(shifted)
    return exp / xp.sum(exp, axis=1, keepdims=True)


def _log_softmax(xp, Z):
    shifted = Z - xp.max(Z, axis=1, keepdims=True)
    return shifted - xp.log(xp.sum(xp.exp(shifted), axis=1, keepdims=True))


def _softmax_loss(xp, Z, A, Y):
    # lse(z) - sum_k y_k z_k, with lse from the row maximum
    row_max = xp.max(Z, axis=1)
    lse = xp.log(xp.sum(xp.exp(Z - row_max[:, None]), axis=1)) + row_max
    return lse - xp.sum(Y * Z, axis=1)


def _logistic_loss(xp, Z, A, Y):
    return xp.sum(xp.logaddexp(xp.zeros_like(Z), Z) - Y * Z, axis=1)


def _residual_error(xp, A, Y, parameter):
    return A - Y


def _poisson_loss(xp, Z, A, Y):
    positive = Y > 0
    log_y = xp.log(xp.where(positive, Y, xp.ones_like(Y)))
    y_log_y = xp.where(positive, Y * log_y, xp.zeros_like(Y))
    return xp.sum(A - Y * Z + (y_log_y - Y), axis=1)


def _squared_loss(xp, Z, A, Y):
    r = A - Y
    return xp.sum(0.5 * r * r, axis=1)


def _absolute_loss(xp, Z, A, Y):
    return xp.sum(xp.abs(A - Y), axis=1)


def _huber_loss(xp, Z, A, Y, delta):
    r = xp.abs(A - Y)
    return xp.sum(xp.where(r <= delta, 0.5 * r * r, delta * (r - 0.5 * delta)), axis=1)


def _quantile_loss(xp, Z, A, Y, q):
    residual = Y - A
    return xp.sum(xp.maximum(q * residual, (q - 1) * residual), axis=1)


def _quantile_error(xp, A, Y, q):
    r = A - Y
    zero = xp.zeros_like(r)
    return xp.where(r > 0, zero + (1.0 - q), xp.where(r < 0, zero - q, zero))


# name of the output layer (or regression loss) ->
#   (activate(xp, Z), per-sample loss(xp, Z, A, Y[, parameter]),
#    error before scaling(xp, A, Y, parameter), log_activate(xp, Z) or None)
OUTPUTS = {
    "softmax": (_softmax, _softmax_loss, _residual_error, _log_softmax),
    "logistic": (
        lambda xp, Z: expit(xp, Z),
        _logistic_loss,
        _residual_error,
        lambda xp, Z: -xp.logaddexp(xp.zeros_like(Z), -Z),
    ),
    "squared_error": (lambda xp, Z: Z, _squared_loss, _residual_error, None),
    "poisson": (lambda xp, Z: xp.exp(Z), _poisson_loss, _residual_error, None),
    "absolute_error": (
        lambda xp, Z: Z,
        _absolute_loss,
        lambda xp, A, Y, parameter: xp.sign(A - Y),
        None,
    ),
    "huber": (
        lambda xp, Z: Z,
        _huber_loss,
        lambda xp, A, Y, delta: xp.clip(A - Y, -delta, delta),
        None,
    ),
    "quantile": (lambda xp, Z: Z, _quantile_loss, _quantile_error, None),
}


def output_loss(output, xp, Z, Y):
    """``(A_L, per-sample loss)`` of an output layer in namespace ``xp``.

    Parameters
    ----------
    output : OutputLayer
        The output layer; its ``loss`` and ``parameter`` choose the formulas.
    xp : module
        The array namespace.
    Z, Y : array of shape (n, n_outputs)
        Logits and targets.
    """
    activate, loss = OUTPUTS[output.loss][:2]
    A = activate(xp, Z)
    if output.parameter is None:
        return A, loss(xp, Z, A, Y)
    return A, loss(xp, Z, A, Y, output.parameter)


def output_error(output, xp, A, Y):
    """``dC/dZ_L`` of an output layer before the per-sample scale."""
    return OUTPUTS[output.loss][2](xp, A, Y, output.parameter)
