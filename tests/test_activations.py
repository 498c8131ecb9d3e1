"""Hidden-layer activations (``skbackprop._activations``).

Each activation's forward map matches a closed form written independently of
the module, in place as out of place; its derivative matches finite
differences of that form, in float64 and float32, and scales the incoming
error. Each built-in is an :class:`~skbackprop.Activation` whose public
``function`` and ``derivative`` run the same code and pass the check that
custom activations go through before training. Names and aliases resolve to
one activation per hidden layer, and names that are unknown or cannot be
trained by backpropagation are refused with the reason.
"""

import numpy as np
import pytest
from scipy.special import expit

from skbackprop import Activation
from skbackprop._activation_check import GRID, check_derivative
from skbackprop._activations import ACTIVATIONS, resolve_activations

# Closed forms written independently of the module, as a second opinion.
REFERENCE = {
    "identity": lambda z: z,
    "logistic": expit,
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.01 * z),
    "elu": lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))),
    "softplus": lambda z: np.log1p(np.exp(-np.abs(z))) + np.maximum(z, 0),
    "gelu": lambda z: 0.5 * z * (1 + np.vectorize(__import__("math").erf)(z / 2**0.5)),
    "silu": lambda z: z * expit(z),
}


def _points():
    rng = np.random.RandomState(0)
    Z = rng.normal(scale=3.0, size=(7, 11))
    # Keep clear of the kinks of relu and friends, where f' is undefined.
    Z[np.abs(Z) < 1e-3] = 0.5
    return Z


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_forward_matches_reference(name):
    Z = _points()
    activation = ACTIVATIONS[name]
    A = activation.forward(Z.copy(), out=np.empty_like(Z))
    np.testing.assert_allclose(A, REFERENCE[name](Z), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_in_place_forward_matches(name):
    Z = _points()
    activation = ACTIVATIONS[name]
    expected = activation.forward(Z.copy(), out=np.empty_like(Z))
    if activation.in_place:
        buffer = Z.copy()
        result = activation.forward(buffer, out=buffer)
        assert result is buffer
        np.testing.assert_array_equal(result, expected)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_matches_finite_differences(name, dtype):
    Z = _points()
    step = 1e-6
    numeric = (REFERENCE[name](Z + step) - REFERENCE[name](Z - step)) / (2 * step)

    activation = ACTIVATIONS[name]
    Zd = Z.astype(dtype)
    A = activation.forward(Zd.copy(), out=np.empty_like(Zd))
    delta = np.ones_like(Zd)
    kept_Z = None if activation.in_place else Zd.copy()
    result = activation.multiply_derivative(delta, A, kept_Z, np.empty_like(Zd))
    assert result.dtype == dtype
    rtol = 1e-6 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(result, numeric, rtol=rtol, atol=rtol)


def test_derivative_scales_incoming_error():
    Z = _points()
    delta = np.random.RandomState(1).normal(size=Z.shape)
    for activation in ACTIVATIONS.values():
        A = activation.forward(Z.copy(), out=np.empty_like(Z))
        ones = activation.multiply_derivative(
            np.ones_like(Z),
            A,
            None if activation.in_place else Z.copy(),
            np.empty_like(Z),
        )
        scaled = activation.multiply_derivative(
            delta.copy(), A, None if activation.in_place else Z.copy(), np.empty_like(Z)
        )
        np.testing.assert_allclose(scaled, delta * ones, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_builtin_is_an_activation_of_the_same_numbers(name, dtype):
    activation = Activation.builtin(name)
    assert isinstance(activation, Activation) and activation.name == name
    Z = _points().astype(dtype)
    buffered = ACTIVATIONS[name]
    A = activation.function(Z)
    assert A.dtype == dtype and A.shape == Z.shape
    np.testing.assert_array_equal(A, buffered.forward(Z.copy(), np.empty_like(Z)))
    expected = buffered.multiply_derivative(
        np.ones_like(Z), A, None if buffered.in_place else Z.copy(), np.empty_like(Z)
    )
    np.testing.assert_array_equal(activation.derivative(Z, A), expected)
    # One-dimensional and scalar inputs keep their shape.
    assert activation.function(Z[0]).shape == Z[0].shape
    assert activation.derivative(1.5, activation.function(1.5)).shape == ()


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_builtin_passes_the_derivative_check(name):
    # The check that custom activations go through accepts every built-in,
    # on its grid and on pre-activations far beyond it.
    activation = Activation.builtin(name)
    check_derivative(activation, GRID, "on the grid")
    wide = np.random.RandomState(0).normal(scale=50.0, size=(40, 25))
    check_derivative(activation, wide, "on wide points")


def test_resolve_names_and_aliases():
    def names(activations):
        return tuple(a.name for a in activations)

    assert names(resolve_activations("sigmoid", 2)) == ("logistic", "logistic")
    assert names(resolve_activations(["relu", "gelu"], 2)) == ("relu", "gelu")
    assert resolve_activations("tanh", 0) == ()
    assert resolve_activations("sigmoid", 1)[0] is Activation.builtin("logistic")


@pytest.mark.parametrize(
    "activation, message",
    [
        ("step", "derivative is zero"),
        (["relu", "heaviside"], "derivative is zero"),
        ("softmax", "output layer"),
        ("swishy", "Unknown activation 'swishy'"),
        (["relu"], "1 entries but hidden_layer_sizes defines 2"),
        (["relu", "relu", "relu"], "3 entries"),
        ([1, 2], "must be a string"),
    ],
)
def test_refused_activations_say_why(activation, message):
    with pytest.raises(ValueError, match=message):
        resolve_activations(activation, 2)
