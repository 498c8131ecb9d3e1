"""``skbackprop.callbacks.Checkpoint``: the best epoch, saved while training.

The checkpoint must be the model of the best epoch (compared with every
epoch's weights, recorded as training goes), the fitted model itself when
early stopping restores that epoch, and a model that a warm fit continues
exactly as the uninterrupted fit went on. Its file is written atomically,
one per fit in a grid search, and a fit that cannot be checkpointed is
refused before it trains.
"""

import copy
import doctest
import math
import pickle
import shutil

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_regression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skbackprop.callbacks
from skbackprop import (
    MLPBackpropClassifier,
    MLPBackpropRegressor,
    _checkpoint,
    load_model,
)
from skbackprop.callbacks import Checkpoint
from tests._custom_activations import MISH, step_decay
from tests._data import classification
from tests._estimators import all_weights, assert_same_weights
from tests._fit_callbacks import Callback
from tests._saved_models import assert_same_value

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

ESTIMATORS = [MLPBackpropClassifier, MLPBackpropRegressor]
MONITORS = ["loss", "val_loss", "val_score"]


def _data(Estimator, n_samples=120):
    """Training and validation halves, small enough to overfit quickly."""
    if Estimator is MLPBackpropClassifier:
        X, y = classification(n_samples, seed=1)
    else:
        X, y = make_regression(
            n_samples=n_samples,
            n_features=10,
            n_informative=4,
            noise=30.0,
            random_state=0,
        )
        y = (y - y.mean()) / y.std()
    half = n_samples // 2
    return X[:half], y[:half], X[half:], y[half:]


def _model(Estimator, **params):
    params = {
        "hidden_layer_sizes": (32,),
        "learning_rate_init": 0.03,
        "max_iter": 30,
        "random_state": 0,
        **params,
    }
    return Estimator(**params)


class EpochWeights(Callback):
    """Copies the weights at the end of every epoch that training kept."""

    def __init__(self):
        self.weights = []

    def on_fit_task_end(self, estimator, context):
        if context.parent is not None and len(estimator.loss_curve_) > len(
            self.weights
        ):
            self.weights.append([w.copy() for w in all_weights(estimator)])
        return False


class CopyAfter(Callback):
    """Copies the checkpoint file once ``epoch`` epochs have ended."""

    def __init__(self, epoch, source, target):
        self.epoch, self.source, self.target = epoch, source, target

    def on_fit_task_end(self, estimator, context):
        if context.parent is not None and len(estimator.loss_curve_) == self.epoch:
            shutil.copy(self.source, self.target)
        return False


def _best_epoch(values, larger_is_better):
    """Index of the best value; among ties, the latest."""
    values = np.asarray(values, dtype=float)
    best = np.nanmax(values) if larger_is_better else np.nanmin(values)
    return int(np.flatnonzero(values == best)[-1])


# ------------------------------------------------------------ which epoch
@pytest.mark.parametrize("monitor", MONITORS)
@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_checkpoint_is_the_best_epoch(tmp_path, Estimator, monitor):
    X, y, X_val, y_val = _data(Estimator)
    path = tmp_path / "best.npz"
    recorder = EpochWeights()
    model = _model(Estimator).set_callbacks(Checkpoint(path, monitor), recorder)
    model.fit(X, y, X_val=X_val, y_val=y_val)

    values = model.history_[monitor]
    best = _best_epoch(values, larger_is_better=monitor == "val_score")
    if monitor != "loss":
        assert best < model.n_iter_ - 1  # not merely the last epoch
    checkpoint = load_model(path)
    for saved, recorded in zip(all_weights(checkpoint), recorder.weights[best]):
        np.testing.assert_array_equal(saved, recorded)
    # The training state is that of the same epoch.
    assert checkpoint.n_iter_ == best + 1
    assert checkpoint.history_[monitor] == values[: best + 1]
    assert checkpoint.loss_curve_ == model.loss_curve_[: best + 1]


@pytest.mark.parametrize("own_validation", [False, True], ids=["hold-out", "X_val"])
@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_with_early_stopping_the_checkpoint_is_the_fitted_model(
    tmp_path, Estimator, own_validation
):
    # Early stopping restores the epoch of the best validation score, the
    # same epoch (ties to the latest) that monitor='val_score' writes.
    X, y, X_val, y_val = _data(Estimator)
    path = tmp_path / "best.npz"
    # On the few rows held out, accuracy ends on a plateau whose latest
    # epoch is the last; the validation loss (scoring='loss') moves on.
    scoring = None if own_validation else "loss"
    model = _model(Estimator, early_stopping=True, n_iter_no_change=5, scoring=scoring)
    model.set_callbacks(Checkpoint(path, monitor="val_score"))
    kwargs = dict(X_val=X_val, y_val=y_val) if own_validation else {}
    model.fit(X, y, **kwargs)
    scores = model.validation_scores_
    assert _best_epoch(scores, larger_is_better=True) < len(scores) - 1
    checkpoint = load_model(path)
    assert_same_weights(checkpoint, model)
    assert checkpoint.best_validation_score_ == model.best_validation_score_
    np.testing.assert_array_equal(checkpoint.predict(X_val), model.predict(X_val))


