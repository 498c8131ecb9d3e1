"""In-place vector updates (``skbackprop._blas``): BLAS and numpy agree.

``Axpy`` computes ``y + a * x`` alike on both paths, serial BLAS is detected,
a fit does not depend on the BLAS thread count that picks the path, and the
numpy path's scratch vector is allocated on first use and never pickled.
"""

import pickle

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from skbackprop import MLPBackpropClassifier
from skbackprop._blas import Axpy, blas_is_serial


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axpy_paths_agree(dtype):
    rng = np.random.RandomState(0)
    x, y = rng.normal(size=1000).astype(dtype), rng.normal(size=1000).astype(dtype)
    expected = y + dtype(0.3) * x
    for use_blas in (True, False):
        result = Axpy(1000, dtype, use_blas)(x, y.copy(), 0.3)
        np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-6)


def test_serial_blas_is_detected():
    with threadpool_limits(1, user_api="blas"):
        assert blas_is_serial()


@pytest.mark.parametrize("solver", ["adam", "sgd", "rmsprop", "adamw"])
def test_fit_agrees_with_serial_and_threaded_blas(small_digits, solver):
    # The update path follows the BLAS thread count; the model must not.
    X, y = small_digits
    fits = []
    for threads in (1, 2):
        with threadpool_limits(threads, user_api="blas"):
            clf = MLPBackpropClassifier(solver=solver, max_iter=5, random_state=0)
            fits.append(clf.fit(X, y))
    assert fits[0]._training_state.optimizer.axpy.use_blas
    for a, b in zip(fits[0].coefs_, fits[1].coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)


def test_numpy_axpy_scratch_is_allocated_on_use_and_never_pickled():
    x, y = np.ones(100), np.zeros(100)
    axpy = Axpy(100, np.float64, use_blas=False)
    assert axpy._scratch is None  # a compiled optimizer step never needs it
    axpy(x, y, 2.0)
    assert axpy._scratch is not None
    restored = pickle.loads(pickle.dumps(axpy))
    assert restored._scratch is None
    np.testing.assert_array_equal(restored(x, y, 2.0), np.full(100, 4.0))
