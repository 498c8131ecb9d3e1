"""Training state: what training has done, and what it carries to the next call.

One object owns every value that training changes besides the weights: the
counters, the loss curve and history, the best loss or validation score, the
no-improvement count, the weights of the best epoch, the optimizer, the
random generator and the dropout seed. The estimator holds it as
``_training_state`` and shows its public part as fitted attributes through
:class:`TrainingRecord` descriptors (``n_iter_``, ``t_``, ``loss_``,
``loss_curve_``, ``best_loss_``, ``validation_scores_``,
``best_validation_score_``, ``history_``).

:meth:`TrainingState.to_dict` describes the state in plain values (numbers,
lists, arrays and the generator), which is what pickles, skops files and
:func:`~skbackprop.save_model` store; :meth:`TrainingState.from_dict` checks
such a description entry by entry before building the state again.
"""

from typing import NamedTuple

import numpy as np

from ._array_api import NUMPY
from ._optimizers import optimizer_from_state
from ._schema import (
    check_array,
    check_int,
    check_keys,
    check_number,
)

__all__ = ["Checkpoint", "EpochResult", "TrainingRecord", "TrainingState"]

HISTORY_COLUMNS = ("loss", "val_loss", "val_score", "learning_rate", "grad_norm")


class Checkpoint(NamedTuple):
    """The counters and record lengths before an epoch."""

    n_iter: int
    epochs_seen: int
    t: int
    weight_seen: float
    curve_length: int
    history_length: int


class EpochResult(NamedTuple):
    """A finished epoch, ready to commit from its starting point."""

    start: Checkpoint
    n_rows: int
    weight: float
    loss: float
    learning_rate: float
    grad_norms: np.ndarray
    validation: tuple | None


class TrainingRecord:
    """A fitted attribute kept by the training state (``n_iter_`` and kin).

    Reading it before the first fit raises AttributeError, as for any fitted
    attribute; assigning it writes the training state.
    """

    def __set_name__(self, owner, name):
        self.name, self.field = name, name.rstrip("_")

    def __get__(self, estimator, owner=None):
        if estimator is None:
            return self
        state = estimator.__dict__.get("_training_state")
        if state is None:
            raise AttributeError(
                f"'{type(estimator).__name__}' object has no attribute '{self.name}'"
            )
        return getattr(state, self.field)

    def __set__(self, estimator, value):
        if "_training_state" not in estimator.__dict__:
            raise AttributeError(f"{self.name} is set by fit.")
        setattr(estimator._training_state, self.field, value)


