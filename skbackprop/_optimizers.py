"""Stochastic optimizers that update the flat parameter vector in place.

The update rules, schedules and stopping rules are those of scikit-learn's
MLP (``learning_rate``: constant, invscaling, adaptive), so results stay
comparable. The mechanics differ: state is one vector per moment rather than a
list per layer, and a step allocates nothing. Scaled additions go through BLAS
``axpy`` (one pass instead of a multiply and an add), and the gradient vector,
spent once the step is taken, serves as the scratch space.
"""

import numpy as np

from ._blas import axpy

__all__ = ["SGD", "Adam", "make_optimizer"]


class _Optimizer:
    """Common learning-rate schedule and stopping logic.

    Parameters
    ----------
    n_params : int
        Length of the parameter vector.
    dtype : numpy dtype
        Dtype of the parameters.
    learning_rate_init : float
        Initial step size.
    """

    def __init__(self, n_params, dtype, learning_rate_init):
        self.n_params = n_params
        self.dtype = np.dtype(dtype)
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)

    def update(self, params, grads):
        """Take one step on ``params`` in place; ``grads`` is overwritten."""
        raise NotImplementedError

    def iteration_ends(self, time_step):
        """Hook called after every epoch with the number of samples seen."""

    def trigger_stopping(self, message, verbose):
        """Decide whether to stop when the loss or score stops improving.

        Returns
        -------
        stop : bool
        """
        if verbose:
            print(message + " Stopping.")
        return True

    def reset(self):
        """Forget accumulated state (after a diverged epoch polluted it)."""


class SGD(_Optimizer):
    """Stochastic gradient descent with momentum or Nesterov momentum.

    ``v <- momentum * v - lr * g``, then ``params += v`` (classical momentum)
    or ``params += momentum * v - lr * g`` (Nesterov).

    Parameters
    ----------
    n_params, dtype, learning_rate_init
        See :class:`_Optimizer`.
    lr_schedule : {'constant', 'invscaling', 'adaptive'}
        Learning-rate schedule.
    momentum : float
        Momentum in [0, 1].
    nesterov : bool
        Whether to use Nesterov's momentum.
    power_t : float
        Exponent of the 'invscaling' schedule ``lr = lr_init / (t + 1)^power_t``.
    """

    def __init__(
        self,
        n_params,
        dtype,
        learning_rate_init,
        lr_schedule,
        momentum,
        nesterov,
        power_t,
    ):
        super().__init__(n_params, dtype, learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.power_t = float(power_t)
        self.velocity = np.zeros(n_params, dtype=dtype)

    def update(self, params, grads):
        self.velocity *= self.momentum
        axpy(grads, self.velocity, -self.learning_rate)
        if self.nesterov:
            axpy(self.velocity, params, self.momentum)
            axpy(grads, params, -self.learning_rate)
        else:
            params += self.velocity

    def iteration_ends(self, time_step):
        if self.lr_schedule == "invscaling":
            self.learning_rate = (
                self.learning_rate_init / (time_step + 1) ** self.power_t
            )

    def trigger_stopping(self, message, verbose):
        if self.lr_schedule != "adaptive":
            return super().trigger_stopping(message, verbose)
        if self.learning_rate <= 1e-6:
            if verbose:
                print(message + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(message + f" Setting learning rate to {self.learning_rate:f}")
        return False

    def reset(self):
        self.velocity[:] = 0


class Adam(_Optimizer):
    """Adam (Kingma and Ba, 2014).

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``, then
    ``params -= lr_t m / (sqrt(v) + eps)`` with
    ``lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)``.

    Parameters
    ----------
    n_params, dtype, learning_rate_init
        See :class:`_Optimizer`.
    beta_1, beta_2 : float
        Decay rates of the first and second moment estimates.
    epsilon : float
        Added to the denominator for numerical stability.
    """

    def __init__(self, n_params, dtype, learning_rate_init, beta_1, beta_2, epsilon):
        super().__init__(n_params, dtype, learning_rate_init)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.t = 0
        self.m = np.zeros(n_params, dtype=dtype)
        self.v = np.zeros(n_params, dtype=dtype)

    def update(self, params, grads):
        self.t += 1
        self.m *= self.beta_1
        axpy(grads, self.m, 1 - self.beta_1)
        self.v *= self.beta_2
        squared = np.multiply(grads, grads, out=grads)  # g is spent from here on
        axpy(squared, self.v, 1 - self.beta_2)
        self.learning_rate = (
            self.learning_rate_init
            * np.sqrt(1 - self.beta_2**self.t)
            / (1 - self.beta_1**self.t)
        )
        step = np.sqrt(self.v, out=grads)
        step += self.epsilon
        np.divide(self.m, step, out=step)
        axpy(step, params, -self.learning_rate)

    def reset(self):
        self.m[:] = 0
        self.v[:] = 0
        self.t = 0


def make_optimizer(estimator, n_params, dtype):
    """Build the optimizer the estimator's parameters ask for.

    Parameters
    ----------
    estimator : MLPBackpropClassifier
        Source of the hyperparameters.
    n_params : int
        Length of the parameter vector.
    dtype : numpy dtype
        Parameter dtype.

    Returns
    -------
    optimizer : SGD or Adam
    """
    if estimator.solver == "sgd":
        return SGD(
            n_params,
            dtype,
            estimator.learning_rate_init,
            estimator.learning_rate,
            estimator.momentum,
            estimator.nesterovs_momentum,
            estimator.power_t,
        )
    return Adam(
        n_params,
        dtype,
        estimator.learning_rate_init,
        estimator.beta_1,
        estimator.beta_2,
        estimator.epsilon,
    )
