"""The standard normal distribution function in float64, from elementary operators.

Exact GELU needs ``Phi(z) = erfc(-z / sqrt(2)) / 2``. ONNX has ``Erf``, but
onnxruntime runs it in float32 only, which would cost a float64 graph seven
digits. This module writes ``erfc`` with operators that onnxruntime runs in
float64 (arithmetic, ``Exp``, ``Where``), to within a few units in the last
place of ``scipy.special.ndtr``.

For ``x >= 0`` and ``t = 2 / (2 + x)``, which maps ``[0, inf)`` onto
``(0, 1]``,

.. math:: \\operatorname{erfc}(x) = t \\exp\\bigl(-x^2 + g(t)\\bigr),
          \\qquad g(t) = \\log\\frac{e^{x^2} \\operatorname{erfc}(x)}{t},

and ``g`` is smooth on ``[0, 1]`` (it tends to ``-log(2 sqrt(pi))`` as
``x`` grows), so a Chebyshev series of degree 24 in ``u = 2t - 1`` gives it
to double precision. The series' coefficients are those of the array-API path
(:mod:`skbackprop._special`), and the graph sums it by Clenshaw's
recurrence, which is stable where the power basis is not.
"""

import numpy as np

from .._special import chebyshev_coefficients

__all__ = ["normal_cdf"]


def _chebyshev_series(graph, u, coefficients):
    """``sum_k c_k T_k(u)`` by Clenshaw's recurrence, as nodes.

    ``b_k = c_k + 2u b_{k+1} - b_{k+2}`` from the highest degree down, then
    the sum is ``c_0 + u b_1 - b_2``.
    """
    two_u = graph.op("Add", u, u)
    b1 = graph.constant(coefficients[-1])
    b2 = None
    for c in coefficients[-2:0:-1]:
        b = graph.op("Mul", two_u, b1)
        if b2 is not None:
            b = graph.op("Sub", b, b2)
        b1, b2 = graph.op("Add", b, graph.constant(c)), b1
    series = graph.op("Sub", graph.op("Mul", u, b1), b2)
    return graph.op("Add", series, graph.constant(coefficients[0]))


def _erfc(graph, x):
    """``erfc(x)`` for ``x >= 0`` (infinity included), as nodes."""
    t = graph.op("Div", graph.constant(2.0), graph.op("Add", x, graph.constant(2.0)))
    u = graph.op("Sub", graph.op("Add", t, t), graph.constant(1.0))
    g = _chebyshev_series(graph, u, chebyshev_coefficients())
    exponent = graph.op("Sub", g, graph.op("Mul", x, x))
    return graph.op("Mul", t, graph.op("Exp", exponent))


def normal_cdf(graph, Z):
    """``Phi(Z)`` element-wise, in the graph's dtype, as nodes.

    ``Phi(-|z|) = erfc(|z| / sqrt(2)) / 2`` is computed directly, accurate
    relative to its own size in the left tail, and ``Phi(|z|)`` is one
    minus it.
    """
    x = graph.op("Mul", graph.op("Abs", Z), graph.constant(1 / np.sqrt(2.0)))
    lower = graph.op("Mul", _erfc(graph, x), graph.constant(0.5))
    upper = graph.op("Sub", graph.constant(1.0), lower)
    negative = graph.op("Less", Z, graph.constant(0.0))
    return graph.op("Where", negative, lower, upper)
