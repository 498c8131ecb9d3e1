"""Custom activations and schedules at module level, so that pickle, loky's
workers and skops find them again by module and name."""

import numpy as np
from scipy.special import expit

from skbackprop import Activation


# mish: f(z) = z tanh(softplus(z)),
# f'(z) = tanh(softplus(z)) + z sigma(z) (1 - tanh(softplus(z))^2)
def mish(Z):
    return Z * np.tanh(np.logaddexp(0, Z))


def mish_derivative(Z, A):
    t = np.tanh(np.logaddexp(0, Z))
    return t + Z * expit(Z) * (1 - t * t)


def doubled_mish_derivative(Z, A):
    return 2 * mish_derivative(Z, A)


def negated_mish_derivative(Z, A):
    return -mish_derivative(Z, A)


# The step function of the notes: its derivative is zero wherever it exists.
def step(Z):
    return (Z > 0).astype(float)


def step_derivative(Z, A):
    return np.zeros_like(Z)


# ReLU as a user would write it, to compare with the built-in.
def relu(Z):
    return np.maximum(Z, 0)


def relu_derivative(Z, A):
    return (Z > 0).astype(Z.dtype)


def logistic_derivative_from_output(Z, A):
    return A * (1 - A)


MISH = Activation("mish", mish, mish_derivative)
WRONG_MISH = Activation("mish_doubled", mish, doubled_mish_derivative)
NEGATED_MISH = Activation("mish_negated", mish, negated_mish_derivative)
STEP = Activation("step_function", step, step_derivative)
CUSTOM_RELU = Activation("my_relu", relu, relu_derivative)
CUSTOM_LOGISTIC = Activation("my_logistic", expit, logistic_derivative_from_output)


def warmup(epoch, learning_rate_init):
    """A linear warm-up over five epochs, then the initial rate."""
    return learning_rate_init * min(1.0, (epoch + 1) / 5)


def step_decay(epoch, learning_rate_init):
    """The rate halves every third epoch."""
    return learning_rate_init * 0.5 ** (epoch // 3)


class Warmup:
    """:func:`warmup` as a callable object, whose repr keeps test ids stable."""

    def __call__(self, epoch, learning_rate_init):
        return warmup(epoch, learning_rate_init)

    def __repr__(self):
        return "Warmup()"
