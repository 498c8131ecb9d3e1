"""The compiled one-pass optimizer steps against the numpy path and the formulas.

Each optimizer's :meth:`step` has two implementations: numba kernels
(:mod:`skbackprop._kernels`) and numpy passes. Both must give what the
textbook update gives, and a whole fit must not depend on which one ran.
"""

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from skbackprop import MLPBackpropClassifier, _kernels
from skbackprop._activations import ACTIVATIONS
from skbackprop._losses import OUTPUT_LAYERS
from skbackprop._network import Network
from skbackprop._optimizers import OptimizerSettings, make_optimizer
from tests._extras import import_extra

import_extra("numba")

# A network of layers (5 -> 4 -> 3): segments W1 (20), W2 (12), b1 (4), b2 (3).
LAYERS = (5, 4, 3)
L2 = 0.03

SETTINGS = OptimizerSettings(
    solver="sgd",
    learning_rate="constant",
    learning_rate_init=0.1,
    power_t=0.5,
    momentum=0.9,
    nesterovs_momentum=False,
    beta_1=0.9,
    beta_2=0.999,
    epsilon=1e-8,
    weight_decay=0.05,
)
OPTIMIZERS = {
    "sgd": SETTINGS,
    "nesterov": SETTINGS._replace(nesterovs_momentum=True),
    "adam": SETTINGS._replace(solver="adam", learning_rate_init=0.01),
    "adamw": SETTINGS._replace(solver="adamw", learning_rate_init=0.01),
    "rmsprop": SETTINGS._replace(solver="rmsprop", learning_rate_init=0.01, beta_2=0.9),
    "adagrad": SETTINGS._replace(solver="adagrad"),
}
NETWORK = Network(LAYERS, ["relu"], "softmax", np.float64)
BOUNDS = NETWORK.segment_bounds
N_COEF = NETWORK.n_coef
N_PARAMS = NETWORK.params.size
TOLERANCE = {np.float32: dict(rtol=2e-5, atol=1e-6), np.float64: dict(rtol=1e-12)}


@pytest.fixture
def kernels(monkeypatch):
    """Switch the compiled kernels on or off for the rest of the test."""

    def switch(on):
        monkeypatch.setattr(_kernels, "use_kernels", on)

    return switch


def _steps(name, dtype, n_steps=4):
    """Parameters, state and norms after ``n_steps`` steps on fixed gradients."""
    rng = np.random.default_rng(0)
    optimizer = make_optimizer(OPTIMIZERS[name], N_PARAMS, N_COEF, dtype)
    params = rng.standard_normal(N_PARAMS).astype(dtype)
    norms = []
    for _ in range(n_steps):
        grads = rng.standard_normal(N_PARAMS).astype(dtype)
        sq_norms = np.empty((2, len(BOUNDS) - 1), dtype=dtype)
        optimizer.step(params, grads, BOUNDS, len(LAYERS) - 1, L2, sq_norms)
        norms.append(sq_norms)
    state = [getattr(optimizer, v) for v in optimizer._state_vectors]
    return params, state, np.array(norms)


def _textbook(name, n_steps=4):
    """The same steps written out from the update rules, in float64."""
    rng = np.random.default_rng(0)
    params = rng.standard_normal(N_PARAMS)
    m = np.zeros(N_PARAMS)
    v = np.zeros(N_PARAMS)
    is_weight = np.arange(N_PARAMS) < N_COEF
    norms = []
    segments = list(zip(BOUNDS[:-1], BOUNDS[1:]))
    for t in range(1, n_steps + 1):
        g = rng.standard_normal(N_PARAMS) + L2 * params * is_weight
        norms.append(
            [
                [np.sum(g[a:b] ** 2) for a, b in segments],
                [np.sum(params[a:b] ** 2) for a, b in segments],
            ]
        )
        if name in ("sgd", "nesterov"):
            m = 0.9 * m - 0.1 * g
            params = params + (0.9 * m - 0.1 * g if name == "nesterov" else m)
        elif name in ("adam", "adamw"):
            m = 0.9 * m + 0.1 * g
            v = 0.999 * v + 0.001 * g**2
            m_hat, v_hat = m / (1 - 0.9**t), v / (1 - 0.999**t)
            if name == "adamw":
                params = params * np.where(is_weight, 1 - 0.01 * 0.05, 1.0)
            # eps enters as in scikit-learn: added to sqrt(v), not sqrt(v_hat)
            eps_hat = 1e-8 / np.sqrt(1 - 0.999**t)
            params = params - 0.01 * m_hat / (np.sqrt(v_hat) + eps_hat)
        elif name == "rmsprop":
            v = 0.9 * v + 0.1 * g**2
            params = params - 0.01 * g / (np.sqrt(v) + 1e-8)
        else:
            v = v + g**2
            params = params - 0.1 * g / (np.sqrt(v) + 1e-8)
    return params, np.array(norms)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_kernel_step_matches_numpy_step(kernels, name, dtype):
    kernels(True)
    fused = _steps(name, dtype)
    kernels(False)
    plain = _steps(name, dtype)
    tolerance = TOLERANCE[dtype]
    np.testing.assert_allclose(fused[0], plain[0], **tolerance)
    for a, b in zip(fused[1], plain[1]):
        np.testing.assert_allclose(a, b, **tolerance)
    np.testing.assert_allclose(fused[2], plain[2], **tolerance)


