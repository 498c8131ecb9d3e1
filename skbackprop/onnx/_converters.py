"""The estimators' hooks into skl2onnx: parser, shape calculators, converters.

skl2onnx converts a model in three passes. The parser declares the model's
outputs, the shape calculator gives them shapes, and the converter writes
the nodes that compute them. The classifier has a parser of its own for
its outputs (labels, and probabilities shaped by the ``zipmap`` option);
the regressor's single output needs none.
"""

import numpy as np
from skl2onnx import update_registered_converter
from skl2onnx.common.data_types import (
    DictionaryType,
    DoubleTensorType,
    FloatTensorType,
    Int64TensorType,
    SequenceType,
    StringTensorType,
)
from skl2onnx.common.utils import (
    check_input_and_output_numbers,
    check_input_and_output_types,
)

from .._classifier import MLPBackpropClassifier
from .._regressor import MLPBackpropRegressor
from ._activations import hidden_layer_activations
from ._graph import Graph, forward_logits
from ._outputs import class_outputs, label_table, regression_outputs

__all__ = ["MIN_OPSET", "register"]

# Every operator of the graphs exists, with the meaning used here, since
# opset 13 (Softmax over one axis, Clip's bounds as inputs), and none has
# changed since.
MIN_OPSET = 13

_CLASSIFIER_ALIAS = "SkbackpropMLPBackpropClassifier"
_REGRESSOR_ALIAS = "SkbackpropMLPBackpropRegressor"
_INPUT_TYPES = [FloatTensorType, DoubleTensorType, Int64TensorType]


def _is_double(variable):
    """Whether the graph of ``variable`` computes in float64: only from doubles."""
    return isinstance(variable.type, DoubleTensorType)


def _zipmap_option(scope, model, double):
    """The ``zipmap`` option, True by default; always False for float64 graphs.

    ONNX's ZipMap holds float32 values only, so a float64 graph keeps its
    probabilities in a tensor unless asked for one output per class
    ('columns'). It cannot refuse True: skl2onnx sets it on the last
    classifier of every pipeline that has no options.
    """
    zipmap = scope.get_options(model, {"zipmap": True})["zipmap"]
    if double and zipmap is True:
        return False
    return zipmap


def _parse_classifier(scope, model, inputs, custom_parsers=None):
    """Declare the classifier's outputs: labels, then probabilities."""
    operator = scope.declare_local_operator(_CLASSIFIER_ALIAS, model)
    operator.inputs = inputs
    double = _is_double(inputs[0])
    probability_type = DoubleTensorType if double else FloatTensorType
    labels = label_table(model.classes_)
    label_type = StringTensorType if labels.dtype.kind == "U" else Int64TensorType
    zipmap = _zipmap_option(scope, model, double)
    if zipmap is False:
        outputs = [("label", label_type()), ("probabilities", probability_type())]
    elif zipmap == "columns":
        outputs = [("output_label", label_type())] + [
            (f"probability_{label}", probability_type()) for label in labels
        ]
    else:
        probability_maps = SequenceType(
            DictionaryType(label_type([]), FloatTensorType())
        )
        outputs = [
            ("output_label", label_type()),
            ("output_probability", probability_maps),
        ]
    for name, output_type in outputs:
        operator.outputs.append(scope.declare_local_variable(name, output_type))
    return operator.outputs


def _classifier_shapes(operator):
    check_input_and_output_numbers(
        operator, input_count_range=1, output_count_range=[2, None]
    )
    check_input_and_output_types(operator, good_input_types=_INPUT_TYPES)
    model = operator.raw_operator
    n_samples = operator.inputs[0].get_first_dimension()
    n_classes = len(model.classes_)
    label, *probabilities = operator.outputs
    multilabel = model._target_encoding.multilabel
    label.type = type(label.type)([n_samples, n_classes] if multilabel else [n_samples])
    if len(probabilities) > 1:  # zipmap="columns"
        for column in probabilities:
            column.type = type(column.type)([n_samples])
    elif not isinstance(probabilities[0].type, SequenceType):
        probabilities[0].type = type(probabilities[0].type)([n_samples, n_classes])


def _regressor_shapes(operator):
    check_input_and_output_numbers(operator, input_count_range=1, output_count_range=1)
    check_input_and_output_types(operator, good_input_types=_INPUT_TYPES)
    n_samples = operator.inputs[0].get_first_dimension()
    output_type = (
        DoubleTensorType if _is_double(operator.inputs[0]) else FloatTensorType
    )
    operator.outputs[0].type = output_type(
        [n_samples, operator.raw_operator.n_outputs_]
    )


def _logits(scope, operator, container):
    """The graph of the operator's model, and its logits on the input."""
    model = operator.raw_operator
    # An activation ONNX cannot express is refused before any node exists.
    activations = hidden_layer_activations(model)
    opset = container.target_opset
    if opset is not None and opset < MIN_OPSET:
        raise ValueError(
            f"{type(model).__name__} exports to ONNX opset {MIN_OPSET} or "
            f"newer, not target_opset={opset}."
        )
    dtype = np.float64 if _is_double(operator.inputs[0]) else np.float32
    graph = Graph(scope, container, dtype)
    X = operator.inputs[0].full_name
    if not isinstance(operator.inputs[0].type, (FloatTensorType, DoubleTensorType)):
        X = graph.op("Cast", X, to=graph.tensor_type)
    logits = forward_logits(graph, X, model.coefs_, model.intercepts_, activations)
    return graph, logits


def _convert_classifier(scope, operator, container):
    model = operator.raw_operator
    graph, logits = _logits(scope, operator, container)
    labels, probabilities = class_outputs(graph, logits, model)
    label_output, *probability_outputs = operator.outputs
    graph.op("Identity", labels, output=label_output.full_name)
    if len(probability_outputs) > 1:  # zipmap="columns"
        for column, output in enumerate(probability_outputs):
            index = graph.constant(np.int64(column))
            graph.op("Gather", probabilities, index, output=output.full_name, axis=1)
    elif isinstance(probability_outputs[0].type, SequenceType):  # zipmap=True
        keys = label_table(model.classes_)
        key_attribute = (
            "classlabels_strings" if keys.dtype.kind == "U" else "classlabels_int64s"
        )
        graph.op(
            "ZipMap",
            probabilities,
            output=probability_outputs[0].full_name,
            domain="ai.onnx.ml",
            **{key_attribute: keys.tolist()},
        )
    else:
        graph.op("Identity", probabilities, output=probability_outputs[0].full_name)


def _convert_regressor(scope, operator, container):
    graph, logits = _logits(scope, operator, container)
    predictions = regression_outputs(graph, logits, operator.raw_operator)
    graph.op("Identity", predictions, output=operator.outputs[0].full_name)


def register():
    """Register both estimators with skl2onnx (again, harmlessly)."""
    update_registered_converter(
        MLPBackpropClassifier,
        _CLASSIFIER_ALIAS,
        _classifier_shapes,
        _convert_classifier,
        parser=_parse_classifier,
        options={"zipmap": [True, False, "columns"]},
    )
    update_registered_converter(
        MLPBackpropRegressor, _REGRESSOR_ALIAS, _regressor_shapes, _convert_regressor
    )
