"""The estimators being compared and the configurations they are run with.

A *contender* is one column of the benchmark: ``ours``
(:class:`skbackprop.MLPBackpropClassifier`), ``sklearn``
(:class:`sklearn.neural_network.MLPClassifier`) and, when PyTorch is
importable, ``torch`` (:class:`bench_torch.TorchMLPClassifier`). All of them
are built from one :class:`BenchConfig` so that they train the same model with
the same hyper-parameters for the same number of epochs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace

import bench_torch

#: Large enough that the no-improvement stopping rule can never trigger, so
#: every fit runs exactly ``max_iter`` epochs.
NEVER_STOP = 10**9


@dataclass(frozen=True)
class BenchConfig:
    """What to train on one dataset, shared by every contender.

    Attributes
    ----------
    dataset : str
        Dataset name, a key of :data:`bench_data.LOADERS`.
    hidden_layer_sizes : tuple of int
        Hidden layer widths.
    batch_size : int
        Mini-batch size.
    epochs : int
        Exact number of training epochs of every timed fit.
    n_train, n_test : int or None
        Subsample sizes (``None``: the full split).
    headline_metric : {"epoch", "fit"}
        Which training time the targets judge: seconds per epoch for the
        compute-bound datasets, whole-fit seconds for the overhead-bound one.
    """

    dataset: str
    hidden_layer_sizes: tuple
    batch_size: int
    epochs: int
    n_train: int | None = None
    n_test: int | None = None
    headline_metric: str = "epoch"


#: The full-size configurations. Fashion-MNIST is the reference configuration.
FULL_CONFIGS = {
    "fashion": BenchConfig("fashion", (256, 128), 256, epochs=5),
    "mnist5k": BenchConfig("mnist5k", (256, 128), 256, epochs=20),
    "digits": BenchConfig("digits", (64,), 256, epochs=20, headline_metric="fit"),
}


def quick_config(config):
    """Return the subsampled, few-epoch variant of ``config`` for smoke runs.

    Parameters
    ----------
    config : BenchConfig

    Returns
    -------
    quick : BenchConfig
    """
    if config.dataset == "digits":
        return config  # already tiny: the quick run keeps it as it is
    return replace(config, epochs=2, n_train=3000, n_test=1000)


def mlp_params(config, seed):
    """Constructor arguments shared by ``MLPClassifier`` and our estimator.

    ``tol=0`` together with :data:`NEVER_STOP` makes both estimators run
    exactly ``config.epochs`` epochs; early stopping (which would hold out a
    validation split and score it every epoch) is off.

    Parameters
    ----------
    config : BenchConfig
    seed : int
        ``random_state`` of this run.

    Returns
    -------
    params : dict
    """
    return dict(
        hidden_layer_sizes=config.hidden_layer_sizes,
        activation="relu",
        solver="adam",
        batch_size=config.batch_size,
        max_iter=config.epochs,
        tol=0.0,
        n_iter_no_change=NEVER_STOP,
        early_stopping=False,
        shuffle=True,
        random_state=seed,
    )


@dataclass(frozen=True)
class Contender:
    """One column of the benchmark.

    Attributes
    ----------
    key : str
        ``"ours"``, ``"sklearn"`` or ``"torch"``.
    label : str
        Human-readable name for tables and plots.
    make : callable
        ``make(config, seed, dtype, n_threads)`` returning an unfitted
        estimator with ``fit``, ``predict_proba`` and ``score``.
    numpy_allocations : bool
        Whether its memory is allocated through numpy, the only memory that
        the tracemalloc-based measurement can see.
    """

    key: str
    label: str
    make: Callable
    numpy_allocations: bool


def load_our_estimator():
    """Return our estimator class and whether it is a stand-in.

    Until ``skbackprop`` is importable the harness runs with
    ``MLPClassifier`` in both columns, so it can be developed and
    smoke-tested; the report then says so in its header.

    Returns
    -------
    estimator_class : type
    is_stand_in : bool
    """
    try:
        from skbackprop import MLPBackpropClassifier
    except ImportError:
        from sklearn.neural_network import MLPClassifier

        warnings.warn(
            "skbackprop is not importable; MLPClassifier stands in for "
            "MLPBackpropClassifier, so every ratio is about 1 by construction.",
            stacklevel=2,
        )
        return MLPClassifier, True
    return MLPBackpropClassifier, False


def build_contenders(include_torch=True):
    """Return the contenders of this run and whether ``ours`` is a stand-in.

    Parameters
    ----------
    include_torch : bool, default=True
        Add the PyTorch column if torch is importable.

    Returns
    -------
    contenders : list of Contender
        Ordered ``ours`` first: the interleaving order of every round.
    is_stand_in : bool
    """
    from sklearn.neural_network import MLPClassifier

    our_class, is_stand_in = load_our_estimator()
    contenders = [
        Contender(
            "ours",
            "MLPBackpropClassifier",
            lambda config, seed, dtype, n_threads: our_class(
                **mlp_params(config, seed)
            ),
            numpy_allocations=True,
        ),
        Contender(
            "sklearn",
            "MLPClassifier",
            lambda config, seed, dtype, n_threads: MLPClassifier(
                **mlp_params(config, seed)
            ),
            numpy_allocations=True,
        ),
    ]
    if include_torch and bench_torch.torch_available():
        import torch  # noqa: F401  (imported now, before the timed runs start)

        contenders.append(
            Contender(
                "torch",
                "PyTorch loop",
                lambda config, seed, dtype, n_threads: bench_torch.TorchMLPClassifier(
                    hidden_layer_sizes=config.hidden_layer_sizes,
                    batch_size=config.batch_size,
                    max_iter=config.epochs,
                    random_state=seed,
                    dtype=dtype,
                    n_threads=n_threads,
                ),
                numpy_allocations=False,
            )
        )
    return contenders, is_stand_in
