"""Backpropagation checked against finite differences, on the user's data."""

import copy
import warnings

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._architecture import network_spec
from ._dropout import Dropout, DropoutBatch
from ._network import Network
from ._objective import Objective
from ._penalty import WeightPenalty
from ._rows import row_keys

__all__ = ["check_gradients"]


def check_gradients(
    estimator,
    X,
    y,
    sample_weight=None,
    *,
    epsilon=1e-6,
    max_checks_per_layer=30,
    random_state=0,
):
    """Compare the estimator's backprop gradient with finite differences.

    The objective is the one :meth:`MLPBackpropClassifier.fit` minimises for
    this estimator's configuration on ``(X, y)``: weighted mean log-loss, L2
    and L1 penalties, class weights and, if the estimator uses dropout, fixed
    dropout masks. Its gradient from backpropagation is compared entry by entry
    with central differences ``(C(w + e) - C(w - e)) / 2e``, in float64.

    Parameters
    ----------
    estimator : MLPBackpropClassifier
        A fitted estimator (checked at its current weights) or an unfitted
        one (checked at the weights of one training epoch on ``X``).
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Input data; a few hundred rows are plenty.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    epsilon : float, default=1e-6
        Step of the central differences.
    max_checks_per_layer : int or None, default=30
        Entries checked per weight matrix and per bias vector, drawn at
        random; None checks all of them (two loss evaluations per entry).
    random_state : int, RandomState instance or None, default=0
        Chooses the entries to check.

    Returns
    -------
    report : pandas.DataFrame
        One row per layer and parameter (``'weights'``, ``'biases'``): the
        ``layer`` (1 for the first hidden layer), ``parameter``, ``shape``,
        ``n_checked``, ``max_abs_error`` and ``relative_error``
        ``||g_backprop - g_numeric|| / max(||g_backprop||, ||g_numeric||)``
        over the checked entries. Relative errors around 1e-7 or below mean the
        gradient is right; kinks (ReLU at exactly 0) can raise single entries.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skbackprop import MLPBackpropClassifier, check_gradients
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPBackpropClassifier(hidden_layer_sizes=(8, 4), activation="tanh",
    ...                             alpha=0.1, random_state=0)
    >>> report = check_gradients(clf, X, y)
    >>> bool((report["relative_error"] < 1e-5).all())
    True
    """
    loss, network = _objective(
        _probe(estimator, X, y, sample_weight), X, y, sample_weight
    )
    loss()
    analytic = network.grads.copy()
    rng = check_random_state(random_state)
    bounds, n_layers = network.segment_bounds, network.n_layers
    views = [*network.coefs, *network.intercepts]
    rows = []
    for segment, view in enumerate(views):
        start, n = bounds[segment], view.size
        if max_checks_per_layer is None or max_checks_per_layer >= n:
            entries = np.arange(n)
        else:
            entries = np.sort(rng.choice(n, max_checks_per_layer, replace=False))
        numeric = _central_differences(loss, network.params, start + entries, epsilon)
        exact = analytic[start + entries]
        scale = max(np.linalg.norm(exact), np.linalg.norm(numeric), 1e-300)
        rows.append(
            {
                "layer": segment % n_layers + 1,
                "parameter": "weights" if segment < n_layers else "biases",
                "shape": tuple(view.shape),
                "n_checked": len(entries),
                "max_abs_error": float(np.abs(exact - numeric).max()),
                "relative_error": float(np.linalg.norm(exact - numeric) / scale),
            }
        )
    return pd.DataFrame(rows).sort_values(
        ["layer", "parameter"], ascending=[True, False], ignore_index=True
    )


def _probe(estimator, X, y, sample_weight):
    """A fitted copy of the estimator: the point where gradients are checked."""
    try:
        check_is_fitted(estimator)
        return copy.deepcopy(estimator)
    except NotFittedError:  # one epoch gives representative weights
        probe = clone(estimator).set_params(max_iter=1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            return probe.fit(X, y, sample_weight=sample_weight)


def _objective(probe, X, y, sample_weight):
    """The objective ``fit`` minimises for ``probe`` on the data, in float64.

    The data are validated exactly as ``fit`` does, on the copy, so the
    user's estimator is untouched; dropout masks are those of one epoch.
    """
    probe.set_params(warm_start=True)
    X, targets, sample_weight = probe._validate_training_data(
        X, y, sample_weight, incremental=False, reset=False
    )
    X = X.astype(np.float64)
    sample_weight = probe._weight_samples(targets, sample_weight)
    if sample_weight is not None:
        sample_weight = sample_weight.astype(np.float64)

    units = [X.shape[1]] + [c.shape[1] for c in probe.coefs_]
    network = Network(units, probe._hidden_activations, probe._output_layer, np.float64)
    network.set_weights(probe.coefs_, probe.intercepts_)
    penalty = WeightPenalty(probe.alpha, probe.alpha_l1, network.n_coef, np.float64)
    Y = probe._target_encoding.rows(targets, np.float64)
    rates = network_spec(probe).dropout_rates
    dropout = None
    if any(rates):
        seed = probe._training_state.dropout_seed or 0
        drop = Dropout(rates, seed, units[1:-1], X.shape[0])
        dropout = DropoutBatch(drop, row_keys(X), 0)
    return Objective(network, penalty, X, Y, sample_weight, dropout), network


def _central_differences(objective, params, indices, epsilon):
    """``(C(w + e) - C(w - e)) / 2e`` for each entry ``indices`` of ``params``."""
    numeric = np.empty(len(indices))
    for k, index in enumerate(indices):
        original = params[index]
        params[index] = original + epsilon
        plus = objective()
        params[index] = original - epsilon
        minus = objective()
        params[index] = original
        numeric[k] = (plus - minus) / (2 * epsilon)
    return numeric
