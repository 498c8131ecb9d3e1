"""Per-sample weights from ``class_weight``, scikit-learn's meaning.

``'balanced'`` weights class ``c`` by ``n / (n_classes * n_c)``. Here the
counts ``n`` and ``n_c`` are *weighted* by ``sample_weight``, which makes no
difference without weights and keeps the estimator's contract with them: a
sample weight of ``k`` acts exactly like ``k`` copies of the sample, class
balance included. For multilabel targets every label is a binary output with
its own balanced weights, and a sample's weight is their product, as
:func:`sklearn.utils.class_weight.compute_sample_weight` does for multi-output
targets.
"""

import numpy as np

__all__ = ["class_sample_weights"]


def _balanced(labels, n_values, sample_weight):
    """Balanced weight of every entry of ``labels`` (integers < n_values)."""
    counts = np.bincount(labels, weights=sample_weight, minlength=n_values)
    present = counts > 0
    weight_of_value = np.zeros(n_values)
    weight_of_value[present] = counts.sum() / (present.sum() * counts[present])
    return weight_of_value[labels]


def class_sample_weights(class_weight, targets, classes, sample_weight):
    """Sample weights scaled by the class weights.

    Parameters
    ----------
    class_weight : dict, 'balanced' or None
        Weight per class label, or 'balanced'.
    targets : ndarray of shape (n,) or (n, n_labels)
        Class indices, or a 0/1 indicator matrix for multilabel data.
    classes : ndarray of shape (n_classes,)
        The labels the indices refer to.
    sample_weight : ndarray of shape (n,) or None
        Weights to combine with.

    Returns
    -------
    sample_weight : ndarray of shape (n,) or None
        None only when both inputs are None.

    Raises
    ------
    ValueError
        For a dict with multilabel targets, or a dict naming unknown labels.
    """
    if class_weight is None:
        return sample_weight
    if class_weight == "balanced":
        if targets.ndim == 2:
            weights = np.ones(targets.shape[0])
            for column in targets.T:
                weights *= _balanced(column.astype(np.intp), 2, sample_weight)
        else:
            weights = _balanced(targets, len(classes), sample_weight)
    else:
        if targets.ndim == 2:
            raise ValueError(
                "class_weight as a dict applies to single-label targets; for "
                "multilabel targets use class_weight='balanced' or sample_weight."
            )
        unknown = [label for label in class_weight if label not in set(classes)]
        if unknown:
            raise ValueError(
                f"class_weight names labels that are not in the data: {unknown}; "
                f"the classes are {list(classes)}."
            )
        per_class = np.array([class_weight.get(c, 1.0) for c in classes], dtype=float)
        weights = per_class[targets]
    dtype = np.float64 if sample_weight is None else sample_weight.dtype
    weights = weights.astype(dtype, copy=False)
    return weights if sample_weight is None else weights * sample_weight
