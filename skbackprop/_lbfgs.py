"""Full-batch training with scipy's L-BFGS-B."""

import warnings

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning

from ._objective import Objective
from ._penalty import WeightPenalty
from ._stochastic import DIVERGENCE_HINT
from ._validation import ValidationMonitor

__all__ = ["LbfgsTrainer"]


class LbfgsTrainer:
    """One call of ``fit`` with the 'lbfgs' solver.

    Minimises the full-batch objective; records the loss after every
    iteration in ``loss_curve_`` and ``history_`` (and prints it when
    ``verbose``); stops at ``max_iter`` iterations or ``max_fun``
    evaluations; and keeps the last iterate whose loss was finite, also when
    interrupted.

    Parameters
    ----------
    estimator : MLPBackpropClassifier
        The estimator.
    network : Network
        Parameters and backpropagation.
    data : tuple (X, targets, sample_weight)
        Training rows, compact targets and sample weights (or None).
    validation : tuple (X, targets, sample_weight) or None
        Validation data whose loss and score are recorded every iteration.
    progress : FitProgress
        Reports every iteration to scikit-learn's callbacks.
    use_blas : bool
        Whether vector updates may use BLAS.
    """

    def __init__(self, estimator, network, data, validation, progress, use_blas):
        self.estimator, self.network, self.progress = estimator, network, progress
        self.state = estimator._training_state
        X, targets, sample_weight = data
        self.space = space = network.space
        # scipy's optimizer runs on the host in float64; the objective and
        # its gradient are computed where the network lives.
        Y = space.asarray(
            estimator._target_encoding.rows(targets, network.dtype), network.dtype
        )
        penalty = WeightPenalty(
            estimator.alpha, estimator.alpha_l1, network.n_coef, network.dtype, use_blas
        )
        self.objective = Objective(network, penalty, X, Y, sample_weight)
        self.monitor = (
            None
            if validation is None
            else ValidationMonitor(estimator, network, *validation)
        )
        self.start = space.to_numpy(network.params).astype(np.float64)
        # The last iterate whose loss was finite, and that loss.
        self.last_x = self.start.copy()
        self.last_loss = np.inf
        self.norms = np.empty(network.n_layers)
        # Where this call's records start in the loss curve.
        self.first_record = len(self.state.loss_curve)
        self.task = None
        # An accepted iteration whose record is being written.
        self.pending = None

    def run(self):
        """Minimise, then keep the result or the last sound iterate."""
        est = self.estimator
        self.task = self.progress.begin("lbfgs-iter")
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            try:
                result = scipy.optimize.minimize(
                    self._value_and_gradient,
                    self.start,
                    method="L-BFGS-B",
                    jac=True,
                    callback=self._iteration_done,
                    options={
                        "maxfun": est.max_fun,
                        "maxiter": est.max_iter,
                        "gtol": est.tol,
                    },
                )
            except KeyboardInterrupt:
                result = None
                if self.pending is not None:
                    self._commit()  # an iteration's record was being written
                warnings.warn(
                    "Training interrupted by user: kept the weights of the last "
                    "finished iteration."
                )
            finally:
                # The subtask opened for an iteration that never ran.
                self.progress.abandon(self.task)
            if (
                result is not None
                and np.isfinite(result.fun)
                and (np.isfinite(result.x).all())
            ):
                self._keep_result(result)
            else:
                self._keep_last_sound(result)
        self.state.best_loss = min(self.state.loss_curve, default=self.state.loss)

    def _value_and_gradient(self, packed):
        if self.space.is_numpy:
            np.copyto(self.network.params, packed, casting="same_kind")
        else:
            self._set_params(packed)
        loss = float(self.objective())
        if not np.isfinite(loss):
            # Infinite loss makes the line search backtrack instead of failing.
            return np.inf, np.zeros_like(packed)
        return loss, self.space.to_numpy(self.network.grads).astype(np.float64)

    def _set_params(self, packed):
        """Copy a host iterate into the network's parameters."""
        if self.space.is_numpy:
            np.copyto(self.network.params, packed, casting="same_kind")
        else:
            self.network.params[...] = self.space.asarray(packed, self.network.dtype)

    def _iteration_done(self, intermediate_result):
        """scipy's callback, with the accepted iterate of an iteration."""
        est, state = self.estimator, self.state
        loss = float(intermediate_result.fun)
        if not np.isfinite(loss):
            # An iterate whose loss overflowed is no progress: neither kept
            # nor recorded, so loss_curve_ and n_iter_ count sound ones only.
            return
        self._set_params(intermediate_result.x)
        # The gradient of the last evaluation, made at the accepted iterate.
        self.network.layer_gradient_norms(out=self.norms)
        validation = self.monitor.evaluate() if self.monitor is not None else None
        self.pending = (
            intermediate_result.x,
            loss,
            np.sqrt(self.norms),
            validation,
            len(state.loss_curve),
        )
        self._commit()
        if est.verbose:
            print(f"Iteration {len(state.loss_curve)}, loss = {loss:.8f}")
        stop = self.progress.end(self.task)
        self.task = self.progress.begin("lbfgs-iter")
        if stop:
            raise StopIteration

    def _commit(self):
        """Record the pending iteration and keep its iterate, idempotently.

        Written from the record's starting length, so that a commit that an
        interrupt cut short can run again without counting anything twice;
        until it has run, the iterate kept is the previous one. The counters
        follow the records, so that callbacks see (and a checkpoint saves)
        the model a fit stopped at this iteration would leave.
        """
        x, loss, grad_norms, validation, start = self.pending
        state = self.state
        state.record_iteration(loss, grad_norms, validation, at=start)
        state.n_iter = start - self.first_record + 1
        state.loss = loss
        state.best_loss = min(state.loss_curve)
        self.last_x[:] = x
        self.last_loss = loss
        self.pending = None

    def _keep_result(self, result):
        state = self.state
        self._set_params(result.x)
        state.loss = float(result.fun)
        state.n_iter = int(result.nit)
        # status 99: a callback asked to stop, which is no failure.
        if result.status not in (0, 99):
            message = result.message
            if isinstance(message, bytes):
                message = message.decode("latin1")
            warnings.warn(
                f"lbfgs failed to converge after {state.n_iter} iteration(s) "
                f"(status={result.status}): {message}. Increase the number of "
                f"iterations (max_iter) or function evaluations (max_fun), or "
                f"scale the data.",
                ConvergenceWarning,
            )

    def _keep_last_sound(self, result):
        """After divergence or an interrupt: the last finite iterate."""
        state = self.state
        self._set_params(self.last_x)
        state.n_iter = len(state.loss_curve)
        if result is not None:
            warnings.warn(
                "lbfgs diverged: the loss or the weights became non-finite. The "
                "last finite iterate was kept. " + DIVERGENCE_HINT,
                ConvergenceWarning,
            )
        state.loss = self.last_loss
        if not np.isfinite(state.loss):
            # Not one finished iteration: report the starting point's loss.
            self._set_params(self.start)
            state.loss = float(self.objective())
