"""Callbacks for scikit-learn's callback API (:mod:`sklearn.callback`).

Register them on an estimator with ``set_callbacks``, alongside scikit-learn's
own (:class:`~sklearn.callback.ScoringMonitor`,
:class:`~sklearn.callback.ProgressBar`).
"""

from ._checkpoint import Checkpoint

__all__ = ["Checkpoint"]
