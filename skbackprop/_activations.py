"""Hidden-layer activation functions and their derivatives.

Each activation is a pair written side by side, as in Dihui Lai's *Lecture
Note 07: Neural Network* and Anderson Chau's notes on backpropagation: the
forward map ``A = f(Z)`` and the factor ``f'(Z)`` of the hidden-error
equation ``dZ_l = (dZ_{l+1} W_{l+1}^T) * f'(Z_l)``.

Users see an activation as :class:`Activation`: a name, ``function(Z)`` and
``derivative(Z, A)``, each returning a new array. Training sees it as a
:class:`BufferedActivation`, the same pair on buffers the caller owns, so
that the training loop allocates nothing per batch:

- ``forward(Z, out)`` writes ``f(Z)`` into ``out`` and returns it. When the
  activation is ``in_place``, ``out`` may be ``Z`` itself: its derivative can
  be read off the output ``A`` alone, so the network keeps one buffer per
  layer. Otherwise the network keeps ``Z`` and ``A`` apart.
- ``multiply_derivative(delta, A, Z, scratch)`` does ``delta *= f'(Z)``.
  ``Z`` is ``None`` for in-place activations; for the others it is the kept
  pre-activation, which the derivative may overwrite (the backward pass is its
  last reader). ``scratch`` is a buffer shaped like ``delta``.

The built-in activations are written on buffers below, some with compiled
kernels, and their public ``function`` and ``derivative`` are derived from
those; a custom activation goes the other way, its buffer functions calling
the user's two functions, which allocate their results (see
:meth:`BufferedActivation.from_functions`).
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, ndtr

from . import _kernels
from ._references import importable
from ._schema import check_str

__all__ = [
    "ACTIVATIONS",
    "Activation",
    "as_activation",
    "BufferedActivation",
    "buffered",
    "describe_activations",
    "is_builtin",
    "resolve_activations",
    "restore_activations",
]

# Slope on the negative side, the usual choice for leaky ReLU.
LEAKY_RELU_SLOPE = 0.01
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


# Values of ``scratch_free``: whatever the dtype.
def _never(dtype):
    return False


def _always(dtype):
    return True


def _read_only(array):
    """A view of ``array`` that a user's function cannot write through."""
    view = array.view()
    view.flags.writeable = False
    return view


def _as_rows(values):
    """``values`` as a float array of rows, and its shape to restore."""
    values = np.asarray(values)
    dtype = values.dtype if values.dtype in (np.float32, np.float64) else np.float64
    return np.array(values, dtype=dtype).reshape(1, -1), values.shape


@dataclass(frozen=True)
class BufferedActivation:
    """An element-wise activation and its derivative, on the caller's buffers.

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
    scratch_free: Callable = _never

    @classmethod
    def from_functions(cls, name, function, derivative):
        """The buffer form of a user's ``function(Z)`` and ``derivative(Z, A)``.

        Each batch, ``function`` allocates ``f(Z)``, which is copied into the
        layer's buffer, and ``derivative`` allocates ``f'(Z)``, which scales
        the error. The layer keeps ``Z`` for the derivative (not in place).
        Both functions see read-only views, so the buffers they are given
        stay intact whatever they do.
        """

        def forward(Z, out):
            np.copyto(out, function(_read_only(Z)))
            return out

        def multiply_derivative(delta, A, Z, scratch):
            delta *= derivative(_read_only(Z), _read_only(A))
            return delta

        return cls(name, forward, multiply_derivative, False, None, _always)

    def function(self, Z):
        """``f(Z)`` as a new array: :attr:`Activation.function` of a built-in."""
        rows, shape = _as_rows(Z)
        return self.forward(rows, np.empty_like(rows)).reshape(shape)

    def derivative(self, Z, A):
        """``f'(Z)`` as a new array, from ``Z`` and ``A = f(Z)``."""
        rows, shape = _as_rows(Z)
        A = np.array(A, dtype=rows.dtype).reshape(rows.shape)
        kept_Z = None if self.in_place else rows
        factor = self.multiply_derivative(
            np.ones_like(rows), A, kept_Z, np.empty_like(rows)
        )
        return factor.reshape(shape)

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
        BufferedActivation(
            "identity", _identity, _identity_derivative, scratch_free=_always
        ),
        BufferedActivation("logistic", _logistic, _logistic_derivative),
        BufferedActivation("tanh", _tanh, _tanh_derivative),
        BufferedActivation(
            "relu",
            _relu,
            _relu_derivative,
            biased_forward=_relu_biased,
            scratch_free=_kernels.enabled,  # the kernel's one pass needs none
        ),
        BufferedActivation("leaky_relu", _leaky_relu, _leaky_relu_derivative, False),
        BufferedActivation("elu", _elu, _elu_derivative, False),
        BufferedActivation("softplus", _softplus, _softplus_derivative),
        BufferedActivation("gelu", _gelu, _gelu_derivative, False),
        BufferedActivation("silu", _silu, _silu_derivative, False),
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
        f"(and the alias 'sigmoid' for 'logistic'); define others with "
        f"skbackprop.Activation."
    )


