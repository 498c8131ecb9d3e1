"""skbackprop: multilayer perceptrons trained by backpropagation.

:class:`MLPBackpropClassifier` is a drop-in replacement for
:class:`sklearn.neural_network.MLPClassifier`, written on numpy and scipy.
"""

from ._classifier import MLPBackpropClassifier
from ._gradient_check import check_gradients
from ._persistence import load_model, save_model

__all__ = [
    "MLPBackpropClassifier",
    "check_gradients",
    "__version__",
    "load_model",
    "save_model",
]

__version__ = "0.1.0"
