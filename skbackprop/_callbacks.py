"""Progress of a fit, told to scikit-learn's callbacks (``sklearn.callback``)."""

from ._architecture import STOCHASTIC_SOLVERS

__all__ = ["FitProgress"]


class FitProgress:
    """The callbacks' view of one fit: the fit task and a subtask per epoch.

    Parameters
    ----------
    estimator : MLPBackpropClassifier
        The estimator being fitted.
    context : CallbackContext
        The fit's context, from ``_init_callback_context``.
    X, y : array-like
        The data the fit was called with.
    metadata : dict or None
        ``{'sample_weight': ...}`` when there are sample weights.
    """

    def __init__(self, estimator, context, X, y, metadata):
        self.estimator, self.context = estimator, context
        self.X, self.y, self.metadata = X, y, metadata

    @classmethod
    def open(cls, estimator, X, y, sample_weight, validation_given):
        """Set up the estimator's callbacks for a fit; its progress to tell them.

        While they are set up, the estimator's ``_fit_has_validation`` says
        whether the fit records a validation loss and score in ``history_``:
        with ``X_val``, or with early stopping's hold-out.
        """
        estimator._fit_has_validation = validation_given or (
            estimator.early_stopping and estimator.solver in STOCHASTIC_SOLVERS
        )
        try:
            # One subtask per epoch; L-BFGS also opens one for the iteration
            # that never runs after the last.
            context = estimator._init_callback_context(
                max_subtasks=estimator.max_iter + (estimator.solver == "lbfgs")
            )
        finally:
            del estimator._fit_has_validation
        metadata = None if sample_weight is None else {"sample_weight": sample_weight}
        return cls(estimator, context, X, y, metadata)

    def _data(self):
        return dict(
            estimator=self.estimator, X=self.X, y=self.y, metadata=self.metadata
        )

    def begin_fit(self):
        """Open the fit task."""
        self.context.call_on_fit_task_begin(**self._data())

    def end_fit(self):
        """Close the fit task, handing over the fitted weights."""
        est = self.estimator
        self.context.call_on_fit_task_end(
            **self._data(),
            reconstruction_attributes={
                "coefs_": est.coefs_,
                "intercepts_": est.intercepts_,
            },
        )

    def begin(self, task_name):
        """Open the subtask of one epoch or iteration; return its context."""
        task = self.context.subcontext(task_name=task_name)
        task.call_on_fit_task_begin(**self._data())
        return task

    def end(self, task):
        """Close a finished subtask; whether a callback asks to stop.

        The weights are handed over as a callable, copied only if a callback
        asks for them.
        """
        return task.call_on_fit_task_end(
            **self._data(), reconstruction_attributes=self._weights_snapshot
        )

    def abandon(self, task):
        """Close a subtask whose work was undone (a diverged epoch)."""
        task.call_on_fit_task_end(estimator=self.estimator)

    def _weights_snapshot(self):
        est = self.estimator
        return {
            "coefs_": [c.copy() for c in est.coefs_],
            "intercepts_": [b.copy() for b in est.intercepts_],
        }
