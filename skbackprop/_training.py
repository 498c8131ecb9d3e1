"""Training loops: mini-batch epochs for sgd/adam, full batch for lbfgs.

Both loops work on a :class:`~skbackprop._network.Network` whose flat
parameter vector ``coefs_`` and ``intercepts_`` are views of, and record their
progress in the estimator's fitted attributes, as scikit-learn's MLP does.

Training never ends in silent garbage: after every epoch the loop checks that
the loss is finite and has not exploded, and that the weights are finite. The
first epoch that fails is undone: the weights return to the end of the previous
epoch, the optimizer's accumulated state (polluted by the bad epoch) is reset,
and a warning names the likely causes. A ``KeyboardInterrupt`` undoes the
unfinished epoch's weights the same way, so an interrupted model is consistent
and usable.

Targets travel as class indices (or a 0/1 indicator for multilabel data) and
become one-hot rows only a batch at a time, in a buffer allocated once.
"""

import warnings

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning

from ._holdout import grouped_validation_split

__all__ = ["fit_lbfgs", "fit_stochastic"]

# An epoch whose loss exceeds this multiple of max(1, first batch's loss) has
# diverged even if still finite: log-sum-exp keeps the loss finite long after
# the weights have exploded.
_DIVERGENCE_FACTOR = 1e4
_DIVERGENCE_HINT = (
    "The learning rate may be too high (lower learning_rate_init) or the inputs "
    "unscaled (use e.g. sklearn.preprocessing.StandardScaler)."
)


def _batch_size(requested, n_samples):
    if requested == "auto":
        return min(200, n_samples)
    if requested > n_samples:
        warnings.warn(
            "Got `batch_size` less than 1 or larger than sample size. It is going "
            "to be clipped"
        )
    return int(np.clip(requested, 1, n_samples))


def _validation_split(est, X, targets, sample_weight):
    """Hold out part of the data for early stopping (see ``_holdout``)."""
    if est.validation_fraction == 0:
        raise ValueError(
            "early_stopping=True needs a validation set: set validation_fraction > 0."
        )
    # Multilabel rows are label sets, with no single class to stratify by.
    strata = None if targets.ndim == 2 else targets
    train_rows, validation_rows = grouped_validation_split(
        X, strata, sample_weight, est.validation_fraction, est._random_state
    )
    sw_train = sw_val = None
    if sample_weight is not None:
        sw_train = sample_weight[train_rows]
        sw_val = sample_weight[validation_rows]
    y_val = est._labels_from_targets(targets[validation_rows])
    return (
        X[train_rows],
        targets[train_rows],
        sw_train,
        (X[validation_rows], y_val, sw_val),
    )


def dense_targets(targets, n_outputs, dtype, out=None):
    """One-hot (or indicator) target rows ``Y`` from compact targets.

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
        Y[np.arange(n), targets] = 1
    return Y


class _BatchSource:
    """Mini-batches of ``(X, Y, sample_weight)`` in shuffled or stored order.

    Shuffling permutes an index vector only; the rows of each batch are then
    gathered into buffers allocated once, so an epoch copies each row of X
    once and allocates nothing sizeable for dense input.
    """

    def __init__(
        self, X, targets, n_outputs, sample_weight, batch_size, shuffle, random_state
    ):
        self.X, self.targets, self.sample_weight = X, targets, sample_weight
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state
        self.n_samples = X.shape[0]
        self.order = np.arange(self.n_samples)
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

    def __iter__(self):
        if self.shuffle:
            # In place, and the same draws as sklearn.utils.shuffle.
            self.random_state.shuffle(self.order)
        n_outputs = self._Y_buffer.shape[1]
        for start in range(0, self.n_samples, self.batch_size):
            stop = min(start + self.batch_size, self.n_samples)
            if not self.shuffle:
                rows = slice(start, stop)
                sw = None if self.sample_weight is None else self.sample_weight[rows]
                Y_batch = dense_targets(
                    self.targets[rows],
                    n_outputs,
                    self._Y_buffer.dtype,
                    out=self._Y_buffer,
                )
                yield self.X[rows], Y_batch, sw
                continue
            rows = self.order[start:stop]
            n = stop - start
            if self._X_buffer is None:
                X_batch = self.X[rows]
            else:
                X_batch = np.take(
                    self.X, rows, axis=0, out=self._X_buffer[:n], mode="clip"
                )
            Y_batch = dense_targets(
                self.targets[rows], n_outputs, self._Y_buffer.dtype, out=self._Y_buffer
            )
            sw = None
            if self.sample_weight is not None:
                sw = np.take(
                    self.sample_weight, rows, out=self._sw_buffer[:n], mode="clip"
                )
            yield X_batch, Y_batch, sw


def _all_finite(params):
    """Whether every parameter is finite, without a boolean temporary.

    A NaN or infinity anywhere makes the dot product non-finite; so do weights
    above ~1e154 (1e19 in float32), which only a diverged run produces.
    """
    return bool(np.isfinite(np.dot(params, params)))


def _update_no_improvement_count(est, params, validation):
    """scikit-learn's rule: count epochs without a ``tol`` improvement."""
    if validation is not None:
        X_val, y_val, sw_val = validation
        score = est._validation_score(X_val, y_val, sw_val)
        est.validation_scores_.append(score)
        if est.verbose:
            print(f"Validation score: {score:f}")
        if score < est.best_validation_score_ + est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        # Ties go to the later epoch: a discrete score such as accuracy often
        # plateaus (at 1.0, say) while the loss still falls, and the earliest
        # epoch of a plateau is the least trained.
        if score >= est.best_validation_score_:
            est.best_validation_score_ = score
            np.copyto(est._best_params, params)
    else:
        loss = est.loss_curve_[-1]
        if loss > est.best_loss_ - est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if loss < est.best_loss_:
            est.best_loss_ = loss


