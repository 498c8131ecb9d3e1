"""Memory held during fit: what training needs, and nothing per sample.

No timing here (speed lives in benchmarks/); allocated bytes are exact and
the same on every machine, so a budget can be asserted.
"""

import tracemalloc
import warnings

import numpy as np
import pytest

from skbackprop import MLPBackpropClassifier, _kernels
from skbackprop._blas import blas_is_serial


@pytest.mark.parametrize("path", ["kernels", "numpy"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fit_allocates_little_more_than_the_optimizer_state(dtype, path, monkeypatch):
    if path == "numpy":
        monkeypatch.setattr(_kernels, "use_kernels", False)
    rng = np.random.default_rng(0)
    n, n_features, hidden, batch = 20_000, 100, (256, 128), 50
    X = rng.standard_normal((n, n_features)).astype(dtype)
    y = rng.integers(0, 10, n)
    units = (n_features, *hidden, 10)
    n_params = sum(a * b + b for a, b in zip(units[:-1], units[1:]))
    itemsize = np.dtype(dtype).itemsize
    # params, gradient, Adam's two moments, and the weights of the last
    # finished epoch (kept to undo a diverged one)
    parameter_vectors = 5 * n_params * itemsize
    # the gathered batch of X, and per layer Z (= A for ReLU) and dZ
    batch_buffers = batch * (n_features + 2 * sum(units[1:])) * itemsize
    # the shuffled row order (int32) and the class indices (uint8)
    per_sample = n * (4 + 1)
    budget = parameter_vectors + batch_buffers + per_sample
    if not _kernels.enabled(dtype) and not blas_is_serial():
        # numpy's y += a * x, taken when BLAS runs threads, scales x into a
        # parameter-sized scratch vector first
        budget += n_params * itemsize

    clf = MLPBackpropClassifier(
        hidden_layer_sizes=hidden, batch_size=batch, max_iter=2, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # Once per process, numba's compiler (or its cache loader) builds
        # tens of MB of Python objects; a first fit pays that outside the
        # measurement.
        clf.fit(X[:500], y[:500])
        tracemalloc.start()
        clf.fit(X, y)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # Slack for scratch space, Python objects and input validation; a
    # parameter-sized temporary at any point (+20%) would exceed it.
    assert peak <= 1.1 * budget + 64 * 1024, (peak, budget)
    assert peak < X.nbytes / 4  # no copy of X
