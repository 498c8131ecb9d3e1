"""ONNX export: onnxruntime reproduces what the estimators predict.

Every activation, task and dtype is exported with skl2onnx and run with
onnxruntime, and the outputs are compared with ``predict_proba`` and
``predict``: to 1e-5 relative in float32 and 1e-10 in float64, and labels
identical. The models train a few epochs only: what is tested is that the
graph computes the function the estimator computes, whatever the weights.
"""

import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _extras import import_extra  # noqa: E402

skl2onnx = import_extra("skl2onnx")
ort = import_extra("onnxruntime")

from sklearn.compose import ColumnTransformer  # noqa: E402
from sklearn.datasets import (  # noqa: E402
    load_iris,
    make_classification,
    make_multilabel_classification,
    make_regression,
)
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import skbackprop.onnx  # noqa: E402
from skbackprop import (  # noqa: E402
    Activation,
    MLPBackpropClassifier,
    MLPBackpropRegressor,
)
from skbackprop._activations import ACTIVATIONS  # noqa: E402
from skbackprop.onnx import MIN_OPSET, SUPPORTED_ACTIVATIONS  # noqa: E402
from tests._custom_activations import MISH  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

DTYPES = pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=str)
EACH_ACTIVATION = pytest.mark.parametrize("activation", SUPPORTED_ACTIVATIONS)
IN_PIPELINE = pytest.mark.parametrize(
    "in_pipeline", [False, True], ids=["alone", "after-StandardScaler"]
)
# Relative differences allowed: the rounding of a few hundred operations in
# float32 and float64, with room to spare.
TOLERANCE = {np.float32: 1e-5, np.float64: 1e-10}
# Probabilities as one tensor, for the classifier alone or in a pipeline.
NO_ZIPMAP = {MLPBackpropClassifier: {"zipmap": False}}


# --------------------------------------------------------------------------
# Helpers: data, models, running a graph
# --------------------------------------------------------------------------


def classification_data(task, n_samples=120):
    """Standardised features and targets of a binary, multiclass or multilabel task."""
    if task == "multilabel":
        X, y = make_multilabel_classification(
            n_samples=n_samples, n_features=5, n_classes=3, random_state=0
        )
    else:
        X, y = make_classification(
            n_samples=n_samples,
            n_features=5,
            n_informative=4,
            n_redundant=0,
            n_classes=2 if task == "binary" else 4,
            random_state=0,
        )
    return StandardScaler().fit_transform(X), y


def regression_data(task, n_samples=120):
    """Features and targets of a single-output, multi-output or count task."""
    X, y = make_regression(
        n_samples=n_samples,
        n_features=5,
        n_targets=3 if task == "multi-output" else 1,
        noise=0.1,
        random_state=0,
    )
    X = StandardScaler().fit_transform(X)
    if task == "poisson":
        rng = np.random.RandomState(0)
        return X, rng.poisson(np.exp(0.5 * X[:, 0] - 0.3 * X[:, 1])).astype(float)
    return X, y / y.std()


def quick(Estimator, **params):
    """An estimator that trains a few epochs; its weights are what they are."""
    params = {
        "hidden_layer_sizes": (8, 6),
        "max_iter": 10,
        "learning_rate_init": 0.01,
        "random_state": 0,
        **params,
    }
    return Estimator(**params)


def short_fit(Estimator, X, y, **params):
    """``quick(Estimator, **params)`` fitted to ``X``, ``y``."""
    return quick(Estimator, **params).fit(X, y)


def alone_or_in_pipeline(in_pipeline, Estimator, X, y, **params):
    """A short fit on ``X``, or after a StandardScaler on shifted features.

    Returns the fitted model and the features it takes.
    """
    if not in_pipeline:
        return short_fit(Estimator, X, y, **params), X
    X = 5 * X + 2
    pipeline = make_pipeline(StandardScaler(), quick(Estimator, **params))
    return pipeline.fit(X, y), X


def with_tails(X):
    """``X`` and a stretched copy, to reach the activations' far sides."""
    return np.vstack([X, 4 * X])


def run(onnx_model, X):
    """The outputs of ``onnx_model`` on ``X``, by onnxruntime, one thread."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(
        onnx_model.SerializeToString(), options, providers=["CPUExecutionProvider"]
    )
    return session.run(None, {session.get_inputs()[0].name: X})


def export_and_run(model, X, **options):
    """``model`` exported with ``X``'s dtype and run on ``X``."""
    onnx_model = skl2onnx.to_onnx(model, X[:1], **options)
    return run(onnx_model, X)