def fit_stochastic(est, network, X, targets, sample_weight, incremental):
    """Run sgd/adam epochs, updating ``network.params`` in place.

    Parameters
    ----------
    est : MLPBackpropClassifier
        The estimator; its hyperparameters drive the loop and its fitted
        attributes (``loss_curve_``, ``n_iter_``, ``t_``, ...) are updated.
    network : Network
        Parameters and backpropagation.
    X : ndarray or CSR matrix of shape (n_samples, n_features)
        Training inputs.
    targets : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Class indices, or a 0/1 indicator matrix for multilabel data.
    sample_weight : ndarray of shape (n_samples,) or None
        Per-sample weights.
    incremental : bool
        Whether this is one ``partial_fit`` epoch.
    """
    validation = None
    if est.early_stopping:
        X, targets, sample_weight, validation = _validation_split(
            est, X, targets, sample_weight
        )

    batches = _BatchSource(
        X,
        targets,
        network.layer_units[-1],
        sample_weight,
        _batch_size(est.batch_size, X.shape[0]),
        est.shuffle,
        est._random_state,
    )
    workspace = network.allocate(batches.batch_size)
    optimizer = est._optimizer
    params, grads = network.params, network.grads
    total_weight = X.shape[0] if sample_weight is None else float(sample_weight.sum())

    # Weights at the end of the last finished epoch, to undo a bad one.
    finished_params = params.copy()
    est.n_iter_ = 0
    divergence_threshold = None
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for _ in range(est.max_iter):
                accumulated_loss = 0.0
                for X_batch, Y_batch, sw_batch in batches:
                    batch_loss = network.loss_and_gradient(
                        X_batch, Y_batch, sw_batch, est.alpha, workspace
                    )
                    batch_weight = (
                        X_batch.shape[0] if sw_batch is None else float(sw_batch.sum())
                    )
                    accumulated_loss += batch_loss * batch_weight
                    if divergence_threshold is None:
                        divergence_threshold = _DIVERGENCE_FACTOR * max(1.0, batch_loss)
                    optimizer.update(params, grads)
                epoch_loss = accumulated_loss / total_weight

                if not (epoch_loss <= divergence_threshold and _all_finite(params)):
                    np.copyto(params, finished_params)
                    optimizer.reset()
                    warnings.warn(
                        f"Training diverged in epoch {est.n_iter_ + 1}: the loss "
                        f"exploded or the weights became non-finite (loss="
                        f"{epoch_loss:.3g}). The weights of the last sound epoch "
                        f"were restored and the optimizer restarted. "
                        + _DIVERGENCE_HINT,
                        ConvergenceWarning,
                    )
                    break

                est.n_iter_ += 1
                est.t_ += X.shape[0]
                est.loss_ = epoch_loss
                est.loss_curve_.append(epoch_loss)
                if est.verbose:
                    print(f"Iteration {est.n_iter_}, loss = {epoch_loss:.8f}")
                _update_no_improvement_count(est, params, validation)
                optimizer.iteration_ends(est.t_)
                np.copyto(finished_params, params)

                if est._no_improvement_count > est.n_iter_no_change:
                    if est.early_stopping:
                        message = (
                            f"Validation score did not improve more than "
                            f"tol={est.tol:f} for {est.n_iter_no_change} "
                            f"consecutive epochs."
                        )
                    else:
                        message = (
                            f"Training loss did not improve more than tol={est.tol:f}"
                            f" for {est.n_iter_no_change} consecutive epochs."
                        )
                    if optimizer.trigger_stopping(message, est.verbose):
                        break
                    est._no_improvement_count = 0

                if incremental:
                    break
                if est.n_iter_ == est.max_iter:
                    warnings.warn(
                        f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) "
                        f"reached and the optimization hasn't converged yet.",
                        ConvergenceWarning,
                    )
    except KeyboardInterrupt:
        np.copyto(params, finished_params)
        warnings.warn(
            f"Training interrupted by user: kept the weights of the last finished "
            f"epoch ({est.n_iter_} epoch(s) in this call)."
        )

    if est.early_stopping:
        np.copyto(params, est._best_params)


