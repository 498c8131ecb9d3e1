"""The penalty on the weights: the objective's L2 and L1 terms.

For sample weights summing to ``S`` the objective is the weighted mean data
loss plus

.. math:: \\frac{1}{S} \\left( \\frac{\\alpha}{2} \\sum_l \\lVert W_l \\rVert^2
          + \\alpha_1 \\sum_l \\lVert W_l \\rVert_1 \\right)

over the weights (never the biases): scikit-learn's L2 term with ``alpha``,
and an L1 term with ``alpha_l1``. Their gradient, ``(alpha W + alpha_l1
sign(W)) / S``, joins the data term's gradient of backpropagation's weight
equation. Dividing by ``S`` like the loss makes a sample weight of ``k`` act
as ``k`` copies of the sample.

Everything about the penalty is here; the network computes the data term
alone. The one place the L2 gradient is applied elsewhere is inside a compiled
optimizer step, which adds ``c W`` for the factor ``c`` that
:meth:`WeightPenalty.l2_gradient_factor` gives it, in the same pass as the
update.
"""

import numpy as np
from sklearn.externals.array_api_compat import array_namespace

from ._blas import Axpy

__all__ = ["WeightPenalty"]


class WeightPenalty:
    """L2 and L1 penalties on the flat vector of weights.

    Parameters
    ----------
    alpha : float
        Strength of the L2 penalty.
    alpha_l1 : float
        Strength of the L1 penalty.
    n_weights : int
        Number of weights.
    dtype : numpy dtype
        Dtype of the weights.
    use_blas : bool, default=True
        Whether the scaled additions may use BLAS (see :mod:`._blas`).
    """

    def __init__(self, alpha, alpha_l1, n_weights, dtype, use_blas=True):
        self.alpha = float(alpha)
        self.alpha_l1 = float(alpha_l1)
        self._axpy = Axpy(n_weights, dtype, use_blas)
        # |W| and sign(W) for the L1 term, allocated on its first use.
        self._scratch = None

    def l2_gradient_factor(self, weight_sum):
        """The factor ``c = alpha / S`` of the L2 gradient ``c W``."""
        return self.alpha / weight_sum

    def l2_value(self, squared_norm, weight_sum):
        """The L2 term ``0.5 alpha ||W||^2 / S`` from the squared norm."""
        return 0.5 * self.alpha * squared_norm / weight_sum

    def add_l2(self, weights, gradient, weight_sum):
        """Add the L2 gradient to ``gradient`` in place; return the L2 term.

        Parameters
        ----------
        weights, gradient : ndarray of shape (n_weights,)
            The weights and the gradient of the objective with respect to
            them.
        weight_sum : float
            Sum of the sample weights ``S``.

        Returns
        -------
        value : float
        """
        if not self.alpha:
            return 0.0
        if not isinstance(weights, np.ndarray):  # another array library's
            xp = array_namespace(weights)
            gradient += self.l2_gradient_factor(weight_sum) * weights
            return self.l2_value(xp.sum(weights * weights), weight_sum)
        self._axpy(weights, gradient, self.l2_gradient_factor(weight_sum))
        return self.l2_value(float(np.dot(weights, weights)), weight_sum)

    def add_l1(self, weights, gradient, weight_sum):
        """Add the L1 gradient to ``gradient`` in place; return the L1 term.

        Parameters are those of :meth:`add_l2`.
        """
        if not self.alpha_l1:
            return 0.0
        if not isinstance(weights, np.ndarray):  # another array library's
            xp = array_namespace(weights)
            gradient += (self.alpha_l1 / weight_sum) * xp.sign(weights)
            return self.alpha_l1 * xp.sum(xp.abs(weights)) / weight_sum
        if self._scratch is None:
            self._scratch = np.empty_like(weights)
        value = float(np.abs(weights, out=self._scratch).sum())
        signs = np.sign(weights, out=self._scratch)
        self._axpy(signs, gradient, self.alpha_l1 / weight_sum)
        return self.alpha_l1 * value / weight_sum

    def add(self, weights, gradient, weight_sum):
        """Add both gradients to ``gradient`` in place; return both terms.

        Parameters are those of :meth:`add_l2`.
        """
        return self.add_l2(weights, gradient, weight_sum) + self.add_l1(
            weights, gradient, weight_sum
        )
