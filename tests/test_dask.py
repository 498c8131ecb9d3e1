"""Scaling out on dask: distributed search, out-of-core training, prediction.

These tests need the ``dask`` extra (``pip install skbackprop[dask]``). CI
installs it and fails if it is missing; elsewhere the module is skipped without
it, so that the core test suite still runs on numpy, scipy and scikit-learn
alone.

One cluster of two worker *processes* serves the whole module. Processes
rather than threads, because threads share the interpreter: estimators would
never be pickled on their way to a worker and back, and a pickling fault would
go unnoticed. Each worker has one thread, and its BLAS one thread too, so that
two workers on a two-core machine use two cores, not four.
"""

import os
import re
import runpy
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from _extras import import_extra  # noqa: E402

dask = import_extra("dask")
da = import_extra("dask.array")
distributed = import_extra("distributed")
dask_ml_wrappers = import_extra("dask_ml.wrappers")
dask_ml_model_selection = import_extra("dask_ml.model_selection")

import joblib  # noqa: E402
from packaging.version import Version  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.experimental import enable_halving_search_cv  # noqa: E402, F401
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    HalvingRandomSearchCV,
    RandomizedSearchCV,
)
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from skbackprop import MLPBackpropClassifier, MLPBackpropRegressor  # noqa: E402

HyperbandSearchCV = dask_ml_model_selection.HyperbandSearchCV
IncrementalSearchCV = dask_ml_model_selection.IncrementalSearchCV
InverseDecaySearchCV = dask_ml_model_selection.InverseDecaySearchCV
SuccessiveHalvingSearchCV = dask_ml_model_selection.SuccessiveHalvingSearchCV
Incremental = dask_ml_wrappers.Incremental
ParallelPostFit = dask_ml_wrappers.ParallelPostFit

# Environment of the worker processes. BLAS libraries read these when they
# are loaded, so they must be set before the worker imports numpy: passing
# them to the nanny, which starts the worker, does exactly that.
SINGLE_THREADED_BLAS = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}

# dask 2025.3.0 made dask.compute/persist refuse to run from inside an
# asynchronous client's event loop, which is where dask-ml's successive
# halving searches (IncrementalSearchCV, HyperbandSearchCV and their
# subclasses) call dask.persist. Up to dask 2025.2.0 they work.
SUCCESSIVE_HALVING_BROKEN = Version(dask.__version__) >= Version("2025.3.0")
SUCCESSIVE_HALVING_ERROR = (
    "Attempting to use an asynchronous Client in a synchronous context of "
    "`dask.compute`"
)

