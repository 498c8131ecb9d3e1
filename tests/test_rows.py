"""Row identity (``skbackprop._rows``): which rows of ``X`` hold the same sample.

Rows with the same values get the same group and the same key, and rows that
differ get different ones, whatever the rows' order; groups are ranks, so
they follow the rows when the rows are permuted, and a row's key does not
depend on its place. Sparse rows are compared in canonical form: a row
written with unsorted indices or split into duplicate entries is the same
sample as the row written plainly, and dense and sparse input group the rows
alike.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from skbackprop._rows import row_groups, row_keys


def _rows():
    """Twelve rows, nine distinct: one of them three times, another twice."""
    rng = np.random.RandomState(0)
    X = np.round(rng.normal(size=(12, 5)), 1)
    X[:, 3] = 0.0  # a column the sparse forms do not store
    X[[4, 9]] = X[1]
    X[11] = X[6]
    return X


def _same(labels):
    """Which pairs of rows share a label: a boolean matrix."""
    labels = np.asarray(labels)
    return labels[:, None] == labels[None, :]


def _expected_same(X):
    return np.array([[np.array_equal(a, b) for b in X] for a in X])


@pytest.mark.parametrize(
    "container", [np.asarray, sp.csr_matrix, sp.csc_matrix, sp.coo_matrix]
)
def test_equal_rows_and_only_they_share_a_group_and_a_key(container):
    X = _rows()
    expected = _expected_same(X)
    assert expected.sum() == 12 + 3 * 2 + 2  # the repeats really are there
    groups, keys = row_groups(container(X)), row_keys(container(X))
    assert groups.shape == keys.shape == (12,)
    assert keys.dtype == np.uint64
    np.testing.assert_array_equal(_same(groups), expected)
    np.testing.assert_array_equal(_same(keys), expected)
    # Groups are ranks: 0 .. n_distinct - 1.
    np.testing.assert_array_equal(np.unique(groups), np.arange(9))


@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_groups_and_keys_follow_the_rows_when_they_are_permuted(container):
    X = _rows()
    order = np.random.RandomState(1).permutation(len(X))
    groups, keys = row_groups(container(X)), row_keys(container(X))
    np.testing.assert_array_equal(row_groups(container(X[order])), groups[order])
    np.testing.assert_array_equal(row_keys(container(X[order])), keys[order])
    # A row's key is the same in any batch that holds it.
    np.testing.assert_array_equal(row_keys(container(X[2:5])), keys[2:5])


def test_sparse_rows_are_compared_in_canonical_form():
    # Row 0 written plainly; row 1 the same with its indices out of order;
    # row 2 the same with the value 1.5 split into two entries, 1.0 and 0.5;
    # row 3 another row.
    X = sp.csr_matrix(
        (
            [1.5, -2.0, 0.5] + [-2.0, 1.5, 0.5] + [1.0, 0.5, 0.5, -2.0] + [4.0],
            [0, 2, 4] + [2, 0, 4] + [0, 0, 4, 2] + [1],
            [0, 3, 6, 10, 11],
        ),
        shape=(4, 5),
    )
    assert not X.has_canonical_format
    dense = X.toarray()
    np.testing.assert_array_equal(dense[1], dense[0])
    np.testing.assert_array_equal(dense[2], dense[0])
    groups, keys = row_groups(X), row_keys(X)
    assert groups[0] == groups[1] == groups[2] != groups[3]
    assert keys[0] == keys[1] == keys[2] != keys[3]
    # The caller's matrix is left as it was, and dense input groups alike.
    assert not X.has_canonical_format
    np.testing.assert_array_equal(_same(row_groups(dense)), _same(groups))


def test_sparse_rows_that_differ_only_in_stored_zeros_are_one_sample():
    # Both rows are [1, 0, 2]; the second stores its zero (a -0.0) explicitly.
    X = sp.csr_matrix(
        (np.array([1.0, 2.0, 1.0, -0.0, 2.0]), [0, 2, 0, 1, 2], [0, 2, 5]), (2, 3)
    )
    assert X[1].nnz == 3 and X[0].nnz == 2
    assert row_groups(X)[0] == row_groups(X)[1]
    assert row_keys(X)[0] == row_keys(X)[1]
