"""
=============================
Scaling out on a dask cluster
=============================

Three ways of putting a dask cluster to work for
:class:`~skbackprop.MLPBackpropClassifier`:

1. a grid search whose fits run on the cluster's workers, through joblib's
   dask backend;
2. out-of-core training: :class:`dask_ml.wrappers.Incremental` hands the
   chunks of a dask array to ``partial_fit``, one chunk at a time, for several
   passes;
3. prediction on a dask array, chunk by chunk, with
   :class:`dask_ml.wrappers.ParallelPostFit`.

It needs the ``dask`` extra (``pip install skbackprop[dask]``). By default it
starts a local cluster of two single-threaded worker processes; give it the
address of a running scheduler to use that cluster instead::

    python dask_scale_out.py
    python dask_scale_out.py --scheduler tcp://scheduler:8786

The workers of a real cluster need skbackprop installed, in the same version
as here. This script is not run when the documentation is built, since it
starts a cluster; see :ref:`scaling_out` for the whole story.
"""

import argparse
import contextlib
import time

import dask.array as da
import joblib
import numpy as np
from dask_ml.wrappers import Incremental, ParallelPostFit
from distributed import Client, LocalCluster
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_info

from skbackprop import MLPBackpropClassifier

# One BLAS thread per worker process: the workers already share the cores
# among themselves, and BLAS threads on top of them would oversubscribe.
SINGLE_THREADED_BLAS = {
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


@contextlib.contextmanager
def connect(scheduler=None, n_workers=2):
    """Yield a client of the given scheduler, or of a new local cluster.

    Parameters
    ----------
    scheduler : str, optional
        Address of a running scheduler, such as ``"tcp://scheduler:8786"``.
        When omitted, a local cluster is started and closed again on exit.
    n_workers : int, default=2
        Worker processes of the local cluster, one thread each.

    Yields
    ------
    client : distributed.Client
        The client, also registered as the default one, so that joblib's dask
        backend and dask's ``compute`` use it.
    """
    with contextlib.ExitStack() as stack:
        if scheduler is None:
            # Processes rather than threads: MLP training holds the GIL for
            # its Python-level loop, so threads would take turns.
            scheduler = stack.enter_context(
                LocalCluster(
                    n_workers=n_workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    env=SINGLE_THREADED_BLAS,
                )
            )
        yield stack.enter_context(Client(scheduler))


def load_data(random_state=0):
    """Standardized digits, split into 75% training and 25% test rows.

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray
    """
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=random_state
    )
    scaler = StandardScaler().fit(X_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


def worker_blas_threads(client):
    """Largest number of BLAS threads on each worker.

    Parameters
    ----------
    client : distributed.Client

    Returns
    -------
    dict
        Worker address -> the most threads any of its BLAS libraries uses.
    """
    pools = client.run(threadpool_info)
    return {
        worker: max(
            (pool["num_threads"] for pool in info if pool["user_api"] == "blas"),
            default=0,
        )
        for worker, info in pools.items()
    }


def distributed_grid_search(X, y, random_state=0):
    """Grid-search the penalty and the hidden layer on the cluster.

    Every (candidate, fold) fit is a task on the default client's cluster.

    Parameters
    ----------
    X, y : ndarray
        Training data.
    random_state : int, default=0
        Seed of the networks' initial weights and batches.

    Returns
    -------
    search : GridSearchCV
        The fitted search; its ``best_estimator_`` was refit here.
    """
    search = GridSearchCV(
        MLPBackpropClassifier(
            # Enough epochs for every fit to stop on its own tolerance.
            max_iter=100,
            batch_size=32,
            learning_rate_init=0.01,
            random_state=random_state,
        ),
        {"alpha": [1e-4, 1e-2, 1e-1], "hidden_layer_sizes": [(16,), (64,)]},
        cv=3,
        n_jobs=-1,
    )
    # Inside this block joblib sends its work to dask instead of to local
    # processes; scikit-learn's search itself is unchanged.
    with joblib.parallel_config(backend="dask"):
        search.fit(X, y)
    return search


def out_of_core_training(X_chunks, y_chunks, classes, n_passes=5, random_state=0):
    """Train on a chunked dask array through ``partial_fit``.

    Parameters
    ----------
    X_chunks, y_chunks : dask.array.Array
        Training data, chunked along the rows only.
    classes : ndarray
        Every class of the problem; the first chunk may not show them all.
    n_passes : int, default=5
        Passes over the whole array; each pass calls ``partial_fit`` once
        per chunk, which trains one epoch on that chunk.
    random_state : int, default=0
        Seed of the network and of the order of the chunks.

    Returns
    -------
    model : dask_ml.wrappers.Incremental
        The wrapper; ``model.estimator_`` is the trained classifier.
    """
    model = Incremental(
        MLPBackpropClassifier(
            hidden_layer_sizes=(64,),
            batch_size=32,
            learning_rate_init=0.01,
            random_state=random_state,
        ),
        scoring="accuracy",
        random_state=random_state,
    )
    for _ in range(n_passes):
        model.partial_fit(X_chunks, y_chunks, classes=classes)
    return model


def main(argv=None):
    """Run the three demonstrations and print what they found.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    dict
        The fitted search, the out-of-core model and accuracies, for callers
        that want more than the printout.
    """
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[1])
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="address of a running dask scheduler, e.g. tcp://scheduler:8786; "
        "a local cluster is started when omitted",
    )
    parser.add_argument(
        "--n-workers",
        type=int,
        default=2,
        help="worker processes of the local cluster (default: 2)",
    )
    parser.add_argument(
        "--passes", type=int, default=5, help="passes of out-of-core training"
    )
    args = parser.parse_args(argv)

    X_train, X_test, y_train, y_test = load_data()
    results = {}

    with connect(args.scheduler, n_workers=args.n_workers) as client:
        workers = client.scheduler_info()["workers"]
        print(f"Cluster: {len(workers)} workers at {client.scheduler.address}")
        for worker, threads in sorted(worker_blas_threads(client).items()):
            print(f"  {worker}: {threads} BLAS thread(s)")

        # 1. Distributed grid search.
        start = time.perf_counter()
        search = distributed_grid_search(X_train, y_train)
        n_fits = len(search.cv_results_["params"]) * search.n_splits_
        print(
            f"\nGrid search: {n_fits} fits in "
            f"{time.perf_counter() - start:.1f} s on the cluster"
        )
        print(f"  best parameters: {search.best_params_}")
        print(f"  cross-validated accuracy: {search.best_score_:.4f}")
        print(f"  test accuracy: {search.score(X_test, y_test):.4f}")
        results["search"] = search

        # 2. Out-of-core training. A dask array stands for data too large
        # for memory; here it is built from memory for the sake of the
        # example, while a real one would be read from disk, for instance
        # with ``da.from_zarr``.
        X_chunks = da.from_array(X_train, chunks=(270, -1))
        y_chunks = da.from_array(y_train, chunks=270)
        start = time.perf_counter()
        model = out_of_core_training(
            X_chunks, y_chunks, classes=np.unique(y_train), n_passes=args.passes
        )
        elapsed = time.perf_counter() - start

        # 3. Prediction on a dask array. Each chunk of the test array is
        # predicted where it lies; the result is again a dask array until it
        # is computed.
        X_test_chunks = da.from_array(X_test, chunks=(150, -1))
        predicted = ParallelPostFit(model.estimator_).predict(X_test_chunks)
        out_of_core_accuracy = float(np.mean(predicted.compute() == y_test))

        in_memory = MLPBackpropClassifier(
            hidden_layer_sizes=(64,),
            batch_size=32,
            learning_rate_init=0.01,
            random_state=0,
        ).fit(X_train, y_train)
        in_memory_accuracy = in_memory.score(X_test, y_test)
        print(
            f"\nOut-of-core training: {args.passes} passes over "
            f"{X_chunks.numblocks[0]} chunks in {elapsed:.1f} s"
        )
        print(f"  test accuracy: {out_of_core_accuracy:.4f}")
        print(f"  in-memory fit ({in_memory.n_iter_} epochs): {in_memory_accuracy:.4f}")
        results.update(
            model=model,
            out_of_core_accuracy=out_of_core_accuracy,
            in_memory_accuracy=in_memory_accuracy,
        )
    return results


if __name__ == "__main__":
    # The guard matters: worker processes are started by re-importing this
    # file, and must not start clusters of their own.
    main()
