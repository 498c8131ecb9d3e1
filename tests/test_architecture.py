"""The network the parameters describe (``skbackprop._architecture``).

Before anything is trained the parameters that shape the network are checked
against each other: one dropout rate per hidden layer (or one for all), every
rate in ``[0, 1)``, and no option that needs a stochastic solver (dropout,
gradient clipping) given to lbfgs. Each refusal says what is wrong.
"""

import tracemalloc

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.utils._param_validation import InvalidParameterError

from skbackprop import MLPBackpropClassifier
from skbackprop._architecture import check_fits_in_memory
from tests._data import classification

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize(
    "params, error, message",
    [
        (
            dict(hidden_layer_sizes=(8, 4), dropout=[0.2]),
            ValueError,
            "dropout has 1 entries but hidden_layer_sizes defines 2",
        ),
        (
            dict(hidden_layer_sizes=(8,), dropout=[0.2, 0.2, 0.2]),
            ValueError,
            "dropout has 3 entries",
        ),
        (
            dict(hidden_layer_sizes=(8, 4), dropout=[0.2, 1.0]),
            ValueError,
            r"in \[0, 1\)",
        ),
        (
            dict(hidden_layer_sizes=(8, 4), dropout=[-0.1, 0.2]),
            ValueError,
            r"in \[0, 1\)",
        ),
        (dict(dropout=1.0), InvalidParameterError, "dropout"),
        (dict(dropout=0.5, solver="lbfgs"), ValueError, "stochastic solver"),
    ],
)
def test_dropout_invalid_settings_are_refused(params, error, message):
    X, y = classification(60)
    with pytest.raises(error, match=message):
        MLPBackpropClassifier(max_iter=2, **params).fit(X, y)


def test_stochastic_only_options_are_refused_by_lbfgs(small_digits):
    X, y = small_digits
    for params in (dict(dropout=0.2), dict(max_grad_norm=1.0)):
        with pytest.raises(ValueError, match="needs a stochastic solver"):
            MLPBackpropClassifier(solver="lbfgs", **params).fit(X, y)


def test_a_network_too_large_for_memory_is_refused_before_allocating():
    # (10**7, 10**7) hidden units on the digits: 10**14 weights. The sizes are
    # checked first, so the refusal comes at once and allocates nothing large.
    X, y = load_digits(return_X_y=True)
    tracemalloc.start()
    try:
        with pytest.raises(MemoryError) as refused:
            MLPBackpropClassifier(hidden_layer_sizes=(10**7, 10**7)).fit(X, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    message = str(refused.value)
    assert "100,000,760,000,010 parameters" in message
    assert "PiB" in message and "hidden_layer_sizes" in message
    assert peak < 50 * 2**20


def test_the_memory_check_counts_what_training_holds():
    units = [10, 100, 10]  # 2,110 parameters
    check_fits_in_memory(units, np.float64, memory=2_110 * 48)
    with pytest.raises(MemoryError, match="2,110 parameters.*float32"):
        check_fits_in_memory(units, np.float32, memory=2_110 * 27)
