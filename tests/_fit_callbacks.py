"""Minimal scikit-learn fit callbacks (``sklearn.callback``) that tests attach."""


class Callback:
    """A scikit-learn FitCallback that does nothing; subclasses add to it."""

    def setup(self, estimator, context):
        pass

    def teardown(self, estimator, context):
        pass

    def on_fit_task_begin(self, estimator, context):
        pass

    def on_fit_task_end(self, estimator, context):
        return False


class StopAfter(Callback):
    """Asks training to stop once ``n`` epochs (or iterations) have ended."""

    def __init__(self, n):
        self.n = n
        self.ended = 0

    def on_fit_task_end(self, estimator, context):
        if context.parent is None:  # the whole fit, not an epoch
            return False
        self.ended += 1
        return self.ended >= self.n


class InitialWeights(Callback):
    """Copies the weights the estimator holds when its fit task begins."""

    def on_fit_task_begin(self, estimator, context):
        if context.parent is None:
            self.coefs = [c.copy() for c in estimator.coefs_]
            self.intercepts = [b.copy() for b in estimator.intercepts_]