@pytest.mark.parametrize("use_kernels", [True, False], ids=["kernels", "numpy"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_step_matches_the_update_rule(kernels, name, use_kernels):
    kernels(use_kernels)
    params, _, norms = _steps(name, np.float64)
    expected_params, expected_norms = _textbook(name)
    np.testing.assert_allclose(params, expected_params, rtol=1e-10)
    np.testing.assert_allclose(norms, expected_norms, rtol=1e-10)


def test_kernels_handle_only_float32_and_float64(kernels):
    kernels(True)
    assert _kernels.enabled(np.float32) and _kernels.enabled(np.float64)
    assert not _kernels.enabled(np.float16)
    kernels(False)
    assert not _kernels.enabled(np.float64)


def test_non_finite_gradients_propagate_as_in_numpy(kernels):
    # A diverging run must be caught by the finiteness checks after the
    # epoch, so the kernels may not hide a NaN or an infinity.
    kernels(True)
    optimizer = make_optimizer(OPTIMIZERS["adam"], N_PARAMS, N_COEF, np.float64)
    params = np.ones(N_PARAMS)
    grads = np.ones(N_PARAMS)
    grads[3], grads[N_COEF + 1] = np.nan, np.inf
    sq_norms = np.empty((2, len(BOUNDS) - 1))
    optimizer.step(params, grads, BOUNDS, 2, L2, sq_norms)
    assert np.isnan(params[3]) and np.isnan(sq_norms[0, 0])
    assert not np.isfinite(params[N_COEF + 1]) and np.isinf(sq_norms[0, 2])
    assert np.isfinite(np.delete(params, [3, N_COEF + 1])).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam"),
        dict(solver="sgd", momentum=0.9, nesterovs_momentum=True),
        dict(solver="adamw", weight_decay=0.01),
        dict(solver="rmsprop"),
        dict(solver="adagrad"),
    ],
    ids=lambda p: p["solver"],
)
def test_fit_does_not_depend_on_the_kernels(kernels, params, dtype):
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X).astype(dtype)
    fits = []
    for on in (True, False):
        kernels(on)
        clf = MLPBackpropClassifier(
            hidden_layer_sizes=(20, 10),
            max_iter=5,
            alpha=1e-2,
            batch_size=100,
            random_state=0,
            **params,
        )
        with pytest.warns(Warning):  # not converged in 5 epochs
            fits.append(clf.fit(X, y))
    fused, plain = fits
    # float32 rounding differences of a few ulps per step grow over 5 epochs
    # of Adam (which divides by small second moments) to ~1e-4 in the weights.
    tolerance = dict(rtol=1e-2, atol=5e-4) if dtype == np.float32 else {"rtol": 1e-9}
    for a, b in zip(fused.coefs_ + fused.intercepts_, plain.coefs_ + plain.intercepts_):
        np.testing.assert_allclose(a, b, **tolerance)
    np.testing.assert_allclose(fused.loss_curve_, plain.loss_curve_, **tolerance)
    np.testing.assert_allclose(
        fused.history_["grad_norm"], plain.history_["grad_norm"], **tolerance
    )
    assert np.mean(fused.predict(X) == plain.predict(X)) > 0.99


def test_environment_variable_disables_the_kernels():
    code = "from skbackprop import _kernels; print(_kernels.use_kernels)"
    for value, expected in (("1", "False"), ("0", "True"), ("", "True")):
        env = {**os.environ, "SKBACKPROP_DISABLE_NUMBA": value}
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True
        )
        assert out.stdout.strip() == expected, out.stderr


@pytest.mark.parametrize("where", ["import", "compile"])
def test_a_broken_numba_falls_back_with_a_warning(monkeypatch, where):
    def broken_import():
        raise ImportError("numba needs a different numpy")

    def broken_compile(kernels, scalar):
        raise TypeError("cannot type this loop")

    monkeypatch.setattr(_kernels, "_ready", set())
    monkeypatch.setattr(_kernels, "use_kernels", True)
    if where == "import":
        monkeypatch.setattr(_kernels, "_module", None)
        monkeypatch.setattr(_kernels, "_load", broken_import)
        message = "ImportError: numba needs a different numpy.*numpy code paths"
    else:
        monkeypatch.setattr(_kernels, "_run_once", broken_compile)
        message = "TypeError: cannot type this loop.*numpy code paths"
    with pytest.warns(RuntimeWarning, match=message):
        assert not _kernels.enabled(np.float64)
    assert not _kernels.use_kernels
    # and a fit then takes the numpy path, without further warnings
    X, y = load_digits(return_X_y=True)
    clf = MLPBackpropClassifier(max_iter=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X / 16, y)
    assert clf.score(X / 16, y) > 0.8