class TrainingState:
    """The mutable state of training, shared by fit, partial_fit and warm starts.

    Parameters
    ----------
    random_state : numpy.random.RandomState
        Shuffles the batches, draws the dropout seed and the validation split.
    track_validation : bool
        Whether early stopping watches a validation score (then
        ``validation_scores`` is a list and ``best_loss`` is None) or the
        training loss.

    Attributes
    ----------
    n_iter : int
        Epochs (or lbfgs iterations) of the last call.
    t : int
        Training samples seen by the stochastic solver.
    epochs_seen : int
        Epochs over all calls; dropout masks change with it.
    weight_seen : float
        Weighted samples over all calls: the 'invscaling' schedule's clock.
    loss : float
        Objective after the last epoch (NaN before the first).
    loss_curve : list of float
        Objective after every epoch or iteration.
    history : dict of list
        Per epoch: loss, validation loss and score, learning rate, gradient
        norms per layer.
    best_loss, validation_scores, best_validation_score
        As the fitted attributes of the same names.
    no_improvement_count : int
        Consecutive epochs without a ``tol`` improvement.
    best_params : ndarray or None
        Parameters of the best validation epoch, with early stopping.
    optimizer : optimizer or None
        The stochastic solver's optimizer, kept across calls.
    dropout_seed : int or None
        Seed of the dropout masks, drawn when dropout is first used.
    random_state : numpy.random.RandomState
    shuffle_order : ndarray or None
        The order of the training rows after the last shuffle: the next
        epoch shuffles it on, in this call or the next.
    """

    def __init__(self, random_state, track_validation):
        self.random_state = random_state
        self.shuffle_order = None
        self.dropout_seed = None
        self.optimizer = None
        self.n_iter = 0
        self.t = 0
        self.epochs_seen = 0
        self.weight_seen = 0.0
        self.loss = np.nan
        self.loss_curve = []
        self.history = {name: [] for name in HISTORY_COLUMNS}
        self.no_improvement_count = 0
        self.best_params = None
        self.best_loss = np.inf
        self.validation_scores = None
        self.best_validation_score = None
        if track_validation:
            self.track_validation()

    def draw_dropout_seed(self):
        """Draw the dropout masks' seed, once.

        Dropout masks hash the sample with this seed (see ``_dropout``). It is
        drawn only when dropout is first used, so that without dropout the
        generator gives the same batches as scikit-learn's MLP.
        """
        if self.dropout_seed is None:
            self.dropout_seed = int(self.random_state.randint(np.iinfo(np.int32).max))

    # -------------------------------------------------------- early stopping
    def track_validation(self):
        """Watch the validation score from now on (early stopping turned on)."""
        if self.validation_scores is None:
            self.validation_scores = []
            self.best_validation_score = -np.inf
            self.best_loss = None

    def track_loss(self):
        """Watch the training loss from now on (early stopping turned off)."""
        self.best_params = None
        if self.best_loss is None:
            self.best_loss = np.inf

    def keep_best_params(self, params, space=NUMPY):
        """Make room for the best epoch's parameters, like ``params``.

        They live where ``params`` do (``space``); kept ones are moved there.
        """
        best = self.best_params
        if best is None or tuple(best.shape) != tuple(params.shape):
            self.best_params = space.copy(params)
        else:
            dtype = space.numpy_dtype(params)
            self.best_params = space.asarray(best, dtype)

    def count_no_improvement(self, params, tol, val_score=None, verbose=False):
        """scikit-learn's rule: count epochs without a ``tol`` improvement.

        With a validation score (early stopping) the score is recorded and
        the parameters of the best epoch are kept; otherwise the last
        training loss is judged.
        """
        if val_score is not None:
            self.validation_scores.append(val_score)
            if verbose:
                print(f"Validation score: {val_score:f}")
            if val_score < self.best_validation_score + tol:
                self.no_improvement_count += 1
            else:
                self.no_improvement_count = 0
            # Ties go to the later epoch: a discrete score such as accuracy
            # often plateaus (at 1.0, say) while the loss still falls, and the
            # earliest epoch of a plateau is the least trained.
            if val_score >= self.best_validation_score:
                self.best_validation_score = val_score
                self.best_params[...] = params
            return
        loss = self.loss_curve[-1]
        if loss > self.best_loss - tol:
            self.no_improvement_count += 1
        else:
            self.no_improvement_count = 0
        if loss < self.best_loss:
            self.best_loss = loss

    # ---------------------------------------------------------------- records
    def checkpoint(self):
        """Where the next epoch starts from."""
        return Checkpoint(
            self.n_iter,
            self.epochs_seen,
            self.t,
            self.weight_seen,
            len(self.loss_curve),
            len(self.history["loss"]),
        )

    def commit_epoch(self, result):
        """Record a finished epoch, idempotently.

        Every value is written from the epoch's starting point, so that a
        commit interrupted anywhere and run again counts nothing twice.

        Parameters
        ----------
        result : EpochResult
            The epoch.
        """
        start = result.start
        self.n_iter = start.n_iter + 1
        self.epochs_seen = start.epochs_seen + 1
        self.t = start.t + result.n_rows
        # Time in weighted samples: a weight of k advances the schedule like
        # k copies (identical to t without weights).
        self.weight_seen = start.weight_seen + result.weight
        self.loss = result.loss
        del self.loss_curve[start.curve_length :]
        self.loss_curve.append(result.loss)
        self._record(
            result.loss,
            result.learning_rate,
            result.grad_norms,
            result.validation,
            at=start.history_length,
        )

    def record_iteration(self, loss, grad_norms, validation, at):
        """Record an lbfgs iteration (which has no learning rate).

        The record starts at index ``at``: whatever follows it is replaced,
        so that recording the same iteration twice leaves one record.
        """
        del self.loss_curve[at:]
        self.loss_curve.append(loss)
        self._record(loss, np.nan, grad_norms, validation, at=at)

    def _record(self, loss, learning_rate, grad_norms, validation, at=None):
        """Append one row to ``history``; with ``at``, replace what follows it."""
        val_loss, val_score = validation if validation is not None else (None, None)
        row = {
            "loss": loss,
            "learning_rate": learning_rate,
            "grad_norm": [float(g) for g in grad_norms],
            "val_loss": val_loss,
            "val_score": val_score,
        }
        for name, value in row.items():
            column = self.history[name]
            if at is not None:
                del column[at:]
            column.append(value)

    # ------------------------------------------------------------ persistence
    _COUNTERS = ("n_iter", "t", "epochs_seen", "no_improvement_count")
    _ENTRIES = (
        *_COUNTERS,
        "weight_seen",
        "loss",
        "loss_curve",
        "history",
        "best_loss",
        "validation_scores",
        "best_validation_score",
        "best_params",
        "dropout_seed",
        "random_state",
        "shuffle_order",
        "optimizer",
    )

    def to_dict(self, host=False):
        """The state in plain values: numbers, lists, arrays and the generator.

        Parameters
        ----------
        host : bool, default=False
            Give NumPy copies of arrays that live in another array space (a
            GPU's), as files and pickles hold them.

        Returns
        -------
        state : dict
            Live references, not copies (but for moved arrays): serialise it
            before training goes on.
        """
        state = {name: getattr(self, name) for name in self._ENTRIES}
        if self.optimizer is not None:
            state["optimizer"] = self.optimizer.state_dict()
        if host:
            state["best_params"] = NUMPY.to_numpy(state["best_params"])
            if self.optimizer is not None:
                to_numpy = self.optimizer.space.to_numpy
                state["optimizer"] = {
                    name: to_numpy(value)
                    if name in self.optimizer._state_vectors
                    else value
                    for name, value in state["optimizer"].items()
                }
        return state

    @classmethod
    def from_dict(cls, saved, n_params, n_coef, dtype):
        """The state :meth:`to_dict` described, every entry checked.

        Parameters
        ----------
        saved : dict
            A description from :meth:`to_dict`.
        n_params, n_coef : int
            Sizes of the parameter vector and of its weights.
        dtype : numpy dtype
            Dtype of the parameters.

        Returns
        -------
        state : TrainingState

        Raises
        ------
        ValueError
            If an entry is missing, unknown or invalid.
        """
        check_keys(saved, cls._ENTRIES, where="training state")
        if not isinstance(saved["random_state"], np.random.RandomState):
            raise ValueError("training state.random_state must be a RandomState.")
        state = cls(saved["random_state"], track_validation=False)
        for name in cls._COUNTERS:
            setattr(state, name, check_int(saved[name], f"training state.{name}"))
        state.weight_seen = check_number(
            saved["weight_seen"], "training state.weight_seen", finite=True
        )
        state.loss = check_number(saved["loss"], "training state.loss")
        state.loss_curve = _float_list(saved["loss_curve"], "loss_curve")
        state.history = _history(saved["history"])
        state.best_loss = check_number(
            saved["best_loss"], "training state.best_loss", optional=True
        )
        scores = saved["validation_scores"]
        state.validation_scores = (
            None if scores is None else _float_list(scores, "validation_scores")
        )
        state.best_validation_score = check_number(
            saved["best_validation_score"],
            "training state.best_validation_score",
            optional=True,
        )
        if saved["best_params"] is not None:
            state.best_params = check_array(
                saved["best_params"],
                "training state.best_params",
                (n_params,),
                dtype,
                finite=True,
            )
        if saved["shuffle_order"] is not None:
            state.shuffle_order = _permutation(saved["shuffle_order"])
        if saved["dropout_seed"] is not None:
            state.dropout_seed = check_int(
                saved["dropout_seed"], "training state.dropout_seed"
            )
        if saved["optimizer"] is not None:
            state.optimizer = optimizer_from_state(
                saved["optimizer"], n_params, n_coef, dtype
            )
        return state


