"""The stochastic solvers' training loop: epochs of mini-batch steps.

Each batch takes a step of mini-batch stochastic gradient descent, as in
Dihui Lai's *Lecture Note 07: Neural Network* (section 4) and Anderson Chau's
notes (Algo 1): the forward and backward pass give the gradient of the
batch's weighted mean loss, the penalty adds its part, and the optimizer
updates every parameter in one vector operation.

Training never ends in silent garbage. After every epoch the trainer checks
that the loss is finite and has not exploded, and that the weights and the
optimizer's state are finite. The first epoch that fails is undone: the
weights return to the end of the previous epoch, the optimizer's accumulated
state (polluted by the bad epoch) is reset, and a warning names the likely
causes. A ``KeyboardInterrupt`` anywhere undoes the unfinished epoch the same
way, or completes the commit of a finished one, so an interrupted model is
consistent and usable.
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from ._array_api import NUMPY
from ._batches import BatchSource, batch_size
from ._blas import all_finite
from ._dropout import Dropout, DropoutBatch
from ._penalty import WeightPenalty
from ._rows import row_keys
from ._schedules import epoch_schedule
from ._state import EpochResult
from ._validation import ValidationMonitor, hold_out

__all__ = ["DIVERGENCE_HINT", "StochasticTrainer"]

# An epoch whose loss exceeds this multiple of max(1, first batch's loss) has
# diverged even if still finite: log-sum-exp keeps the loss finite long after
# the weights have exploded.
_DIVERGENCE_FACTOR = 1e4
DIVERGENCE_HINT = (
    "The learning rate may be too high (lower learning_rate_init) or the inputs "
    "unscaled (use e.g. sklearn.preprocessing.StandardScaler)."
)


class StochasticTrainer:
    """One call of ``fit`` or ``partial_fit`` with a stochastic solver.

    Parameters
    ----------
    estimator : MLPBackpropClassifier
        The estimator: its hyperparameters drive the loop, its training state
        records it.
    network : Network
        Parameters and backpropagation; the estimator's weights are views of
        its parameters.
    data : tuple (X, targets, sample_weight)
        Training rows, compact targets and sample weights (or None).
    validation : tuple (X, targets, sample_weight) or None
        Validation data given by the user; with ``early_stopping`` and none
        given, part of the training data is held out.
    dropout_rates : tuple of float
        Drop probability of each hidden layer.
    progress : FitProgress
        Reports every epoch to scikit-learn's callbacks.
    incremental : bool
        Whether this is one ``partial_fit`` epoch.
    use_blas : bool
        Whether vector updates may use BLAS.
    """

    def __init__(
        self,
        estimator,
        network,
        data,
        validation,
        dropout_rates,
        progress,
        incremental,
        use_blas,
    ):
        est = self.estimator = estimator
        self.network, self.progress, self.incremental = network, progress, incremental
        self.state = est._training_state
        X, targets, sample_weight = data
        if validation is None and est.early_stopping:
            (X, targets, sample_weight), validation = hold_out(
                est, X, targets, sample_weight, network.space
            )
        self.monitor = (
            None if validation is None else ValidationMonitor(est, network, *validation)
        )
        self.n_rows = X.shape[0]
        self.total_weight = (
            X.shape[0]
            if sample_weight is None
            else float(NUMPY.to_numpy(sample_weight).sum())
        )
        size = batch_size(est.batch_size, X.shape[0])
        self.workspace = network.allocate(size, dropout_rates)
        self.dropout = None
        if any(rate > 0 for rate in dropout_rates):
            self.dropout = self._make_dropout(dropout_rates, size)
        self.batches = self._batch_source(X, targets, sample_weight, size, incremental)
        self.optimizer = self.state.optimizer
        self.schedule = epoch_schedule(est)
        # Clipping needs the whole gradient before the step; otherwise the
        # optimizer adds the L2 gradient and measures norms in its own pass.
        clipping = est.max_grad_norm is not None
        self._update = self._clipped_step if clipping else self._fused_step
        self.penalty = WeightPenalty(
            est.alpha, est.alpha_l1, network.n_coef, network.dtype, use_blas
        )
        self.space = network.space
        params, grads = network.params, network.grads
        self.weights, self.weight_grads = (
            params[: network.n_coef],
            grads[: network.n_coef],
        )
        n_layers = network.n_layers
        self.layer_norms = np.empty(n_layers)
        self.epoch_norms = np.empty(n_layers)
        self.segment_norms = np.empty((2, 2 * n_layers), dtype=network.dtype)
        self.divergence_threshold = None
        # Weights at the end of the last finished epoch, to undo a bad one.
        self.finished_params = network.space.copy(params)
        # "training" until an epoch's weights are final, "committing" while
        # its record is written, "committed" after: what an interrupt undoes.
        self.phase = "training"
        self.pending = None

    def _make_dropout(self, rates, size):
        """The masks' source: NumPy's, filling buffers of ``size`` rows."""
        network = self.network
        return Dropout(
            rates,
            self.state.dropout_seed,
            network.layer_units[1:-1],
            size,
        )

    def _batch_source(self, X, targets, sample_weight, size, incremental):
        est, state = self.estimator, self.state
        batches = BatchSource(
            X,
            targets,
            est._target_encoding,
            self.network.layer_units[-1],
            sample_weight,
            None if self.dropout is None else row_keys(X),
            size,
            est.shuffle,
            state.random_state,
            # A warm fit shuffles on from the order its previous fit left, as
            # one long fit would; partial_fit's chunks are new data, each
            # shuffled from its own order, as scikit-learn's MLP does.
            None if incremental else state.shuffle_order,
        )
        if est.shuffle:
            state.shuffle_order = batches.order
        return batches

    # ------------------------------------------------------------------ run
    def run(self):
        """Train up to ``max_iter`` epochs (one with ``partial_fit``)."""
        est, state = self.estimator, self.state
        state.n_iter = 0
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                for _ in range(est.max_iter):
                    if not self._epoch():
                        break
        except KeyboardInterrupt:
            self._interrupted()
        if est.early_stopping:
            self.network.params[...] = state.best_params

    def _epoch(self):
        """Train, check, evaluate and commit one epoch; whether to go on."""
        self.phase = "training"
        if self.schedule is not None:
            # Epochs are numbered over every call since the first fit.
            self.optimizer.learning_rate = self.schedule.rate(self.state.epochs_seen)
        task = self.progress.begin("epoch")
        start = self.state.checkpoint()
        learning_rate = self.optimizer.learning_rate
        loss, grad_norms = self._train_batches()
        if not self._sound(loss):
            self._roll_back(loss)
            self.progress.abandon(task)
            return False
        validation = self.monitor.evaluate() if self.monitor is not None else None
        self._commit(
            EpochResult(
                start,
                self.n_rows,
                self.total_weight,
                loss,
                learning_rate,
                grad_norms,
                validation,
            )
        )
        if self.estimator.verbose:
            print(f"Iteration {self.state.n_iter}, loss = {loss:.8f}")
        self._judge_progress(None if validation is None else validation[1])
        return self._goes_on(task)

    # -------------------------------------------------------------- batches
    def _train_batches(self):
        """One pass over the batches; the epoch's loss and gradient norms."""
        accumulated_loss = 0.0
        self.epoch_norms[...] = 0
        n_batches = 0
        for batch in self.batches:
            weight = batch.weight
            if weight is None:
                weight = (
                    batch.X.shape[0]
                    if batch.sample_weight is None
                    else float(batch.sample_weight.sum())
                )
            if not weight:
                continue  # only zero weights: no data, so no step
            # Off NumPy the batch's loss stays on the device: no
            # synchronisation per batch but the first.
            batch_loss = self._step(batch, weight)
            accumulated_loss += batch_loss * weight
            if self.divergence_threshold is None:
                # Against the best loss seen so far too, so that a run of
                # partial_fit calls cannot drift upwards unnoticed.
                reference = min(
                    float(batch_loss), min(self.state.loss_curve, default=np.inf)
                )
                self.divergence_threshold = _DIVERGENCE_FACTOR * max(1.0, reference)
            self.epoch_norms += self.layer_norms
            n_batches += 1
        loss = float(accumulated_loss) / self.total_weight
        norms = self.space.to_numpy(self.epoch_norms)
        return loss, np.sqrt(norms / max(n_batches, 1))

    def _step(self, batch, weight):
        """Gradient and update on one batch of total weight ``weight``; its loss."""
        dropout = None
        if self.dropout is not None:
            dropout = DropoutBatch(self.dropout, batch.keys, self.state.epochs_seen)
        loss = self.network.loss_and_gradient(
            batch.X, batch.Y, batch.sample_weight, self.workspace, dropout
        )
        if self.penalty.alpha_l1:
            loss += self.penalty.add_l1(self.weights, self.weight_grads, weight)
        return loss + self._update(weight)

    def _fused_step(self, weight):
        """Add the L2 gradient, measure and update in one optimizer step.

        Returns the L2 term of the loss, from the weights before the step.
        """
        network, n_layers = self.network, self.network.n_layers
        self.optimizer.step(
            network.params,
            network.grads,
            network.segment_bounds,
            n_layers,
            self.penalty.l2_gradient_factor(weight),
            self.segment_norms,
        )
        return self.penalty.l2_value(self._measured_norms(), weight)

    def _measured_norms(self):
        """Layer gradient norms from the step's segment norms, into
        ``layer_norms``; the weights' squared norm (before the step).
        """
        n_layers = self.network.n_layers
        gradient_norms, weight_norms = self.segment_norms
        np.add(
            gradient_norms[:n_layers], gradient_norms[n_layers:], out=self.layer_norms
        )
        return float(weight_norms[:n_layers].sum())

    def _clipped_step(self, weight):
        """Clip the whole gradient to ``max_grad_norm`` by its norm, then step.

        Clipping needs the penalised gradient's norm before the step, so the
        L2 gradient is added first. Returns the L2 term of the loss.
        """
        network, limit = self.network, self.estimator.max_grad_norm
        l2_term = self.penalty.add_l2(self.weights, self.weight_grads, weight)
        network.layer_gradient_norms(out=self.layer_norms)
        total_norm = np.sqrt(self.layer_norms.sum())
        if total_norm > limit:
            network.grads *= limit / total_norm
        self.optimizer.update(network.params, network.grads)
        return l2_term

    # ------------------------------------------------- check, commit, undo
    def _sound(self, loss):
        """Whether the epoch neither exploded nor left non-finite numbers."""
        return (
            loss <= self.divergence_threshold
            and self._all_finite(self.network.params)
            and self.optimizer.state_is_finite()
        )

    @staticmethod
    def _all_finite(vector):
        return all_finite(vector)

    def _roll_back(self, loss):
        """Undo a diverged epoch, restart the optimizer, and say so."""
        self.network.params[...] = self.finished_params
        self.optimizer.reset()
        warnings.warn(
            f"Training diverged in epoch {self.state.n_iter + 1}: the loss "
            f"exploded or the weights became non-finite (loss={loss:.3g}). The "
            f"weights of the last sound epoch were restored and the optimizer "
            f"restarted. " + DIVERGENCE_HINT,
            ConvergenceWarning,
        )

    def _commit(self, result):
        """Make the epoch's weights final and record it.

        From the phase switch on an interrupt completes the commit (both of
        its writes are idempotent) instead of undoing the epoch.
        """
        self.pending = result
        self.phase = "committing"
        self.finished_params[...] = self.network.params
        self.state.commit_epoch(result)
        self.phase = "committed"

    def _interrupted(self):
        """Leave a consistent model after a ``KeyboardInterrupt``."""
        if self.phase == "training":
            self.network.params[...] = self.finished_params
        elif self.phase == "committing":
            self.finished_params[...] = self.network.params
            self.state.commit_epoch(self.pending)
        warnings.warn(
            f"Training interrupted by user: kept the weights of the last finished "
            f"epoch ({self.state.n_iter} epoch(s) in this call)."
        )

    # ------------------------------------------------------------- stopping
    def _judge_progress(self, val_score):
        """Count epochs without improvement; advance the schedule.

        Early stopping judges the validation score; otherwise the training
        loss is judged, even when validation data is recorded.
        """
        est, state = self.estimator, self.state
        state.count_no_improvement(
            self.network.params,
            est.tol,
            val_score if est.early_stopping else None,
            est.verbose,
        )
        self.optimizer.iteration_ends(state.weight_seen)

    def _goes_on(self, task):
        """Whether another epoch follows: convergence, callbacks, max_iter.

        The stopping rule runs before the callbacks hear of the epoch, so
        that they see the state the next epoch starts from (the 'adaptive'
        schedule's lowered rate, say): a model a callback saves then goes on
        exactly as this fit does.
        """
        est, state = self.estimator, self.state
        converged = False
        if state.no_improvement_count > est.n_iter_no_change:
            converged = self.optimizer.trigger_stopping(
                self._stopping_message(), est.verbose
            )
            if not converged:
                state.no_improvement_count = 0
        if self.progress.end(task) or converged:
            return False  # a callback asked to stop, or training converged
        if self.incremental:
            return False
        if state.n_iter == est.max_iter:
            warnings.warn(
                f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) "
                f"reached and the optimization hasn't converged yet.",
                ConvergenceWarning,
            )
        return True

    def _stopping_message(self):
        est = self.estimator
        watched = "Validation score" if est.early_stopping else "Training loss"
        return (
            f"{watched} did not improve more than tol={est.tol:f} for "
            f"{est.n_iter_no_change} consecutive epochs."
        )
