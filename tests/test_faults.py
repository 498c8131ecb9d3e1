"""Faults: extreme data, interruption, determinism and threads.

Each test puts the estimator in a situation where a naive implementation
returns garbage (NaN probabilities, half-updated weights, results that depend
on the run) and checks that it either stays correct or says clearly why not.
Divergence has tests next to the trainers (``test_stochastic.py``,
``test_lbfgs.py``), memory in ``test_memory.py``.
"""

import pickle
import signal
import subprocess
import sys
import textwrap
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from skbackprop import MLPBackpropClassifier
from tests._data import blobs
from tests._estimators import (
    all_weights,
    assert_same_weights,
    assert_valid_probabilities,
    quiet_fit,
)

ACTIVATIONS = [
    "identity",
    "logistic",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "gelu",
    "silu",
]
SOLVERS = ["adam", "sgd", "lbfgs"]


# --------------------------------------------------------- extreme inputs
@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_features_of_1e30_give_valid_probabilities(activation, solver, dtype):
    X, y = blobs(n_samples=30)
    X = (X * 1e30).astype(dtype)
    clf = quiet_fit(
        MLPBackpropClassifier(
            hidden_layer_sizes=(4,),
            activation=activation,
            solver=solver,
            max_iter=20,
            random_state=0,
        ),
        X,
        y,
    )
    assert all(np.isfinite(w).all() for w in all_weights(clf))
    assert_valid_probabilities(clf, X)


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("scale", [1e15, 1e150, 1e300])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_huge_features_give_valid_probabilities_or_a_clear_error(
    scale, dtype, solver, n_classes
):
    # Plain SGD on such data can end an epoch with finite weights that
    # overflow the forward pass; prediction must then refuse, not return NaN.
    X, y = blobs(n_samples=30, n_classes=n_classes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the cast to float32
        X = (X * scale).astype(dtype)
    if not np.isfinite(X).all():
        # scikit-learn's finiteness check itself warns once ("invalid value
        # in reduce") when X holds both infinities, before it raises.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            with pytest.raises(ValueError, match="Input X contains infinity"):
                MLPBackpropClassifier().fit(X, y)
        return
    clf = quiet_fit(
        MLPBackpropClassifier(
            hidden_layer_sizes=(4,), solver=solver, max_iter=20, random_state=0
        ),
        X,
        y,
    )
    assert all(np.isfinite(w).all() for w in all_weights(clf))
    try:
        proba = clf.predict_proba(X)
    except ValueError as error:
        assert "overflowed" in str(error) and "Scale the inputs" in str(error)
        with pytest.raises(ValueError, match="overflowed"):
            clf.predict(X)
    else:
        assert np.isfinite(proba).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    # Data on the scale of the weights is still predicted.
    assert_valid_probabilities(clf, X / scale)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_prediction_overflow_is_an_error_not_nan(n_classes):
    # Finite inputs and weights whose products overflow: relu passes the
    # infinities on, and the output layer makes NaN of them.
    X, y = blobs(n_samples=30, n_classes=n_classes)
    clf = quiet_fit(
        MLPBackpropClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0), X, y
    )
    clf.coefs_[0] *= 1e10
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for method in [
            "predict",
            "predict_proba",
            "predict_log_proba",
            "decision_function",
            "score",
        ]:
            args = (X * 1e300, y) if method == "score" else (X * 1e300,)
            with pytest.raises(ValueError, match="output overflowed"):
                getattr(clf, method)(*args)


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_logits_spanning_more_than_the_float_range(dtype):
    # Finite logits whose difference overflows: softmax's shift by the row
    # maximum gives -inf, whose probability is the exact 0, with no warning.
    X, y = blobs(n_samples=30)
    X = X.astype(dtype)
    clf = quiet_fit(
        MLPBackpropClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0), X, y
    )
    big = np.finfo(dtype).max * 0.9
    clf.coefs_[-1][:] = 0
    clf.intercepts_[-1][:] = np.array([big, -big, 0], dtype=dtype)
    proba = assert_valid_probabilities(clf, X)
    assert (clf.predict(X) == clf.classes_[0]).all()
    np.testing.assert_allclose(proba[:, 0], 1)


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    "make_X",
    [
        lambda X: np.zeros_like(X),
        lambda X: np.full_like(X, 1e6),
        lambda X: np.column_stack([X[:, :2], np.full(len(X), -7.0), X[:, 3:]]),
    ],
    ids=["all-zero", "all-1e6", "one-constant-column"],
)
def test_constant_columns(solver, make_X):
    X, y = blobs()
    X = make_X(X)
    clf = quiet_fit(
        MLPBackpropClassifier(
            hidden_layer_sizes=(8,), solver=solver, max_iter=50, random_state=0
        ),
        X,
        y,
    )
    proba = assert_valid_probabilities(clf, X)
    if np.ptp(X, axis=0).max() == 0:
        # Identical rows cannot be told apart.
        np.testing.assert_allclose(proba, proba[:1].repeat(len(X), axis=0))


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("labels", [np.arange(6), np.array(["a", "b"])])
def test_one_sample_per_class(solver, labels):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(len(labels), 3))
    clf = quiet_fit(
        MLPBackpropClassifier(
            hidden_layer_sizes=(16,), solver=solver, max_iter=500, random_state=0
        ),
        X,
        labels,
    )
    assert_valid_probabilities(clf, X)
    np.testing.assert_array_equal(clf.classes_, labels)
    assert (clf.predict(X) == labels).mean() >= 0.5


