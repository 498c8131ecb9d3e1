"""The training objective on fixed data: the data term plus the penalty."""

from ._array_api import NUMPY

__all__ = ["Objective"]


class Objective:
    """Value and gradient of the objective on one fixed set of rows.

    Full-batch training (lbfgs) and the gradient checker evaluate the same
    function again and again at different parameters; this binds the data to
    the network and the penalty once.

    Parameters
    ----------
    network : Network
        Its parameters are the point of evaluation; its ``grads`` receive the
        gradient.
    penalty : WeightPenalty
        The penalty on the weights.
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Inputs.
    Y : ndarray of shape (n_samples, n_outputs)
        Target rows of the output layer, in the network's dtype.
    sample_weight : ndarray of shape (n_samples,) or None, default=None
        Per-sample weights.
    dropout : DropoutBatch or None, default=None
        Fixed dropout masks of the rows.
    """

    def __init__(self, network, penalty, X, Y, sample_weight=None, dropout=None):
        self.network, self.penalty = network, penalty
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.dropout = dropout
        rates = dropout.dropout.rates if dropout is not None else ()
        self.workspace = network.allocate(X.shape[0], rates)
        self.weight_sum = (
            X.shape[0]
            if sample_weight is None
            else float(NUMPY.to_numpy(sample_weight).sum())
        )
        self._weights = network.params[: network.n_coef]
        self._weight_grads = network.grads[: network.n_coef]

    def __call__(self):
        """The objective at the network's parameters; the gradient to ``grads``.

        Returns
        -------
        value : float
        """
        data_term = self.network.loss_and_gradient(
            self.X, self.Y, self.sample_weight, self.workspace, self.dropout
        )
        return data_term + self.penalty.add(
            self._weights, self._weight_grads, self.weight_sum
        )
