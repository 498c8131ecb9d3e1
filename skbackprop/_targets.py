"""Targets: class labels as the network sees them, and back.

A classifier keeps the targets of a whole fit compact, as class indices of
the smallest unsigned dtype (a 0/1 ``uint8`` indicator for multilabel data):
they live through the whole fit, where an int64 copy of 60,000 labels would
cost more than the batch buffers. The one-hot rows ``Y`` that the loss needs
are built a batch at a time, in a buffer allocated once.
"""

import numpy as np
from sklearn.utils import column_or_1d

__all__ = ["ClassTargets", "one_hot"]


def one_hot(targets, n_outputs, dtype, out=None):
    """One-hot (or indicator) target rows ``Y`` from compact class targets.

    Parameters
    ----------
    targets : ndarray of shape (n,) or (n, n_outputs)
        Class indices, or a 0/1 indicator matrix for multilabel data.
    n_outputs : int
        Number of output units; 1 means a binary problem, whose single column
        is the index of the class itself.
    dtype : numpy dtype
        Dtype of ``Y``.
    out : ndarray of shape (>= n, n_outputs), default=None
        Buffer to fill; its first ``n`` rows are used.

    Returns
    -------
    Y : ndarray of shape (n, n_outputs)
    """
    n = targets.shape[0]
    Y = np.empty((n, n_outputs), dtype=dtype) if out is None else out[:n]
    if targets.ndim == 2 or n_outputs == 1:
        Y[...] = targets.reshape(n, n_outputs)
    else:
        Y[...] = 0
        # Row-major flat positions of the ones: row * n_outputs + class.
        Y.reshape(-1)[_row_offsets(n, n_outputs) + targets] = 1
    return Y


_OFFSETS = {}


def _row_offsets(n, n_outputs):
    """``arange(n) * n_outputs``, cached: one allocation per shape, not per batch."""
    key = (n, n_outputs)
    if key not in _OFFSETS:
        if len(_OFFSETS) > 64:
            _OFFSETS.clear()
        _OFFSETS[key] = np.arange(n, dtype=np.intp) * n_outputs
    return _OFFSETS[key]


class ClassTargets:
    """The encoding of a classifier's labels, read off a fitted LabelBinarizer.

    Parameters
    ----------
    binarizer : sklearn.preprocessing.LabelBinarizer
        Fitted on the labels (or on the ``classes`` of ``partial_fit``).
    """

    def __init__(self, binarizer):
        self.binarizer = binarizer
        self.classes = binarizer.classes_
        self.multilabel = binarizer.y_type_ == "multilabel-indicator"
        # Output units: one per label or class, a single one for binary.
        self.n_outputs = (
            len(self.classes) if self.multilabel or len(self.classes) > 2 else 1
        )

    @property
    def output_activation(self):
        """'softmax' for multiclass targets, 'logistic' otherwise."""
        return "softmax" if self.binarizer.y_type_ == "multiclass" else "logistic"

    @property
    def single_output(self):
        """Whether predictions are one label per sample from one output unit."""
        return self.n_outputs == 1 and not self.multilabel

    def encode(self, y):
        """Compact targets of labels ``y``.

        Parameters
        ----------
        y : array-like of shape (n,) or (n, n_labels)
            Labels among ``classes``, or a label indicator matrix.

        Returns
        -------
        targets : ndarray of shape (n,) or (n, n_labels)
            Class indices (smallest unsigned dtype), or a ``uint8`` indicator.
        """
        if self.multilabel:
            return self.binarizer.transform(y).astype(np.uint8)
        index_dtype = np.min_scalar_type(max(len(self.classes) - 1, 0))
        return np.searchsorted(self.classes, column_or_1d(y)).astype(index_dtype)

    def rows(self, targets, dtype, out=None):
        """The rows ``Y`` of the output layer's targets; see :func:`one_hot`."""
        return one_hot(targets, self.n_outputs, dtype, out)

    def strata(self, targets):
        """What a validation split stratifies by: the classes (no multilabel)."""
        return None if self.multilabel else targets

    def labels(self, targets):
        """Class labels (or the indicator rows) of compact targets."""
        return targets if targets.ndim == 2 else self.classes[targets]

    def decode(self, probabilities):
        """Predicted labels from the output layer's probabilities."""
        if self.single_output:
            probabilities = probabilities.ravel()
        return self.binarizer.inverse_transform(probabilities)

    def decode_in(self, space, probabilities):
        """:meth:`decode` for probabilities in another array space.

        The rule is the binarizer's (above one half, or the most probable
        class), applied where the probabilities are; numeric labels are
        returned there too, other labels (strings) on the host.
        """
        xp = space.xp
        if self.multilabel:
            return xp.astype(probabilities > 0.5, xp.int64)
        if len(self.classes) == 1:
            index = xp.zeros(
                probabilities.shape[0], dtype=xp.int64, device=space.device
            )
        elif self.single_output:
            index = xp.astype(probabilities[:, 0] > 0.5, xp.int64)
        else:
            index = xp.argmax(probabilities, axis=1)
        if self.classes.dtype.kind not in "biuf":
            return self.classes[space.to_numpy(index)]
        return xp.take(space.asarray(self.classes), index, axis=0)


class RegressionTargets:
    """A regressor's targets: the values themselves, one column per output.

    Parameters
    ----------
    loss : str
        The regression loss; 'poisson' predicts through an ``exp`` output.
    """

    def __init__(self, loss):
        self.output_activation = "exp" if loss == "poisson" else "identity"

    @staticmethod
    def strata(targets):
        """None: a validation split of values is not stratified."""
        return None

    @staticmethod
    def rows(targets, dtype, out=None):
        """The target rows ``Y`` in ``dtype``, in ``out`` if given."""
        if out is None:
            return targets.astype(dtype)
        Y = out[: targets.shape[0]]
        Y[...] = targets
        return Y

    @staticmethod
    def labels(targets):
        """``y`` as the user gave it: 1-D for a single output."""
        return targets.ravel() if targets.shape[1] == 1 else targets

    decode = labels  # predictions have the shape of y