@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_extreme_class_imbalance(solver, n_classes):
    # One sample of each minority class among 3000.
    X, _ = blobs(n_samples=3000, n_classes=1)
    y = np.zeros(len(X), dtype=int)
    y[: n_classes - 1] = np.arange(1, n_classes)
    clf = quiet_fit(
        MLPBackpropClassifier(
            hidden_layer_sizes=(8,), solver=solver, max_iter=30, random_state=0
        ),
        X,
        y,
    )
    np.testing.assert_array_equal(clf.classes_, np.arange(n_classes))
    proba = assert_valid_probabilities(clf, X)
    assert proba[:, 0].mean() > 0.9


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_ten_thousand_classes():
    # One sample per class; small in features and hidden units so that the
    # 10,000-wide output layer stays cheap. One BLAS thread: on a small
    # machine, threading these thin products costs more than it gains.
    n_classes = 10_000
    rng = np.random.RandomState(0)
    X = rng.normal(size=(n_classes, 4))
    y = rng.permutation(n_classes) * 3  # labels that are not 0..n-1
    with threadpool_limits(limits=1), warnings.catch_warnings():
        # scikit-learn's hint that so many classes may be a regression target.
        warnings.filterwarnings("ignore", "The number of unique classes")
        clf = quiet_fit(
            MLPBackpropClassifier(hidden_layer_sizes=(4,), max_iter=1, random_state=0),
            X,
            y,
        )
        assert clf.classes_.shape == (n_classes,) and clf.n_outputs_ == n_classes
        assert_valid_probabilities(clf, X[:50])

        incremental = MLPBackpropClassifier(hidden_layer_sizes=(4,), random_state=0)
        incremental.partial_fit(X[:300], y[:300], classes=np.unique(y))
        proba = assert_valid_probabilities(incremental, X[:50])
    assert proba.shape == (50, n_classes)


# ------------------------------------------------------------ interruption
def _long_problem():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(2000, 20))
    y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int) + (X[:, 2] > 1)
    return X, y


