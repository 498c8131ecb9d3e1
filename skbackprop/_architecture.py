"""The network an estimator's parameters describe, checked before training."""

from numbers import Integral, Real
from typing import NamedTuple

import numpy as np

from ._activations import resolve_activations

__all__ = ["NetworkSpec", "STOCHASTIC_SOLVERS", "network_spec"]

STOCHASTIC_SOLVERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")


class NetworkSpec(NamedTuple):
    """The hidden layers: their sizes, activations and dropout rates."""

    hidden_sizes: tuple
    activations: tuple
    dropout_rates: tuple

    def init_activations(self, activation):
        """The activation whose scale each weight layer's initial draw takes.

        The output layer's weights are scaled like the last hidden layer's; a
        network without hidden layer takes the ``activation`` parameter's
        single name, as scikit-learn does.
        """
        if self.activations:
            return [*self.activations, self.activations[-1]]
        if isinstance(activation, str):
            return [resolve_activations(activation, 1)[0]]
        return ["identity"]


def network_spec(estimator):
    """The hidden layers that ``estimator``'s parameters ask for.

    Raises
    ------
    ValueError
        If a parameter is inconsistent with the others or with the solver.
    """
    sizes = _hidden_sizes(estimator.hidden_layer_sizes)
    activations = resolve_activations(estimator.activation, len(sizes))
    rates = _dropout_rates(estimator.dropout, len(sizes))
    if estimator.solver not in STOCHASTIC_SOLVERS:
        if any(rates):
            raise ValueError(
                "dropout needs a stochastic solver: a full-batch lbfgs line "
                "search cannot work on a loss that changes with every "
                "evaluation."
            )
        if estimator.max_grad_norm is not None:
            raise ValueError(
                "max_grad_norm needs a stochastic solver: lbfgs takes no "
                "gradient steps to clip (its line search sets the step)."
            )
    return NetworkSpec(sizes, activations, rates)


def _hidden_sizes(sizes):
    if not hasattr(sizes, "__iter__"):
        sizes = [sizes]
    sizes = list(sizes)
    if not all(isinstance(s, Integral) and not isinstance(s, bool) for s in sizes):
        raise ValueError(f"hidden_layer_sizes must contain integers, got {sizes}.")
    if any(s <= 0 for s in sizes):
        raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
    return tuple(int(s) for s in sizes)


def _dropout_rates(dropout, n_hidden):
    """One drop probability per hidden layer, checked."""
    if isinstance(dropout, Real):
        return (float(dropout),) * n_hidden
    rates = tuple(float(r) for r in np.asarray(dropout, dtype=float).ravel())
    if len(rates) != n_hidden:
        raise ValueError(
            f"dropout has {len(rates)} entries but hidden_layer_sizes defines "
            f"{n_hidden} hidden layer(s): give one rate per hidden layer, or a "
            "single rate for all of them."
        )
    if not all(0 <= r < 1 for r in rates):
        raise ValueError(f"Every dropout rate must be in [0, 1), got {rates}.")
    return rates
