"""Training loops: mini-batch epochs for the stochastic solvers, full batch for
lbfgs.

Both loops work on a :class:`~skbackprop._network.Network` whose flat
parameter vector ``coefs_`` and ``intercepts_`` are views of, and record their
progress in the estimator's fitted attributes as scikit-learn's MLP does, plus
a per-epoch ``history_``.

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

from ._blas import all_finite, blas_is_serial
from ._dropout import Dropout, DropoutBatch
from ._holdout import grouped_validation_split
from ._losses import OUTPUT_LAYERS
from ._network import forward_logits
from ._objective import Objective
from ._penalty import WeightPenalty
from ._rows import row_keys
from ._targets import one_hot

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
            "early_stopping=True needs a validation set: set validation_fraction "
            "> 0 or pass X_val and y_val to fit."
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
    return (
        X[train_rows],
        targets[train_rows],
        sw_train,
        (X[validation_rows], targets[validation_rows], sw_val),
    )


class _ValidationMonitor:
    """Loss and score of the current weights on validation data.

    The score is accuracy when ``scoring`` is None (scikit-learn's MLP), the
    negative log-loss for ``'loss'``, or any scikit-learn scorer; larger is
    better in every case.
    """

    def __init__(self, est, network, X, targets, sample_weight):
        self.est, self.X, self.sample_weight = est, X, sample_weight
        self.Y = one_hot(targets, network.layer_units[-1], network.dtype)
        self.y = est._labels_from_targets(targets)
        self.weight_sum = (
            X.shape[0] if sample_weight is None else float(sample_weight.sum())
        )
        self.scorer = est._validation_scorer()

    def evaluate(self):
        """Return ``(loss, score)``; NaN for both if the outputs are not finite."""
        est = self.est
        logits = forward_logits(
            self.X, est.coefs_, est.intercepts_, est._hidden_activations
        )
        if not np.isfinite(logits).all():
            return np.nan, np.nan
        output = OUTPUT_LAYERS[est.out_activation_]
        probabilities = np.empty_like(logits)
        loss = (
            output.activate_and_loss(logits, probabilities, self.Y, self.sample_weight)
            / self.weight_sum
        )
        if self.scorer == "loss":
            return loss, -loss
        if self.scorer is None:
            labels = est._labels_from_probabilities(probabilities)
            correct = np.all(np.reshape(labels == self.y, (len(labels), -1)), axis=1)
            score = float(np.average(correct, weights=self.sample_weight))
            return loss, score
        # A scorer need not accept sample_weight when there is none to pass.
        extra = (
            {} if self.sample_weight is None else {"sample_weight": self.sample_weight}
        )
        score = self.scorer(est, self.X, self.y, **extra)
        return loss, float(score)


class _BatchSource:
    """Mini-batches of ``(X, Y, sample_weight, row_keys)``.

    Shuffling permutes an index vector only; the rows of each batch are then
    gathered into buffers allocated once, so an epoch copies each row of X
    once and allocates nothing sizeable for dense input. ``row_keys`` (for
    dropout) is None unless keys are given.
    """

    def __init__(
        self,
        X,
        targets,
        n_outputs,
        sample_weight,
        keys,
        batch_size,
        shuffle,
        random_state,
    ):
        self.X, self.targets = X, targets
        self.sample_weight, self.keys = sample_weight, keys
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state
        self.n_samples = X.shape[0]
        # int32 halves the index (the same permutation: shuffling depends on
        # the length only).
        index_dtype = np.int32 if self.n_samples < 2**31 else np.intp
        self.order = np.arange(self.n_samples, dtype=index_dtype)
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
        n_outputs = self._Y_buffer.shape[1]
        for start in range(0, self.n_samples, self.batch_size):
            stop = min(start + self.batch_size, self.n_samples)
            rows = slice(start, stop) if not self.shuffle else self.order[start:stop]
            Y_batch = one_hot(
                self.targets[rows], n_outputs, self._Y_buffer.dtype, out=self._Y_buffer
            )
            if not self.shuffle:
                yield (
                    self.X[rows],
                    Y_batch,
                    None if self.sample_weight is None else self.sample_weight[rows],
                    None if self.keys is None else self.keys[rows],
                )
                continue
            n = stop - start
            yield (
                self._take(self.X, rows, self._X_buffer, n),
                Y_batch,
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


def _record_epoch(est, loss, learning_rate, grad_norms, validation, at=None):
    """Append one epoch (or lbfgs iteration) to ``history_``.

    With ``at``, the entry is written at that index and anything after it is
    dropped, so that recording the same epoch twice leaves one entry.
    """
    val_loss, val_score = validation if validation is not None else (None, None)
    entry = {
        "loss": loss,
        "learning_rate": learning_rate,
        "grad_norm": [float(g) for g in grad_norms],
        "val_loss": val_loss,
        "val_score": val_score,
    }
    for name, value in entry.items():
        column = est.history_[name]
        if at is not None:
            del column[at:]
        column.append(value)


class _EpochRecord:
    """The bookkeeping of one finished epoch, written idempotently.

    An interrupt can land anywhere in it; writing it again from the same
    starting point completes it without counting anything twice.
    """

    def __init__(self, est, n_rows, loss, learning_rate, grad_norms, validation):
        self.est, self.n_rows, self.loss = est, n_rows, loss
        self.learning_rate, self.grad_norms = learning_rate, grad_norms
        self.validation = validation
        self.start = (
            est.n_iter_,
            est._epochs_seen,
            est.t_,
            len(est.loss_curve_),
            len(est.history_["loss"]),
        )

    def write(self):
        est = self.est
        n_iter, epochs_seen, t, curve_length, history_length = self.start
        est.n_iter_ = n_iter + 1
        est._epochs_seen = epochs_seen + 1
        est.t_ = t + self.n_rows
        est.loss_ = self.loss
        del est.loss_curve_[curve_length:]
        est.loss_curve_.append(self.loss)
        _record_epoch(
            est,
            self.loss,
            self.learning_rate,
            self.grad_norms,
            self.validation,
            at=history_length,
        )


def _update_no_improvement_count(est, params, val_score):
    """scikit-learn's rule: count epochs without a ``tol`` improvement."""
    if est.early_stopping:
        est.validation_scores_.append(val_score)
        if est.verbose:
            print(f"Validation score: {val_score:f}")
        if val_score < est.best_validation_score_ + est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        # Ties go to the later epoch: a discrete score such as accuracy often
        # plateaus (at 1.0, say) while the loss still falls, and the earliest
        # epoch of a plateau is the least trained.
        if val_score >= est.best_validation_score_:
            est.best_validation_score_ = val_score
            np.copyto(est._best_params, params)
    else:
        loss = est.loss_curve_[-1]
        if loss > est.best_loss_ - est.tol:
            est._no_improvement_count += 1
        else:
            est._no_improvement_count = 0
        if loss < est.best_loss_:
            est.best_loss_ = loss


def _stopping_message(est):
    if est.early_stopping:
        return (
            f"Validation score did not improve more than tol={est.tol:f} for "
            f"{est.n_iter_no_change} consecutive epochs."
        )
    return (
        f"Training loss did not improve more than tol={est.tol:f} for "
        f"{est.n_iter_no_change} consecutive epochs."
    )


def _weights_snapshot(est):
    return {
        "coefs_": [c.copy() for c in est.coefs_],
        "intercepts_": [b.copy() for b in est.intercepts_],
    }


def fit_stochastic(
    est,
    network,
    X,
    targets,
    sample_weight,
    incremental,
    validation=None,
    callbacks=None,
):
    """Run epochs of a stochastic solver, updating ``network.params`` in place.

    Parameters
    ----------
    est : MLPBackpropClassifier
        The estimator; its hyperparameters drive the loop and its fitted
        attributes (``loss_curve_``, ``n_iter_``, ``t_``, ``history_``, ...) are
        updated.
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
    validation : tuple (X_val, targets_val, sample_weight_val) or None
        Validation data given by the user; with ``early_stopping`` and none
        given, part of the training data is held out.
    callbacks : tuple (CallbackContext, X, y, metadata) or None
        scikit-learn callbacks to notify after every epoch.
    """
    if validation is None and est.early_stopping:
        X, targets, sample_weight, validation = _validation_split(
            est, X, targets, sample_weight
        )
    monitor = (
        None if validation is None else _ValidationMonitor(est, network, *validation)
    )

    batch_size = _batch_size(est.batch_size, X.shape[0])
    rates = est._dropout_rates
    dropout = keys = None
    workspace = network.allocate(batch_size, rates)
    if any(rate > 0 for rate in rates):
        dropout = Dropout(
            rates,
            est._dropout_seed,
            network.layer_units[1:-1],
            batch_size,
            network.dtype,
        )
        keys = row_keys(X)
    batches = _BatchSource(
        X,
        targets,
        network.layer_units[-1],
        sample_weight,
        keys,
        batch_size,
        est.shuffle,
        est._random_state,
    )
    optimizer = est._optimizer
    params, grads = network.params, network.grads
    weights, weight_grads = params[: network.n_coef], grads[: network.n_coef]
    penalty = WeightPenalty(
        est.alpha, est.alpha_l1, network.n_coef, network.dtype, blas_is_serial()
    )
    total_weight = X.shape[0] if sample_weight is None else float(sample_weight.sum())
    layer_norms = np.empty(network.n_layers)
    epoch_norms = np.empty(network.n_layers)
    max_grad_norm = est.max_grad_norm
    # Clipping needs the whole gradient's norm before the step; otherwise the
    # optimizer adds the L2 gradient and measures norms while it updates.
    clipping = max_grad_norm is not None
    n_layers = network.n_layers
    segment_norms = np.empty((2, 2 * n_layers), dtype=network.dtype)

    # Weights at the end of the last finished epoch, to undo a bad one.
    finished_params = params.copy()
    est.n_iter_ = 0
    divergence_threshold = None
    phase = "training"
    try:
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for _ in range(est.max_iter):
                phase = "training"
                epoch_context = None
                if callbacks is not None:
                    epoch_context = callbacks[0].subcontext(task_name="epoch")
                    epoch_context.call_on_fit_task_begin(
                        estimator=est,
                        X=callbacks[1],
                        y=callbacks[2],
                        metadata=callbacks[3],
                    )
                accumulated_loss = 0.0
                epoch_norms[:] = 0
                n_batches = 0
                learning_rate = optimizer.learning_rate
                for X_batch, Y_batch, sw_batch, keys_batch in batches:
                    if sw_batch is not None and not sw_batch.any():
                        continue  # only zero weights: no data, so no step
                    batch_loss = network.loss_and_gradient(
                        X_batch,
                        Y_batch,
                        sw_batch,
                        workspace,
                        dropout=None
                        if dropout is None
                        else DropoutBatch(dropout, keys_batch, est._epochs_seen),
                    )
                    batch_weight = (
                        X_batch.shape[0] if sw_batch is None else float(sw_batch.sum())
                    )
                    batch_loss += penalty.add_l1(weights, weight_grads, batch_weight)
                    if clipping:
                        batch_loss += penalty.add_l2(
                            weights, weight_grads, batch_weight
                        )
                        # Clip by global norm: rescale the whole gradient.
                        network.layer_gradient_norms(out=layer_norms)
                        total_norm = np.sqrt(layer_norms.sum())
                        if total_norm > max_grad_norm:
                            grads *= max_grad_norm / total_norm
                        optimizer.update(params, grads)
                    else:
                        # The L2 penalty, the norms and the update in one go.
                        optimizer.step(
                            params,
                            grads,
                            network.segment_bounds,
                            n_layers,
                            penalty.l2_gradient_factor(batch_weight),
                            segment_norms,
                        )
                        gradient_norms, weight_norms = segment_norms
                        np.add(
                            gradient_norms[:n_layers],
                            gradient_norms[n_layers:],
                            out=layer_norms,
                        )
                        squared_weights = float(weight_norms[:n_layers].sum())
                        batch_loss += penalty.l2_value(squared_weights, batch_weight)
                    accumulated_loss += batch_loss * batch_weight
                    if divergence_threshold is None:
                        # Against the best loss seen so far too, so that a run
                        # of partial_fit calls cannot drift upwards unnoticed.
                        reference = min(
                            batch_loss, min(est.loss_curve_, default=np.inf)
                        )
                        divergence_threshold = _DIVERGENCE_FACTOR * max(1.0, reference)
                    epoch_norms += layer_norms
                    n_batches += 1
                epoch_loss = accumulated_loss / total_weight

                if not (
                    epoch_loss <= divergence_threshold
                    and all_finite(params)
                    and optimizer.state_is_finite()
                ):
                    np.copyto(params, finished_params)
                    optimizer.reset()
                    if not hasattr(est, "loss_"):
                        est.loss_ = np.nan  # not one sound epoch to report
                    warnings.warn(
                        f"Training diverged in epoch {est.n_iter_ + 1}: the loss "
                        f"exploded or the weights became non-finite (loss="
                        f"{epoch_loss:.3g}). The weights of the last sound epoch "
                        f"were restored and the optimizer restarted. "
                        + _DIVERGENCE_HINT,
                        ConvergenceWarning,
                    )
                    if epoch_context is not None:
                        epoch_context.call_on_fit_task_end(estimator=est)
                    break

                val = monitor.evaluate() if monitor is not None else None
                # Commit the epoch. From the phase switch on, the weights are
                # final: an interrupt then completes the commit (snapshot and
                # record, both idempotent) instead of undoing the epoch.
                record = _EpochRecord(
                    est,
                    X.shape[0],
                    epoch_loss,
                    learning_rate,
                    np.sqrt(epoch_norms / max(n_batches, 1)),
                    val,
                )
                phase = "recording"
                np.copyto(finished_params, params)
                record.write()
                phase = "recorded"
                if est.verbose:
                    print(f"Iteration {est.n_iter_}, loss = {epoch_loss:.8f}")
                _update_no_improvement_count(
                    est, params, None if val is None else val[1]
                )
                # Time in weighted samples: a weight of k advances the
                # schedule like k copies (identical to t_ without weights).
                est._weight_seen += total_weight
                optimizer.iteration_ends(est._weight_seen)

                stop_requested = False
                if epoch_context is not None:
                    stop_requested = epoch_context.call_on_fit_task_end(
                        estimator=est,
                        X=callbacks[1],
                        y=callbacks[2],
                        metadata=callbacks[3],
                        # A callable: copied only if a callback asks for it.
                        reconstruction_attributes=lambda: _weights_snapshot(est),
                    )
                if stop_requested:
                    break
                if est._no_improvement_count > est.n_iter_no_change:
                    if optimizer.trigger_stopping(_stopping_message(est), est.verbose):
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
        if phase == "training":
            np.copyto(params, finished_params)  # the unfinished epoch is undone
        elif phase == "recording":
            np.copyto(finished_params, params)  # the finished epoch is kept
            record.write()
        warnings.warn(
            f"Training interrupted by user: kept the weights of the last finished "
            f"epoch ({est.n_iter_} epoch(s) in this call)."
        )

    if est.early_stopping:
        np.copyto(params, est._best_params)


class _LbfgsObserver:
    """Records, prints and reports every L-BFGS iteration.

    scipy calls it with the accepted iterate at the end of each iteration; it
    appends to ``loss_curve_`` and ``history_``, keeps the last finite iterate
    and forwards the iteration to scikit-learn callbacks (one subtask each).
    """

    def __init__(self, est, network, monitor, callbacks):
        self.est, self.network, self.monitor = est, network, monitor
        self.callbacks = callbacks
        self.last_x = network.params.astype(np.float64)
        self.last_loss = np.inf
        self.norms = np.empty(network.n_layers)
        self.context = self._begin_iteration()

    def _begin_iteration(self):
        if self.callbacks is None:
            return None
        root, X, y, metadata = self.callbacks
        context = root.subcontext(task_name="lbfgs-iter")
        context.call_on_fit_task_begin(estimator=self.est, X=X, y=y, metadata=metadata)
        return context

    def __call__(self, intermediate_result):
        est = self.est
        loss = float(intermediate_result.fun)
        if not np.isfinite(loss):
            # An iterate whose loss overflowed is no progress: neither kept
            # nor recorded, so loss_curve_ and n_iter_ count sound ones only.
            return
        self.last_x[:] = intermediate_result.x
        self.last_loss = loss
        np.copyto(self.network.params, intermediate_result.x, casting="same_kind")
        est.loss_curve_.append(loss)
        # The gradient of the last evaluation, made at the accepted iterate.
        self.network.layer_gradient_norms(out=self.norms)
        val = self.monitor.evaluate() if self.monitor is not None else None
        _record_epoch(est, loss, np.nan, np.sqrt(self.norms), val)
        if est.verbose:
            print(f"Iteration {len(est.loss_curve_)}, loss = {loss:.8f}")
        if self.context is not None:
            root, X, y, metadata = self.callbacks
            stop = self.context.call_on_fit_task_end(
                estimator=est,
                X=X,
                y=y,
                metadata=metadata,
                reconstruction_attributes=lambda: _weights_snapshot(est),
            )
            self.context = self._begin_iteration()
            if stop:
                raise StopIteration

    def close(self):
        """End the subtask opened for an iteration that never ran."""
        if self.context is not None:
            self.context.call_on_fit_task_end(estimator=self.est)


def fit_lbfgs(est, network, X, targets, sample_weight, validation=None, callbacks=None):
    """Minimise the full-batch objective with scipy's L-BFGS-B.

    Records the loss after every iteration in ``loss_curve_`` and
    ``history_`` (and prints it when ``verbose``), stops at ``max_iter``
    iterations or ``max_fun`` evaluations, and keeps the last iterate whose loss
    was finite.

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
    validation : tuple (X_val, targets_val, sample_weight_val) or None
        Validation data whose loss and score are recorded every iteration.
    callbacks : tuple (CallbackContext, X, y, metadata) or None
        scikit-learn callbacks to notify after every iteration.
    """
    Y = one_hot(targets, network.layer_units[-1], network.dtype)
    start = network.params.astype(np.float64)
    monitor = (
        None if validation is None else _ValidationMonitor(est, network, *validation)
    )

    penalty = WeightPenalty(
        est.alpha, est.alpha_l1, network.n_coef, network.dtype, blas_is_serial()
    )
    loss_and_gradient = Objective(network, penalty, X, Y, sample_weight)

    def objective(packed):
        np.copyto(network.params, packed, casting="same_kind")
        loss = loss_and_gradient()
        if not np.isfinite(loss):
            # Infinite loss makes the line search backtrack instead of failing.
            return np.inf, np.zeros_like(packed)
        return loss, network.grads.astype(np.float64)

    observer = _LbfgsObserver(est, network, monitor, callbacks)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            result = scipy.optimize.minimize(
                objective,
                start,
                method="L-BFGS-B",
                jac=True,
                callback=observer,
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
        finally:
            observer.close()

    if result is not None and np.isfinite(result.fun) and np.isfinite(result.x).all():
        np.copyto(network.params, result.x, casting="same_kind")
        est.loss_ = float(result.fun)
        est.n_iter_ = int(result.nit)
        # status 99: a callback asked to stop, which is no failure.
        if result.status not in (0, 99):
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
        np.copyto(network.params, observer.last_x, casting="same_kind")
        est.n_iter_ = len(est.loss_curve_)
        if result is not None:
            warnings.warn(
                "lbfgs diverged: the loss or the weights became non-finite. The "
                "last finite iterate was kept. " + _DIVERGENCE_HINT,
                ConvergenceWarning,
            )
        est.loss_ = observer.last_loss
        if not np.isfinite(est.loss_):
            # Not one finished iteration: report the starting point's loss.
            np.copyto(network.params, start, casting="same_kind")
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                est.loss_ = loss_and_gradient()
    est.best_loss_ = min(est.loss_curve_, default=est.loss_)