def _interrupt(handler_signal, frame):
    raise KeyboardInterrupt


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs POSIX timers")
@pytest.mark.parametrize("solver", SOLVERS)
def test_ctrl_c_during_fit_leaves_a_usable_model(solver):
    X, y = _long_problem()
    # Never converges on its own: only the interruption can stop it.
    params = dict(
        hidden_layer_sizes=(64,),
        solver=solver,
        tol=0.0,
        n_iter_no_change=np.inf,
        random_state=0,
    )
    clf = MLPBackpropClassifier(max_iter=100_000, max_fun=10**7, **params)
    previous = signal.signal(signal.SIGALRM, _interrupt)
    try:
        with threadpool_limits(limits=1):
            # Early enough that even a fast machine is mid-fit: one BLAS thread
            # runs this lbfgs fit to its end in under half a second.
            signal.setitimer(signal.ITIMER_REAL, 0.15)
            with pytest.warns(UserWarning, match="Training interrupted by user"):
                clf.fit(X, y)
            signal.setitimer(signal.ITIMER_REAL, 0)
            assert 1 <= clf.n_iter_ < 100_000
            # The last finished epoch or iteration, exactly: the same run
            # stopped there by max_iter has the same weights.
            stopped = quiet_fit(
                MLPBackpropClassifier(max_iter=clf.n_iter_, **params), X, y
            )
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)

    assert all(np.isfinite(w).all() for w in all_weights(clf))
    assert len(clf.loss_curve_) == clf.n_iter_
    assert clf.loss_ == clf.loss_curve_[-1]
    if solver == "lbfgs":
        for kept, reference in zip(all_weights(clf), all_weights(stopped)):
            np.testing.assert_allclose(kept, reference, rtol=1e-10, atol=1e-12)
    else:
        assert_same_weights(clf, stopped)
        assert clf.t_ == clf.n_iter_ * len(X)
    np.testing.assert_allclose(clf.loss_curve_, stopped.loss_curve_, rtol=1e-10)
    assert_valid_probabilities(clf, X)
    assert clf.score(X, y) > 0.5

    # Training can go on from the interrupted state.
    if solver != "lbfgs":
        clf.partial_fit(X, y)
        assert np.isfinite(clf.loss_)
        assert all(np.isfinite(w).all() for w in all_weights(clf))


# ------------------------------------------------------------ determinism
@pytest.mark.parametrize(
    "params",
    [
        dict(solver="adam"),
        dict(solver="sgd", learning_rate="invscaling"),
        dict(solver="lbfgs"),
        dict(solver="adam", early_stopping=True),
        dict(solver="sgd", activation=["gelu", "tanh"], hidden_layer_sizes=(12, 6)),
    ],
    ids=lambda p: "-".join(f"{v}" for v in p.values()),
)
def test_same_seed_gives_bit_identical_weights(params):
    X, y = blobs(n_samples=300)
    with threadpool_limits(limits=1):
        runs = [
            quiet_fit(
                MLPBackpropClassifier(max_iter=15, random_state=7, **params), X, y
            )
            for _ in range(3)
        ]
    for other in runs[1:]:
        assert_same_weights(runs[0], other)
        assert other.loss_curve_ == runs[0].loss_curve_


_FINGERPRINT_SCRIPT = textwrap.dedent(
    """
    import hashlib, warnings
    import numpy as np
    from threadpoolctl import threadpool_limits
    from skbackprop import MLPBackpropClassifier

    rng = np.random.RandomState(0)
    X = rng.normal(size=(300, 6))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    warnings.simplefilter("ignore")
    digest = hashlib.sha256()
    with threadpool_limits(limits=1):
        for solver in ["adam", "sgd", "lbfgs"]:
            clf = MLPBackpropClassifier(hidden_layer_sizes=(16, 8), solver=solver,
                                        max_iter=20, random_state=3).fit(X, y)
            for w in clf.coefs_ + clf.intercepts_:
                digest.update(np.ascontiguousarray(w).tobytes())
    print(digest.hexdigest())
    """
)


