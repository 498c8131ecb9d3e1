"""Progress of a fit, told to scikit-learn's callbacks (``sklearn.callback``)."""

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
