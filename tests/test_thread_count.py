"""A fit does not depend on how many threads it may use, beyond BLAS's rounding.

Everything the package computes itself (the compiled element-wise kernels,
the optimizer steps, the gather of each batch) runs in a fixed order on one
thread, so the thread settings can change only the matrix products. Those
come from BLAS, and OpenBLAS's threaded products differ from its
single-threaded ones in the last bits: the fits below agree to rounding,
not bit for bit, and predict the same labels. numba's own thread count
changes nothing at all.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from skbackprop import MLPBackpropClassifier, _kernels


def _pixels(n_samples=1000, n_features=784, n_classes=10):
    """Image-sized inputs: products large enough for BLAS to thread them."""
    rng = np.random.RandomState(0)
    centres = rng.uniform(size=(n_classes, n_features))
    y = rng.randint(n_classes, size=n_samples)
    X = np.clip(centres[y] + rng.normal(scale=0.3, size=(n_samples, n_features)), 0, 1)
    return X, y


def _fit(X, y, dtype):
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(256, 64), batch_size=256, max_iter=4, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X.astype(dtype), y)


@pytest.mark.parametrize(
    "dtype, rtol, atol", [(np.float64, 1e-9, 1e-12), (np.float32, 1e-3, 1e-5)]
)
def test_blas_threads_change_weights_only_by_rounding(dtype, rtol, atol):
    X, y = _pixels()
    fits = {}
    for threads in (1, 2):
        with threadpool_limits(threads, user_api="blas"):
            fits[threads] = _fit(X, y, dtype)
    one, two = fits[1], fits[2]
    for a, b in zip(one.coefs_ + one.intercepts_, two.coefs_ + two.intercepts_):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    np.testing.assert_allclose(one.loss_curve_, two.loss_curve_, rtol=rtol)
    assert one.n_iter_ == two.n_iter_
    np.testing.assert_array_equal(one.predict(X), two.predict(X))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numba_threads_change_nothing(dtype):
    if not _kernels.enabled(dtype):
        pytest.skip("compiled kernels are off (numba missing or disabled)")
    import numba

    X, y = _pixels(n_samples=600)
    previous = numba.get_num_threads()
    fits = {}
    try:
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            with threadpool_limits(1, user_api="blas"):
                fits[threads] = _fit(X, y, dtype)
    finally:
        numba.set_num_threads(previous)
    (first, *others) = fits.values()
    for other in others:
        for a, b in zip(first.coefs_, other.coefs_):
            np.testing.assert_array_equal(a, b)
        assert first.loss_curve_ == other.loss_curve_
