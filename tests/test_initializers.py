"""Initial weights (``skbackprop._initializers``).

Every scheme has the documented scale (Glorot, He and LeCun, uniform and
normal), Glorot-uniform draws exactly what ``MLPClassifier`` draws from the
same generator, the estimator starts from the weights of the chosen scheme,
and an unknown scheme is refused.
"""

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from skbackprop import MLPBackpropClassifier
from skbackprop._initializers import initial_weights
from tests._data import classification
from tests._fit_callbacks import InitialWeights

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize(
    "scheme, std, bound",
    [
        ("glorot_uniform", np.sqrt(2 / 900), np.sqrt(6 / 900)),
        ("glorot_normal", np.sqrt(2 / 900), None),
        ("he_uniform", np.sqrt(2 / 500), np.sqrt(6 / 500)),
        ("he_normal", np.sqrt(2 / 500), None),
        ("lecun_uniform", np.sqrt(1 / 500), np.sqrt(3 / 500)),
        ("lecun_normal", np.sqrt(1 / 500), None),
    ],
)
def test_initializers_have_the_documented_scale(scheme, std, bound):
    # fan_in 500, fan_out 400: 200 000 draws pin the std to within 1%.
    coefs, intercepts = initial_weights(
        scheme, [500, 400, 3], ["relu", "relu"], np.random.RandomState(0), np.float64
    )
    W = coefs[0]
    assert W.shape == (500, 400)
    np.testing.assert_allclose(W.std(), std, rtol=0.01)
    assert abs(W.mean()) < 0.01 * std
    if bound is not None:
        assert np.abs(W).max() <= bound
        assert np.abs(W).max() > 0.999 * bound
    if scheme == "glorot_uniform":  # biases drawn like the weights
        assert 0 < np.abs(intercepts[0]).max() <= bound
    elif scheme.startswith(("he", "lecun")):
        assert all(not b.any() for b in intercepts)


@pytest.mark.parametrize("activation", ["relu", "logistic", "tanh"])
def test_glorot_uniform_is_mlpclassifiers_scheme(activation):
    # sklearn.neural_network.MLPClassifier._init_coef, layer after layer from
    # one generator: U(-b, b) weights, then biases, b = sqrt(6 / (in + out)),
    # with factor 2 instead of 6 for logistic layers.
    units = [64, 30, 20, 10]
    ours = initial_weights(
        "glorot_uniform", units, [activation] * 3, np.random.RandomState(42), np.float64
    )
    rng = np.random.RandomState(42)
    factor = 2.0 if activation == "logistic" else 6.0
    for layer, (fan_in, fan_out) in enumerate(zip(units[:-1], units[1:])):
        bound = np.sqrt(factor / (fan_in + fan_out))
        np.testing.assert_array_equal(
            ours[0][layer], rng.uniform(-bound, bound, (fan_in, fan_out))
        )
        np.testing.assert_array_equal(
            ours[1][layer], rng.uniform(-bound, bound, fan_out)
        )


@pytest.mark.parametrize("init", ["glorot_uniform", "he_normal", "lecun_uniform"])
def test_estimator_starts_from_the_chosen_initializer(small_digits, init):
    X, y = small_digits
    recorder = InitialWeights()
    clf = MLPBackpropClassifier(
        hidden_layer_sizes=(16, 8),
        activation="tanh",
        init=init,
        max_iter=1,
        random_state=5,
    )
    clf.set_callbacks(recorder).fit(X, y)
    # The output layer is scaled like the last hidden layer.
    coefs, intercepts = initial_weights(
        init, [64, 16, 8, 10], ["tanh"] * 3, np.random.RandomState(5), np.float64
    )
    for got, expected in zip(
        recorder.coefs + recorder.intercepts, coefs + intercepts, strict=True
    ):
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("init", ["xavier", "he", "normal", None])
def test_unknown_initializer_is_refused(init):
    X, y = classification(30)
    with pytest.raises(InvalidParameterError, match="init") as error:
        MLPBackpropClassifier(init=init).fit(X, y)
    assert isinstance(error.value, ValueError)