def test_warm_fits_and_partial_fit_keep_the_best_of_all_calls(tmp_path):
    # Each call compares with the best value of history_ so far: a worse
    # call leaves the checkpoint of an earlier one.
    X, y = classification(240)
    path = tmp_path / "best.npz"
    model = MLPBackpropClassifier(hidden_layer_sizes=(8,), random_state=0)
    model.set_callbacks(Checkpoint(path, monitor="loss"))
    classes = np.unique(y)
    for rows in [slice(0, 120), slice(120, 240)] * 3:
        model.partial_fit(X[rows], y[rows], classes=classes)
    losses = model.loss_curve_
    best = _best_epoch(losses, larger_is_better=False)
    assert best < len(losses) - 1  # a later call was worse
    assert load_model(path).loss_curve_ == losses[: best + 1]


# ---------------------------------------------------------------- resume
RESUMABLE = {
    "adam": dict(solver="adam"),
    # The adaptive schedule lowers the rate after the epoch's checks.
    "sgd-adaptive": dict(
        solver="sgd", learning_rate="adaptive", tol=10.0, n_iter_no_change=1
    ),
    "rmsprop-dropout": dict(solver="rmsprop", dropout=0.1, learning_rate_init=0.001),
    "early-stopping-X_val": dict(early_stopping=True, n_iter_no_change=50),
    "regressor": dict(estimator=MLPBackpropRegressor),
    # Stored by reference, bound again by load_model's functions.
    "custom-activation-and-schedule": dict(
        solver="sgd", activation=MISH, learning_rate=step_decay
    ),
}


@pytest.mark.parametrize("config", RESUMABLE)
def test_resuming_from_a_checkpoint_continues_exactly(tmp_path, config):
    params = dict(RESUMABLE[config])
    Estimator = params.pop("estimator", MLPBackpropClassifier)
    X, y, X_val, y_val = _data(Estimator, n_samples=240)
    n_epochs, k = 8, 3
    path, copied = tmp_path / "best.npz", tmp_path / "epoch-3.npz"
    uninterrupted = _model(
        Estimator, **{"max_iter": n_epochs, "learning_rate_init": 0.003, **params}
    )
    uninterrupted.set_callbacks(
        Checkpoint(path, monitor="loss"), CopyAfter(k, path, copied)
    )
    uninterrupted.fit(X, y, X_val=X_val, y_val=y_val)

    # The recipe: load, warm_start=True, the epochs left, the same data.
    resumed = load_model(copied, functions=[MISH, step_decay])
    assert resumed.n_iter_ == k  # written at epoch k
    resumed.set_params(warm_start=True, max_iter=n_epochs - k)
    resumed.fit(X, y, X_val=X_val, y_val=y_val)

    assert_same_weights(resumed, uninterrupted)
    expected = uninterrupted._training_state.to_dict()
    state = resumed._training_state.to_dict()
    assert (expected.pop("n_iter"), state.pop("n_iter")) == (n_epochs, n_epochs - k)
    assert_same_value(state, expected, "training state")


# ----------------------------------------------------------------- lbfgs
def test_lbfgs_checkpoints_its_iterations(tmp_path):
    X, y, X_val, y_val = _data(MLPBackpropClassifier)
    recorder = EpochWeights()
    path = tmp_path / "best.npz"
    model = _model(MLPBackpropClassifier, solver="lbfgs", max_iter=15)
    model.set_callbacks(Checkpoint(path, monitor="val_loss"), recorder)
    model.fit(X, y, X_val=X_val, y_val=y_val)
    best = _best_epoch(model.history_["val_loss"], larger_is_better=False)
    checkpoint = load_model(path)
    for saved, recorded in zip(all_weights(checkpoint), recorder.weights[best]):
        np.testing.assert_array_equal(saved, recorded)
    # Its counters are those of the iteration it was saved at.
    assert checkpoint.n_iter_ == len(checkpoint.loss_curve_) == best + 1
    assert checkpoint.loss_ == checkpoint.loss_curve_[-1]
    assert checkpoint.best_loss_ == min(checkpoint.loss_curve_)


