"""Training and prediction on array-API inputs under ``array_api_dispatch``.

The fits here run on array-api-strict (its CPU device and its second,
NumPy-refusing device) and on PyTorch's CPU tensors; the CUDA and CuPy cases
run where a GPU is present. Each is compared with the NumPy fit of the same
seed, which the portable path must reproduce to rounding.
"""

import pickle
import warnings

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._array_api import get_namespace, move_estimator_to
from sklearn.utils.estimator_checks import (
    check_array_api_input,
    check_array_api_mixed_inputs,
    check_array_api_same_namespace,
)

from skbackprop import MLPBackpropClassifier, MLPBackpropRegressor, load_model
from skbackprop import save_model as save
from skbackprop._array_api import NUMPY

xps = pytest.importorskip("array_api_strict")
torch = pytest.importorskip("torch")

# (namespace, device, dtype) of scikit-learn's check_array_api_input cases
# that run without a GPU.
CPU_CASES = [
    ("array_api_strict", "CPU_DEVICE", "float64"),
    ("array_api_strict", "device1", "float32"),
    ("torch", "cpu", "float64"),
    ("torch", "cpu", "float32"),
]
GPU_CASES = [("torch", "cuda", "float64"), ("torch", "cuda", "float32")]

ESTIMATORS = [
    MLPBackpropClassifier(hidden_layer_sizes=(8,), max_iter=20),
    MLPBackpropClassifier(hidden_layer_sizes=(8, 4), solver="lbfgs", max_iter=20),
    MLPBackpropClassifier(
        hidden_layer_sizes=(8,), max_iter=20, early_stopping=True, dropout=0.1
    ),
    MLPBackpropRegressor(hidden_layer_sizes=(8,), max_iter=20),
    MLPBackpropRegressor(hidden_layer_sizes=(8,), loss="huber", solver="sgd"),
]


def _id(estimator):
    return f"{type(estimator).__name__}({estimator.get_params()['solver']})"


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_id)
@pytest.mark.parametrize(("namespace", "device", "dtype"), CPU_CASES)
def test_check_array_api_input_values(estimator, namespace, device, dtype):
    """scikit-learn's check with values and sample weights compared to NumPy."""
    check_array_api_input(
        type(estimator).__name__,
        estimator,
        array_namespace=namespace,
        device_name=device,
        dtype_name=dtype,
        check_values=True,
        check_sample_weight=True,
    )


@pytest.mark.parametrize("estimator", ESTIMATORS[:1] + ESTIMATORS[3:4], ids=_id)
def test_mixed_inputs_and_same_namespace(estimator):
    """y from another namespace follows X; predict refuses foreign X."""
    from sklearn.utils._array_api import NamespaceAndDevice

    check_array_api_mixed_inputs(
        type(estimator).__name__,
        estimator,
        X_ns_and_device=NamespaceAndDevice("array_api_strict", "device1"),
        other_ns_and_device=NamespaceAndDevice("torch", "cpu"),
    )
    check_array_api_same_namespace(
        type(estimator).__name__, estimator, array_namespace="array_api_strict"
    )


@pytest.mark.parametrize(("namespace", "device", "dtype"), GPU_CASES)
def test_check_array_api_input_on_gpu(namespace, device, dtype):
    """The same check on CUDA tensors, where a GPU is present."""
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    check_array_api_input(
        "MLPBackpropClassifier",
        ESTIMATORS[0],
        array_namespace=namespace,
        device_name=device,
        dtype_name=dtype,
        check_values=True,
        check_sample_weight=True,
    )


def test_cupy_input():
    """CuPy arrays train and predict on the GPU, where CuPy is installed."""
    cupy = pytest.importorskip("cupy")
    X, y = _digits(np.float32)
    with sklearn.config_context(array_api_dispatch=True):
        model = MLPBackpropClassifier(max_iter=3, random_state=0)
        model.fit(cupy.asarray(X), cupy.asarray(y))
        assert isinstance(model.predict(cupy.asarray(X)), cupy.ndarray)


def _digits(dtype, n=500):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return (X[:n] / 16).astype(dtype), y[:n]


def _fit_both(estimator, X, y, to_device, **fit_params):
    reference = sklearn.clone(estimator).fit(X, y, **fit_params)
    with sklearn.config_context(array_api_dispatch=True):
        moved = {k: to_device(v) for k, v in fit_params.items()}
        model = sklearn.clone(estimator).fit(to_device(X), to_device(y), **moved)
    return reference, model


def _host(array):
    return array.cpu().numpy() if hasattr(array, "cpu") else np.asarray(array)


