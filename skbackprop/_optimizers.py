"""Stochastic optimizers that update the flat parameter vector in place.

SGD and Adam follow scikit-learn's MLP update rules, schedules and stopping
rules (``learning_rate``: constant, invscaling, adaptive), so results stay
comparable; RMSprop, Adagrad and AdamW join them, and every schedule works with
every optimizer (scikit-learn applies schedules to SGD only). The mechanics
differ: state is one vector per moment rather than a list per layer, and a step
allocates nothing. Scaled additions go through
:class:`~skbackprop._blas.Axpy` (one BLAS pass when BLAS is serial), and the
gradient vector, spent once the step is taken, serves as scratch space.

:meth:`_Optimizer.step` is the training loop's entry point: it also adds the
L2 gradient and measures the gradient's norm per layer. With numba installed
it runs one compiled pass (:mod:`skbackprop._kernels`) that does all of that
and the update together; otherwise it takes the numpy passes of
:meth:`_Optimizer.update`, with the same results.
"""

from itertools import pairwise

import numpy as np

from . import _kernels
from ._blas import Axpy, all_finite

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "RMSprop", "make_optimizer"]


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

    def __init__(
        self, n_params, dtype, learning_rate_init, lr_schedule="constant", power_t=0.5
    ):
        self.n_params = n_params
        self.dtype = np.dtype(dtype)
        self.learning_rate_init = float(learning_rate_init)
        self.learning_rate = float(learning_rate_init)
        self.lr_schedule = lr_schedule
        self.power_t = float(power_t)
        self.axpy = Axpy(n_params, dtype, use_blas=True)

    def use_blas(self, enabled):
        """Choose BLAS (serial BLAS only) or numpy for the vector updates."""
        if enabled != self.axpy.use_blas:
            self.axpy = Axpy(self.n_params, self.dtype, use_blas=enabled)

    def update(self, params, grads):
        """Take one step on ``params`` in place; ``grads`` is overwritten."""
        raise NotImplementedError

    def step(self, params, grads, bounds, n_weight_segments, l2, sq_norms):
        """Penalise, measure and update: one training step on ``params``.

        Adds the L2 gradient ``l2 * W`` to the weights' gradient, writes the
        squared norm of every segment of the penalised gradient to
        ``sq_norms[0]`` and of the parameters (before the step) to
        ``sq_norms[1]``, then updates ``params`` in place (``grads`` is
        overwritten).

        Parameters
        ----------
        params, grads : ndarray of shape (n_params,)
            Parameters and the data term of their gradient.
        bounds : ndarray of int64
            Segment boundaries: each layer's weights, then each layer's biases.
        n_weight_segments : int
            How many leading segments are weights (penalised).
        l2 : float
            L2 gradient factor, ``alpha / sum(sample_weight)``.
        sq_norms : ndarray of shape (2, len(bounds) - 1)
            Receives the squared norms of each segment's gradient and
            parameters.
        """
        kernels = _kernels.for_dtype(self.dtype)
        if kernels is not None:
            scalar = self.dtype.type
            self._fused_step(
                kernels, params, grads, bounds, n_weight_segments, scalar(l2), scalar,
                sq_norms,
            )  # fmt: skip
            return
        n_coef = bounds[n_weight_segments]
        if l2:
            self.axpy(params[:n_coef], grads[:n_coef], l2)
        for segment, (start, stop) in enumerate(pairwise(bounds)):
            part = grads[start:stop]
            sq_norms[0, segment] = np.dot(part, part)
            part = params[start:stop]
            sq_norms[1, segment] = np.dot(part, part)
        self.update(params, grads)

    def _fused_step(
        self, kernels, params, grads, bounds, n_weight_segments, l2, scalar, out
    ):
        """:meth:`step` as one compiled pass; scalars go in the vectors' dtype."""
        raise NotImplementedError

    def iteration_ends(self, time_step):
        """Apply the 'invscaling' schedule after an epoch.

        Parameters
        ----------
        time_step : int
            Number of samples seen so far.
        """
        if self.lr_schedule == "invscaling":
            self.learning_rate = (
                self.learning_rate_init / (time_step + 1) ** self.power_t
            )

    def trigger_stopping(self, message, verbose):
        """Decide whether to stop when the loss or score stops improving.

        With the 'adaptive' schedule the learning rate is divided by 5 instead,
        until it falls below 1e-6.

        Returns
        -------
        stop : bool
        """
        if self.lr_schedule != "adaptive":
            if verbose:
                print(message + " Stopping.")
            return True
        if self.learning_rate <= 1e-6:
            if verbose:
                print(message + " Learning rate too small. Stopping.")
            return True
        self.learning_rate /= 5.0
        if verbose:
            print(message + f" Setting learning rate to {self.learning_rate:f}")
        return False

    # Names of the vectors that hold the optimizer's accumulated state.
    _state_vectors = ()

    def reset(self):
        """Forget accumulated state (after a diverged epoch polluted it)."""
        for name in self._state_vectors:
            getattr(self, name)[:] = 0

    def state_is_finite(self):
        """Whether the accumulated state is finite.

        A float32 second moment can overflow to infinity while the weights stay
        finite; every step of those weights would then silently be zero.
        """
        return all(all_finite(getattr(self, name)) for name in self._state_vectors)


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

    _state_vectors = ("velocity",)

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
        super().__init__(n_params, dtype, learning_rate_init, lr_schedule, power_t)
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.velocity = np.zeros(n_params, dtype=dtype)

    def update(self, params, grads):
        self.velocity *= self.momentum
        self.axpy(grads, self.velocity, -self.learning_rate)
        if self.nesterov:
            self.axpy(self.velocity, params, self.momentum)
            self.axpy(grads, params, -self.learning_rate)
        else:
            params += self.velocity

    def _fused_step(
        self, kernels, params, grads, bounds, n_weight_segments, l2, scalar, out
    ):
        kernels.sgd_step(
            params, grads, self.velocity, bounds, n_weight_segments, l2,
            scalar(self.momentum), scalar(self.learning_rate), self.nesterov, out,
        )  # fmt: skip