def assert_close(actual, expected, dtype, relative_to_largest=False):
    """Equal within the dtype's tolerance, relative to each value or the largest.

    Probabilities are compared value by value, down to the smallest; values
    that may be near zero by chance (a regressor's) relative to the largest.
    """
    assert actual.dtype == dtype
    rtol = TOLERANCE[dtype]
    atol = rtol * np.abs(expected).max() if relative_to_largest else 0
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def assert_classifier_reproduced(model, X, dtype, **options):
    """Labels identical to ``predict``, probabilities close to ``predict_proba``."""
    options = {"options": NO_ZIPMAP, **options}
    labels, probabilities = export_and_run(model, X, **options)
    assert_close(probabilities, model.predict_proba(X), dtype)
    expected = model.predict(X)
    assert labels.shape == expected.shape
    np.testing.assert_array_equal(labels, expected)


def assert_regressor_reproduced(model, X, dtype, **options):
    """Predictions close to ``predict``, one column per output."""
    (predictions,) = export_and_run(model, X, **options)
    expected = model.predict(X).reshape(len(X), -1)
    assert predictions.shape == expected.shape
    assert_close(predictions, expected, dtype, relative_to_largest=True)


# --------------------------------------------------------------------------
# Every activation, task and dtype
# --------------------------------------------------------------------------


@IN_PIPELINE
@DTYPES
@EACH_ACTIVATION
@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_classifier_is_reproduced(task, activation, dtype, in_pipeline):
    X, y = classification_data(task)
    model, X = alone_or_in_pipeline(
        in_pipeline, MLPBackpropClassifier, X.astype(dtype), y, activation=activation
    )
    assert_classifier_reproduced(model, with_tails(X), dtype)


@IN_PIPELINE
@DTYPES
@EACH_ACTIVATION
@pytest.mark.parametrize("task", ["single-output", "multi-output", "poisson"])
def test_regressor_is_reproduced(task, activation, dtype, in_pipeline):
    X, y = regression_data(task)
    loss = "poisson" if task == "poisson" else "squared_error"
    model, X = alone_or_in_pipeline(
        in_pipeline,
        MLPBackpropRegressor,
        X.astype(dtype),
        y,
        activation=activation,
        loss=loss,
    )
    assert_regressor_reproduced(model, with_tails(X), dtype)


@DTYPES
@pytest.mark.parametrize("loss", ["absolute_error", "huber", "quantile"])
def test_every_regression_loss_is_reproduced(loss, dtype):
    X, y = regression_data("single-output")
    X = X.astype(dtype)
    model = short_fit(MLPBackpropRegressor, X, y, loss=loss)
    assert_regressor_reproduced(model, X, dtype)


@DTYPES
@EACH_ACTIVATION
def test_activation_alone_is_reproduced_far_into_its_tails(activation, dtype):
    # One unit of weight one between input and output: predict is f itself,
    # here on inputs from tiny to large of both signs. The next layer sees f
    # through its weights, so f's error counts against the size of z (or 1):
    # a few units in the last place.
    X, y = regression_data("single-output")
    model = short_fit(
        MLPBackpropRegressor, X[:, :1], y, hidden_layer_sizes=(1,), max_iter=1
    )
    model.coefs_ = [np.ones((1, 1), dtype), np.ones((1, 1), dtype)]
    model.intercepts_ = [np.zeros(1, dtype), np.zeros(1, dtype)]
    magnitudes = np.concatenate([[0.0], np.logspace(-8, np.log10(60), 400)])
    z = np.concatenate([-magnitudes[::-1], magnitudes]).astype(dtype)[:, None]
    (f,) = export_and_run(model, z)
    assert f.dtype == dtype
    error = np.abs(f - model.predict(z)[:, None])
    assert (error <= 16 * np.finfo(dtype).eps * np.maximum(1, np.abs(z))).all()


def test_every_built_in_activation_can_be_exported():
    assert set(SUPPORTED_ACTIVATIONS) == set(ACTIVATIONS)


@DTYPES
@pytest.mark.parametrize("Estimator", [MLPBackpropClassifier, MLPBackpropRegressor])
def test_per_layer_activations(Estimator, dtype):
    # One hidden layer per activation, in one network.
    if Estimator is MLPBackpropClassifier:
        X, y = classification_data("multiclass")
    else:
        X, y = regression_data("multi-output")
    X = X.astype(dtype)
    n_hidden = len(SUPPORTED_ACTIVATIONS)
    model = short_fit(
        Estimator,
        X,
        y,
        hidden_layer_sizes=(6,) * n_hidden,
        activation=list(SUPPORTED_ACTIVATIONS),
    )
    if Estimator is MLPBackpropClassifier:
        assert_classifier_reproduced(model, with_tails(X), dtype)
    else:
        assert_regressor_reproduced(model, with_tails(X), dtype)


@DTYPES
@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_network_without_hidden_layers(task, dtype):
    X, y = classification_data(task)
    X = X.astype(dtype)
    model = short_fit(MLPBackpropClassifier, X, y, hidden_layer_sizes=())
    assert_classifier_reproduced(model, X, dtype)


