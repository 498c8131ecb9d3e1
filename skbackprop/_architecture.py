"""The network an estimator's parameters describe, checked before training."""

import os
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np

from ._activations import Activation, resolve_activations, restore_activations
from ._schema import check_array, check_int

__all__ = [
    "NetworkSpec",
    "STOCHASTIC_SOLVERS",
    "check_layers",
    "check_fits_in_memory",
    "check_inputs_and_activations",
    "check_parameters_describe",
    "network_spec",
]

STOCHASTIC_SOLVERS = ("sgd", "adam", "adamw", "rmsprop", "adagrad")


class NetworkSpec(NamedTuple):
    """The hidden layers: their sizes, activations and dropout rates."""

    hidden_sizes: tuple
    activations: tuple  # of Activation
    dropout_rates: tuple

    def init_activations(self, activation):
        """The name of the activation whose scale each layer's initial draw takes.

        The output layer's weights are scaled like the last hidden layer's; a
        network without hidden layer takes the ``activation`` parameter's
        single activation, as scikit-learn does.
        """
        if self.activations:
            names = [a.name for a in self.activations]
            return [*names, names[-1]]
        if isinstance(activation, (str, Activation)):
            return [resolve_activations(activation, 1)[0].name]
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


# Parameter-sized vectors training holds: the parameters, their gradient, the
# weights of the last finished epoch, the initial draw (float64) until it is
# copied in, and the optimizer's state (Adam's two moments at most).
_TRAINING_VECTORS = 6


def _physical_memory():
    """Bytes of physical memory, or None where the system does not say."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _bytes(n):
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024


def check_fits_in_memory(layer_units, dtype, memory=None):
    """Refuse a network too large to train here, before allocating any of it.

    Parameters
    ----------
    layer_units : sequence of int
        Units per layer, input first.
    dtype : numpy dtype
        Dtype of the parameters.
    memory : int or None, default=None
        Bytes available; by default the machine's physical memory (no check
        where the system does not say).

    Raises
    ------
    MemoryError
        With the number of parameters and the bytes training would need.
    """
    memory = _physical_memory() if memory is None else memory
    n_params = sum(a * b + b for a, b in zip(layer_units[:-1], layer_units[1:]))
    needed = n_params * (
        (_TRAINING_VECTORS - 1) * np.dtype(dtype).itemsize + np.float64().itemsize
    )
    if memory is not None and needed > memory:
        raise MemoryError(
            f"The network of layer sizes {list(layer_units)} has {n_params:,} "
            f"parameters: training it in {np.dtype(dtype)} needs about "
            f"{_bytes(needed)}, more than the {_bytes(memory)} of memory here. "
            f"Choose smaller hidden_layer_sizes."
        )


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


def check_parameters_describe(estimator, coefs, activations, out_activation):
    """Check that the parameters that shape the network match its weights.

    Raises
    ------
    ValueError
        Naming every parameter that disagrees with the fitted network.
    """
    spec = network_spec(estimator)
    hidden_units = tuple(c.shape[1] for c in coefs[:-1])
    mismatches = []
    if spec.hidden_sizes != hidden_units:
        mismatches.append(
            f"hidden_layer_sizes={estimator.hidden_layer_sizes!r} but the weights "
            f"have hidden layers of {list(hidden_units)} units"
        )
    if spec.activations != tuple(activations):
        mismatches.append(
            f"activation={estimator.activation!r} but the network's hidden layers "
            f"use {[a.name for a in activations]}"
        )
    expected = estimator._target_encoding.output_activation
    if out_activation != expected:
        mismatches.append(
            f"they ask for the output activation {expected!r} but the network's "
            f"is {out_activation!r}"
        )
    if mismatches:
        raise ValueError(
            "The parameters do not describe the fitted network: "
            + "; ".join(mismatches)
            + ". Set them back, or refit."
        )


def check_layers(coefs, intercepts):
    """Weights and biases checked: finite floats of one dtype, shapes that chain."""
    for name, layers in (("coefs_", coefs), ("intercepts_", intercepts)):
        if not isinstance(layers, list) or not layers:
            raise ValueError(f"{name} must be a non-empty list of arrays.")
    if len(coefs) != len(intercepts):
        raise ValueError("coefs_ and intercepts_ must have one array per layer.")
    dtype = getattr(coefs[0], "dtype", None)
    if dtype not in (np.float64, np.float32):
        raise ValueError(f"coefs_[0] must hold float32 or float64, not {dtype}.")
    n_in = np.shape(coefs[0])[0] if np.ndim(coefs[0]) == 2 else 0
    for layer, (coef, intercept) in enumerate(zip(coefs, intercepts)):
        n_out = np.shape(coef)[1] if np.ndim(coef) == 2 else 0
        if n_in < 1 or n_out < 1:
            raise ValueError(f"coefs_[{layer}] must be a non-empty matrix.")
        check_array(coef, f"coefs_[{layer}]", (n_in, n_out), dtype, finite=True)
        check_array(intercept, f"intercepts_[{layer}]", (n_out,), dtype, finite=True)
        n_in = n_out
    return coefs, intercepts


def check_inputs_and_activations(fitted, units):
    """A saved network's inputs and hidden activations, checked against ``units``.

    Returns
    -------
    n_features, feature_names, activations
        ``n_features_in_``, ``feature_names_in_`` (or None) and the hidden
        layers' activations (see ``describe_activations``).
    """
    n_features = check_int(fitted["n_features_in_"], "n_features_in_", minimum=1)
    if n_features != units[0]:
        raise ValueError(
            f"n_features_in_ is {n_features} but the first layer has {units[0]} units."
        )
    names = fitted["feature_names_in_"]
    if names is not None and not (
        isinstance(names, np.ndarray)
        and names.shape == (n_features,)
        and all(isinstance(name, str) for name in names)
    ):
        raise ValueError(f"feature_names_in_ must hold {n_features} strings.")
    activations = fitted["hidden_activations"]
    if not isinstance(activations, list) or len(activations) != len(units) - 2:
        raise ValueError(
            f"hidden_activations must name one activation for each of the "
            f"{len(units) - 2} hidden layers."
        )
    return n_features, names, restore_activations(activations)
