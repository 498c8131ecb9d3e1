"""Small seeded data sets that several test modules train on."""

import numpy as np
from sklearn.datasets import make_classification


def classification(n_samples=240, n_classes=3, seed=0):
    """``make_classification`` with ten features, six of them informative."""
    X, y = make_classification(
        n_samples=n_samples,
        n_features=10,
        n_informative=6,
        n_redundant=0,
        n_classes=n_classes,
        random_state=seed,
    )
    return X, y


def split(n_train=180, n_samples=240, seed=0):
    """:func:`classification` cut into training and validation rows."""
    X, y = classification(n_samples, seed=seed)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]


def blobs(n_samples=90, n_features=4, n_classes=3, seed=0):
    """Well separated Gaussian blobs, the classes in turn."""
    rng = np.random.RandomState(seed)
    y = np.arange(n_samples) % n_classes
    centers = rng.normal(scale=3, size=(n_classes, n_features))
    return centers[y] + rng.normal(size=(n_samples, n_features)), y


def unscaled_binary(scale):
    """100 rows of five features on the given scale; the label is the sign of one."""
    rng = np.random.RandomState(0)
    X = rng.normal(scale=scale, size=(100, 5))
    return X, (X[:, 0] > 0).astype(int)