# --------------------------------------------------------- refused fits
@pytest.mark.parametrize("monitor", ["val_loss", "val_score"])
@pytest.mark.parametrize("solver", ["adam", "lbfgs"])
def test_a_fit_without_validation_data_is_refused_before_training(
    tmp_path, monitor, solver
):
    X, y = classification(120)
    model = MLPBackpropClassifier(hidden_layer_sizes=(8,), solver=solver, max_iter=5)
    model.fit(X, y)
    fitted = [w.copy() for w in all_weights(model)]
    recorder = EpochWeights()
    model.set_callbacks(Checkpoint(tmp_path / "best.npz", monitor), recorder)
    remedy = "to fit, or" + (
        "" if solver == "lbfgs" else " set early_stopping=True, or"
    )
    with pytest.raises(ValueError, match=f"monitor='{monitor}'.*X_val.*{remedy}"):
        model.fit(X, y)
    assert recorder.weights == [] and list(tmp_path.iterdir()) == []
    # The fitted model is left as it was.
    for kept, before in zip(all_weights(model), fitted):
        np.testing.assert_array_equal(kept, before)


def test_a_model_the_format_cannot_store_is_refused_before_training(tmp_path):
    X, y = classification(120)
    recorder = EpochWeights()
    model = MLPBackpropClassifier(scoring=lambda est, X, y: 0.0, early_stopping=True)
    model.set_callbacks(Checkpoint(tmp_path / "best.npz", "val_score"), recorder)
    with pytest.raises(TypeError, match="scoring"):
        model.fit(X, y)
    assert recorder.weights == [] and list(tmp_path.iterdir()) == []


def test_only_skbackprop_estimators_are_checkpointed(tmp_path):
    X, y = classification(120)
    search = GridSearchCV(MLPBackpropClassifier(), {"alpha": [1e-4]}, cv=2)
    search.set_callbacks(Checkpoint(tmp_path / "best.npz", "loss"))
    with pytest.raises(TypeError, match="set it on the MLPBackpropClassifier"):
        search.fit(X, y)


@pytest.mark.parametrize(
    "args, error, message",
    [
        (("best.npz", "accuracy"), ValueError, "monitor must be one of"),
        ((3,), TypeError, "path must be a str or os.PathLike"),
        (("best-{fold}.npz",), ValueError, r"unknown fields \['fold'\]"),
        (("best-{0}.npz",), ValueError, r"unknown fields \['0'\]"),
        (("best-{.npz",), ValueError, "not a valid template"),
    ],
)
def test_invalid_arguments_are_refused(args, error, message):
    with pytest.raises(error, match=message):
        Checkpoint(*args)


# ---------------------------------------------------------- atomic writes
def test_a_failed_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    X, y = classification(120)
    path = tmp_path / "best.npz"
    failing = {"armed": False}
    write_array = np.lib.format.write_array

    def write_or_fail(*args, **kwargs):
        if failing["armed"]:
            raise OSError("disk full")
        return write_array(*args, **kwargs)

    class FailAfter(Callback):
        """From the end of epoch 2 on, every write fails in the middle."""

        def on_fit_task_end(self, estimator, context):
            failing["armed"] = len(estimator.loss_curve_) >= 2
            return False

    monkeypatch.setattr(np.lib.format, "write_array", write_or_fail)
    recorder = EpochWeights()
    model = MLPBackpropClassifier(hidden_layer_sizes=(8,), random_state=0)
    model.set_callbacks(Checkpoint(path, "loss"), recorder, FailAfter())
    with pytest.raises(OSError, match="disk full"):
        model.fit(X, y)
    # The third epoch's write failed before the callbacks after it heard of it.
    assert len(recorder.weights) == 2
    monkeypatch.undo()
    checkpoint = load_model(path)
    assert checkpoint.n_iter_ == 2
    for saved, recorded in zip(all_weights(checkpoint), recorder.weights[1]):
        np.testing.assert_array_equal(saved, recorded)
    assert [p.name for p in tmp_path.iterdir()] == ["best.npz"]  # no temporaries


