"""Stochastic optimizers that update the flat parameter vector in place.

SGD and Adam follow scikit-learn's MLP update rules, schedules and stopping
rules (``learning_rate``: constant, invscaling, adaptive), so results stay
comparable; RMSprop, Adagrad and AdamW join them, and every schedule works with
every optimizer (scikit-learn applies schedules to SGD only). The schedules
that give each epoch its rate from its number ('cosine', a callable) are in
:mod:`._schedules`, and the trainer sets the optimizer's ``learning_rate``
from them. The mechanics differ: state is one vector per moment rather than
a list per layer, and a step allocates nothing. Scaled additions go through
:class:`~skbackprop._blas.Axpy` (one BLAS pass when BLAS is serial), and the
gradient vector, spent once the step is taken, serves as scratch space.

Every optimizer is a template on :class:`_Optimizer`: the base class holds the
schedule, stopping, reset and persistence of the state, and a subclass
supplies its update three ways: with numpy's buffers (:meth:`~_Optimizer.update`),
as one compiled pass (``_fused_step``), which :meth:`~_Optimizer.step` takes
when numba is installed, and with the array API's operators alone
(``_portable_update``), for parameters of another array library (a GPU's,
say). The three perform the same operations in the same order.
"""

from itertools import pairwise
from typing import NamedTuple

import numpy as np

from . import _kernels
from ._array_api import NUMPY
from ._blas import Axpy, all_finite
from ._schedules import schedule_key
from ._schema import (
    check_array,
    check_bool,
    check_keys,
    check_number,
    check_str,
)

__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "OptimizerSettings",
    "RMSprop",
    "make_optimizer",
    "optimizer_from_state",
]


class OptimizerSettings(NamedTuple):
    """The hyperparameters an optimizer is built from.

    A warm refit or ``partial_fit`` keeps the optimizer (its moments, step
    count and learning rate) only while these are unchanged.
    """

    solver: str
    learning_rate: str
    learning_rate_init: float
    power_t: float
    momentum: float
    nesterovs_momentum: bool
    beta_1: float
    beta_2: float
    epsilon: float
    weight_decay: float

    @classmethod
    def of(cls, estimator):
        """The settings an estimator's parameters give, as plain Python values.

        A callable ``learning_rate`` is recorded by its reference (see
        :func:`~._schedules.schedule_key`).
        """
        types = cls.__annotations__
        values = {
            name: types[name](getattr(estimator, name))
            for name in cls._fields
            if name != "learning_rate"
        }
        return cls(learning_rate=schedule_key(estimator.learning_rate), **values)

    @classmethod
    def from_dict(cls, saved, where="optimizer.settings"):
        """Settings from their ``_asdict()``, every entry checked."""
        check_keys(saved, cls._fields, where=where)
        values = {}
        for name, kind in cls.__annotations__.items():
            entry = f"{where}.{name}"
            if kind is str:
                values[name] = check_str(saved[name], entry)
            elif kind is bool:
                values[name] = check_bool(saved[name], entry)
            else:
                values[name] = check_number(saved[name], entry, finite=True)
        check_str(values["solver"], f"{where}.solver", set(_OPTIMIZERS))
        return cls(**values)


