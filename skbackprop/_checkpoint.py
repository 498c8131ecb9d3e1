"""Checkpoints: the best epoch so far, saved while training goes on.

:class:`Checkpoint` is a scikit-learn fit callback (``sklearn.callback``).
After every epoch (every iteration for 'lbfgs') it reads the monitored value
from ``history_`` and, when the value is at least as good as the best so
far, saves the estimator with :func:`~skbackprop.save_model`, whose write is
atomic. The estimator calls its callbacks once the epoch is committed and
judged (see ``_stochastic``), so the saved model is the one a fit stopped at
that epoch would leave, training state included.

One callback instance serves every fit it is set on: the clones that a
search fits share it (in worker processes, a copy of it). What belongs to
one fit, its file and its best value, is kept per fit, keyed by the fit's
root task in the callbacks' task tree.
"""

import io
import math
import os
import string

from ._architecture import STOCHASTIC_SOLVERS
from ._base import BaseMLPBackprop
from ._persistence import save_model

__all__ = ["Checkpoint"]

# The monitors, each a column of history_, and whether larger is better.
_LARGER_IS_BETTER = {"loss": False, "val_loss": False, "val_score": True}
# The fields a path template may use; "" is the positional "{}".
_FIELDS = {"", "task"}


class Checkpoint:
    """Save the model of the best epoch so far, while the estimator trains.

    A callback for scikit-learn's callback API (:mod:`sklearn.callback`):
    register it with ``set_callbacks`` on an
    :class:`~skbackprop.MLPBackpropClassifier` or
    :class:`~skbackprop.MLPBackpropRegressor`. After every epoch (every
    iteration for ``solver='lbfgs'``) whose monitored value is at least as
    good as the best so far, the model as it stands at the end of that epoch
    is written to ``path`` with :func:`~skbackprop.save_model`, replacing the
    previous checkpoint atomically: an interrupted write, or a crash, leaves
    the previous checkpoint or the new one, never a broken file.
    :func:`~skbackprop.load_model` then gives back the model of the best
    epoch, with its training state, so that a ``warm_start`` fit of it
    continues training (see the Notes).

    Parameters
    ----------
    path : str or os.PathLike
        Where to write the model. ``{task}`` (or ``{}``) in it is replaced by
        the fit's task in scikit-learn's callback task tree: the task ids
        from the outermost fit down to this one, joined by ``-``. A fit of
        its own is task ``0``; in :class:`~sklearn.model_selection.GridSearchCV`
        the fit of candidate ``i`` on split ``s`` is task ``0-0-k`` with ``k =
        i * n_splits + s``, and the refit ``0-1`` (with a
        :class:`~sklearn.pipeline.Pipeline` around the estimator, ``-1`` more
        for its final step). Literal braces are written ``{{`` and ``}}``.
        A relative path is taken from the working directory at the time the
        callback is created, also for fits in other processes. Missing
        directories are created when a fit starts.
    monitor : {'val_loss', 'val_score', 'loss'}, default='val_loss'
        The column of ``history_`` that decides which epoch is best:
        ``'val_loss'``, the loss on the validation data (lower is better);
        ``'val_score'``, the validation score that ``scoring`` chooses
        (higher is better); or ``'loss'``, the training objective (lower is
        better). The validation values need validation data: ``X_val`` and
        ``y_val`` passed to ``fit``, or ``early_stopping=True`` with a
        stochastic solver. A fit without raises a ValueError before training.

    See Also
    --------
    skbackprop.save_model : The format of the checkpoint.
    skbackprop.load_model : Read the checkpoint back.
    sklearn.callback.ScoringMonitor : Scores every epoch's model.

    Notes
    -----
    **Which epoch.** Ties go to the later epoch, as for the best epoch that
    early stopping restores; so with ``early_stopping=True`` and
    ``monitor='val_score'`` the checkpoint and the fitted model are the same.
    An epoch whose value is NaN (a network whose outputs overflowed) is never
    written, nor is an epoch that training undid after it diverged. A
    ``warm_start`` fit or a ``partial_fit`` call compares with the best value
    of ``history_`` so far, which spans the earlier calls, so that the file
    keeps the best epoch of the whole training.

    **Several fits.** Each fit writes its own checkpoint, but a path without
    ``{task}`` names one file for them all, which the latest improvement
    overwrites: after a search with ``refit=True`` it holds the refit's best
    epoch, since the refit runs last. ``{task}`` tells the fits apart within
    meta-estimators that support scikit-learn's callbacks (the searches and
    ``Pipeline``); elsewhere, such as in
    :func:`~sklearn.model_selection.cross_validate`, every fit is task ``0``.

    **Resuming.** Load the checkpoint, set ``warm_start=True`` and ``max_iter``
    to the epochs left, and fit on the same data: with a stochastic solver,
    training continues exactly as the fit that wrote the checkpoint did after
    that epoch (the optimizer's state, the counters and the random generator
    are in the file), unless early stopping held part of ``X`` out, since a
    new fit draws a new hold-out; pass ``X_val`` and ``y_val`` instead.
    'lbfgs' restarts from the checkpoint's weights without the curvature
    memory of the iterations before, so it does not retrace the original
    run.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_iris
    >>> from skbackprop import MLPBackpropClassifier, load_model
    >>> from skbackprop.callbacks import Checkpoint
    >>> X, y = load_iris(return_X_y=True)
    >>> path = os.path.join(tempfile.mkdtemp(), "best.npz")
    >>> clf = MLPBackpropClassifier(early_stopping=True, max_iter=30,
    ...                             random_state=0)
    >>> clf = clf.set_callbacks(Checkpoint(path, monitor="val_score")).fit(X, y)
    >>> best = load_model(path)
    >>> bool((best.predict_proba(X) == clf.predict_proba(X)).all())
    True
    """

    def __init__(self, path, monitor="val_loss"):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(
                f"path must be a str or os.PathLike, got {type(path).__name__}."
            )
        if monitor not in _LARGER_IS_BETTER:
            raise ValueError(
                f"monitor must be one of {sorted(_LARGER_IS_BETTER)}, got {monitor!r}."
            )
        template = os.fspath(path)
        _check_template(template)
        if not os.path.isabs(template):
            # Resolved now, in the process the user works in: worker processes
            # may have started in another working directory.
            cwd = os.getcwd().replace("{", "{{").replace("}", "}}")
            template = os.path.join(cwd, template)
        self._path, self._monitor, self._template = path, monitor, template
        # The fits in progress, by their root task (see the module docstring).
        self._fits = {}

    @property
    def path(self):
        """The path or path template, as given."""
        return self._path

    @property
    def monitor(self):
        """The column of ``history_`` that decides which epoch is best."""
        return self._monitor

    def __repr__(self):
        return f"Checkpoint(path={self.path!r}, monitor={self.monitor!r})"

    def __getstate__(self):
        # A copy sent to a worker process starts with no fit in progress.
        return {**self.__dict__, "_fits": {}}

    # ------------------------------------------------ the callback protocol
    def setup(self, estimator, context):
        """Check that the fit can be checkpointed; choose its file.

        Parameters
        ----------
        estimator : MLPBackpropClassifier or MLPBackpropRegressor
            The estimator about to be fitted.
        context : sklearn.callback.CallbackContext
            The fit's root task.

        Raises
        ------
        TypeError
            If ``estimator`` is not a skbackprop estimator.
        ValueError
            If the fit does not record the monitored value.
        """
        if not isinstance(estimator, BaseMLPBackprop):
            raise TypeError(
                f"Checkpoint saves skbackprop estimators; set it on the "
                f"MLPBackpropClassifier or MLPBackpropRegressor itself, not on "
                f"{type(estimator).__name__}."
            )
        if self.monitor != "loss" and not estimator._fit_has_validation:
            remedy = "pass X_val and y_val to fit"
            if estimator.solver in STOCHASTIC_SOLVERS:
                remedy += ", or set early_stopping=True"
            raise ValueError(
                f"Checkpoint(monitor={self.monitor!r}) needs validation data, "
                f"and this fit has none: {remedy}, or monitor 'loss'."
            )
        path = _fill(self._template, _task(context))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self._fits[context] = _Fit(path)

    def teardown(self, estimator, context):
        """Forget the fit that ended.

        Parameters
        ----------
        estimator : MLPBackpropClassifier or MLPBackpropRegressor
            The estimator that was fitted.
        context : sklearn.callback.CallbackContext
            The fit's root task.
        """
        self._fits.pop(context, None)

    def on_fit_task_begin(self, estimator, context):
        """At the start of the fit, note the best value so far.

        Parameters
        ----------
        estimator : MLPBackpropClassifier or MLPBackpropRegressor
            The estimator being fitted.
        context : sklearn.callback.CallbackContext
            The task that begins: the fit, or one of its epochs.
        """
        fit = self._fits.get(context)
        if fit is None:
            return  # an epoch
        # Saved once to nowhere, so that a model the format cannot store (a
        # parameter set to an arbitrary object, say) is refused before
        # training instead of after the first epoch.
        save_model(estimator, _Discard())
        values = estimator.history_[self.monitor]
        fit.n_records = len(values)
        for value in values:
            if self._improves(value, fit.best):
                fit.best = value

    def on_fit_task_end(self, estimator, context):
        """At the end of an epoch, save the model if its value is the best.

        Parameters
        ----------
        estimator : MLPBackpropClassifier or MLPBackpropRegressor
            The estimator being fitted.
        context : sklearn.callback.CallbackContext
            The task that ended: the fit, or one of its epochs.

        Returns
        -------
        stop : bool
            Always False: a checkpoint never stops training.
        """
        fit = self._fits.get(context.parent)
        if fit is None:
            return False  # the fit itself, not one of its epochs
        values = estimator.history_[self.monitor]
        if len(values) == fit.n_records:
            return False  # an epoch that training undid
        fit.n_records = len(values)
        if self._improves(values[-1], fit.best):
            save_model(estimator, fit.path)
            fit.best = values[-1]
        return False

    def _improves(self, value, best):
        """Whether ``value`` is at least as good as ``best`` (None: no best)."""
        if value is None or math.isnan(value):
            return False
        if best is None:
            return True
        return value >= best if _LARGER_IS_BETTER[self.monitor] else value <= best


