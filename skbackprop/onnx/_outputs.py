"""What the estimators' prediction methods return, as nodes on the logits.

The classifier's probabilities are those of ``predict_proba`` (kept within
the same bounds, so rows stay in the open interval (0, 1)) and its labels
those of ``predict``, decided by the same rule: the first largest
probability for multiclass targets, a probability above one half for binary
and multilabel ones.
"""

import numbers

import numpy as np
from onnx import TensorProto
from onnx.helper import make_tensor

from .._classifier import _probability_bounds

__all__ = ["class_outputs", "label_table", "regression_outputs"]

# LabelBinarizer's threshold between its negative and positive labels.
_THRESHOLD = 0.5


def label_table(classes):
    """``classes_`` as an ONNX tensor can hold them.

    Integers, booleans and the integral floats that classifiers accept
    become int64; strings stay strings.

    Raises
    ------
    ValueError
        If the labels are of another kind, or do not fit in int64.
    """
    classes = np.asarray(classes)
    if classes.dtype.kind == "U" or (
        classes.dtype.kind == "O" and all(isinstance(c, str) for c in classes)
    ):
        return classes.astype(str)
    if classes.dtype.kind in "biuf" or all(
        isinstance(c, numbers.Integral) for c in classes
    ):
        with np.errstate(invalid="ignore"):
            table = classes.astype(np.int64)
        if np.array_equal(table, classes):
            return table
    raise ValueError(
        f"Cannot export class labels {classes.tolist()!r} to ONNX: ONNX labels "
        "are int64 integers or strings."
    )


def _clip(graph, probabilities):
    """Probabilities within ``predict_proba``'s bounds."""
    low, high = _probability_bounds(graph.dtype)
    return graph.op("Clip", probabilities, graph.constant(low), graph.constant(high))


def _logistic(graph, logits):
    """``1 / (1 + e^-z)``, accurate relative to its size in the tails."""
    # onnxruntime's Sigmoid is accurate in absolute terms only (to about
    # 1e-7 in float32; in float64 it loses digits past z = -20 and returns 0
    # below z = -37), which would leave small probabilities wrong by far more
    # than predict_proba's rounding. Its hidden layers only need the absolute
    # accuracy.
    exp = graph.op("Exp", graph.op("Neg", logits))
    return graph.op("Reciprocal", graph.op("Add", exp, graph.constant(1.0)))


def _above_threshold(graph, probabilities):
    """1 where a probability exceeds one half, else 0, as int64."""
    above = graph.op("Greater", probabilities, graph.constant(_THRESHOLD))
    return graph.op("Cast", above, to=TensorProto.INT64)


def class_outputs(graph, logits, model):
    """The classifier's labels and probabilities.

    Parameters
    ----------
    graph : Graph
        Receives the nodes.
    logits : str
        Name of the output layer's pre-activations.
    model : MLPBackpropClassifier
        The fitted classifier.

    Returns
    -------
    labels, probabilities : str
        Names of the labels, of shape (n_samples,) (or (n_samples, n_labels)
        for multilabel targets, as an int64 indicator), and of the
        probabilities, of shape (n_samples, n_classes).
    """
    encoding = model._target_encoding
    table = label_table(model.classes_)
    if encoding.multilabel:
        probabilities = _logistic(graph, logits)
        return _above_threshold(graph, probabilities), _clip(graph, probabilities)
    if encoding.single_output:
        # One unit z for classes_[1]: [sigma(-z), sigma(z)], as in
        # predict_proba, and classes_[1] where sigma(z) > 1/2, as in predict.
        both = graph.op("Concat", graph.op("Neg", logits), logits, axis=1)
        probabilities = _logistic(graph, both)
        positive = graph.op(
            "Gather", probabilities, graph.constant(np.int64(1)), axis=1
        )
        index = _above_threshold(graph, positive)
        if len(table) == 1:
            # A single class: both outcomes name it, with probability one.
            labels = graph.op("Gather", graph.constant(np.repeat(table, 2)), index)
            one = make_tensor("value", graph.tensor_type, [1], [1.0])
            shape = graph.op("Shape", logits)
            return labels, graph.op("ConstantOfShape", shape, value=one)
        labels = graph.op("Gather", graph.constant(table), index)
        return labels, _clip(graph, probabilities)
    probabilities = graph.op("Softmax", logits, axis=1)
    # ArgMax takes the first of tied maxima, as numpy's argmax does.
    index = graph.op("ArgMax", probabilities, axis=1, keepdims=0)
    labels = graph.op("Gather", graph.constant(table), index)
    return labels, _clip(graph, probabilities)


def regression_outputs(graph, logits, model):
    """The regressor's predictions: ``exp`` of the logits for Poisson, else them."""
    if model.out_activation_ == "exp":
        return graph.op("Exp", logits)
    return logits