def _qualname(function):
    return getattr(function, "__qualname__", None) or repr(function)


class Activation:
    """An element-wise activation function of the hidden layers, and its derivative.

    Pass one wherever ``activation`` takes a name, alone or in a per-layer
    list beside names. The built-in activations are instances too
    (:meth:`builtin`); they compute on the training buffers in place, while
    a custom one runs its two NumPy functions on every batch (see
    :ref:`custom-activations` for what that costs).

    Before training, ``fit`` and ``partial_fit`` check ``derivative`` against
    central differences of ``function``, on a grid of points in [-6, 6] and
    on the pre-activations of the layers that use it, for a mini-batch's
    worth of the first training rows, and raise a ``ValueError`` naming the
    activation and the worst point if they disagree. A derivative that is
    zero on the whole grid (a step function) is refused: no gradient could
    pass through it.

    Parameters
    ----------
    name : str
        What the activation is called in messages and in the fitted model; it
        must differ from the built-in names.
    function : callable
        ``function(Z)`` returns :math:`f(Z)`, element by element: a floating
        array shaped like ``Z``, which it must not modify (it receives a
        read-only array).
    derivative : callable
        ``derivative(Z, A)`` returns :math:`f'(Z)`, element by element, given
        ``Z`` and ``A = f(Z)``, so that a derivative written in terms of the
        output (``A * (1 - A)`` for the logistic function) need not compute
        ``f`` again.

    Attributes
    ----------
    name : str
        The name.
    function : callable
        :math:`f`.
    derivative : callable
        :math:`f'`, given ``Z`` and ``A``.

    Notes
    -----
    An estimator with a custom activation is cloned like any other; it is
    pickled, sent to the workers of ``n_jobs`` and saved by skops or
    :func:`~skbackprop.save_model` with references to its two functions, so
    define them with ``def`` at the top level of a module (not as lambdas).
    :func:`~skbackprop.load_model` binds those references only to functions
    you pass it; see :ref:`persistence`.

    Examples
    --------
    >>> import numpy as np
    >>> from skbackprop import Activation, MLPBackpropClassifier
    >>> def softsign(Z):
    ...     return Z / (1 + np.abs(Z))
    >>> def softsign_derivative(Z, A):
    ...     return 1 / (1 + np.abs(Z)) ** 2
    >>> softsign_activation = Activation("softsign", softsign, softsign_derivative)
    >>> clf = MLPBackpropClassifier(hidden_layer_sizes=(16, 8),
    ...                             activation=[softsign_activation, "relu"])
    >>> Activation.builtin("tanh").function(np.array([0.0, 1.0]))
    array([0.        , 0.76159416])
    """

    def __init__(self, name, function, derivative):
        if not isinstance(name, str) or not name:
            raise TypeError(
                f"An activation's name must be a non-empty str, not {name!r}."
            )
        if name in ACTIVATIONS or name in ALIASES:
            raise ValueError(
                f"{name!r} is the name of a built-in activation: give yours a "
                f"name of its own (or use Activation.builtin({name!r}))."
            )
        for role, value in (("function", function), ("derivative", derivative)):
            if not callable(value):
                raise TypeError(
                    f"The {role} of activation {name!r} must be callable, not "
                    f"{value!r}."
                )
        self.name, self.function, self.derivative = name, function, derivative
        self._buffered = BufferedActivation.from_functions(name, function, derivative)
        self._builtin = False

    @classmethod
    def builtin(cls, name):
        """The built-in activation of this name.

        Parameters
        ----------
        name : str
            One of 'identity', 'logistic' (or 'sigmoid'), 'tanh', 'relu',
            'leaky_relu', 'elu', 'softplus', 'gelu' and 'silu'.

        Returns
        -------
        activation : Activation
            Its ``function`` and ``derivative`` run the code that training
            runs.

        Raises
        ------
        ValueError
            If no built-in activation has this name, saying why where the
            name is one that backpropagation cannot train (a step function).
        """
        return _BUILTINS[_canonical_name(name)]

    @classmethod
    def _of(cls, buffered):
        """The built-in :class:`Activation` of a :class:`BufferedActivation`."""
        activation = cls.__new__(cls)
        activation.name = buffered.name
        activation.function, activation.derivative = (
            buffered.function,
            buffered.derivative,
        )
        activation._buffered, activation._builtin = buffered, True
        return activation

    def _key(self):
        if self._builtin:
            return (self.name,)
        return (self.name, self.function, self.derivative)

    def __eq__(self, other):
        return isinstance(other, Activation) and self._key() == other._key()

    def __hash__(self):
        return hash(self._key())

    def __repr__(self):
        if self._builtin:
            return f"Activation.builtin({self.name!r})"
        return (
            f"Activation({self.name!r}, {_qualname(self.function)}, "
            f"{_qualname(self.derivative)})"
        )

    # An activation never changes: copies are the activation itself, which
    # keeps clone and deepcopy working whatever its functions are.
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __getstate__(self):
        if self._builtin:
            return {"name": self.name}
        what = f"activation {self.name!r}"
        return {
            "name": self.name,
            "function": importable(self.function, f"The function of {what}"),
            "derivative": importable(self.derivative, f"The derivative of {what}"),
        }

    def __setstate__(self, state):
        if set(state) == {"name"}:
            self.__dict__.update(vars(_BUILTINS[_canonical_name(state["name"])]))
        else:
            self.__init__(state["name"], state["function"], state["derivative"])


