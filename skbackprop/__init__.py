"""skbackprop: multilayer perceptrons trained by backpropagation.

:class:`MLPBackpropClassifier` and :class:`MLPBackpropRegressor` are drop-in
replacements for scikit-learn's :class:`~sklearn.neural_network.MLPClassifier`
and :class:`~sklearn.neural_network.MLPRegressor`, written on numpy and scipy.
"""

from ._activations import Activation
from ._classifier import MLPBackpropClassifier
from ._gradient_check import check_gradients
from ._persistence import load_model, save_model
from ._regressor import MLPBackpropRegressor

__all__ = [
    "Activation",
    "MLPBackpropClassifier",
    "MLPBackpropRegressor",
    "check_gradients",
    "__version__",
    "load_model",
    "save_model",
]

__version__ = "0.1.0"