class Adam(_Optimizer):
    """Adam (Kingma and Ba, 2014).

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``, then
    ``params -= lr_t m / (sqrt(v) + eps)`` with
    ``lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)``.

    Parameters
    ----------
    n_params, dtype, learning_rate_init, lr_schedule, power_t
        See :class:`_Optimizer`; ``lr`` is the scheduled rate.
    beta_1, beta_2 : float
        Decay rates of the first and second moment estimates.
    epsilon : float
        Added to the denominator for numerical stability.
    """

    _state_vectors = ("m", "v")

    def __init__(
        self,
        n_params,
        dtype,
        learning_rate_init,
        lr_schedule,
        power_t,
        beta_1,
        beta_2,
        epsilon,
    ):
        super().__init__(n_params, dtype, learning_rate_init, lr_schedule, power_t)
        self.beta_1 = float(beta_1)
        self.beta_2 = float(beta_2)
        self.epsilon = float(epsilon)
        self.t = 0
        self.m = np.zeros(n_params, dtype=dtype)
        self.v = np.zeros(n_params, dtype=dtype)

    def update(self, params, grads):
        step_size = self._step_size()
        self.m *= self.beta_1
        self.axpy(grads, self.m, 1 - self.beta_1)
        self.v *= self.beta_2
        squared = np.multiply(grads, grads, out=grads)  # g is spent from here on
        self.axpy(squared, self.v, 1 - self.beta_2)
        step = np.sqrt(self.v, out=grads)
        step += self.epsilon
        np.divide(self.m, step, out=step)
        self.axpy(step, params, -step_size)

    def _step_size(self):
        """Advance the clock; the bias-corrected rate of this step."""
        self.t += 1
        return (
            self.learning_rate
            * np.sqrt(1 - self.beta_2**self.t)
            / (1 - self.beta_1**self.t)
        )

    def _decay(self):
        """Factor applied to the weights before the step (AdamW)."""
        return 1.0

    def _fused_step(
        self, kernels, params, grads, bounds, n_weight_segments, l2, scalar, out
    ):
        decay = scalar(self._decay())
        kernels.adam_step(
            params, grads, self.m, self.v, bounds, n_weight_segments, l2, decay,
            scalar(self.beta_1), scalar(1 - self.beta_1),
            scalar(self.beta_2), scalar(1 - self.beta_2),
            scalar(self._step_size()), scalar(self.epsilon), out,
        )  # fmt: skip

    def reset(self):
        super().reset()
        self.t = 0


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019).

    After the Adam step the weights (not the biases) shrink by
    ``lr * weight_decay``, independently of the gradient, instead of an L2
    term entering the moment estimates.

    Parameters
    ----------
    n_params, dtype, learning_rate_init, lr_schedule, power_t, beta_1, beta_2, \