def fit_lbfgs(est, network, X, targets, sample_weight):
    """Minimise the full-batch objective with scipy's L-BFGS-B.

    Records the loss after every iteration in ``loss_curve_`` (and prints it
    when ``verbose``), stops at ``max_iter`` iterations or ``max_fun``
    evaluations, and keeps the last iterate whose loss was finite.

    Parameters
    ----------
    est : MLPBackpropClassifier
        The estimator.
    network : Network
        Parameters and backpropagation.
    X : ndarray or CSR matrix of shape (n_samples, n_features)
        Training inputs.
    targets : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Class indices, or a 0/1 indicator matrix for multilabel data.
    sample_weight : ndarray of shape (n_samples,) or None
        Per-sample weights.
    """
    Y = dense_targets(targets, network.layer_units[-1], network.dtype)
    workspace = network.allocate(X.shape[0])
    start = network.params.astype(np.float64)
    last_finite = {"x": start.copy(), "loss": np.inf}

    def objective(packed):
        np.copyto(network.params, packed, casting="same_kind")
        loss = network.loss_and_gradient(X, Y, sample_weight, est.alpha, workspace)
        if not np.isfinite(loss):
            # Infinite loss makes the line search backtrack instead of failing.
            return np.inf, np.zeros_like(packed)
        return loss, network.grads.astype(np.float64)

    def record(intermediate_result):
        loss = float(intermediate_result.fun)
        est.loss_curve_.append(loss)
        last_finite["x"][:] = intermediate_result.x
        last_finite["loss"] = loss
        if est.verbose:
            print(f"Iteration {len(est.loss_curve_)}, loss = {loss:.8f}")

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            result = scipy.optimize.minimize(
                objective,
                start,
                method="L-BFGS-B",
                jac=True,
                callback=record,
                options={
                    "maxfun": est.max_fun,
                    "maxiter": est.max_iter,
                    "gtol": est.tol,
                },
            )
        except KeyboardInterrupt:
            result = None
            warnings.warn(
                "Training interrupted by user: kept the weights of the last "
                "finished iteration."
            )

    if result is not None and np.isfinite(result.fun) and np.isfinite(result.x).all():
        np.copyto(network.params, result.x, casting="same_kind")
        est.loss_ = float(result.fun)
        est.n_iter_ = int(result.nit)
        if result.status != 0:
            message = result.message
            if isinstance(message, bytes):
                message = message.decode("latin1")
            warnings.warn(
                f"lbfgs failed to converge after {est.n_iter_} iteration(s) "
                f"(status={result.status}): {message}. Increase the number of "
                f"iterations (max_iter) or function evaluations (max_fun), or "
                f"scale the data.",
                ConvergenceWarning,
            )
    else:
        np.copyto(network.params, last_finite["x"], casting="same_kind")
        est.n_iter_ = len(est.loss_curve_)
        if result is not None:
            warnings.warn(
                "lbfgs diverged: the loss or the weights became non-finite. The "
                "last finite iterate was kept. " + _DIVERGENCE_HINT,
                ConvergenceWarning,
            )
        est.loss_ = last_finite["loss"]
        if not np.isfinite(est.loss_):
            # Not one finished iteration: report the starting point's loss.
            np.copyto(network.params, start, casting="same_kind")
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                est.loss_ = network.loss_and_gradient(
                    X, Y, sample_weight, est.alpha, workspace
                )
    est.best_loss_ = min(est.loss_curve_, default=est.loss_)
