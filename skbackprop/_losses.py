"""Output layers paired with their cross-entropy loss.

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
from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from . import _kernels

__all__ = ["OUTPUT_LAYERS", "OutputLayer", "output_error"]


@dataclass(frozen=True)
class OutputLayer:
    """An output activation and the cross-entropy loss that goes with it.

    Attributes
    ----------
    name : str
        ``'softmax'`` (multiclass) or ``'logistic'`` (binary and multilabel).
    activate : callable
        ``activate(Z, out)`` writes the probabilities ``A_L`` into ``out``.
    log_activate : callable
        ``log_activate(Z)`` returns ``log(A_L)`` computed stably from ``Z``.
    activate_and_loss : callable
        ``activate_and_loss(Z, out, Y, sample_weight)`` writes ``A_L`` into
        ``out`` and returns the (sample-weighted) sum of per-sample losses.
    """

    name: str
    activate: Callable
    log_activate: Callable
    activate_and_loss: Callable


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
    "softmax": OutputLayer("softmax", _softmax, _log_softmax, _softmax_and_loss),
    "logistic": OutputLayer("logistic", _logistic, _log_logistic, _logistic_and_loss),
}


def output_error(A, Y, sample_scale, out):
    """Output error ``dZ_L = (A_L - Y) * s`` of the canonical-link losses.

    Parameters
    ----------
    A : ndarray of shape (n_samples, n_outputs)
        Output probabilities ``A_L``.
    Y : ndarray of shape (n_samples, n_outputs)
        Binarized targets.
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
    np.subtract(A, Y, out=out)  # d(cross-entropy)/dZ_L = A_L - Y
    out *= sample_scale
    return out