class _Optimizer:
    """Learning-rate schedule, stopping logic and state of every optimizer.

    Parameters
    ----------
    settings : OptimizerSettings
        Hyperparameters.
    n_params : int
        Length of the parameter vector.
    n_coef : int
        Number of weights, the leading part of the vector (the rest are
        biases).
    dtype : numpy dtype
        Dtype of the parameters.
    space : ArraySpace, default=NUMPY
        Where the parameters, and so the state vectors, live.
    """

    # Parameter-sized vectors of accumulated state, and the scalars beside
    # them: together with the settings, everything that state_dict saves.
    _state_vectors = ()
    _state_scalars = ("learning_rate",)

    def __init__(self, settings, n_params, n_coef, dtype, space=NUMPY):
        self.settings = settings
        self.n_params = int(n_params)
        self.n_coef = int(n_coef)
        self.dtype = np.dtype(dtype)
        self.space = space
        self.learning_rate = float(settings.learning_rate_init)
        self.axpy = Axpy(n_params, dtype, use_blas=True)
        for name in self._state_vectors:
            setattr(self, name, self._zeros())

    def _zeros(self):
        """A zero state vector, where the parameters live."""
        if self.space.is_numpy:
            return np.zeros(self.n_params, dtype=self.dtype)
        xp = self.space.xp
        return xp.zeros(
            self.n_params, dtype=self.space.dtype(self.dtype), device=self.space.device
        )

    def moved_to(self, space):
        """This optimizer with its state vectors moved to ``space``."""
        if space == self.space:
            return self
        state = self.state_dict()
        moved = make_optimizer(
            self.settings, self.n_params, self.n_coef, self.dtype, space
        )
        moved.load_state_dict(
            {**state, **{n: self.space.to_numpy(state[n]) for n in self._state_vectors}}
        )
        return moved

    def use_blas(self, enabled):
        """Choose BLAS (serial BLAS only) or numpy for the vector updates."""
        if enabled != self.axpy.use_blas:
            self.axpy = Axpy(self.n_params, self.dtype, use_blas=enabled)

    def update(self, params, grads):
        """Take one step on ``params`` in place; ``grads`` is overwritten."""
        raise NotImplementedError

    def step(self, params, grads, bounds, n_weight_segments, penalty_factor, sq_norms):
        """Penalise, measure and update: one training step on ``params``.

        Adds the penalty's gradient term ``penalty_factor * W`` to the weights'
        gradient, writes the squared norm of every segment of that gradient
        to ``sq_norms[0]`` and of the parameters (before the step) to
        ``sq_norms[1]``, then updates ``params`` in place (``grads`` is
        overwritten). With numba, all of it is one compiled pass.

        Parameters
        ----------
        params, grads : ndarray of shape (n_params,)
            Parameters and the gradient of the rest of the objective.
        bounds : ndarray of int64
            Segment boundaries: each layer's weights, then each layer's biases.
        n_weight_segments : int
            How many leading segments are weights (penalised).
        penalty_factor : float
            Factor of the penalty's gradient term, from
            :meth:`~skbackprop._penalty.WeightPenalty.l2_gradient_factor`.
        sq_norms : ndarray of shape (2, len(bounds) - 1)
            Receives the squared norms of each segment's gradient and
            parameters.
        """
        if not self.space.is_numpy:
            self._portable_step(
                params, grads, bounds, n_weight_segments, penalty_factor, sq_norms
            )
            return
        kernels = _kernels.for_dtype(self.dtype)
        if kernels is not None:
            scalar = self.dtype.type
            self._fused_step(
                kernels, params, grads, bounds, n_weight_segments,
                scalar(penalty_factor), scalar, sq_norms,
            )  # fmt: skip
            return
        n_coef = bounds[n_weight_segments]
        if penalty_factor:
            self.axpy(params[:n_coef], grads[:n_coef], penalty_factor)
        for segment, (start, stop) in enumerate(pairwise(bounds)):
            part = grads[start:stop]
            sq_norms[0, segment] = np.dot(part, part)
            part = params[start:stop]
            sq_norms[1, segment] = np.dot(part, part)
        self.update(params, grads)

    def _fused_step(
        self, kernels, params, grads, bounds, n_weight_segments, penalty_factor,
        scalar, sq_norms,
    ):  # fmt: skip
        """:meth:`step` as one compiled pass; scalars go in the vectors' dtype."""
        raise NotImplementedError

    def _portable_step(
        self, params, grads, bounds, n_weight_segments, penalty_factor, sq_norms
    ):
        """:meth:`step` with the array API's operators; ``sq_norms`` is here too.

        The norms stay on the device (one stacked array, no synchronisation).
        """
        xp = self.space.xp
        n_coef = int(bounds[n_weight_segments])
        if penalty_factor:
            grads[:n_coef] += float(penalty_factor) * params[:n_coef]
        segments = [(int(a), int(b)) for a, b in pairwise(bounds)]
        norms = [xp.sum(v[a:b] * v[a:b]) for v in (grads, params) for a, b in segments]
        sq_norms[...] = xp.reshape(xp.stack(norms), sq_norms.shape)
        self._portable_update(params, grads)

    def _portable_update(self, params, grads):
        """:meth:`update` with the array API's operators (in place)."""
        raise NotImplementedError

    def iteration_ends(self, time_step):
        """Apply the 'invscaling' schedule after an epoch.

        Parameters
        ----------
        time_step : float
            Number of (weighted) samples seen so far.
        """
        settings = self.settings
        if settings.learning_rate == "invscaling":
            self.learning_rate = (
                settings.learning_rate_init / (time_step + 1) ** settings.power_t
            )

    def trigger_stopping(self, message, verbose):
        """Decide whether to stop when the loss or score stops improving.

        With the 'adaptive' schedule the learning rate is divided by 5 instead,
        until it falls below 1e-6.

        Returns
        -------
        stop : bool
        """
        if self.settings.learning_rate != "adaptive":
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

    def reset(self):
        """Forget accumulated state (after a diverged epoch polluted it)."""
        for name in self._state_vectors:
            getattr(self, name)[...] = 0

    def state_is_finite(self):
        """Whether the accumulated state is finite.

        A float32 second moment can overflow to infinity while the weights stay
        finite; every step of those weights would then silently be zero.
        """
        if not self.space.is_numpy:
            return all(
                self.space.all_finite(getattr(self, name))
                for name in self._state_vectors
            )
        return all(all_finite(getattr(self, name)) for name in self._state_vectors)

    def state_dict(self):
        """The optimizer's settings and state (its vectors, not copies).

        Returns
        -------
        state : dict
            ``'settings'`` (a dict of :class:`OptimizerSettings`), then every
            state scalar and state vector by name.
        """
        state = {"settings": self.settings._asdict()}
        for name in (*self._state_scalars, *self._state_vectors):
            state[name] = getattr(self, name)
        return state

    def load_state_dict(self, state):
        """Restore what :meth:`state_dict` returned, checking every entry.

        Raises
        ------
        ValueError
            If an entry is missing, unknown, or of the wrong type or shape.
        """
        check_keys(
            state,
            ["settings", *self._state_scalars, *self._state_vectors],
            where="optimizer",
        )
        for name in self._state_scalars:
            kind = type(getattr(self, name))
            value = check_number(state[name], f"optimizer.{name}", kind=kind)
            setattr(self, name, kind(value))
        for name in self._state_vectors:
            vector = check_array(
                state[name], f"optimizer.{name}", (self.n_params,), self.dtype
            )
            getattr(self, name)[...] = self.space.asarray(vector)


