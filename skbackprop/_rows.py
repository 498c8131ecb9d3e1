"""Row identity: which rows of ``X`` hold the same sample.

Two parts of training treat identical rows as one sample: early stopping holds
them out together (:mod:`._holdout`), so duplicates never sit on both sides of
the validation split, and dropout draws one mask per sample (:mod:`._dropout`),
so that repeated rows share it. Both identify a row by its canonical bytes:
the values of a dense row; the column indices and values of a sparse row once
duplicates are summed and indices sorted.
"""

import hashlib

import numpy as np
import scipy.sparse as sp

__all__ = ["row_groups", "row_keys"]


def _sparse_rows(X):
    """Yield the bytes of every row of a sparse matrix: indices, then values.

    The matrix is first brought to a canonical form (CSR, duplicates summed,
    explicit zeros dropped, indices sorted), so that equal rows give equal
    bytes. Within one matrix
    all indices share a dtype and all values another, so the bytes of two
    rows are equal exactly when their indices and values are.
    """
    X = X.tocsr(copy=True)
    X.sum_duplicates()
    X.eliminate_zeros()
    X.sort_indices()
    for i in range(X.shape[0]):
        lo, hi = X.indptr[i], X.indptr[i + 1]
        yield X.indices[lo:hi].tobytes() + X.data[lo:hi].tobytes()


def _dense_rows(X):
    """Yield the bytes of every row of a dense array: its values."""
    for row in np.ascontiguousarray(X):
        yield row.tobytes()


def row_groups(X):
    """Integer id per row, equal exactly for rows with identical values.

    Ids are ranks of the rows' bytes, so they do not depend on the order of
    the rows.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Input rows.

    Returns
    -------
    groups : ndarray of shape (n_samples,), dtype intp
    """
    if sp.issparse(X):
        rows = np.empty(X.shape[0], dtype=object)
        rows[:] = list(_sparse_rows(X))
        _, groups = np.unique(rows, return_inverse=True)
        return groups
    # The same bytes as _dense_rows, viewed in place as one item per row.
    X = np.ascontiguousarray(X)
    rows = X.view(np.dtype((np.void, X.dtype.itemsize * X.shape[1]))).ravel()
    _, groups = np.unique(rows, return_inverse=True)
    return groups


def row_keys(X):
    """A 64-bit key per row that depends only on the row's values.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Input rows.

    Returns
    -------
    keys : ndarray of shape (n_samples,), dtype uint64
    """
    rows = _sparse_rows(X) if sp.issparse(X) else _dense_rows(X)
    keys = np.empty(X.shape[0], dtype=np.uint64)
    for i, row in enumerate(rows):
        digest = hashlib.blake2b(row, digest_size=8).digest()
        keys[i] = int.from_bytes(digest, "little")
    return keys
