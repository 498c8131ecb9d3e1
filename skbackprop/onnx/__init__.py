"""Export fitted estimators to ONNX, through skl2onnx.

Importing this module registers :class:`~skbackprop.MLPBackpropClassifier`
and :class:`~skbackprop.MLPBackpropRegressor` with skl2onnx, after which
:func:`skl2onnx.to_onnx` converts them alone or as steps of a scikit-learn
pipeline::

    import skbackprop.onnx  # registers the converters
    from skl2onnx import to_onnx

    onnx_model = to_onnx(pipeline, X_train[:1].astype("float32"))

Every built-in activation can be exported, per-layer lists included, for
binary, multiclass and multilabel classifiers and for regressors of every
loss. A float32 sample gives a float32 graph and a float64 sample a graph
computed in float64 throughout. See the user guide's page on deployment for
the outputs, the options and the opsets.

It needs the ``onnx`` extra: ``pip install "skbackprop[onnx]"``.
"""

try:
    import skl2onnx  # noqa: F401
except ImportError as error:
    raise ImportError(
        f"skbackprop.onnx needs skl2onnx and onnx ({error}). Install the onnx "
        'extra: pip install "skbackprop[onnx]".'
    ) from error

from ._activations import ONNX_ACTIVATIONS
from ._converters import MIN_OPSET, register

__all__ = ["MIN_OPSET", "SUPPORTED_ACTIVATIONS"]

# The activations that can be exported (hidden layers may mix them).
SUPPORTED_ACTIVATIONS = tuple(ONNX_ACTIVATIONS)

register()