def test_separate_processes_give_bit_identical_weights():
    # A new process has a new memory layout and new library state.
    digests = {
        subprocess.run(
            [sys.executable, "-c", _FINGERPRINT_SCRIPT],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        for _ in range(2)
    }
    assert len(digests) == 1 and len(next(iter(digests))) == 64


@pytest.mark.parametrize(
    "params",
    [
        dict(solver="sgd", nesterovs_momentum=True),
        dict(
            solver="sgd",
            nesterovs_momentum=False,
            learning_rate="invscaling",
            learning_rate_init=0.05,
        ),
        dict(solver="sgd", learning_rate="adaptive", tol=10.0, n_iter_no_change=1),
        dict(solver="adam", batch_size=32),
    ],
    ids=["sgd-nesterov", "sgd-invscaling", "sgd-adaptive", "adam-batches"],
)
@pytest.mark.parametrize("seed", [0, "instance"])
def test_partial_fit_continues_exactly_after_pickle(params, seed):
    # Weights, optimizer state and the shuffling generator all travel: the
    # pickled model goes on as if it had never been saved.
    X, y = blobs(n_samples=200)
    classes = np.unique(y)

    def make():
        random_state = np.random.RandomState(5) if seed == "instance" else seed
        return MLPBackpropClassifier(
            hidden_layer_sizes=(10,), shuffle=True, random_state=random_state, **params
        )

    uninterrupted, resumed = make(), make()
    with threadpool_limits(limits=1):
        for _ in range(3):
            uninterrupted.partial_fit(X, y, classes=classes)
            resumed.partial_fit(X, y, classes=classes)
        resumed = pickle.loads(pickle.dumps(resumed))
        np.testing.assert_equal(
            resumed._training_state.random_state.get_state(legacy=False),
            uninterrupted._training_state.random_state.get_state(legacy=False),
        )
        if seed == "instance":
            # The parameter and the fitted generator stay one object.
            assert resumed.random_state is resumed._training_state.random_state
        for _ in range(4):
            uninterrupted.partial_fit(X, y)
            resumed.partial_fit(X, y)
    assert_same_weights(uninterrupted, resumed)
    assert resumed.loss_curve_ == uninterrupted.loss_curve_
    assert resumed.t_ == uninterrupted.t_
    np.testing.assert_equal(
        resumed._training_state.random_state.get_state(legacy=False),
        uninterrupted._training_state.random_state.get_state(legacy=False),
    )


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_warm_start_continues_exactly_after_pickle(solver):
    X, y = blobs(n_samples=200)
    params = dict(
        hidden_layer_sizes=(10,),
        solver=solver,
        warm_start=True,
        max_iter=4,
        tol=0.0,
        n_iter_no_change=100,
        random_state=1,
    )
    with threadpool_limits(limits=1):
        uninterrupted = quiet_fit(MLPBackpropClassifier(**params), X, y)
        resumed = pickle.loads(pickle.dumps(uninterrupted))
        quiet_fit(uninterrupted, X, y)
        quiet_fit(resumed, X, y)
    assert_same_weights(uninterrupted, resumed)
    assert resumed.loss_curve_ == uninterrupted.loss_curve_


# --------------------------------------------------------------- threads
@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
@pytest.mark.parametrize("n_outputs", ["binary", "multiclass", "multilabel"])
def test_concurrent_predictions_equal_sequential_ones(container, n_outputs):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(600, 8))
    if n_outputs == "binary":
        y = (X[:, 0] > 0).astype(int)
    elif n_outputs == "multiclass":
        y = np.digitize(X[:, 0] + X[:, 1], [-1, 0, 1])
    else:
        y = (X[:, :3] > 0).astype(int)
    clf = quiet_fit(
        MLPBackpropClassifier(hidden_layer_sizes=(32, 16), max_iter=20, random_state=0),
        X,
        y,
    )
    methods = ["predict", "predict_proba", "predict_log_proba", "decision_function"]
    chunks = [container(X[i::7]) for i in range(7)]
    tasks = [(method, i) for _ in range(4) for method in methods for i in range(7)]
    # One BLAS thread: the comparison is about our code sharing nothing
    # between calls, not about BLAS's reduction order.
    with threadpool_limits(limits=1):
        expected = {
            (m, i): getattr(clf, m)(chunks[i]) for m in methods for i in range(7)
        }
        state_before = pickle.dumps(clf)
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda t: getattr(clf, t[0])(chunks[t[1]]), tasks))
    for task, result in zip(tasks, results, strict=True):
        np.testing.assert_array_equal(result, expected[task])
    assert pickle.dumps(clf) == state_before  # prediction wrote nothing
