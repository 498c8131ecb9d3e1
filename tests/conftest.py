"""Shared fixtures: small, scaled, seeded data sets."""

import os

# scikit-learn's array API dispatch needs SciPy's, which SciPy reads from the
# environment when first imported: set before anything imports it, so that
# the array API tests (and scikit-learn's array API checks) run, not skip.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler


@pytest.fixture(scope="session")
def digits_split():
    """load_digits, 75/25 stratified split, standardised on the training part."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


@pytest.fixture(scope="session")
def small_digits(digits_split):
    """The first 300 scaled training digits: quick to fit."""
    X_train, _, y_train, _ = digits_split
    return np.ascontiguousarray(X_train[:300]), y_train[:300]
