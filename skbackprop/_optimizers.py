"""Stochastic optimizers that update the flat parameter vector in place.

The update rules, schedules and stopping rules are those of scikit-learn's
MLP (``learning_rate``: constant, invscaling, adaptive), so results stay
comparable. The differences are in the mechanics: state is one vector per
moment rather than a list per layer, every step writes into preallocated
buffers, and the whole state can be snapshotted and restored, which the
training loop uses to undo a diverged or interrupted epoch.
"""

import numpy as np

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

    # Names of the array attributes that make up the optimizer's state.
    _state_arrays = ()

    def __init__(self, n_params, dtype, learning_rate_init):
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)
        self._scratch = np.empty(n_params, dtype=dtype)

    def update(self, params, grads):
        """Take one step: modify ``params`` in place from ``grads``."""
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

    def snapshot(self):
        """A copy of the optimizer state, for :meth:`restore`."""
        state = {name: getattr(self, name).copy() for name in self._state_arrays}
        state.update(self._scalar_state())
        return state

    def restore(self, state):
        """Return to a state taken by :meth:`snapshot`."""
        for name, value in state.items():
            if name in self._state_arrays:
                np.copyto(getattr(self, name), value)
            else:
                setattr(self, name, value)

    def _scalar_state(self):
        return {"learning_rate": self.learning_rate}


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

    _state_arrays = ("velocity",)

    def __init__(
        self, n_params, dtype, learning_rate_init, lr_schedule, momentum, nesterov,
        power_t,
    ):
        super().__init__(n_params, dtype, learning_rate_init)
        self.lr_schedule = lr_schedule
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.power_t = float(power_t)
        self.velocity = np.zeros(n_params, dtype=dtype)

    def update(self, params, grads):
        step = np.multiply(grads, self.learning_rate, out=self._scratch)  # lr * g
        self.velocity *= self.momentum
        self.velocity -= step
        if self.nesterov:
            # params += momentum * v - lr * g, as two in-place steps
            params -= step
            params += np.multiply(self.velocity, self.momentum, out=self._scratch)
        else:
            params += self.velocity

    def iteration_ends(self, time_step):
        if self.lr_schedule == "invscaling":
            self.learning_rate = self.learning_rate_init / (time_step + 1) ** self.power_t

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

    _state_arrays = ("m", "v")

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
        scratch = self._scratch
        self.m *= self.beta_1
        self.m += np.multiply(grads, 1 - self.beta_1, out=scratch)
        self.v *= self.beta_2
        np.multiply(grads, grads, out=scratch)
        scratch *= 1 - self.beta_2
        self.v += scratch
        self.learning_rate = (
            self.learning_rate_init
            * np.sqrt(1 - self.beta_2**self.t)
            / (1 - self.beta_1**self.t)
        )
        np.sqrt(self.v, out=scratch)
        scratch += self.epsilon
        np.divide(self.m, scratch, out=scratch)
        scratch *= self.learning_rate
        params -= scratch

    def _scalar_state(self):
        return {"learning_rate": self.learning_rate, "t": self.t}


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
            n_params, dtype, estimator.learning_rate_init, estimator.learning_rate,
            estimator.momentum, estimator.nesterovs_momentum, estimator.power_t,
        )
    return Adam(
        n_params, dtype, estimator.learning_rate_init, estimator.beta_1,
        estimator.beta_2, estimator.epsilon,
    )