def test_importing_the_package_does_not_import_numba():
    # numba costs ~0.2 s to import; only a fit that runs a kernel pays it.
    code = "import sys, skbackprop; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def _layer_arrays(dtype, n=37, units=11):
    rng = np.random.default_rng(1)
    Z = rng.standard_normal((n, units)).astype(dtype)
    Z[3, 4] = np.nan  # NaN must survive every path, as in numpy
    Z[5, :] = [1e4] + [-1e4] * (units - 1)  # softmax saturates without overflow
    bias = rng.standard_normal(units).astype(dtype)
    delta = rng.standard_normal((n, units)).astype(dtype)
    return Z, bias, delta


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_kernels_match_numpy(kernels, dtype):
    relu = ACTIVATIONS["relu"]
    Z, bias, delta = _layer_arrays(dtype)
    results = []
    for on in (True, False):
        kernels(on)
        A = Z.copy()
        relu.forward_with_bias(A, bias, A)
        d = delta.copy()
        relu.multiply_derivative(d, A, None, np.empty_like(d))
        results.append((A, d))
    (A_fused, d_fused), (A_plain, d_plain) = results
    np.testing.assert_array_equal(A_fused, A_plain)  # exact: no rounding here
    np.testing.assert_array_equal(d_fused, d_plain)
    assert np.isnan(A_fused[3, 4])
    np.testing.assert_array_equal(A_plain, np.maximum(Z + bias, 0))


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_kernel_matches_numpy(kernels, dtype, weighted):
    softmax = OUTPUT_LAYERS["softmax"]
    Z, _, _ = _layer_arrays(dtype)
    Z[3, 4] = 0.0
    rng = np.random.default_rng(2)
    Y = np.eye(Z.shape[1], dtype=dtype)[rng.integers(0, Z.shape[1], Z.shape[0])]
    sample_weight = rng.uniform(0.5, 2, Z.shape[0]) if weighted else None
    results = []
    for on in (True, False):
        kernels(on)
        A = np.empty_like(Z)
        results.append((A, softmax.activate_and_loss(Z, A, Y, sample_weight)))
    (A_fused, loss_fused), (A_plain, loss_plain) = results
    tolerance = TOLERANCE[dtype]
    np.testing.assert_allclose(A_fused, A_plain, **tolerance)
    np.testing.assert_allclose(loss_fused, loss_plain, **tolerance)
    assert isinstance(loss_fused, float)
    # and the formula: sum_i w_i (logsumexp(z_i) - z_i[y_i])
    Z64 = Z.astype(np.float64)
    per_sample = np.log(np.exp(Z64 - Z64.max(1, keepdims=True)).sum(1))
    per_sample += Z64.max(1) - (Y * Z64).sum(1)
    expected = per_sample @ (
        np.ones(len(Z)) if sample_weight is None else sample_weight
    )
    np.testing.assert_allclose(loss_fused, expected, rtol=1e-5)


def test_softmax_kernel_propagates_nan(kernels):
    kernels(True)
    Z, _, _ = _layer_arrays(np.float64)
    Y = np.zeros_like(Z)
    Y[:, 0] = 1
    A = np.empty_like(Z)
    loss = OUTPUT_LAYERS["softmax"].activate_and_loss(Z, A, Y, None)
    assert np.isnan(loss) and np.isnan(A[3]).all() and np.isfinite(A[4]).all()


@pytest.mark.parametrize("method", ["predict_proba", "transform"])
def test_prediction_fuses_bias_and_relu(kernels, monkeypatch, method):
    # Prediction must take the one-pass kernel for ReLU layers, not the
    # numpy fallback of forward_with_bias (same numbers, twice the passes).
    X, y = load_digits(return_X_y=True)
    clf = MLPBackpropClassifier(hidden_layer_sizes=(16, 8), max_iter=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X / 16, y)
    kernels(True)
    compiled = _kernels.for_dtype(np.float64)
    assert compiled is not None
    calls = []
    fused = compiled.bias_relu

    def counting(Z, bias):
        calls.append(Z.shape)
        return fused(Z, bias)

    monkeypatch.setattr(compiled, "bias_relu", counting)
    getattr(clf, method)(X / 16)
    assert len(calls) == 2  # both hidden layers, one block of rows