class _Fit:
    """One fit's checkpoint: its file, its best value, the records seen."""

    def __init__(self, path):
        self.path = path
        self.best = None
        self.n_records = 0


class _Discard(io.RawIOBase):
    """A binary file that keeps nothing written to it."""

    def writable(self):
        return True

    def write(self, data):
        return memoryview(data).nbytes


def _task(context):
    """The task ids from the outermost fit down to ``context``, joined by '-'."""
    ids = []
    while context is not None:
        ids.append(context.task_id)
        context = context.parent
    return "-".join(str(task_id) for task_id in reversed(ids))


def _check_template(path):
    """Refuse a path whose template fields are not ``{task}`` or ``{}``."""
    try:
        fields = {field for _, field, _, _ in string.Formatter().parse(path)}
    except ValueError as error:
        raise ValueError(
            f"path {path!r} is not a valid template ({error}); write literal "
            f"braces as '{{{{' and '}}}}'."
        ) from None
    unknown = sorted(fields - _FIELDS - {None})
    if unknown:
        raise ValueError(
            f"path {path!r} has the unknown fields {unknown}; the only field is "
            f"'{{task}}' (or '{{}}'), and literal braces are written '{{{{' and "
            f"'}}}}'."
        )


def _fill(path, task):
    """``path`` with its ``{task}`` and ``{}`` fields filled."""
    return path.format(task, task=task)