def test_torch_float64_fit_equals_numpy():
    """Ten epochs of adam with sample weights and early stopping, to ~1e-10."""
    X, y = _digits(np.float64)
    weights = np.random.RandomState(0).uniform(0.5, 2, len(y))
    estimator = MLPBackpropClassifier(
        hidden_layer_sizes=(32, 16),
        max_iter=10,
        random_state=0,
        early_stopping=True,
        class_weight="balanced",
        alpha=1e-3,
    )
    reference, model = _fit_both(estimator, X, y, torch.asarray, sample_weight=weights)
    for ours, theirs in zip(
        model.coefs_ + model.intercepts_, reference.coefs_ + reference.intercepts_
    ):
        assert isinstance(ours, torch.Tensor)
        assert_allclose(_host(ours), theirs, rtol=0, atol=1e-10)
    assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=1e-10)
    assert_allclose(model.validation_scores_, reference.validation_scores_)


@pytest.mark.parametrize("namespace", ["torch", "array_api_strict"])
def test_float64_dropout_fit_equals_numpy(namespace):
    """Dropout masks computed in the namespace train as NumPy's, to ~1e-10."""
    if namespace == "torch":
        to_device = torch.asarray
    else:
        device = xps.Device("device1")

        def to_device(array):
            return xps.asarray(array, device=device)

    X, y = _digits(np.float64, n=300)
    weights = np.random.RandomState(0).uniform(0.5, 2, len(y))
    estimator = MLPBackpropClassifier(
        hidden_layer_sizes=(32, 16),
        dropout=[0.2, 0.5],
        batch_size=64,
        max_iter=10,
        random_state=0,
    )
    reference, model = _fit_both(estimator, X, y, to_device, sample_weight=weights)
    for ours, theirs in zip(
        model.coefs_ + model.intercepts_, reference.coefs_ + reference.intercepts_
    ):
        assert_allclose(NUMPY.to_numpy(ours), theirs, rtol=0, atol=1e-10)
    assert_allclose(model.loss_curve_, reference.loss_curve_, rtol=1e-10)


def test_torch_float32_predictions_agree():
    """float32 labels agree with NumPy's on at least 99% of the samples."""
    X, y = _digits(np.float32, n=1000)
    estimator = MLPBackpropClassifier(max_iter=15, random_state=0)
    reference, model = _fit_both(estimator, X, y, torch.asarray)
    with sklearn.config_context(array_api_dispatch=True):
        labels = model.predict(torch.asarray(X))
    assert isinstance(labels, torch.Tensor)
    assert np.mean(_host(labels) == reference.predict(X)) >= 0.99


@pytest.mark.parametrize(
    "solver", ["sgd", "adam", "adamw", "rmsprop", "adagrad", "lbfgs"]
)
def test_every_solver_matches_numpy(solver):
    X, y = _digits(np.float64, n=200)
    estimator = MLPBackpropRegressor(
        hidden_layer_sizes=(8,), solver=solver, max_iter=5, random_state=0
    )
    reference, model = _fit_both(estimator, X, y.astype(float), torch.asarray)
    assert_allclose(_host(model.coefs_[0]), reference.coefs_[0], atol=1e-10)


def test_partial_fit_and_warm_start_continue_as_numpy():
    X, y = _digits(np.float64, n=300)
    host = MLPBackpropClassifier(max_iter=3, random_state=0, warm_start=True)
    host.fit(X, y).fit(X, y)
    host.partial_fit(X, y)
    with sklearn.config_context(array_api_dispatch=True):
        Xt, yt = torch.asarray(X), torch.asarray(y)
        model = MLPBackpropClassifier(max_iter=3, random_state=0, warm_start=True)
        model.fit(Xt, yt).fit(Xt, yt)
        model.partial_fit(Xt, yt)
    assert_allclose(_host(model.coefs_[0]), host.coefs_[0], atol=1e-10)
    assert model.n_iter_ == host.n_iter_


