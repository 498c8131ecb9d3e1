"""The network the parameters describe (``skbackprop._architecture``).

Before anything is trained the parameters that shape the network are checked
against each other: one dropout rate per hidden layer (or one for all), every
rate in ``[0, 1)``, and no option that needs a stochastic solver (dropout,
gradient clipping) given to lbfgs. Each refusal says what is wrong.
"""

import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skbackprop import MLPBackpropClassifier
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