@DTYPES
@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_dropout_model_exports_its_inference_graph(task, dtype):
    X, y = classification_data(task)
    X = X.astype(dtype)
    model = short_fit(MLPBackpropClassifier, X, y, dropout=0.3)
    assert_classifier_reproduced(model, X, dtype)


@DTYPES
@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_saturated_probabilities_are_bounded_like_predict_proba(task, dtype):
    # Large weights push the logits to hundreds: probabilities round to 0
    # and 1, and both sides keep them within the same bounds.
    X, y = classification_data(task)
    X = X.astype(dtype)
    model = short_fit(MLPBackpropClassifier, X, y, activation="relu")
    model.coefs_ = [30 * coef for coef in model.coefs_]
    labels, probabilities = export_and_run(model, X, options=NO_ZIPMAP)
    expected = model.predict_proba(X)
    assert (expected < 1).all() and (expected > 0).all()
    assert (
        (expected == np.finfo(dtype).tiny) | (expected == 1 - np.finfo(dtype).epsneg)
    ).any()
    assert_close(probabilities, expected, dtype)
    np.testing.assert_array_equal(labels, model.predict(X))


# --------------------------------------------------------------------------
# Labels
# --------------------------------------------------------------------------

LABELS = {
    "strings": np.array(["cat", "dog", "emu", "owl"]),
    "non-ASCII strings": np.array(["épée", "naïve", "ĳssel", "東京"]),
    "object strings": np.array(["cat", "dog", "emu", "owl"], dtype=object),
    "negative integers": np.array([-7, -1, 3, 40]),
    "unsigned integers": np.array([2, 4, 6, 8], dtype=np.uint8),
    "integral floats": np.array([-1.0, 0.0, 1.0, 2.0]),
}


@DTYPES
@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("kind", list(LABELS))
def test_labels_of_every_kind(kind, n_classes, dtype):
    X, y = classification_data("binary" if n_classes == 2 else "multiclass")
    X = X.astype(dtype)
    model = short_fit(MLPBackpropClassifier, X, LABELS[kind][y])
    assert_classifier_reproduced(model, X, dtype)


def test_boolean_labels():
    X, y = classification_data("binary")
    X = X.astype(np.float32)
    model = short_fit(MLPBackpropClassifier, X, y.astype(bool))
    assert_classifier_reproduced(model, X, np.float32)


@DTYPES
def test_single_class(dtype):
    X, _ = classification_data("binary")
    X = X.astype(dtype)
    model = short_fit(MLPBackpropClassifier, X, np.full(len(X), "only"))
    labels, probabilities = export_and_run(model, X, options=NO_ZIPMAP)
    np.testing.assert_array_equal(labels, model.predict(X))
    np.testing.assert_array_equal(probabilities, model.predict_proba(X))


# --------------------------------------------------------------------------
# Pipelines (the matrix above also runs after a StandardScaler)
# --------------------------------------------------------------------------


def test_inside_a_column_transformer():
    X, y = classification_data("multiclass")
    X = (10 * X + 3).astype(np.float32)
    columns = ColumnTransformer(
        [("scaled", StandardScaler(), [0, 1, 2]), ("kept", "passthrough", [3, 4])]
    )
    pipeline = make_pipeline(columns, quick(MLPBackpropClassifier)).fit(X, y)
    assert_classifier_reproduced(pipeline, X, np.float32)


# --------------------------------------------------------------------------
# Options
# --------------------------------------------------------------------------


@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_zipmap_maps_each_class_to_its_probability(task):
    X, y = classification_data(task)
    X = X.astype(np.float32)
    model = short_fit(
        MLPBackpropClassifier, X, LABELS["strings"][y] if y.ndim == 1 else y
    )
    # zipmap is skl2onnx's default for classifiers, and float32 inputs.
    labels, maps = export_and_run(model, X)
    np.testing.assert_array_equal(labels, model.predict(X))
    keys = list(model.classes_)
    rows = np.array([[row[key] for key in keys] for row in maps], dtype=np.float32)
    assert_close(rows, model.predict_proba(X), np.float32)


@DTYPES
@pytest.mark.parametrize("task", ["binary", "multiclass", "multilabel"])
def test_zipmap_columns_gives_one_output_per_class(task, dtype):
    X, y = classification_data(task)
    X = X.astype(dtype)
    model = short_fit(MLPBackpropClassifier, X, y)
    onnx_model = skl2onnx.to_onnx(model, X[:1], options={"zipmap": "columns"})
    names = [output.name for output in onnx_model.graph.output]
    assert names == ["output_label"] + [f"probability_{c}" for c in model.classes_]
    labels, *columns = run(onnx_model, X)
    np.testing.assert_array_equal(labels, model.predict(X))
    assert_close(np.column_stack(columns), model.predict_proba(X), dtype)


