"""Each hidden activation as ONNX nodes, by name.

An entry ``f(graph, Z) -> A`` computes, on the graph's ``Z``, the function
that :mod:`skbackprop._activations` computes in training and prediction.
float32 graphs use ONNX's own operator where there is one. onnxruntime
runs ``LeakyRelu``, ``Elu``, ``Softplus`` and ``Erf`` in float32 only, so
float64 graphs compose those from elementary operators that it runs in
float64, and a float64 input is computed in float64 throughout.

Only the activations in this table can be exported: an activation defined
by Python code has no ONNX counterpart.
"""

import numpy as np

from .._activations import LEAKY_RELU_SLOPE, describe_activations
from ._normal_cdf import normal_cdf

__all__ = ["ONNX_ACTIVATIONS", "hidden_activation_names", "hidden_layer_activations"]


def _identity(graph, Z):
    return Z


def _unary(op_type):
    """An activation that is one ONNX operator in every dtype."""

    def activation(graph, Z):
        return graph.op(op_type, Z)

    return activation


def _leaky_relu(graph, Z):
    if not graph.double:
        return graph.op("LeakyRelu", Z, alpha=LEAKY_RELU_SLOPE)
    # max(z, s z); LeakyRelu's alpha attribute is a float32 besides.
    return graph.op("Max", Z, graph.op("Mul", Z, graph.constant(LEAKY_RELU_SLOPE)))


def _elu(graph, Z):
    if not graph.double:
        return graph.op("Elu", Z, alpha=1.0)
    # max(z, e^min(z, 0) - 1): the exponential never overflows.
    negative_part = graph.op("Min", Z, graph.constant(0.0))
    saturating = graph.op("Sub", graph.op("Exp", negative_part), graph.constant(1.0))
    return graph.op("Max", Z, saturating)


def _softplus(graph, Z):
    if not graph.double:
        return graph.op("Softplus", Z)
    # max(z, 0) + log(1 + e^-|z|): the exponential never overflows.
    decay = graph.op("Exp", graph.op("Neg", graph.op("Abs", Z)))
    tail = graph.op("Log", graph.op("Add", decay, graph.constant(1.0)))
    return graph.op("Add", graph.op("Relu", Z), tail)


def _gelu(graph, Z):
    # z Phi(z), with Phi the standard normal distribution function.
    if graph.double:
        return graph.op("Mul", Z, normal_cdf(graph, Z))
    # Phi(z) = (1 + erf(z / sqrt 2)) / 2
    erf = graph.op("Erf", graph.op("Mul", Z, graph.constant(1 / np.sqrt(2.0))))
    cdf = graph.op(
        "Mul", graph.op("Add", erf, graph.constant(1.0)), graph.constant(0.5)
    )
    return graph.op("Mul", Z, cdf)


def _silu(graph, Z):
    # z sigma(z)
    return graph.op("Mul", Z, graph.op("Sigmoid", Z))


ONNX_ACTIVATIONS = {
    "identity": _identity,
    "logistic": _unary("Sigmoid"),
    "tanh": _unary("Tanh"),
    "relu": _unary("Relu"),
    "leaky_relu": _leaky_relu,
    "elu": _elu,
    "softplus": _softplus,
    "gelu": _gelu,
    "silu": _silu,
}


def hidden_activation_names(model):
    """The activation of each hidden layer of a fitted ``model``, first layer first.

    The one place that reads how a fitted model records its activations: a
    built-in one by its name, a custom :class:`~skbackprop.Activation` as
    itself (its Python functions have no ONNX counterpart, whatever its name).
    """
    return tuple(describe_activations(model._hidden_activations))


def hidden_layer_activations(model):
    """The ONNX builder of each hidden layer's activation.

    Raises
    ------
    ValueError
        If a hidden layer's activation has no ONNX translation, naming the
        layer, the activation and those that can be exported.
    """
    builders = []
    for layer, entry in enumerate(hidden_activation_names(model), start=1):
        builder = ONNX_ACTIVATIONS.get(entry) if isinstance(entry, str) else None
        if builder is None:
            raise ValueError(
                f"Cannot export this {type(model).__name__} to ONNX: hidden "
                f"layer {layer} uses the custom activation {entry.name!r}, "
                "whose Python functions ONNX cannot express. Only these "
                "activations can be exported: "
                f"{', '.join(ONNX_ACTIVATIONS)}."
            )
        builders.append(builder)
    return builders
