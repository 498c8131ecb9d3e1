"""A custom activation's derivative, checked against its function before training.

Backpropagation trusts the derivative it is given: equation 2 of the notes
(Dihui Lai's *Lecture Note 07: Neural Network*, Anderson Chau's notes)
multiplies the error by ``f'(Z_l)``, and a wrong ``f'`` trains a worse model
without any error. So before the first step, the derivative of every custom
:class:`~skbackprop.Activation` is compared with central differences of its
function,

    (f(z + h) - f(z - h)) / 2h,    h = 1e-6 max(1, |z|),

in float64, at two sets of points:

- :data:`GRID`, 400 points evenly spread over [-6, 6], which misses 0, where
  piecewise functions have their kink. A derivative that is zero on the
  whole grid is refused: no gradient can pass through the layer (the step
  function of the notes is such a case);
- the pre-activations ``Z_l`` of each hidden layer with a custom activation,
  for the first rows of the training data (as many as a mini-batch holds,
  at most 200, in the order given: drawing a shuffled batch would change
  the random stream), at the weights training starts from.

A point passes when the derivative is within ``1e-6 + 1e-4 |d|`` of the
central difference ``d``, or of the one-sided difference of either side: at
a kink (ReLU's 0) the derivative takes one side's slope. A factor of 2 or a
wrong sign is far outside this; every built-in activation passes. The
built-ins are not checked when fitting: the test suite checks them.
"""

import numpy as np

from ._activations import is_builtin
from ._array_api import NUMPY
from ._network import forward

__all__ = ["GRID", "check_activations", "check_derivative"]

GRID = np.linspace(-6.0, 6.0, 400).reshape(50, 8)
_MAX_ROWS = 200
_STEP = 1e-6
_RTOL, _ATOL = 1e-4, 1e-6


def check_activations(activations, X, coefs, intercepts, batch_size):
    """Check the custom activations of a network before it trains.

    Parameters
    ----------
    activations : sequence of Activation
        The hidden layers' activations.
    X : ndarray or sparse matrix of shape (n_samples, n_features)
        Validated training data; its first rows are the batch checked.
    coefs, intercepts : list of ndarray
        The weights training starts from.
    batch_size : int or 'auto'
        The ``batch_size`` parameter.

    Raises
    ------
    ValueError
        If a custom activation's derivative disagrees with its function, is
        zero on the whole grid, or one of its functions returns values of the
        wrong shape or type.
    """
    custom = [i for i, a in enumerate(activations) if not is_builtin(a)]
    for activation in dict.fromkeys(activations[i] for i in custom):
        check_derivative(activation, GRID, "on the grid of [-6, 6]")
    n_rows = min(X.shape[0], _MAX_ROWS)
    if batch_size != "auto":
        n_rows = min(n_rows, batch_size)
    for i in custom:
        # Z of hidden layer i + 1: the layers below it, and a linear one.
        below = slice(0, i + 1)
        # On the host, as the grid check: data and weights in another array
        # space are copied (the first rows only).
        Z = forward(
            NUMPY.to_numpy(X[:n_rows]),
            [NUMPY.to_numpy(W) for W in coefs[below]],
            [NUMPY.to_numpy(b) for b in intercepts[below]],
            [*activations[:i], None],
        )
        where = f"on hidden layer {i + 1} for the first {n_rows} training rows"
        check_derivative(activations[i], Z, where)


def check_derivative(activation, Z, where):
    """Compare ``activation.derivative`` with finite differences at ``Z``.

    Parameters
    ----------
    activation : Activation
        The activation to check.
    Z : ndarray
        The points; :data:`GRID`, or pre-activations.
    where : str
        Where the points come from, for the messages.

    Raises
    ------
    ValueError
        Naming the activation and the worst point, if the derivative
        disagrees with the differences; see the module's docstring.
    """
    on_grid = Z is GRID
    Z = _read_only(np.asarray(Z, dtype=np.float64))
    with np.errstate(all="ignore"):
        h = _STEP * np.maximum(1.0, np.abs(Z))
        points = (Z, _read_only(Z + h), _read_only(Z - h))
        A, f_up, f_down = (_call(activation, "function", z) for z in points)
        got = _call(activation, "derivative", Z, _read_only(A))
        central = (f_up - f_down) / (points[1] - points[2])
        sides = ((A - f_down) / (Z - points[2]), (f_up - A) / (points[1] - Z))
        error = np.fmin.reduce(
            [np.abs(got - d) / (_ATOL + _RTOL * np.abs(d)) for d in (central, *sides)]
        )
    if on_grid:
        _refuse_on_grid(activation, Z, np.isfinite(A + f_up + f_down), got, where)
    # Where f itself overflows there is no slope to compare with; training's
    # own checks of the loss and weights take over there.
    error[~np.isfinite(central)] = 0.0
    error[np.isnan(error)] = np.inf  # a derivative that is not finite
    worst = np.unravel_index(np.argmax(error), error.shape)
    if error[worst] > 1:
        raise ValueError(
            f"The derivative of activation {activation.name!r} does not match "
            f"its function {where}: at z={Z[worst]:.6g}, derivative(Z, A) "
            f"returns {got[worst]:.6g} but central differences of function(Z) "
            f"give {central[worst]:.6g} (the worst of {Z.size} points). "
            f"derivative(Z, A) must return f'(Z), element by element."
        )


def _read_only(array):
    array.flags.writeable = False
    return array


def _call(activation, role, Z, *more):
    """``activation.function(Z)`` or ``.derivative(Z, A)``, checked as an array."""
    result = getattr(activation, role)(Z, *more)
    kind = getattr(result, "dtype", np.dtype(object)).kind
    if np.shape(result) != Z.shape or kind not in "biuf":
        raise ValueError(
            f"The {role} of activation {activation.name!r} returned "
            f"{type(result).__name__} of shape {np.shape(result)} and dtype "
            f"{getattr(result, 'dtype', None)} for a float64 array of shape "
            f"{Z.shape}: it must return a real array shaped like Z, computed "
            f"element by element."
        )
    return np.asarray(result, dtype=np.float64)


def _refuse_on_grid(activation, Z, finite, derivative, where):
    """Refuse a function that is not finite, or a derivative that is all zero."""
    if not finite.all():
        raise ValueError(
            f"The function of activation {activation.name!r} is not finite at "
            f"(or within 1e-6 of) z={Z[~finite][0]:.6g}; it must be finite "
            f"{where} at least."
        )
    if not np.any(derivative):
        raise ValueError(
            f"The derivative of activation {activation.name!r} is zero "
            f"everywhere {where}: no gradient can pass through it, so "
            f"backpropagation cannot train the layers below it (a step "
            f"function is such a case). Choose an activation whose derivative "
            f"is not zero."
        )