@pytest.mark.parametrize("options", [None, {"zipmap": True}])
@pytest.mark.parametrize("in_pipeline", [False, True])
def test_float64_probabilities_stay_a_float64_tensor(in_pipeline, options):
    # ZipMap holds float32 only: zipmap=True, skl2onnx's default for a
    # classifier (and what it sets on a pipeline's), gives the tensor.
    X, y = classification_data("multiclass")
    model = short_fit(MLPBackpropClassifier, X, y)
    if in_pipeline:
        model = make_pipeline(StandardScaler(), model).fit(X, y)
    onnx_model = skl2onnx.to_onnx(model, X[:1], options=options)
    names = [output.name for output in onnx_model.graph.output]
    assert names == ["label", "probabilities"]
    labels, probabilities = run(onnx_model, X)
    assert_close(probabilities, model.predict_proba(X), np.float64)
    np.testing.assert_array_equal(labels, model.predict(X))


@pytest.mark.parametrize("target_opset", [MIN_OPSET, None])
@pytest.mark.parametrize("Estimator", [MLPBackpropClassifier, MLPBackpropRegressor])
def test_target_opset(Estimator, target_opset):
    if Estimator is MLPBackpropClassifier:
        X, y = classification_data("multiclass")
    else:
        X, y = regression_data("single-output")
    X = X.astype(np.float32)
    model = short_fit(Estimator, X, y, activation=["gelu", "elu"])
    onnx_model = skl2onnx.to_onnx(model, X[:1], target_opset=target_opset)
    opset = {entry.domain: entry.version for entry in onnx_model.opset_import}[""]
    # skl2onnx writes the newest opset that the nodes it chose need.
    newest = target_opset or skl2onnx.get_latest_tested_opset_version()
    assert MIN_OPSET <= opset <= newest
    if Estimator is MLPBackpropClassifier:
        assert_classifier_reproduced(model, X, np.float32, target_opset=target_opset)
    else:
        assert_regressor_reproduced(model, X, np.float32, target_opset=target_opset)


def test_an_older_opset_is_refused():
    X, y = regression_data("single-output")
    model = short_fit(MLPBackpropRegressor, X, y)
    with pytest.raises(ValueError, match=f"opset {MIN_OPSET} or newer"):
        skl2onnx.to_onnx(model, X[:1], target_opset=MIN_OPSET - 1)


def test_integer_inputs_give_a_float32_graph():
    X, y = regression_data("single-output")
    X = np.round(3 * X).astype(np.int64)
    model = short_fit(MLPBackpropRegressor, X.astype(np.float32), y)
    (predictions,) = export_and_run(model, X)
    expected = model.predict(X.astype(np.float32))[:, None]
    assert_close(predictions, expected, np.float32)


# --------------------------------------------------------------------------
# What cannot be exported, and the optional dependency
# --------------------------------------------------------------------------


@pytest.mark.parametrize("Estimator", [MLPBackpropClassifier, MLPBackpropRegressor])
def test_a_custom_activation_is_refused_by_name(Estimator):
    X, y = load_iris(return_X_y=True)
    model = short_fit(Estimator, X, y, activation=["relu", MISH])
    message = (
        f"Cannot export this {Estimator.__name__} to ONNX: hidden layer 2 uses "
        "the custom activation 'mish', whose Python functions ONNX cannot "
        "express. Only these activations can be exported: identity, logistic, "
        "tanh, relu, leaky_relu, elu, softplus, gelu, silu."
    )
    with pytest.raises(ValueError) as error:
        skl2onnx.to_onnx(model, X[:1].astype(np.float32))
    assert str(error.value) == message


def test_a_custom_activation_named_like_a_built_in_one_cannot_exist():
    # The converter trusts names of built-in activations only; a custom
    # activation cannot take one, so it can never be exported as the built-in.
    with pytest.raises(ValueError, match="relu"):
        Activation("relu", np.tanh, lambda Z, A: 1 - A * A)


def test_importing_skbackprop_imports_no_onnx_package():
    code = (
        "import sys, skbackprop; "
        "print(sorted({'skl2onnx', 'onnx', 'onnxruntime'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent.parent,  # this checkout's package
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.strip() == "[]"


def test_without_skl2onnx_the_import_says_which_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "skl2onnx", None)
    monkeypatch.delitem(sys.modules, "skbackprop.onnx")
    with pytest.raises(ImportError, match=r'pip install "skbackprop\[onnx\]"'):
        importlib.import_module("skbackprop.onnx")


def test_registering_again_changes_nothing():
    X, y = classification_data("multiclass")
    X = X.astype(np.float32)
    model = short_fit(MLPBackpropClassifier, X, y)
    importlib.reload(skbackprop.onnx)
    assert_classifier_reproduced(model, X, np.float32)
