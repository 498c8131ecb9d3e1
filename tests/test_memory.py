"""Memory held during fit: what training needs, and nothing per sample.

A fit allocates little more than the optimizer's state and one batch's
buffers, and a long run of ``partial_fit`` calls keeps nothing of each call
but its epoch's record. No timing here (speed lives in benchmarks/); allocated
bytes are exact and the same on every machine, so a budget can be asserted.
"""

import gc
import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp

from skbackprop import MLPBackpropClassifier, _kernels
from skbackprop._blas import blas_is_serial
from tests._data import blobs


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


@pytest.mark.parametrize("solver", ["adam", "sgd"])
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_memory_stays_flat_over_many_partial_fit_calls(solver, container):
    X, y = blobs(n_samples=400, n_features=20)
    X = container(X)
    clf = MLPBackpropClassifier(hidden_layer_sizes=(64,), solver=solver, random_state=0)
    classes = np.unique(y)
    gc.collect()
    tracemalloc.start()
    try:
        for call in range(1, 51):
            clf.partial_fit(X, y, classes=classes)
            clf.predict_proba(X[:50])
            if call == 10:
                gc.collect()
                after_10 = tracemalloc.get_traced_memory()[0]
        gc.collect()
        after_50 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    # Each call rightly records one epoch (loss_curve_, history_): a few
    # hundred bytes. Anything kept from the call's buffers is far more: one
    # batch of hidden activations alone is 200 * 64 * 8 = 100 kB.
    assert after_50 - after_10 < 40 * 1024, (after_10, after_50)
    assert len(clf.loss_curve_) == 50