class SGD(_Optimizer):
    """Stochastic gradient descent with momentum or Nesterov momentum.

    ``v <- momentum * v - lr * g``, then ``params += v`` (classical momentum)
    or ``params += momentum * v - lr * g`` (Nesterov).
    """

    _state_vectors = ("velocity",)

    def update(self, params, grads):
        momentum = self.settings.momentum
        self.velocity *= momentum
        self.axpy(grads, self.velocity, -self.learning_rate)
        if self.settings.nesterovs_momentum:
            self.axpy(self.velocity, params, momentum)
            self.axpy(grads, params, -self.learning_rate)
        else:
            params += self.velocity

    def _portable_update(self, params, grads):
        momentum, rate = self.settings.momentum, self.learning_rate
        self.velocity *= momentum
        self.velocity += -rate * grads
        if self.settings.nesterovs_momentum:
            params += momentum * self.velocity
            params += -rate * grads
        else:
            params += self.velocity

    def _fused_step(
        self, kernels, params, grads, bounds, n_weight_segments, penalty_factor,
        scalar, sq_norms,
    ):  # fmt: skip
        kernels.sgd_step(
            params, grads, self.velocity, bounds, n_weight_segments, penalty_factor,
            scalar(self.settings.momentum), scalar(self.learning_rate),
            bool(self.settings.nesterovs_momentum), sq_norms,
        )  # fmt: skip


