"""skbackprop: a multilayer-perceptron classifier trained by backpropagation.

:class:`MLPBackpropClassifier` is a drop-in replacement for
:class:`sklearn.neural_network.MLPClassifier`, written on numpy and scipy.
"""

from ._classifier import MLPBackpropClassifier
from ._gradient_check import check_gradients

__all__ = ["MLPBackpropClassifier", "__version__", "check_gradients"]

__version__ = "0.1.0"
