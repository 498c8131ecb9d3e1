"""The network the parameters describe (``skbackprop._architecture``).

Options that need a stochastic solver (dropout, gradient clipping) are
refused for lbfgs, with a message that says so.
"""

import pytest

from skbackprop import MLPBackpropClassifier

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_stochastic_only_options_are_refused_by_lbfgs(small_digits):
    X, y = small_digits
    for params in (dict(dropout=0.2), dict(max_grad_norm=1.0)):
        with pytest.raises(ValueError, match="needs a stochastic solver"):
            MLPBackpropClassifier(solver="lbfgs", **params).fit(X, y)