class Adam(_Optimizer):
    """Adam (Kingma and Ba, 2014).

    ``m <- b1 m + (1 - b1) g``, ``v <- b2 v + (1 - b2) g^2``, then
    ``params -= lr_t m / (sqrt(v) + eps)`` with
    ``lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)``.
    """

    _state_vectors = ("m", "v")
    _state_scalars = ("learning_rate", "t")

    def __init__(self, settings, n_params, n_coef, dtype, space=NUMPY):
        super().__init__(settings, n_params, n_coef, dtype, space)
        self.t = 0

    def update(self, params, grads):
        beta_1, beta_2 = self.settings.beta_1, self.settings.beta_2
        step_size = self._step_size()
        self.m *= beta_1
        self.axpy(grads, self.m, 1 - beta_1)
        self.v *= beta_2
        squared = np.multiply(grads, grads, out=grads)  # g is spent from here on
        self.axpy(squared, self.v, 1 - beta_2)
        step = np.sqrt(self.v, out=grads)
        step += self.settings.epsilon
        np.divide(self.m, step, out=step)
        self.axpy(step, params, -step_size)

    def _portable_update(self, params, grads):
        beta_1, beta_2 = self.settings.beta_1, self.settings.beta_2
        step_size = float(self._step_size())
        self.m *= beta_1
        self.m += (1 - beta_1) * grads
        self.v *= beta_2
        self.v += (1 - beta_2) * (grads * grads)
        params += -step_size * (
            self.m / (self.space.xp.sqrt(self.v) + self.settings.epsilon)
        )

    def _step_size(self):
        """Advance the clock; the bias-corrected rate of this step."""
        self.t += 1
        beta_1, beta_2 = self.settings.beta_1, self.settings.beta_2
        return self.learning_rate * np.sqrt(1 - beta_2**self.t) / (1 - beta_1**self.t)

    def _decay(self):
        """Factor applied to the weights before the step (AdamW)."""
        return 1.0

    def _fused_step(
        self, kernels, params, grads, bounds, n_weight_segments, penalty_factor,
        scalar, sq_norms,
    ):  # fmt: skip
        settings = self.settings
        decay = scalar(self._decay())
        kernels.adam_step(
            params, grads, self.m, self.v, bounds, n_weight_segments,
            penalty_factor, decay,
            scalar(settings.beta_1), scalar(1 - settings.beta_1),
            scalar(settings.beta_2), scalar(1 - settings.beta_2),
            scalar(self._step_size()), scalar(settings.epsilon), sq_norms,
        )  # fmt: skip

    def reset(self):
        super().reset()
        self.t = 0


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov and Hutter, 2019).

    After the Adam step the weights (not the biases) shrink by
    ``lr * weight_decay``, independently of the gradient, instead of an L2
    term entering the moment estimates.
    """

    def _decay(self):
        return 1 - self.learning_rate * self.settings.weight_decay

    def update(self, params, grads):
        if self.settings.weight_decay:
            params[: self.n_coef] *= self._decay()
        super().update(params, grads)

    def _portable_update(self, params, grads):
        if self.settings.weight_decay:
            params[: self.n_coef] *= self._decay()
        super()._portable_update(params, grads)


class RMSprop(_Optimizer):
    """RMSprop (Tieleman and Hinton, 2012), with decay rate ``beta_2``.

    ``v <- rho v + (1 - rho) g^2``, then ``params -= lr g / (sqrt(v) + eps)``.
    """

    _state_vectors = ("v",)

    def __init__(self, settings, n_params, n_coef, dtype, space=NUMPY):
        super().__init__(settings, n_params, n_coef, dtype, space)
        self._scratch = np.empty(n_params, dtype=dtype) if space.is_numpy else None

    def update(self, params, grads):
        scratch, rho = self._scratch, self.settings.beta_2
        self.v *= rho
        self.axpy(np.multiply(grads, grads, out=scratch), self.v, 1 - rho)
        np.sqrt(self.v, out=scratch)
        scratch += self.settings.epsilon
        self.axpy(np.divide(grads, scratch, out=grads), params, -self.learning_rate)

    def _portable_update(self, params, grads):
        rho, xp = self.settings.beta_2, self.space.xp
        self.v *= rho
        self.v += (1 - rho) * (grads * grads)
        step = grads / (xp.sqrt(self.v) + self.settings.epsilon)
        params += -self.learning_rate * step

    def _fused_step(
        self, kernels, params, grads, bounds, n_weight_segments, penalty_factor,
        scalar, sq_norms,
    ):  # fmt: skip
        rho = self.settings.beta_2
        kernels.rmsprop_step(
            params, grads, self.v, bounds, n_weight_segments, penalty_factor,
            scalar(rho), scalar(1 - rho),
            scalar(self.learning_rate), scalar(self.settings.epsilon), sq_norms,
        )  # fmt: skip


class Adagrad(_Optimizer):
    """Adagrad (Duchi, Hazan and Singer, 2011).

    ``G <- G + g^2``, then ``params -= lr g / (sqrt(G) + eps)``.
    """

    _state_vectors = ("G",)

    def __init__(self, settings, n_params, n_coef, dtype, space=NUMPY):
        super().__init__(settings, n_params, n_coef, dtype, space)
        self._scratch = np.empty(n_params, dtype=dtype) if space.is_numpy else None

    def update(self, params, grads):
        scratch = self._scratch
        self.G += np.multiply(grads, grads, out=scratch)
        np.sqrt(self.G, out=scratch)
        scratch += self.settings.epsilon
        self.axpy(np.divide(grads, scratch, out=grads), params, -self.learning_rate)

    def _portable_update(self, params, grads):
        self.G += grads * grads
        step = grads / (self.space.xp.sqrt(self.G) + self.settings.epsilon)
        params += -self.learning_rate * step

    def _fused_step(
        self, kernels, params, grads, bounds, n_weight_segments, penalty_factor,
        scalar, sq_norms,
    ):  # fmt: skip
        kernels.adagrad_step(
            params, grads, self.G, bounds, n_weight_segments, penalty_factor,
            scalar(self.learning_rate), scalar(self.settings.epsilon), sq_norms,
        )  # fmt: skip


_OPTIMIZERS = {
    "sgd": SGD,
    "adam": Adam,
    "adamw": AdamW,
    "rmsprop": RMSprop,
    "adagrad": Adagrad,
}


def make_optimizer(settings, n_params, n_coef, dtype, space=NUMPY):
    """A fresh optimizer of the solver the settings name.

    Parameters
    ----------
    settings : OptimizerSettings
        Hyperparameters, the solver among them.
    n_params : int
        Length of the parameter vector.
    n_coef : int
        Number of weights (the leading part of the vector).
    dtype : numpy dtype
        Parameter dtype.
    space : ArraySpace, default=NUMPY
        Where the parameters live.

    Returns
    -------
    optimizer : SGD, Adam, AdamW, RMSprop or Adagrad
    """
    return _OPTIMIZERS[settings.solver](settings, n_params, n_coef, dtype, space)


def optimizer_from_state(state, n_params, n_coef, dtype):
    """The optimizer that :meth:`_Optimizer.state_dict` describes.

    Parameters
    ----------
    state : dict
        A state dict.
    n_params, n_coef, dtype
        Those of the parameters it will update; see :func:`make_optimizer`.

    Returns
    -------
    optimizer : SGD, Adam, AdamW, RMSprop or Adagrad

    Raises
    ------
    ValueError
        If the state is not one an optimizer of these parameters can have.
    """
    if not isinstance(state, dict) or "settings" not in state:
        raise ValueError("optimizer must be a mapping with its settings.")
    settings = OptimizerSettings.from_dict(state["settings"])
    optimizer = make_optimizer(settings, n_params, n_coef, dtype)
    optimizer.load_state_dict(state)
    return optimizer
