"""Hidden-layer activation functions and their derivatives.

Each activation is a pair written side by side, as in Dihui Lai's *Lecture
Note 07: Neural Network* and Anderson Chau's notes on backpropagation: the
forward map ``A = f(Z)`` and the factor ``f'(Z)`` of the hidden-error
equation ``dZ_l = (dZ_{l+1} W_{l+1}^T) * f'(Z_l)``.

Both work on buffers the caller owns, so the training loop allocates nothing
per batch:

- ``forward(Z, out)`` writes ``f(Z)`` into ``out`` and returns it. When the
  activation is ``in_place``, ``out`` may be ``Z`` itself: its derivative can
  be read off the output ``A`` alone, so the network keeps one buffer per
  layer. Otherwise the network keeps ``Z`` and ``A`` apart.
- ``multiply_derivative(delta, A, Z, scratch)`` does ``delta *= f'(Z)``.
  ``Z`` is ``None`` for in-place activations; for the others it is the kept
  pre-activation, which the derivative may overwrite (the backward pass is its
  last reader). ``scratch`` is a buffer shaped like ``delta``.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, ndtr

from . import _kernels

__all__ = ["ACTIVATIONS", "Activation", "resolve_activations"]

# Slope on the negative side, the usual choice for leaky ReLU.
LEAKY_RELU_SLOPE = 0.01
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


@dataclass(frozen=True)
class Activation:
    """An element-wise activation and its derivative.

    Attributes
    ----------
    name : str
        Canonical name.
    forward : callable
        ``forward(Z, out)`` writes ``f(Z)`` into ``out`` and returns it.
    multiply_derivative : callable
        ``multiply_derivative(delta, A, Z, scratch)`` multiplies ``delta`` in
        place by ``f'(Z)``.
    in_place : bool
        Whether ``forward`` may overwrite ``Z`` (the derivative then needs only
        ``A``).
    biased_forward : callable or None
        ``biased_forward(Z, bias)`` overwrites ``Z`` with ``f(Z + bias)`` in one
        pass, or returns None where it cannot (then
        :meth:`forward_with_bias` adds the bias first).
    scratch_free : callable
        ``scratch_free(dtype)`` is True when ``multiply_derivative`` does not
        touch ``scratch`` for that dtype, which may then be None (the network
        then never allocates it).
    """

    name: str
    forward: Callable
    multiply_derivative: Callable
    in_place: bool = True
    biased_forward: Callable | None = None
    scratch_free: Callable = lambda dtype: False

    def forward_with_bias(self, Z, bias, out):
        """``A = f(Z + b)`` into ``out``; ``Z`` is overwritten.

        Parameters
        ----------
        Z : ndarray of shape (n, units)
            Products ``A_{l-1} W_l``; holds ``Z + b`` afterwards unless ``out``
            is ``Z``.
        bias : ndarray of shape (units,)
            The layer's bias ``b_l``.
        out : ndarray
            Receives the activation; may be ``Z`` for in-place activations.

        Returns
        -------
        out : ndarray
        """
        if out is Z and self.biased_forward is not None:
            done = self.biased_forward(Z, bias)
            if done is not None:
                return done
        Z += bias
        return self.forward(Z, out)


# identity: f(z) = z,  f'(z) = 1
def _identity(Z, out):
    if out is not Z:
        np.copyto(out, Z)
    return out


def _identity_derivative(delta, A, Z, scratch):
    return delta


# logistic: f(z) = 1 / (1 + e^-z),  f'(z) = f(z) (1 - f(z))
def _logistic(Z, out):
    return expit(Z, out=out)


def _logistic_derivative(delta, A, Z, scratch):
    np.subtract(1, A, out=scratch)
    scratch *= A
    delta *= scratch
    return delta


# tanh: f(z) = tanh(z),  f'(z) = 1 - f(z)^2
def _tanh(Z, out):
    return np.tanh(Z, out=out)


def _tanh_derivative(delta, A, Z, scratch):
    np.multiply(A, A, out=scratch)
    np.subtract(1, scratch, out=scratch)
    delta *= scratch
    return delta


# relu: f(z) = max(0, z),  f'(z) = 1 if z > 0 else 0  (z > 0 exactly when f(z) > 0)
def _relu(Z, out):
    return np.maximum(Z, 0, out=out)


def _relu_biased(Z, bias):
    kernels = _kernels.for_dtype(Z.dtype)
    if kernels is None:
        return None
    kernels.bias_relu(Z, bias)
    return Z


def _relu_derivative(delta, A, Z, scratch):
    kernels = _kernels.for_dtype(delta.dtype)
    if kernels is not None:
        kernels.relu_backward(delta, A)
        return delta
    # A 0/1 factor rather than boolean indexing: no temporary, same result.
    np.greater(A, 0, out=scratch)
    delta *= scratch
    return delta


# leaky_relu: f(z) = z if z > 0 else s z,  f'(z) = 1 if z > 0 else s
def _leaky_relu(Z, out):
    # max(z, s z) is the piecewise form for 0 < s < 1; it reads Z after
    # writing out, hence not in place.
    np.multiply(Z, LEAKY_RELU_SLOPE, out=out)
    return np.maximum(Z, out, out=out)


def _leaky_relu_derivative(delta, A, Z, scratch):
    np.greater(Z, 0, out=scratch)
    scratch *= 1 - LEAKY_RELU_SLOPE
    scratch += LEAKY_RELU_SLOPE
    delta *= scratch
    return delta


# elu: f(z) = z if z > 0 else e^z - 1,  f'(z) = 1 if z > 0 else e^z = f(z) + 1
def _elu(Z, out):
    # expm1(min(z, 0)) is 0 for z > 0 and never overflows; since
    # e^z - 1 >= z, the max picks z for z > 0 and e^z - 1 otherwise.
    np.minimum(Z, 0, out=out)
    np.expm1(out, out=out)
    return np.maximum(Z, out, out=out)


def _elu_derivative(delta, A, Z, scratch):
    # min(f(z) + 1, 1) is e^z for z <= 0 and 1 for z > 0.
    np.add(A, 1, out=scratch)
    np.minimum(scratch, 1, out=scratch)
    delta *= scratch
    return delta


# softplus: f(z) = log(1 + e^z),  f'(z) = 1 / (1 + e^-z) = 1 - e^-f(z)
def _softplus(Z, out):
    return np.logaddexp(0, Z, out=out)


def _softplus_derivative(delta, A, Z, scratch):
    # -expm1(-A) is 1 - e^-A without cancellation when A is tiny.
    np.negative(A, out=scratch)
    np.expm1(scratch, out=scratch)
    np.negative(scratch, out=scratch)
    delta *= scratch
    return delta


# gelu (exact): f(z) = z Phi(z),  f'(z) = Phi(z) + z phi(z),
# with Phi and phi the standard normal distribution and density functions.
def _gelu(Z, out):
    ndtr(Z, out=out)
    out *= Z
    return out


def _gelu_derivative(delta, A, Z, scratch):
    np.multiply(Z, Z, out=scratch)
    scratch *= -0.5
    np.exp(scratch, out=scratch)
    scratch *= _INV_SQRT_2PI
    scratch *= Z  # z phi(z)
    ndtr(Z, out=Z)  # Phi(z); Z is not read again
    scratch += Z
    delta *= scratch
    return delta


# silu: f(z) = z sigma(z),  f'(z) = sigma(z) + z sigma(z) (1 - sigma(z))
#                                  = sigma(z) + f(z) (1 - sigma(z))
def _silu(Z, out):
    expit(Z, out=out)
    out *= Z
    return out


def _silu_derivative(delta, A, Z, scratch):
    expit(Z, out=scratch)  # sigma(z)
    np.subtract(1, scratch, out=Z)  # 1 - sigma(z); Z is not read again
    Z *= A
    scratch += Z
    delta *= scratch
    return delta


ACTIVATIONS = {
    act.name: act
    for act in (
        Activation(
            "identity",
            _identity,
            _identity_derivative,
            scratch_free=lambda dtype: True,
        ),
        Activation("logistic", _logistic, _logistic_derivative),
        Activation("tanh", _tanh, _tanh_derivative),
        Activation(
            "relu",
            _relu,
            _relu_derivative,
            biased_forward=_relu_biased,
            scratch_free=_kernels.enabled,  # the kernel's one pass needs none
        ),
        Activation("leaky_relu", _leaky_relu, _leaky_relu_derivative, False),
        Activation("elu", _elu, _elu_derivative, False),
        Activation("softplus", _softplus, _softplus_derivative),
        Activation("gelu", _gelu, _gelu_derivative, False),
        Activation("silu", _silu, _silu_derivative, False),
    )
}

ALIASES = {"sigmoid": "logistic"}

# Names users reach for that backpropagation cannot train, and why.
_REFUSED = {
    "step": "its derivative is zero wherever it exists (and undefined at 0), so "
    "backpropagation passes no gradient through it",
    "heaviside": "its derivative is zero wherever it exists (and undefined at 0), "
    "so backpropagation passes no gradient through it",
    "sign": "its derivative is zero wherever it exists (and undefined at 0), so "
    "backpropagation passes no gradient through it",
    "softmax": "it couples the units of a layer instead of acting on each one; it "
    "is used only as the output layer of multiclass problems",
}


def _canonical_name(name):
    """Return the registry name for ``name`` or raise a ValueError saying why."""
    if not isinstance(name, str):
        raise ValueError(
            f"Each activation must be a string naming one of {sorted(ACTIVATIONS)}; "
            f"got {name!r}."
        )
    key = ALIASES.get(name, name)
    if key in ACTIVATIONS:
        return key
    if key in _REFUSED:
        raise ValueError(
            f"activation={name!r} cannot be trained by backpropagation: "
            f"{_REFUSED[key]}. Choose one of {sorted(ACTIVATIONS)}."
        )
    raise ValueError(
        f"Unknown activation {name!r}. Valid names are {sorted(ACTIVATIONS)} "
        f"(and the alias 'sigmoid' for 'logistic')."
    )


def resolve_activations(activation, n_hidden):
    """Turn the ``activation`` parameter into one canonical name per hidden layer.

    Parameters
    ----------
    activation : str or sequence of str
        One name for every hidden layer, or one name per hidden layer.
    n_hidden : int
        Number of hidden layers.

    Returns
    -------
    names : tuple of str
        Canonical names, one per hidden layer.

    Raises
    ------
    ValueError
        If a name is unknown or not differentiable, or a sequence has the
        wrong length.
    """
    if isinstance(activation, str):
        return (_canonical_name(activation),) * n_hidden
    names = tuple(activation)
    if len(names) != n_hidden:
        raise ValueError(
            f"activation has {len(names)} entries but hidden_layer_sizes defines "
            f"{n_hidden} hidden layer(s): give one name per hidden layer, or a "
            f"single name for all of them."
        )
    return tuple(_canonical_name(name) for name in names)
