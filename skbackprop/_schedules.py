"""Learning-rate schedules that set the rate at the start of every epoch.

scikit-learn's schedules ('constant', 'invscaling', 'adaptive') change the
rate after an epoch or when progress stalls, and live in the optimizer
(:mod:`._optimizers`). The schedules here give the rate of each epoch from
its number ``e``, counted from 0 over every call of ``fit`` (with
``warm_start``) and ``partial_fit`` since the model was first trained:

- ``'cosine'`` anneals ``learning_rate_init`` to 0 along half a cosine
  period over ``max_iter`` epochs,
  ``learning_rate_init * 0.5 * (1 + cos(pi * e / max_iter))``; past
  ``max_iter`` (warm starts, ``partial_fit``) the same formula climbs back up;
- a callable ``schedule(epoch, learning_rate_init)`` returns the rate
  itself, which must be a finite number >= 0.
"""

import math
from numbers import Real

from ._references import reference

__all__ = ["EpochSchedule", "epoch_schedule", "schedule_key"]


def schedule_key(learning_rate):
    """The ``learning_rate`` parameter as the optimizer's settings record it.

    Names stay names; a callable is recorded by its reference
    (``"module:qualname"``), or as ``"callable"`` where it has none, so that
    the settings are plain values that compare equal across pickling.
    """
    if isinstance(learning_rate, str):
        return learning_rate
    return reference(learning_rate) or "callable"


class EpochSchedule:
    """The learning rate of every epoch, from its number.

    Parameters
    ----------
    schedule : 'cosine' or callable
        The ``learning_rate`` parameter.
    learning_rate_init : float
        The initial rate.
    max_iter : int
        The epochs over which 'cosine' anneals.
    """

    def __init__(self, schedule, learning_rate_init, max_iter):
        self.schedule = schedule
        self.learning_rate_init = learning_rate_init
        self.max_iter = max_iter

    def rate(self, epoch):
        """The learning rate of epoch ``epoch`` (counted from 0).

        Raises
        ------
        ValueError
            If a callable schedule returns anything but a finite number >= 0.
        """
        if self.schedule == "cosine":
            progress = math.pi * epoch / self.max_iter
            return self.learning_rate_init * 0.5 * (1.0 + math.cos(progress))
        rate = self.schedule(epoch, self.learning_rate_init)
        if (
            not isinstance(rate, Real)
            or isinstance(rate, bool)
            or not math.isfinite(rate)
            or rate < 0
        ):
            name = getattr(self.schedule, "__qualname__", repr(self.schedule))
            raise ValueError(
                f"The learning_rate schedule {name} returned {rate!r} for epoch "
                f"{epoch}: a schedule must return a finite learning rate >= 0."
            )
        return float(rate)


def epoch_schedule(estimator):
    """The estimator's per-epoch schedule, or None for scikit-learn's schedules."""
    learning_rate = estimator.learning_rate
    if learning_rate != "cosine" and not callable(learning_rate):
        return None
    return EpochSchedule(
        learning_rate, estimator.learning_rate_init, estimator.max_iter
    )
