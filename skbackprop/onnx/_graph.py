"""The network's layers as ONNX nodes, written through skl2onnx's containers.

:class:`Graph` is the small vocabulary the converters speak: a node, a
constant in the graph's float dtype. It holds skl2onnx's scope (which makes
names unique across a whole pipeline) and container (which collects the
nodes and initializers), and knows nothing else about skl2onnx.
"""

import numpy as np
from onnx import TensorProto
from onnx.helper import np_dtype_to_tensor_dtype

__all__ = ["Graph", "forward_logits"]


class Graph:
    """The nodes and constants of one converted estimator.

    Parameters
    ----------
    scope : skl2onnx Scope
        Gives names that are unique in the whole model.
    container : skl2onnx ModelComponentContainer
        Receives the nodes and initializers.
    dtype : {numpy.float32, numpy.float64}
        Dtype of every floating tensor the estimator's part of the graph
        computes.
    """

    def __init__(self, scope, container, dtype):
        self._scope = scope
        self._container = container
        self.dtype = np.dtype(dtype)

    @property
    def double(self):
        """Whether the graph computes in float64."""
        return self.dtype == np.float64

    @property
    def tensor_type(self):
        """The ONNX element type of the graph's dtype."""
        return np_dtype_to_tensor_dtype(self.dtype)

    def constant(self, value, name="constant"):
        """Add an initializer holding ``value``; return its name.

        Floating values take the graph's dtype; integers keep theirs, and
        strings become a string tensor.
        """
        array = np.asarray(value)
        if array.dtype.kind == "f":
            array = array.astype(self.dtype)
        if array.dtype.kind in "OUS":
            tensor_type = TensorProto.STRING
            content = [str(item).encode("utf-8") for item in array.ravel()]
        else:
            tensor_type = np_dtype_to_tensor_dtype(array.dtype)
            content = array.ravel()
        unique = self._scope.get_unique_variable_name(name)
        self._container.add_initializer(unique, tensor_type, list(array.shape), content)
        return unique

    def op(self, op_type, *inputs, output=None, domain="", **attributes):
        """Add one node of ``op_type`` on ``inputs``; return its output's name.

        ``output`` names the output (a graph output, say); by default it gets
        a fresh name.
        """
        if output is None:
            output = self._scope.get_unique_variable_name(op_type.lower())
        self._container.add_node(
            op_type,
            list(inputs),
            [output],
            op_domain=domain,
            name=self._scope.get_unique_operator_name(op_type),
            **attributes,
        )
        return output


def forward_logits(graph, X, coefs, intercepts, activations):
    """The output layer's pre-activations ``Z_L`` as nodes.

    ``Z_l = A_{l-1} W_l + b_l`` and ``A_l = f_l(Z_l)`` layer after layer,
    with ``A_0 = X``, as the estimators' own forward pass computes them.

    Parameters
    ----------
    graph : Graph
        Receives the nodes.
    X : str
        Name of the input, already in the graph's dtype.
    coefs, intercepts : list of ndarray
        The fitted weights and biases, cast to the graph's dtype.
    activations : list of callable
        One ``f(graph, Z) -> A`` per hidden layer.

    Returns
    -------
    Z_L : str
        Name of the logits, of shape (n_samples, n_outputs).
    """
    A = X
    for W, b, activation in zip(coefs, intercepts, [*activations, None]):
        products = graph.op("MatMul", A, graph.constant(W, "coefficient"))
        Z = graph.op("Add", products, graph.constant(b, "intercept"))
        A = Z if activation is None else activation(graph, Z)
    return A
