"""Validation data during training: the early-stopping split and the monitor."""

import numpy as np

from ._array_api import NUMPY
from ._holdout import grouped_validation_split
from ._portable_network import forward_logits_in

__all__ = ["ValidationMonitor", "hold_out"]


def hold_out(estimator, X, targets, sample_weight, space=NUMPY):
    """Split off the validation part of the training data (see ``_holdout``).

    The split is drawn on the host (it groups rows by their values); data in
    another array ``space`` is then split where it lives.

    Returns
    -------
    train : tuple (X, targets, sample_weight)
        The rows left to train on.
    validation : tuple (X, targets, sample_weight)
        The rows held out.
    """
    if estimator.validation_fraction == 0:
        raise ValueError(
            "early_stopping=True needs a validation set: set validation_fraction "
            "> 0 or pass X_val and y_val to fit."
        )
    strata = estimator._target_encoding.strata(targets)
    train_rows, validation_rows = grouped_validation_split(
        space.to_numpy(X),
        strata,
        space.to_numpy(sample_weight),
        estimator.validation_fraction,
        estimator._training_state.random_state,
    )

    def rows(index):
        if not space.is_numpy:
            return (
                space.take_rows(X, index),
                targets[index],
                space.take_rows(sample_weight, index),
            )
        weights = None if sample_weight is None else sample_weight[index]
        return X[index], targets[index], weights

    return rows(train_rows), rows(validation_rows)


class ValidationMonitor:
    """Loss and score of the current weights on validation data.

    The score is the estimator's default (accuracy for a classifier, as in
    scikit-learn's MLP) when ``scoring`` is None, the negative validation loss
    for ``'loss'``, or any scikit-learn scorer; larger is better in every case.

    Parameters
    ----------
    estimator : MLPBackpropClassifier
        The estimator being trained; its current weights are evaluated.
    network : Network
        The network being trained.
    X : ndarray or sparse matrix of shape (n_val, n_features)
        Validation inputs.
    targets : ndarray of shape (n_val,) or (n_val, n_outputs)
        Compact validation targets.
    sample_weight : ndarray of shape (n_val,) or None
        Weights of the validation samples.
    """

    def __init__(self, estimator, network, X, targets, sample_weight):
        # The loss and score are computed on the host from the logits, which
        # cost one transfer per epoch; X stays where the network is.
        self.space = network.space
        sample_weight = self.space.to_numpy(sample_weight)
        self.estimator, self.X, self.sample_weight = estimator, X, sample_weight
        encoding = estimator._target_encoding
        self.Y = encoding.rows(targets, network.dtype)
        self.y = encoding.labels(targets)
        self.weight_sum = (
            X.shape[0] if sample_weight is None else float(sample_weight.sum())
        )
        self.scorer = estimator._validation_scorer()

    def evaluate(self):
        """Return ``(loss, score)``; NaN for both if the outputs are not finite."""
        est = self.estimator
        logits = self.space.to_numpy(
            forward_logits_in(
                self.space,
                self.X,
                est.coefs_,
                est.intercepts_,
                est._hidden_activations,
            )
        )
        if not np.isfinite(logits).all():
            return np.nan, np.nan
        output = est._output_layer
        outputs = np.empty_like(logits)
        loss = (
            output.activate_and_loss(logits, outputs, self.Y, self.sample_weight)
            / self.weight_sum
        )
        if not np.isfinite(outputs).all():  # an exp output that overflowed
            return np.nan, np.nan
        if self.scorer == "loss":
            return loss, -loss
        if self.scorer is None:
            return loss, est._score_outputs(outputs, self.y, self.sample_weight)
        # A scorer need not accept sample_weight when there is none to pass.
        extra = (
            {} if self.sample_weight is None else {"sample_weight": self.sample_weight}
        )
        y = self.y
        if not self.space.is_numpy:
            # The scorer predicts in X's space; numeric labels and weights go
            # there too (label strings stay on the host).
            extra = {k: self.space.asarray(v) for k, v in extra.items()}
            if y.dtype.kind in "biuf":
                y = self.space.asarray(y)
        return loss, float(self.scorer(est, self.X, y, **extra))