N_CLASSES = 10


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def client():
    """A two-process local cluster, shut down when the module is done."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env=SINGLE_THREADED_BLAS,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


# The data is conftest.py's ``digits_split``: standardized digits, split
# 75/25 with every class on both sides.


def _clf(**params):
    """A small network that learns the digits in a few dozen epochs."""
    defaults = dict(
        hidden_layer_sizes=(32,),
        batch_size=32,
        learning_rate_init=0.01,
        random_state=0,
    )
    defaults.update(params)
    return MLPBackpropClassifier(**defaults)


# --------------------------------------------------------------------------
# The cluster itself
# --------------------------------------------------------------------------


def test_workers_are_separate_processes_with_one_blas_thread(client):
    workers = client.scheduler_info()["workers"]
    assert len(workers) == 2
    assert all(info["nthreads"] == 1 for info in workers.values())

    pids = client.run(os.getpid)
    assert len(set(pids.values())) == 2
    assert os.getpid() not in pids.values()

    # A worker has numpy, hence BLAS, loaded as soon as it starts.
    pools = client.run(threadpool_info)
    assert set(pools) == set(workers)
    for worker, worker_pools in pools.items():
        assert any(pool["user_api"] == "blas" for pool in worker_pools), worker
        for pool in worker_pools:
            assert pool["num_threads"] == 1, (worker, pool)


# --------------------------------------------------------------------------
# Distributed hyper-parameter search through joblib's dask backend
# --------------------------------------------------------------------------

SEARCHES = {
    "grid": lambda est: GridSearchCV(
        est,
        {"alpha": [1e-4, 1e-1], "hidden_layer_sizes": [(8,), (16,)]},
        cv=3,
        return_train_score=True,
        n_jobs=-1,
    ),
    "randomized": lambda est: RandomizedSearchCV(
        est,
        {
            "alpha": [1e-5, 1e-4, 1e-3, 1e-2, 1e-1],
            "learning_rate_init": [3e-3, 1e-2, 3e-2],
            "activation": ["relu", "tanh"],
        },
        n_iter=4,
        cv=3,
        return_train_score=True,
        random_state=0,
        n_jobs=-1,
    ),
    # scikit-learn's own successive halving: each round's fits are one
    # joblib batch, so they too run on the cluster.
    "halving": lambda est: HalvingRandomSearchCV(
        est,
        {
            "alpha": [1e-5, 1e-4, 1e-3, 1e-2, 1e-1],
            "hidden_layer_sizes": [(8,), (16,), (32,)],
        },
        n_candidates=6,
        factor=2,
        min_resources=150,
        cv=3,
        return_train_score=True,
        random_state=0,
        n_jobs=-1,
    ),
}


def _comparable_results(cv_results):
    """cv_results_ without the timings, which differ from run to run."""
    return {
        key: list(value) if key.startswith("param") else np.asarray(value)
        for key, value in cv_results.items()
        if not key.endswith("_time")
    }


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("kind", sorted(SEARCHES))
def test_search_on_cluster_equals_local_search(client, digits_split, kind):
    X_train, _, y_train, _ = digits_split
    X, y = X_train[:600], y_train[:600]
    est = _clf(max_iter=15)

    # The workers compute with one BLAS thread. The refit after the search
    # and the whole reference search run here, so they get one thread too:
    # then both searches add up the same numbers in the same order, and any
    # difference is the search's, not floating point's.
    with threadpool_limits(limits=1):
        with distributed.get_task_stream(client) as stream:
            with joblib.parallel_config(backend="dask"):
                remote = SEARCHES[kind](est).fit(X, y)
        local = SEARCHES[kind](est).set_params(n_jobs=1).fit(X, y)

    # The fits ran as tasks on the cluster's workers, not in this process.
    fit_tasks = [t for t in stream.data if "_fit_and_score" in t["key"]]
    assert fit_tasks
    assert {t["worker"] for t in fit_tasks} <= set(client.scheduler_info()["workers"])

    remote_results = _comparable_results(remote.cv_results_)
    local_results = _comparable_results(local.cv_results_)
    assert remote_results.keys() == local_results.keys()
    for key, value in local_results.items():
        if isinstance(value, list):
            assert remote_results[key] == value, key
        else:
            np.testing.assert_array_equal(remote_results[key], value, err_msg=key)
    assert remote.best_params_ == local.best_params_
    assert remote.best_index_ == local.best_index_
    # Both refits ran here, with the same data and parameters.
    for remote_coef, local_coef in zip(
        remote.best_estimator_.coefs_, local.best_estimator_.coefs_, strict=True
    ):
        np.testing.assert_array_equal(remote_coef, local_coef)
    # A real search, not a degenerate one: some candidate learned the digits.
    assert remote.best_score_ > 0.85


# --------------------------------------------------------------------------
# Out-of-core training: Incremental feeds the chunks to partial_fit
# --------------------------------------------------------------------------

# Tolerance of the out-of-core model against the in-memory one, in test-set
# accuracy: 2 percentage points, 9 of the 450 test digits.
ACCURACY_TOLERANCE = 0.02
N_PASSES = 5
CHUNK_ROWS = 270


def test_incremental_reaches_in_memory_accuracy(client, digits_split):
    X_train, X_test, y_train, y_test = digits_split
    # 1,347 training rows in chunks of 270: five chunks, the last one short.
    X_chunks = da.from_array(X_train, chunks=(CHUNK_ROWS, -1))
    y_chunks = da.from_array(y_train, chunks=CHUNK_ROWS)
    n_chunks = X_chunks.numblocks[0]
    assert n_chunks == 5

    with warnings.catch_warnings():
        # Early stopping on the training loss ends the in-memory fit.
        warnings.simplefilter("error", ConvergenceWarning)
        in_memory = _clf(max_iter=200).fit(X_train, y_train)
    in_memory_accuracy = in_memory.score(X_test, y_test)

    # random_state fixes the order in which the chunks are visited.
    model = Incremental(_clf(), scoring="accuracy", random_state=0)
    for _ in range(N_PASSES):
        model.partial_fit(X_chunks, y_chunks, classes=np.arange(N_CLASSES))

    fitted = model.estimator_
    # t_ counts the samples partial_fit has seen: every chunk reached it once
    # per pass.
    assert fitted.t_ == N_PASSES * len(X_train)
    np.testing.assert_array_equal(fitted.classes_, np.arange(N_CLASSES))

    out_of_core_accuracy = model.score(
        da.from_array(X_test, chunks=150), da.from_array(y_test, chunks=150)
    )
    assert out_of_core_accuracy == pytest.approx(fitted.score(X_test, y_test))
    assert in_memory_accuracy > 0.95
    assert out_of_core_accuracy >= in_memory_accuracy - ACCURACY_TOLERANCE


def test_incremental_one_pass_is_one_partial_fit_per_chunk(client, digits_split):
    X_train, _, y_train, _ = digits_split
    X_chunks = da.from_array(X_train, chunks=(CHUNK_ROWS, -1))
    y_chunks = da.from_array(y_train, chunks=CHUNK_ROWS)

    # Without shuffling, the chunks go in order, so the result is that of
    # calling partial_fit on each chunk here, one after the other.
    model = Incremental(_clf(), shuffle_blocks=False)
    model.partial_fit(X_chunks, y_chunks, classes=np.arange(N_CLASSES))

    with threadpool_limits(limits=1):
        local = _clf()
        for start in range(0, len(X_train), CHUNK_ROWS):
            rows = slice(start, start + CHUNK_ROWS)
            local.partial_fit(
                X_train[rows], y_train[rows], classes=np.arange(N_CLASSES)
            )

    assert model.estimator_.t_ == local.t_ == len(X_train)
    for remote_coef, local_coef in zip(
        model.estimator_.coefs_, local.coefs_, strict=True
    ):
        np.testing.assert_allclose(remote_coef, local_coef, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------
# Prediction on dask arrays
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(digits_split):
    X_train, _, y_train, _ = digits_split
    return _clf(max_iter=200).fit(X_train, y_train)


@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba"])
def test_parallel_post_fit_equals_in_memory(client, digits_split, fitted, method):
    _, X_test, _, _ = digits_split
    X_chunks = da.from_array(X_test, chunks=(100, -1))

    result = getattr(ParallelPostFit(fitted), method)(X_chunks)
    assert isinstance(result, da.Array)
    assert result.numblocks[0] == X_chunks.numblocks[0]
    computed = result.compute()

    expected = getattr(fitted, method)(X_test)
    assert computed.shape == expected.shape
    if method == "predict":
        np.testing.assert_array_equal(computed, expected)
    else:
        # Row by row the same arithmetic; only BLAS threading may differ.
        np.testing.assert_allclose(computed, expected, rtol=1e-12, atol=1e-12)


def test_map_blocks_prediction_equals_in_memory(client, digits_split, fitted):
    _, X_test, _, y_test = digits_split
    X_chunks = da.from_array(X_test, chunks=(100, -1))

    labels = X_chunks.map_blocks(
        fitted.predict, drop_axis=1, dtype=fitted.classes_.dtype
    )
    proba = X_chunks.map_blocks(
        fitted.predict_proba,
        chunks=(X_chunks.chunks[0], (len(fitted.classes_),)),
        dtype=np.float64,
    )
    labels, proba = dask.compute(labels, proba)

    np.testing.assert_array_equal(labels, fitted.predict(X_test))
    np.testing.assert_allclose(
        proba, fitted.predict_proba(X_test), rtol=1e-12, atol=1e-12
    )
    assert ParallelPostFit(fitted).score(X_chunks, y_test) == pytest.approx(
        fitted.score(X_test, y_test)
    )


# --------------------------------------------------------------------------
# dask-ml's successive-halving searches
# --------------------------------------------------------------------------

SUCCESSIVE_HALVING = {
    # decay_rate=None silences dask-ml's FutureWarning about its old default.
    "incremental": lambda est, params: IncrementalSearchCV(
        est,
        params,
        n_initial_parameters=4,
        max_iter=6,
        decay_rate=None,
        random_state=0,
    ),
    "hyperband": lambda est, params: HyperbandSearchCV(
        est, params, max_iter=9, random_state=0
    ),
    "successive-halving": lambda est, params: SuccessiveHalvingSearchCV(
        est, params, n_initial_parameters=4, n_initial_iter=2, random_state=0
    ),
    "inverse-decay": lambda est, params: InverseDecaySearchCV(
        est, params, n_initial_parameters=4, max_iter=6, random_state=0
    ),
}


@pytest.mark.filterwarnings("ignore:The total space of parameters:UserWarning")
@pytest.mark.parametrize("kind", sorted(SUCCESSIVE_HALVING))
def test_successive_halving_search(client, digits_split, kind):
    """Works up to dask 2025.2.0, fails as documented from dask 2025.3.0 on."""
    X_train, _, y_train, _ = digits_split
    X_chunks = da.from_array(X_train, chunks=(CHUNK_ROWS, -1))
    y_chunks = da.from_array(y_train, chunks=CHUNK_ROWS)
    params = {"alpha": [1e-4, 1e-2], "learning_rate_init": [1e-3, 1e-2]}
    search = SUCCESSIVE_HALVING[kind](_clf(), params)

    if SUCCESSIVE_HALVING_BROKEN:
        with pytest.raises(RuntimeError, match=re.escape(SUCCESSIVE_HALVING_ERROR)):
            search.fit(X_chunks, y_chunks, classes=np.arange(N_CLASSES))
    else:
        search.fit(X_chunks, y_chunks, classes=np.arange(N_CLASSES))
        assert search.best_params_ in [
            dict(alpha=a, learning_rate_init=r)
            for a in params["alpha"]
            for r in params["learning_rate_init"]
        ]
        scores = np.asarray(search.cv_results_["test_score"])
        assert search.best_score_ == scores.max()
        # Five times chance, after a handful of one-chunk partial_fit calls.
        assert search.best_score_ > 0.5
        assert isinstance(search.best_estimator_, MLPBackpropClassifier)


# --------------------------------------------------------------------------
# The example script
# --------------------------------------------------------------------------

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "dask_scale_out.py"


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_example_runs_against_a_scheduler_address(client, capsys):
    # Run under another name, the script only defines its functions.
    example = runpy.run_path(str(EXAMPLE), run_name="dask_scale_out")
    address = client.scheduler.address
    results = example["main"](["--scheduler", address])

    out = capsys.readouterr().out
    assert f"Cluster: 2 workers at {address}" in out
    assert out.count("1 BLAS thread(s)") == 2
    assert "Grid search: 18 fits" in out
    assert "Out-of-core training: 5 passes over 5 chunks" in out

    assert results["search"].best_score_ > 0.9
    assert results["out_of_core_accuracy"] >= (
        results["in_memory_accuracy"] - ACCURACY_TOLERANCE
    )
    # The example's client is closed; the module's is still the default.
    assert distributed.default_client() is client


def test_example_script_starts_and_closes_a_local_cluster():
    # As a script, in a fresh interpreter: the ``__main__`` guard is what
    # keeps the spawned worker processes from starting clusters themselves.
    completed = subprocess.run(
        [sys.executable, str(EXAMPLE), "--passes", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Cluster: 2 workers at tcp://127.0.0.1:" in completed.stdout
    assert "Out-of-core training: 2 passes over 5 chunks" in completed.stdout
    accuracies = re.findall(r"test accuracy: (0\.\d+)", completed.stdout)
    assert len(accuracies) == 2
    assert all(float(accuracy) > 0.9 for accuracy in accuracies)


# --------------------------------------------------------------------------
# The regressor on dask: out-of-core training and prediction
# --------------------------------------------------------------------------


def test_regressor_incremental_and_parallel_prediction(client):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(600, 5))
    y = X @ rng.normal(size=5) + np.sin(X[:, 0])
    X_chunks = da.from_array(X, chunks=(200, -1))
    # dask-ml's Incremental hands partial_fit one block of y per block of X,
    # which it knows how to do for a 1-D y.
    y_chunks = da.from_array(y, chunks=200)
    params = dict(hidden_layer_sizes=(16,), random_state=0, learning_rate_init=0.01)

    # Without shuffling, Incremental is partial_fit on each chunk in order.
    model = Incremental(MLPBackpropRegressor(**params), shuffle_blocks=False)
    model.partial_fit(X_chunks, y_chunks)
    with threadpool_limits(limits=1):
        local = MLPBackpropRegressor(**params)
        for start in range(0, 600, 200):
            local.partial_fit(X[start : start + 200], y[start : start + 200])
    for remote, near in zip(model.estimator_.coefs_, local.coefs_, strict=True):
        np.testing.assert_allclose(remote, near, rtol=1e-12, atol=1e-12)

    prediction = ParallelPostFit(local).predict(X_chunks).compute()
    np.testing.assert_allclose(prediction, local.predict(X), rtol=1e-12)
    # Several outputs predict block by block with map_blocks (dask-ml's
    # ParallelPostFit assumes one output per row).
    several = MLPBackpropRegressor(**params).fit(X, np.column_stack([y, -y]))
    prediction = X_chunks.map_blocks(
        several.predict, chunks=(200, 2), dtype=np.float64
    ).compute()
    np.testing.assert_allclose(prediction, several.predict(X), rtol=1e-12)
    assert prediction.shape == (600, 2)
