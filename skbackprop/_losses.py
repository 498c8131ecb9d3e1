"""Output layers paired with their loss: cross-entropy, and the regression losses.

Both pairs are canonical links (Henrik Lund Mortensen, *Neural Networks: A
simple example*): for softmax with categorical
cross-entropy, and for the logistic sigmoid with binary cross-entropy, the
derivative of the loss with respect to the output pre-activation ``Z_L`` is

.. math:: \\delta^L = \\frac{\\partial C}{\\partial Z_L} = A_L - Y

so the network never forms the Jacobian of the output activation; see
:func:`output_error`.

The losses are computed from the logits ``Z_L`` with log-sum-exp rather than
from clipped probabilities. That is the exact function whose derivative is
``A_L - Y`` (gradient checks hold to rounding) and it stays finite in float32
where ``log(p)`` would underflow to ``-inf``.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial

import numpy as np
from scipy.special import expit, xlogy

from . import _kernels

__all__ = [
    "OUTPUT_LAYERS",
    "REGRESSION_LOSSES",
    "OutputLayer",
    "output_error",
    "regression_output",
]


def output_error(A, Y, sample_scale, out):
    """Output error ``dZ_L = (A_L - Y) * s`` of the canonical-link losses.

    Parameters
    ----------
    A : ndarray of shape (n_samples, n_outputs)
        Output activations ``A_L``.
    Y : ndarray of shape (n_samples, n_outputs)
        Targets.
    sample_scale : float or ndarray of shape (n_samples, 1)
        Per-sample factor ``sample_weight / sum(sample_weight)`` (or
        ``1 / n_samples``) that turns the summed loss into the weighted mean.
    out : ndarray of shape (n_samples, n_outputs)
        Buffer that receives the error.

    Returns
    -------
    out : ndarray
        The output error.
    """
    np.subtract(A, Y, out=out)  # d(loss)/dZ_L = A_L - Y for a canonical link
    out *= sample_scale
    return out


@dataclass(frozen=True)
class OutputLayer:
    """An output activation and the loss that goes with it.

    Attributes
    ----------
    name : str
        The output activation: ``'softmax'`` (multiclass), ``'logistic'``
        (binary and multilabel), ``'identity'`` or ``'exp'`` (regression).
    activate : callable
        ``activate(Z, out)`` writes the outputs ``A_L`` into ``out``.
    activate_and_loss : callable
        ``activate_and_loss(Z, out, Y, sample_weight)`` writes ``A_L`` into
        ``out`` and returns the (sample-weighted) sum of per-sample losses,
        each summed over the outputs.
    error : callable
        ``error(A, Y, sample_scale, out)`` writes the output error
        ``dZ_L``, the loss's derivative with respect to ``Z_L``, scaled per
        sample by ``sample_scale``; :func:`output_error` for canonical links.
    log_activate : callable or None
        ``log_activate(Z)`` returns ``log(A_L)`` computed stably from ``Z``
        (classification only).
    loss : str
        The loss: the output layer's name for classification, the
        regression loss's otherwise; it names the array-API formulas of
        :mod:`._portable_functions`.
    parameter : float or None
        The loss's parameter (Huber's delta, the quantile), if any.
    """

    name: str
    activate: Callable
    activate_and_loss: Callable
    error: Callable = output_error
    log_activate: Callable | None = None
    loss: str = ""
    parameter: float | None = None


def _weighted_sum(per_sample, sample_weight):
    if sample_weight is None:
        return float(per_sample.sum())
    return float(np.dot(per_sample, sample_weight))


# softmax: A_ik = e^{z_ik} / sum_j e^{z_ij};  C_i = -sum_k y_ik log A_ik
#                                               = lse(z_i) - sum_k y_ik z_ik
# (rows of a one-hot Y sum to one).
def _softmax(Z, out):
    row_max = Z.max(axis=1, keepdims=True)
    # Z - max <= 0 can only overflow to -inf, whose exp is the exact 0.
    with np.errstate(over="ignore"):
        np.subtract(Z, row_max, out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out


def _log_softmax(Z):
    with np.errstate(over="ignore"):  # to -inf at worst, as in _softmax
        shifted = Z - Z.max(axis=1, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return shifted


def _softmax_and_loss(Z, out, Y, sample_weight):
    kernels = _kernels.for_dtype(Z.dtype)
    if kernels is not None and Y.dtype == Z.dtype:
        # The same, row by row in one compiled loop: on a batch of a few
        # hundred rows and ten classes the numpy version below is mostly the
        # call overheads of its nine operations.
        return float(kernels.softmax_and_loss(Z, out, Y, sample_weight))
    row_max = Z.max(axis=1, keepdims=True)
    np.subtract(Z, row_max, out=out)
    np.exp(out, out=out)
    row_sum = out.sum(axis=1, keepdims=True)
    out /= row_sum
    log_sum_exp = np.log(row_sum[:, 0]) + row_max[:, 0]
    per_sample = log_sum_exp - np.einsum("ij,ij->i", Y, Z)
    return _weighted_sum(per_sample, sample_weight)


# logistic: A = 1 / (1 + e^{-z});  C_i = sum_k [log(1 + e^{z_ik}) - y_ik z_ik]
def _logistic(Z, out):
    return expit(Z, out=out)


def _log_logistic(Z):
    # log sigma(z) = -log(1 + e^{-z})
    return -np.logaddexp(0, -Z)


def _logistic_and_loss(Z, out, Y, sample_weight):
    expit(Z, out=out)
    per_entry = np.logaddexp(0, Z)
    per_entry -= Y * Z
    return _weighted_sum(per_entry.sum(axis=1), sample_weight)


OUTPUT_LAYERS = {
    "softmax": OutputLayer(
        "softmax",
        _softmax,
        _softmax_and_loss,
        log_activate=_log_softmax,
        loss="softmax",
    ),
    "logistic": OutputLayer(
        "logistic",
        _logistic,
        _logistic_and_loss,
        log_activate=_log_logistic,
        loss="logistic",
    ),
}


# Regression. With r = A - Y per output, each loss below and its derivative
# with respect to Z_L (the output error before the per-sample scale):
#   squared_error   C = r^2 / 2                       dC/dZ = r
#   absolute_error  C = |r|                           dC/dZ = sign(r)
#   huber           C = r^2 / 2 if |r| <= d,          dC/dZ = clip(r, -d, d)
#                       d (|r| - d / 2) otherwise
#   quantile        C = max(q (Y - A), (q - 1) (Y - A))
#                                                     dC/dZ = 1 - q if r > 0,
#                                                             -q if r < 0, else 0
#   poisson         A = exp(Z), C = A - Y Z + Y log Y - Y (half the deviance)
#                                                     dC/dZ = A - Y
# The identity output makes squared_error, and exp makes poisson, canonical
# links: their output error is A - Y, as for cross-entropy.
REGRESSION_LOSSES = ("squared_error", "poisson", "absolute_error", "huber", "quantile")


def _identity(Z, out):
    if out is not Z:
        np.copyto(out, Z)
    return out


def _exp(Z, out):
    return np.exp(Z, out=out)


def _squared_error(Z, A, Y):
    r = A - Y
    return 0.5 * r * r


def _absolute_error(Z, A, Y):
    return np.abs(A - Y)


def _huber(Z, A, Y, delta):
    r = np.abs(A - Y)
    return np.where(r <= delta, 0.5 * r * r, delta * (r - 0.5 * delta))


def _huber_error(A, Y, out, delta):
    np.subtract(A, Y, out=out)
    return np.clip(out, -delta, delta, out=out)


def _absolute_error_error(A, Y, out):
    np.subtract(A, Y, out=out)
    return np.sign(out, out=out)


def _quantile(Z, A, Y, q):
    residual = Y - A
    return np.maximum(q * residual, (q - 1) * residual)


def _quantile_error(A, Y, out, q):
    np.subtract(A, Y, out=out)
    return np.select([out > 0, out < 0], [1.0 - q, -q], 0.0).astype(
        out.dtype, copy=False
    )


def _poisson(Z, A, Y):
    return A - Y * Z + (xlogy(Y, Y) - Y)


def _regression_layer(name, activate, loss, error=None):
    """An OutputLayer from an element-wise loss and its output error."""

    def activate_and_loss(Z, out, Y, sample_weight):
        A = activate(Z, out)
        return _weighted_sum(loss(Z, A, Y).sum(axis=1), sample_weight)

    if error is None:
        return OutputLayer(name, activate, activate_and_loss)

    def scaled_error(A, Y, sample_scale, out):
        np.copyto(out, error(A, Y, out))
        out *= sample_scale
        return out

    return OutputLayer(name, activate, activate_and_loss, scaled_error)


def regression_output(loss, huber_delta=1.0, quantile=0.5):
    """The output layer of a regression loss.

    Parameters
    ----------
    loss : {'squared_error', 'poisson', 'absolute_error', 'huber', 'quantile'}
        The loss; 'poisson' takes the ``exp`` output, the others ``identity``.
    huber_delta : float, default=1.0
        Where the Huber loss turns from quadratic to linear.
    quantile : float, default=0.5
        The quantile the pinball loss estimates, in (0, 1).

    Returns
    -------
    OutputLayer
    """
    layer = _regression_layers(loss, huber_delta, quantile)
    parameter = {"huber": huber_delta, "quantile": quantile}.get(loss)
    return replace(layer, loss=loss, parameter=parameter)


def _regression_layers(loss, huber_delta, quantile):
    if loss == "poisson":
        return _regression_layer("exp", _exp, _poisson)
    if loss == "squared_error":
        return _regression_layer("identity", _identity, _squared_error)
    if loss == "absolute_error":
        return _regression_layer(
            "identity", _identity, _absolute_error, _absolute_error_error
        )
    if loss == "huber":
        return _regression_layer(
            "identity",
            _identity,
            partial(_huber, delta=huber_delta),
            partial(_huber_error, delta=huber_delta),
        )
    return _regression_layer(
        "identity",
        _identity,
        partial(_quantile, q=quantile),
        partial(_quantile_error, q=quantile),
    )
