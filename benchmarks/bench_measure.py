"""Measurements: fit and predict timings, peak fit memory, the matmul bound.

Every function here measures one thing once; repeating and interleaving the
measurements is the job of ``run.py``.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise

import numpy as np


@contextmanager
def quiet_convergence():
    """Silence the warning every fixed-epoch fit emits on purpose.

    The benchmark stops training after a fixed number of epochs, so both
    estimators warn that they did not converge; the message is matched as
    well as the class in case an estimator raises its own warning class.
    """
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*[Mm]aximum iterations.*")
        yield


def time_fit(estimator, X, y):
    """Return the wall-clock seconds of ``estimator.fit(X, y)``.

    A full garbage collection runs first so that collecting the previous
    run's garbage is not billed to this one.

    Parameters
    ----------
    estimator : estimator
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)

    Returns
    -------
    seconds : float
    """
    gc.collect()
    with quiet_convergence():
        start = time.perf_counter()
        estimator.fit(X, y)
        return time.perf_counter() - start


def time_predict_proba(estimator, X):
    """Return the wall-clock seconds of one ``estimator.predict_proba(X)``."""
    gc.collect()
    start = time.perf_counter()
    estimator.predict_proba(X)
    return time.perf_counter() - start


def peak_fit_memory(estimator, X, y):
    """Return the peak bytes allocated during ``fit`` on top of the data.

    tracemalloc is started *after* the data exist, so the training data are
    not counted; what is counted is every block allocated while ``fit``
    runs, through Python's allocators or numpy's data allocator (numpy
    reports its buffers to tracemalloc). That covers copies of the data,
    mini-batch buffers, activations, gradients, optimizer state and the
    fitted parameters alike, for any estimator that allocates through numpy.
    Memory that C code allocates directly (the BLAS library's own
    workspace, PyTorch's CPU allocator) is invisible to it.

    Parameters
    ----------
    estimator : estimator
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,)

    Returns
    -------
    peak_bytes : int
    """
    gc.collect()
    tracemalloc.start()
    try:
        with quiet_convergence():
            estimator.fit(X, y)
        _, peak_bytes = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak_bytes


@dataclass
class _MatmulBatch:
    """Preallocated operands and outputs of one mini-batch's matmuls."""

    activations: list  # A[i], (batch, width[i]): inputs of the forward matmuls
    pre_activations: list  # Z[i+1], (batch, width[i+1]): forward outputs
    deltas: list  # dZ[i+1], (batch, width[i+1]): inputs of backward matmuls
    input_deltas: list  # dA[i], (batch, width[i]): outputs of dZ @ W.T
    weight_grads: list  # (width[i], width[i+1]): outputs of A.T @ dZ


class MatmulBound:
    """The matrix products one training epoch of an MLP cannot avoid.

    For every mini-batch it runs, with :func:`numpy.matmul` writing into
    preallocated outputs:

    * forward, each layer: ``Z = A @ W``;
    * backward, every layer but the first: ``dA = dZ @ W.T`` (the first
      layer's input gradient is never needed);
    * weight gradients, each layer: ``G = A.T @ dZ``.

    The epoch has the same number of batches, the same batch shapes
    (including the shorter last batch) and the same dtype as the real
    training, so its duration is a floor for any implementation that calls
    the same BLAS with the same thread count.

    Parameters
    ----------
    n_samples : int
        Training rows per epoch.
    layer_widths : sequence of int
        ``(n_features, *hidden_layer_sizes, n_classes)``.
    batch_size : int
    dtype : numpy dtype
    seed : int, default=0
    """

    def __init__(self, n_samples, layer_widths, batch_size, dtype, seed=0):
        rng = np.random.default_rng(seed)
        self.layer_widths = tuple(layer_widths)
        # Operands hold values in [0, 1): no zeros that a BLAS could skip and
        # no denormals that would slow it down.
        self.weights = [
            rng.random((fan_in, fan_out)).astype(dtype)
            for fan_in, fan_out in pairwise(layer_widths)
        ]
        n_full, last_rows = divmod(n_samples, batch_size)
        self.batch_plan = [batch_size] * n_full + ([last_rows] if last_rows else [])
        self._batches = {
            rows: self._allocate_batch(rows, dtype, rng)
            for rows in set(self.batch_plan)
        }

    def _allocate_batch(self, rows, dtype, rng):
        widths = self.layer_widths

        def block(*shape):
            return rng.random(shape).astype(dtype)

        return _MatmulBatch(
            activations=[block(rows, w) for w in widths[:-1]],
            pre_activations=[block(rows, w) for w in widths[1:]],
            deltas=[block(rows, w) for w in widths[1:]],
            input_deltas=[block(rows, w) for w in widths[:-1]],
            weight_grads=[np.empty_like(w) for w in self.weights],
        )

    def _run_batch(self, batch):
        """Run one mini-batch's forward, input-gradient and weight-gradient matmuls."""
        for layer, weight in enumerate(self.weights):
            np.matmul(
                batch.activations[layer], weight, out=batch.pre_activations[layer]
            )
        for layer in range(len(self.weights) - 1, 0, -1):
            np.matmul(
                batch.deltas[layer],
                self.weights[layer].T,
                out=batch.input_deltas[layer],
            )
        for layer in range(len(self.weights)):
            np.matmul(
                batch.activations[layer].T,
                batch.deltas[layer],
                out=batch.weight_grads[layer],
            )

    def time_epoch(self, min_tries=3, min_seconds=0.25):
        """Return the best wall-clock seconds of one epoch's worth of matmuls.

        A floor should be a best case: the epoch is repeated back to back
        (at least ``min_tries`` times and ``min_seconds`` in all, which
        matters for the millisecond epochs of small data sets) and the
        fastest repetition is returned, so that an interruption by another
        process does not pass for BLAS speed.
        """
        return _best_of(self._epoch_once, min_tries, min_seconds)

    def _epoch_once(self):
        for rows in self.batch_plan:
            self._run_batch(self._batches[rows])

    def flops_per_epoch(self):
        """Return the floating-point operations of one epoch's matmuls."""
        n_rows = sum(self.batch_plan)
        pairs = list(pairwise(self.layer_widths))
        forward = sum(2 * n_rows * a * b for a, b in pairs)
        weight_grads = forward
        input_grads = sum(2 * n_rows * a * b for a, b in pairs[1:])
        return forward + weight_grads + input_grads

    def time_forward(self, min_tries=3, min_seconds=0.05):
        """Return the best seconds of the forward matmuls alone over all batches.

        With one batch of all the rows this is the floor of
        ``predict_proba`` on those rows: the products it cannot avoid,
        without validation, bias, activation or softmax. Repeated like
        :meth:`time_epoch`.
        """
        return _best_of(self._forward_once, min_tries, min_seconds)

    def _forward_once(self):
        for rows in self.batch_plan:
            batch = self._batches[rows]
            for layer, weight in enumerate(self.weights):
                np.matmul(
                    batch.activations[layer], weight, out=batch.pre_activations[layer]
                )


def _best_of(work, min_tries, min_seconds):
    """Run ``work()`` until both limits are reached; return its fastest run."""
    gc.collect()
    best, spent, tries = float("inf"), 0.0, 0
    while tries < min_tries or spent < min_seconds:
        start = time.perf_counter()
        work()
        seconds = time.perf_counter() - start
        best, spent, tries = min(best, seconds), spent + seconds, tries + 1
    return best