def test_move_between_namespaces_and_save():
    """A torch model moves to NumPy and back, and saves as a NumPy model."""
    X, y = _digits(np.float64, n=300)
    with sklearn.config_context(array_api_dispatch=True):
        model = MLPBackpropClassifier(max_iter=3, random_state=0)
        model.fit(torch.asarray(X), torch.asarray(y))
        on_device = _host(model.predict_proba(torch.asarray(X)))
    on_host = move_estimator_to(model, np, "cpu")
    assert isinstance(on_host.coefs_[0], np.ndarray)
    assert_allclose(on_host.predict_proba(X), on_device, rtol=1e-12)
    import io

    buffer = io.BytesIO()
    save(model, buffer)
    buffer.seek(0)
    loaded = load_model(buffer)
    assert isinstance(loaded.coefs_[0], np.ndarray)
    assert_allclose(loaded.predict_proba(X), on_device, rtol=1e-12)
    # Back to torch, and training goes on there.
    with sklearn.config_context(array_api_dispatch=True):
        xp_torch, _ = get_namespace(torch.asarray(X))
        back = move_estimator_to(loaded, xp_torch, "cpu")
        assert isinstance(back.predict(torch.asarray(X)), torch.Tensor)
        back.set_params(warm_start=True).fit(torch.asarray(X), torch.asarray(y))
        assert isinstance(back.coefs_[0], torch.Tensor)
    restored = pickle.loads(pickle.dumps(model))
    with sklearn.config_context(array_api_dispatch=True):
        assert_array_equal(
            _host(restored.predict(torch.asarray(X))),
            _host(model.predict(torch.asarray(X))),
        )


def test_divergence_is_undone_on_torch():
    X, y = _digits(np.float64, n=200)
    with sklearn.config_context(array_api_dispatch=True):
        model = MLPBackpropRegressor(
            solver="sgd", learning_rate_init=10.0, max_iter=5, random_state=0
        )
        with pytest.warns(ConvergenceWarning, match="diverged"):
            model.fit(torch.asarray(X * 100), torch.asarray(y * 1e3))
        assert all(bool(torch.isfinite(c).all()) for c in model.coefs_)


def test_string_labels_come_back_on_the_host():
    X, y = _digits(np.float64, n=200)
    labels = np.array(["even", "odd"])[y % 2]
    with sklearn.config_context(array_api_dispatch=True):
        model = MLPBackpropClassifier(max_iter=3, random_state=0)
        model.fit(torch.asarray(X), labels)
        predicted = model.predict(torch.asarray(X))
    assert isinstance(predicted, np.ndarray)
    assert set(predicted) <= {"even", "odd"}


def test_numeric_classes_live_with_the_model():
    """classes_ follows the weights, as scikit-learn's array-API classifiers."""
    X, y = _digits(np.float64, n=200)
    with sklearn.config_context(array_api_dispatch=True):
        Xt, yt = torch.asarray(X), torch.asarray(y)
        model = MLPBackpropClassifier(max_iter=2, random_state=0, warm_start=True)
        model.fit(Xt, yt)
        assert isinstance(model.classes_, torch.Tensor)
        assert_array_equal(_host(model.classes_), np.arange(10))
        model.fit(Xt, yt)  # a warm fit compares the labels on the host
        incremental = MLPBackpropClassifier(max_iter=2, random_state=0)
        incremental.partial_fit(Xt, yt, classes=torch.arange(10))
        assert isinstance(incremental.classes_, torch.Tensor)
        on_device = _host(model.predict(Xt))
    on_host = move_estimator_to(model, np, "cpu")
    assert isinstance(on_host.classes_, np.ndarray)
    assert_array_equal(on_host.predict(X), on_device)
    # Without dispatch a device model says how to use it.
    with pytest.raises(ValueError, match="array_api_dispatch=True"):
        model.predict(X)


def test_sparse_input_stays_on_numpy():
    """Sparse X trains on the NumPy path; a device model refuses it clearly."""
    import scipy.sparse as sp

    X, y = _digits(np.float64, n=200)
    with sklearn.config_context(array_api_dispatch=True):
        sparse_model = MLPBackpropClassifier(max_iter=2, random_state=0)
        sparse_model.fit(sp.csr_matrix(X), torch.asarray(y))
        assert isinstance(sparse_model.coefs_[0], np.ndarray)
        model = MLPBackpropClassifier(max_iter=2, random_state=0)
        model.fit(torch.asarray(X), torch.asarray(y))
        with pytest.raises(ValueError, match="Sparse input is NumPy/SciPy only"):
            model.predict(sp.csr_matrix(X))


def test_skops_file_of_a_model_moved_to_numpy():
    """skops cannot rebuild tensors; a model moved to NumPy saves as usual."""
    sio = pytest.importorskip("skops.io")
    X, y = _digits(np.float64, n=200)
    with sklearn.config_context(array_api_dispatch=True):
        model = MLPBackpropClassifier(max_iter=2, random_state=0)
        model.fit(torch.asarray(X), torch.asarray(y))
    data = sio.dumps(move_estimator_to(model, np, "cpu"))
    loaded = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
    with sklearn.config_context(array_api_dispatch=True):
        expected = _host(model.predict_proba(torch.asarray(X)))
    assert_allclose(loaded.predict_proba(X), expected, rtol=1e-12)
