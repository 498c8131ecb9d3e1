"""The validation split of early stopping.

Rows are held out in whole groups of identical inputs: a sample repeated in
the data is either entirely in training or entirely in validation, so
duplicates never leak from one into the other. The draw depends only on the
set of distinct rows with positive weight, never on their order or their
multiplicity; hence a sample weight of ``k`` gives exactly the same split, and
the same model, as ``k`` copies of the sample.

The split is stratified: within each class (the class of a group's first row)
``ceil(validation_fraction * n_groups)`` groups are held out, provided the
class has at least two groups. Multilabel targets are not stratified.
"""

import numpy as np

from ._rows import row_groups

__all__ = ["grouped_validation_split"]


def grouped_validation_split(
    X, strata, sample_weight, validation_fraction, random_state
):
    """Indices of the training and validation rows.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Inputs; identical rows form one group.
    strata : ndarray of shape (n_samples,) or None
        Integer class of every row, or None not to stratify.
    sample_weight : ndarray of shape (n_samples,) or None
        Rows of zero weight take no part in the draw and stay in training,
        where they contribute nothing.
    validation_fraction : float
        Fraction of the groups of each class to hold out, in (0, 1).
    random_state : numpy.random.RandomState
        Source of randomness.

    Returns
    -------
    train_rows, validation_rows : ndarray of int
        Row indices, in increasing order.

    Raises
    ------
    ValueError
        If fewer than two distinct samples could be held out while keeping
        one to train on.
    """
    groups = row_groups(X)
    active = (
        np.ones(X.shape[0], dtype=bool)
        if sample_weight is None
        else (sample_weight > 0)
    )
    # Distinct active groups in canonical (content) order.
    active_groups = np.unique(groups[active])
    n_groups = len(active_groups)
    if strata is None:
        group_strata = np.zeros(n_groups, dtype=np.intp)
    else:
        # The class of a group is the class of its first active row.
        first_row = np.full(groups.max() + 1, -1, dtype=np.intp)
        active_rows = np.flatnonzero(active)
        order = active_rows[::-1]
        first_row[groups[order]] = order
        group_strata = np.asarray(strata)[first_row[active_groups]]

    # One uniform draw per group, in content order: the same draws for the
    # same distinct samples, however they are ordered or repeated.
    draws = random_state.uniform(size=n_groups)
    held_out = np.zeros(n_groups, dtype=bool)
    for stratum in np.unique(group_strata):
        members = np.flatnonzero(group_strata == stratum)
        if strata is not None and len(members) < 2:
            continue  # a class seen once stays in training
        n_val = int(np.ceil(validation_fraction * len(members)))
        n_val = min(n_val, len(members) - 1)
        held_out[members[np.argsort(draws[members], kind="stable")[:n_val]]] = True

    n_held_out = int(held_out.sum())
    if n_held_out < 2 and n_groups - n_held_out >= 3:
        # Too few for a score: add the remaining groups with the lowest draws.
        remaining = np.flatnonzero(~held_out)
        extra = remaining[np.argsort(draws[remaining], kind="stable")]
        held_out[extra[: 2 - n_held_out]] = True
        n_held_out = 2
    if n_held_out < 2 or n_held_out == n_groups:
        raise ValueError(
            f"The validation set is too small: early_stopping needs at least 2 "
            f"distinct samples to hold out and 1 to train on, and the data has "
            f"{n_groups} distinct sample(s) with positive weight (n_samples = "
            f"{X.shape[0]}). Use more samples or early_stopping=False."
        )

    validation_group = np.zeros(groups.max() + 1, dtype=bool)
    validation_group[active_groups[held_out]] = True
    in_validation = validation_group[groups] & active
    return np.flatnonzero(~in_validation), np.flatnonzero(in_validation)