# Pickles and skops files refer to the class where users find it.
Activation.__module__ = "skbackprop"

_BUILTINS = {name: Activation._of(act) for name, act in ACTIVATIONS.items()}


def as_activation(value):
    """The :class:`Activation` a name or an Activation stands for."""
    if isinstance(value, Activation):
        return value
    if not isinstance(value, str):
        raise ValueError(
            f"Each activation must be a string naming one of {sorted(ACTIVATIONS)} "
            f"or a skbackprop.Activation; got {value!r}."
        )
    return _BUILTINS[_canonical_name(value)]


def resolve_activations(activation, n_hidden):
    """Turn the ``activation`` parameter into one activation per hidden layer.

    Parameters
    ----------
    activation : str, Activation or sequence of them
        One activation for every hidden layer, or one per hidden layer.
    n_hidden : int
        Number of hidden layers.

    Returns
    -------
    activations : tuple of Activation
        One per hidden layer; names become the built-in activations.

    Raises
    ------
    ValueError
        If a name is unknown or not differentiable, or a sequence has the
        wrong length.
    """
    if isinstance(activation, (str, Activation)):
        return (as_activation(activation),) * n_hidden
    entries = tuple(activation)
    if len(entries) != n_hidden:
        raise ValueError(
            f"activation has {len(entries)} entries but hidden_layer_sizes defines "
            f"{n_hidden} hidden layer(s): give one activation per hidden layer, or "
            f"a single one for all of them."
        )
    return tuple(as_activation(entry) for entry in entries)


def is_builtin(activation):
    """Whether an :class:`Activation` is one of the built-in activations."""
    return activation._builtin


def buffered(activation):
    """The buffer form of an :class:`Activation` or of a canonical name."""
    if isinstance(activation, Activation):
        return activation._buffered
    return ACTIVATIONS[activation]


def describe_activations(activations):
    """Fitted activations in plain values: built-ins by name, others as they are.

    Pickles, skops files and model files store this form, so that a model of
    built-in activations holds no object but its estimator.
    """
    return [a.name if is_builtin(a) else a for a in activations]


def restore_activations(described, where="hidden_activations"):
    """The activations that :func:`describe_activations` described, checked.

    Raises
    ------
    ValueError
        If an entry is neither a built-in's canonical name nor an
        :class:`Activation`.
    """
    return tuple(
        entry
        if isinstance(entry, Activation)
        else _BUILTINS[check_str(entry, f"{where}[{i}]", set(ACTIVATIONS))]
        for i, entry in enumerate(described)
    )
