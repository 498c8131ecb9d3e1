"""scikit-learn's estimator contract, checked with its own test suite.

``parametrize_with_checks`` runs every estimator check, with no expected
failure, on configurations that each take another path through fit and
predict (every solver, per-layer activations, custom activations, early
stopping, dropout, class weights, L1, clipping, other initialisers and
schedules, the cosine and a callable one), and the regressor with each of its
losses; parameter validation and DataFrame column names get scikit-learn's
own checks too.
"""

import pytest
from sklearn.utils.estimator_checks import (
    check_dataframe_column_names_consistency,
    check_param_validation,
    parametrize_with_checks,
)

from skbackprop import MLPBackpropClassifier, MLPBackpropRegressor
from tests._custom_activations import CUSTOM_LOGISTIC, MISH, Warmup

# Each configuration exercises a different code path through fit and predict.
CONFIGURATIONS = [
    MLPBackpropClassifier(),
    MLPBackpropClassifier(solver="sgd"),
    MLPBackpropClassifier(solver="lbfgs"),
    MLPBackpropClassifier(hidden_layer_sizes=(16, 8), activation=["tanh", "gelu"]),
    MLPBackpropClassifier(early_stopping=True),
    MLPBackpropClassifier(activation="logistic"),
    MLPBackpropClassifier(solver="sgd", learning_rate="adaptive", activation="elu"),
    # Training control beyond MLPClassifier's parameters.
    MLPBackpropClassifier(hidden_layer_sizes=(32, 16), dropout=[0.2, 0.1]),
    MLPBackpropClassifier(class_weight="balanced", alpha_l1=1e-3, max_grad_norm=1.0),
    MLPBackpropClassifier(solver="rmsprop", init="he_normal"),
    MLPBackpropClassifier(solver="adagrad", learning_rate_init=0.01),
    MLPBackpropClassifier(solver="adamw", learning_rate="adaptive"),
    MLPBackpropClassifier(early_stopping=True, scoring="loss"),
    # Activations and schedules of the user's own (module-level functions).
    MLPBackpropClassifier(activation=MISH, learning_rate="cosine"),
    MLPBackpropClassifier(
        hidden_layer_sizes=(16, 8),
        activation=[CUSTOM_LOGISTIC, "tanh"],
        solver="sgd",
        learning_rate=Warmup(),
    ),
]
# One configuration per loss, and the regressor's other paths. Poisson's exp
# output learns the checks' data in 200 epochs at a larger step than adam's
# default, as MLPRegressor's does.
REGRESSORS = [
    MLPBackpropRegressor(),
    MLPBackpropRegressor(loss="poisson", learning_rate_init=0.01),
    MLPBackpropRegressor(loss="absolute_error"),
    MLPBackpropRegressor(loss="huber", huber_delta=0.5),
    MLPBackpropRegressor(loss="quantile", quantile=0.3),
    MLPBackpropRegressor(solver="lbfgs", activation="tanh"),
    MLPBackpropRegressor(early_stopping=True, solver="sgd"),
    MLPBackpropRegressor(dropout=0.1, alpha_l1=1e-3, max_grad_norm=1.0),
    MLPBackpropRegressor(activation=MISH, learning_rate="cosine"),
    MLPBackpropRegressor(
        activation=["relu", MISH],
        hidden_layer_sizes=(16, 8),
        learning_rate=Warmup(),
    ),
]


@parametrize_with_checks(
    CONFIGURATIONS + REGRESSORS, expected_failed_checks=lambda est: {}
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", CONFIGURATIONS[:2] + REGRESSORS[:2], ids=repr)
def test_param_validation(estimator):
    check_param_validation(type(estimator).__name__, estimator)


@pytest.mark.parametrize("estimator", CONFIGURATIONS[:2] + REGRESSORS[:2], ids=repr)
def test_dataframe_column_names_consistency(estimator):
    check_dataframe_column_names_consistency(type(estimator).__name__, estimator)
