"""Mini-batches of the stochastic solvers."""

import warnings
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

__all__ = ["Batch", "BatchSource", "batch_size"]


def batch_size(requested, n_samples):
    """The batch size for ``n_samples`` rows: 'auto' is ``min(200, n)``."""
    if requested == "auto":
        return min(200, n_samples)
    if requested > n_samples:
        warnings.warn(
            "Got `batch_size` less than 1 or larger than sample size. It is going "
            "to be clipped"
        )
    return int(np.clip(requested, 1, n_samples))


def starting_order(order, n_samples):
    """The row order a batch source shuffles on from.

    The order a previous call left, if it covers these rows; otherwise
    ``arange(n_samples)``, in int32 when it fits, which halves the index
    (the same permutation: shuffling depends on the length only).
    """
    if order is not None and len(order) == n_samples:
        return order
    index_dtype = np.int32 if n_samples < 2**31 else np.intp
    return np.arange(n_samples, dtype=index_dtype)


class Batch(NamedTuple):
    """The rows of one mini-batch."""

    X: np.ndarray
    Y: np.ndarray
    sample_weight: np.ndarray | None
    keys: np.ndarray | None  # row keys for dropout masks, in X's array space
    # Total sample weight, known on the host; None: computed from the batch.
    weight: float | None = None


class BatchSource:
    """Mini-batches over the training rows, reshuffled every epoch.

    Shuffling permutes an index vector only; the rows of each batch are then
    gathered into buffers allocated once, so an epoch copies each row of X
    once and allocates nothing sizeable for dense input.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_samples, n_features)
        Training inputs.
    targets : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Compact targets, turned into output rows a batch at a time by
        ``encoding``.
    encoding : ClassTargets or RegressionTargets
        Turns compact targets into output rows: ``rows(targets, dtype, out)``.
    n_outputs : int
        Output units of the network.
    sample_weight : ndarray of shape (n_samples,) or None
        Per-sample weights.
    keys : ndarray of shape (n_samples,) or None
        Row keys for the dropout masks, or None without dropout.
    batch_size : int
        Rows per batch; the last batch of an epoch may be shorter.
    shuffle : bool
        Whether to shuffle the rows every epoch.
    random_state : numpy.random.RandomState
        Source of the shuffles.
    order : ndarray of shape (n_samples,) or None, default=None
        The row order the previous call left, to shuffle on from; each
        epoch shuffles the previous epoch's order, as scikit-learn's MLP
        does, so continuing it makes later calls shuffle as one long fit.
        A new order starts as ``arange(n_samples)``.
    """

    def __init__(
        self,
        X,
        targets,
        encoding,
        n_outputs,
        sample_weight,
        keys,
        batch_size,
        shuffle,
        random_state,
        order=None,
    ):
        self.X, self.targets, self.encoding = X, targets, encoding
        self.sample_weight, self.keys = sample_weight, keys
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state
        self.n_samples = X.shape[0]
        self.order = starting_order(order, self.n_samples)
        self._Y_buffer = np.empty((batch_size, n_outputs), dtype=X.dtype)
        if shuffle:
            self._X_buffer = (
                None
                if sp.issparse(X)
                else np.empty((batch_size, X.shape[1]), dtype=X.dtype)
            )
            self._sw_buffer = (
                None
                if sample_weight is None
                else np.empty(batch_size, dtype=sample_weight.dtype)
            )
            self._key_buffer = None if keys is None else np.empty(batch_size, np.uint64)

    def __iter__(self):
        if self.shuffle:
            # In place, and the same draws as sklearn.utils.shuffle.
            self.random_state.shuffle(self.order)
        for start in range(0, self.n_samples, self.batch_size):
            stop = min(start + self.batch_size, self.n_samples)
            rows = slice(start, stop) if not self.shuffle else self.order[start:stop]
            Y = self.encoding.rows(self.targets[rows], self.X.dtype, self._Y_buffer)
            if not self.shuffle:
                yield Batch(
                    self.X[rows],
                    Y,
                    None if self.sample_weight is None else self.sample_weight[rows],
                    None if self.keys is None else self.keys[rows],
                )
                continue
            n = stop - start
            yield Batch(
                self._take(self.X, rows, self._X_buffer, n),
                Y,
                self._take(self.sample_weight, rows, self._sw_buffer, n),
                self._take(self.keys, rows, self._key_buffer, n),
            )

    @staticmethod
    def _take(source, rows, buffer, n):
        if source is None:
            return None
        if buffer is None:  # sparse X
            return source[rows]
        return np.take(source, rows, axis=0, out=buffer[:n], mode="clip")


class DeviceBatchSource:
    """Mini-batches of data that lives in another array space (a GPU, say).

    The rows are those :class:`BatchSource` gives for the same generator: the
    order is shuffled on the host, as scikit-learn shuffles, and moved to the
    device once per epoch; each batch is then gathered there with ``take``.
    The targets' rows are encoded once for the whole data and moved with it,
    as are the dropout keys, and each batch's total weight is known on the
    host, so that a batch costs the device no synchronisation.

    Parameters
    ----------
    X : array of shape (n_samples, n_features)
        Training inputs, in ``space``.
    Y : array of shape (n_samples, n_outputs)
        Target rows of the output layer, in ``space``.
    sample_weight : array of shape (n_samples,) or None
        Weights, in ``space``.
    host_weight : ndarray of shape (n_samples,) or None
        The same weights on the host.
    keys : array of shape (n_samples,) or None
        Row keys for dropout, in ``space``
        (:meth:`~skbackprop._dropout.PortableDropout.keys_in_space`).
    batch_size : int
        Rows per batch.
    shuffle : bool
        Whether to reshuffle every epoch.
    random_state : RandomState
        Source of the shuffles.
    order : ndarray or None
        The row order to shuffle on from; see :class:`BatchSource`.
    space : ArraySpace
        Where the data lives.
    """

    def __init__(
        self,
        X,
        Y,
        sample_weight,
        host_weight,
        keys,
        batch_size,
        shuffle,
        random_state,
        order,
        space,
    ):
        self.X, self.Y, self.sample_weight = X, Y, sample_weight
        self.host_weight, self.keys = host_weight, keys
        self.batch_size, self.shuffle = batch_size, shuffle
        self.random_state, self.space = random_state, space
        self.n_samples = X.shape[0]
        self.order = starting_order(order, self.n_samples)

    def __iter__(self):
        space = self.space
        if self.shuffle:
            self.random_state.shuffle(self.order)
            # Moved once per epoch; each batch slices it on the device.
            device_order = space.asarray(self.order.astype(np.int64))
        for start in range(0, self.n_samples, self.batch_size):
            stop = min(start + self.batch_size, self.n_samples)
            rows = slice(start, stop)
            host_rows, index = (
                (self.order[rows], device_order[rows]) if self.shuffle else (rows, rows)
            )
            weight = (
                float(stop - start)
                if self.host_weight is None
                else float(self.host_weight[host_rows].sum())
            )
            yield Batch(
                *(
                    space.take_rows(values, index)
                    for values in (self.X, self.Y, self.sample_weight, self.keys)
                ),
                weight,
            )