epsilon
        See :class:`Adam`.
    weight_decay : float
        Decay rate of the weights.
    n_decayed : int
        The first ``n_decayed`` parameters (the weights) decay.
    """

    def __init__(
        self,
        n_params,
        dtype,
        learning_rate_init,
        lr_schedule,
        power_t,
        beta_1,
        beta_2,
        epsilon,
        weight_decay,
        n_decayed,
    ):
        super().__init__(
            n_params,
            dtype,
            learning_rate_init,
            lr_schedule,
            power_t,
            beta_1,
            beta_2,
            epsilon,
        )
        self.weight_decay = float(weight_decay)
        self.n_decayed = int(n_decayed)

    def _decay(self):
        return 1 - self.learning_rate * self.weight_decay

    def update(self, params, grads):
        if self.weight_decay:
            params[: self.n_decayed] *= self._decay()
        super().update(params, grads)


class RMSprop(_Optimizer):
    """RMSprop (Tieleman and Hinton, 2012).

    ``v <- rho v + (1 - rho) g^2``, then ``params -= lr g / (sqrt(v) + eps)``.

    Parameters
    ----------
    n_params, dtype, learning_rate_init, lr_schedule, power_t
        See :class:`_Optimizer`.
    rho : float
        Decay rate of the squared-gradient average.
    epsilon : float
        Added to the denominator for numerical stability.
    """

    _state_vectors = ("v",)

    def __init__(
        self, n_params, dtype, learning_rate_init, lr_schedule, power_t, rho, epsilon
    ):
        super().__init__(n_params, dtype, learning_rate_init, lr_schedule, power_t)
        self.rho = float(rho)
        self.epsilon = float(epsilon)
        self.v = np.zeros(n_params, dtype=dtype)
        self._scratch = np.empty(n_params, dtype=dtype)

    def update(self, params, grads):
        scratch = self._scratch
        self.v *= self.rho
        self.axpy(np.multiply(grads, grads, out=scratch), self.v, 1 - self.rho)
        np.sqrt(self.v, out=scratch)
        scratch += self.epsilon
        self.axpy(np.divide(grads, scratch, out=grads), params, -self.learning_rate)

    def _fused_step(
        self, kernels, params, grads, bounds, n_weight_segments, l2, scalar, out
    ):
        kernels.rmsprop_step(
            params, grads, self.v, bounds, n_weight_segments, l2,
            scalar(self.rho), scalar(1 - self.rho),
            scalar(self.learning_rate), scalar(self.epsilon), out,
        )  # fmt: skip


class Adagrad(_Optimizer):
    """Adagrad (Duchi, Hazan and Singer, 2011).

    ``G <- G + g^2``, then ``params -= lr g / (sqrt(G) + eps)``.

    Parameters
    ----------
    n_params, dtype, learning_rate_init, lr_schedule, power_t
        See :class:`_Optimizer`.
    epsilon : float
        Added to the denominator for numerical stability.
    """

    _state_vectors = ("G",)

    def __init__(
        self, n_params, dtype, learning_rate_init, lr_schedule, power_t, epsilon
    ):
        super().__init__(n_params, dtype, learning_rate_init, lr_schedule, power_t)
        self.epsilon = float(epsilon)
        self.G = np.zeros(n_params, dtype=dtype)
        self._scratch = np.empty(n_params, dtype=dtype)

    def update(self, params, grads):
        scratch = self._scratch
        self.G += np.multiply(grads, grads, out=scratch)
        np.sqrt(self.G, out=scratch)
        scratch += self.epsilon
        self.axpy(np.divide(grads, scratch, out=grads), params, -self.learning_rate)

    def _fused_step(
        self, kernels, params, grads, bounds, n_weight_segments, l2, scalar, out
    ):
        kernels.adagrad_step(
            params, grads, self.G, bounds, n_weight_segments, l2,
            scalar(self.learning_rate), scalar(self.epsilon), out,
        )  # fmt: skip


def make_optimizer(estimator, n_params, n_coef, dtype):
    """Build the optimizer the estimator's parameters ask for.

    Parameters
    ----------
    estimator : MLPBackpropClassifier
        Source of the hyperparameters.
    n_params : int
        Length of the parameter vector.
    n_coef : int
        Number of weights (the leading part of the vector; the rest are
        biases).
    dtype : numpy dtype
        Parameter dtype.

    Returns
    -------
    optimizer : SGD, Adam, AdamW, RMSprop or Adagrad
    """
    est = estimator
    schedule = (n_params, dtype, est.learning_rate_init, est.learning_rate, est.power_t)
    if est.solver == "sgd":
        return SGD(*schedule[:4], est.momentum, est.nesterovs_momentum, est.power_t)
    if est.solver == "adam":
        return Adam(*schedule, est.beta_1, est.beta_2, est.epsilon)
    if est.solver == "adamw":
        return AdamW(
            *schedule, est.beta_1, est.beta_2, est.epsilon, est.weight_decay, n_coef
        )
    if est.solver == "rmsprop":
        return RMSprop(*schedule, est.beta_2, est.epsilon)
    return Adagrad(*schedule, est.epsilon)
