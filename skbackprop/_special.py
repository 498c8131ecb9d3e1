"""Special functions for the array-API path: the logistic sigmoid and ``Phi``.

SciPy's ``expit`` and ``ndtr`` dispatch to the array's own library under
``SCIPY_ARRAY_API=1`` (PyTorch, CuPy), but reach other namespaces only
through NumPy, which a device can refuse. These forms use the standard's
elementary functions alone, so they run wherever the array lives.

``Phi(z) = erfc(-z / sqrt(2)) / 2`` comes from a Chebyshev series: for
``x >= 0`` and ``t = 2 / (2 + x)``, which maps ``[0, inf)`` onto ``(0, 1]``,

.. math:: \\operatorname{erfc}(x) = t \\exp\\bigl(-x^2 + g(t)\\bigr),
          \\qquad g(t) = \\log\\frac{e^{x^2} \\operatorname{erfc}(x)}{t},

and ``g`` is smooth on ``[0, 1]``, so a series of degree 24 in ``u = 2t - 1``
gives it to double precision (a few units in the last place of
``scipy.special.ndtr``). The ONNX export computes ``Phi`` with the same
series, as graph nodes.
"""

import math
from functools import cache

import numpy as np
from numpy.polynomial import chebyshev
from scipy.special import erfcx

__all__ = ["chebyshev_coefficients", "expit", "ndtr"]

# Past degree 24 the coefficients fall below the rounding of erfcx itself.
_DEGREE = 24


def _g(u):
    """``g(t)`` at ``t = (u + 1) / 2``: the scaled log of erfc's tail."""
    t = (u + 1) / 2
    x = 2 / t - 2
    return np.log(erfcx(x) / t)


@cache
def chebyshev_coefficients():
    """Chebyshev coefficients of ``g`` in ``u``, lowest degree first."""
    return tuple(float(c) for c in chebyshev.chebinterpolate(_g, _DEGREE))


def expit(xp, Z):
    """The logistic sigmoid ``1 / (1 + e^-z)``, as ``scipy.special.expit``."""
    return 1.0 / (1.0 + xp.exp(-Z))


def ndtr(xp, Z):
    """``Phi(Z)``, the standard normal distribution function, element-wise.

    ``Phi(-|z|) = erfc(|z| / sqrt(2)) / 2`` is computed directly, accurate
    relative to its own size in the left tail, and ``Phi(|z|)`` is one minus
    it.
    """
    x = xp.abs(Z) * (1 / math.sqrt(2.0))
    t = 2.0 / (x + 2.0)
    u = 2.0 * t - 1.0
    # sum_k c_k T_k(u) by Clenshaw's recurrence, stable where powers are not:
    # b_k = c_k + 2u b_{k+1} - b_{k+2}, then c_0 + u b_1 - b_2.
    coefficients = chebyshev_coefficients()
    b1, b2 = xp.zeros_like(u) + coefficients[-1], xp.zeros_like(u)
    for c in coefficients[-2:0:-1]:
        b1, b2 = 2.0 * u * b1 - b2 + c, b1
    g = u * b1 - b2 + coefficients[0]
    lower = 0.5 * t * xp.exp(g - x * x)
    return xp.where(Z < 0, lower, 1.0 - lower)