def _permutation(order):
    """A shuffled row order, checked: a permutation of its positions."""
    where = "training state.shuffle_order"
    if not isinstance(order, np.ndarray) or order.dtype.kind not in "iu":
        raise ValueError(f"{where} must be an array of integers.")
    if order.ndim != 1 or not np.array_equal(np.sort(order), np.arange(len(order))):
        raise ValueError(f"{where} must be a permutation of 0 .. n - 1.")
    return np.array(order, dtype=np.int32 if len(order) < 2**31 else np.intp)


def _float_list(values, name):
    where = f"training state.{name}"
    if not isinstance(values, list):
        raise ValueError(f"{where} must be a list, got {type(values).__name__}.")
    return [check_number(v, f"{where}[{i}]") for i, v in enumerate(values)]


def _history(history):
    """``history`` checked: its columns, their lengths and their values."""
    where = "training state.history"
    check_keys(history, HISTORY_COLUMNS, where=where)
    checked = {}
    for name in HISTORY_COLUMNS:
        column = history[name]
        if not isinstance(column, list):
            raise ValueError(f"{where}[{name!r}] must be a list.")
        entries = []
        for i, value in enumerate(column):
            entry = f"{where}[{name!r}][{i}]"
            if name == "grad_norm":
                entries.append(_float_list(value, f"history.grad_norm[{i}]"))
            else:
                entries.append(check_number(value, entry, optional=True))
        checked[name] = entries
    lengths = {len(column) for column in checked.values()}
    if len(lengths) != 1:
        raise ValueError(f"{where} has columns of different lengths.")
    return checked