# ----------------------------------------------------- several fits at once
@pytest.mark.parametrize("n_jobs", [1, 2])
def test_grid_search_writes_one_checkpoint_per_fit(tmp_path, n_jobs):
    X, y = classification(240)
    model = MLPBackpropClassifier(
        hidden_layer_sizes=(8,), early_stopping=True, max_iter=10, random_state=0
    )
    model.set_callbacks(Checkpoint(tmp_path / "fit-{task}.npz", "val_score"))
    alphas = [1e-4, 1e-1]
    search = GridSearchCV(model, {"alpha": alphas}, cv=2, n_jobs=n_jobs).fit(X, y)

    evaluations = [f"fit-0-0-{i}.npz" for i in range(len(alphas) * 2)]
    assert sorted(p.name for p in tmp_path.iterdir()) == [*evaluations, "fit-0-1.npz"]
    for i, name in enumerate(evaluations):
        # Task i of the search is candidate i // n_splits on split i % n_splits.
        assert load_model(tmp_path / name).alpha == alphas[i // 2]
    assert_same_weights(load_model(tmp_path / "fit-0-1.npz"), search.best_estimator_)


def test_grid_search_over_a_pipeline(tmp_path):
    X, y = classification(240)
    model = MLPBackpropClassifier(hidden_layer_sizes=(8,), max_iter=5)
    model.set_callbacks(Checkpoint(tmp_path / "fit-{}.npz", "loss"))
    pipeline = make_pipeline(StandardScaler(), model)
    GridSearchCV(pipeline, {"mlpbackpropclassifier__alpha": [1e-4]}, cv=2).fit(X, y)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["fit-0-0-0-1.npz", "fit-0-0-1-1.npz", "fit-0-1-1.npz"]


def test_a_path_shared_by_a_search_ends_with_the_refit(tmp_path):
    X, y = classification(240)
    model = MLPBackpropClassifier(
        hidden_layer_sizes=(8,), early_stopping=True, max_iter=10, random_state=0
    )
    model.set_callbacks(Checkpoint(tmp_path / "best.npz", "val_score"))
    search = GridSearchCV(model, {"alpha": [1e-4, 1e-1]}, cv=2).fit(X, y)
    assert_same_weights(load_model(tmp_path / "best.npz"), search.best_estimator_)


def test_a_relative_path_is_resolved_when_the_checkpoint_is_created(
    tmp_path, monkeypatch
):
    # Worker processes may run elsewhere; braces in the directory are no field.
    created_in = tmp_path / "{not a field}"
    created_in.mkdir()
    monkeypatch.chdir(created_in)
    checkpoint = Checkpoint("best-{task}.npz", "loss")
    monkeypatch.chdir(tmp_path)
    X, y = classification(120)
    MLPBackpropClassifier(max_iter=2).set_callbacks(checkpoint).fit(X, y)
    assert [p.name for p in created_in.iterdir()] == ["best-0.npz"]


# ------------------------------------------------------- copies and pickles
def test_pickled_cloned_and_copied_checkpoints_work(tmp_path):
    X, y = classification(120)
    checkpoint = Checkpoint(tmp_path / "{task}" / "best.npz", "loss")
    model = MLPBackpropClassifier(hidden_layer_sizes=(8,), max_iter=3)
    model.set_callbacks(checkpoint)
    assert clone(model)._skl_callbacks == [checkpoint]  # shared, as in sklearn
    restored = pickle.loads(pickle.dumps(model))
    (copied,) = restored._skl_callbacks
    assert (
        repr(copied)
        == repr(checkpoint)
        == (f"Checkpoint(path={tmp_path / '{task}' / 'best.npz'!r}, monitor='loss')")
    )
    restored.fit(X, y)
    assert load_model(tmp_path / "0" / "best.npz").n_iter_ == 3
    assert copy.deepcopy(checkpoint).monitor == "loss"


def test_a_checkpoint_pickled_during_a_fit_has_no_fit_in_progress(tmp_path):
    checkpoint = Checkpoint(tmp_path / "best.npz", "loss")
    pickles = []

    class PickleIt(Callback):
        def on_fit_task_end(self, estimator, context):
            pickles.append(pickle.dumps(checkpoint))
            return False

    X, y = classification(120)
    model = MLPBackpropClassifier(hidden_layer_sizes=(8,), max_iter=2)
    model.set_callbacks(checkpoint, PickleIt()).fit(X, y)
    assert checkpoint._fits == {}
    assert all(pickle.loads(p)._fits == {} for p in pickles)


# ---------------------------------------------------------------- the API
def test_public_module():
    assert skbackprop.callbacks.__all__ == ["Checkpoint"]
    assert Checkpoint.__module__ == "skbackprop._checkpoint"
    assert "Examples" in Checkpoint.__doc__


def test_docstring_example_runs():
    result = doctest.testmod(_checkpoint, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_nan_is_never_best():
    checkpoint = Checkpoint("best.npz", "val_score")
    assert not checkpoint._improves(math.nan, None)
    assert not checkpoint._improves(None, 0.5)
    assert checkpoint._improves(0.5, 0.5)  # ties go to the later epoch
