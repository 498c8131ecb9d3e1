"""Benchmark MLPBackpropClassifier and MLPBackpropRegressor against scikit-learn.

Run from the repository root::

    python benchmarks/run.py              # full size, 1 and 2 BLAS threads
    python benchmarks/run.py --quick      # subsampled smoke run, about a minute
    python benchmarks/run.py --profile    # where the time of one fit goes

For every (BLAS thread count, dataset, dtype) case the contenders of the
dataset's task (ours, MLPClassifier or MLPRegressor and, when torch imports, a
PyTorch loop) train the same network for the same fixed number of epochs,
interleaved round by round in this one process, and the matrix products of
one epoch and of one prediction are timed in the same rounds. The Markdown
report, a PNG plot and the raw JSON records go to ``--output-dir``.
``benchmarks/README.md`` says what each number means.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import inspect
import io
import json
import pstats
import signal
import sys
import sysconfig
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS_DIR.parent
# Benchmark the checkout this script lives in, installed or not.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(1, str(REPO_ROOT))

import _measure  # noqa: E402  (this folder is on the path as the script's own)
import _report  # noqa: E402

DEFAULT_OUTPUT_DIR = BENCHMARKS_DIR / "results"
#: Quick runs write where git ignores them, so smoke runs change no file.
QUICK_OUTPUT_DIR = BENCHMARKS_DIR / "results" / "raw" / "quick"
README_PATH = BENCHMARKS_DIR / "README.md"
#: Epochs of a profiled fit unless ``--epochs`` says otherwise.
PROFILE_EPOCHS = 3


def log(message):
    """Print a progress line to stderr; stdout carries only the output path."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _comma_list(text):
    return [item.strip() for item in text.split(",") if item.strip()]


def _is_regression(dataset):
    return _measure.dataset_task(dataset) == "regression"


def parse_args(argv=None):
    """Parse the command line.

    Parameters
    ----------
    argv : list of str or None
        Arguments; ``None`` reads ``sys.argv``.

    Returns
    -------
    args : argparse.Namespace
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    datasets = ",".join(_measure.FULL_CONFIGS)
    add = parser.add_argument
    add(
        "--quick",
        action="store_true",
        help="smoke run: subsampled data, 2 epochs, 1 thread",
    )
    add("--repeats", type=int, default=3, help="interleaved rounds per case (3)")
    add(
        "--threads",
        type=_comma_list,
        help="comma-separated BLAS thread counts (default 1,2; 1 with --quick)",
    )
    add(
        "--datasets",
        type=_comma_list,
        default=list(_measure.FULL_CONFIGS),
        help=f"comma-separated subset of {datasets} (regression: "
        f"{','.join(d for d in _measure.FULL_CONFIGS if _is_regression(d))})",
    )
    add(
        "--dtypes",
        type=_comma_list,
        default=["float32", "float64"],
        help="comma-separated dtypes (float32,float64)",
    )
    add("--epochs", type=int, help="override every dataset's epoch count")
    add(
        "--predict-rows",
        type=int,
        help="rows of each timed predict_proba or predict call (10000; 2000 "
        "with --quick)",
    )
    add(
        "--predict-calls",
        type=int,
        default=3,
        help="timed prediction calls per contender per round (3)",
    )
    add("--no-torch", action="store_true", help="leave out the PyTorch loop")
    add("--no-memory", action="store_true", help="skip the traced peak-memory fits")
    add(
        "--fashion-dir",
        help=f"folder of the Fashion-MNIST IDX files ({_measure.FASHION_MNIST_DIR})",
    )
    add(
        "--output-dir",
        type=Path,
        help="where outputs go (benchmarks/results; with --quick, "
        "benchmarks/results/raw/quick)",
    )
    add(
        "--update-readme",
        action="store_true",
        help="also replace a results block of benchmarks/README.md with the report",
    )
    add(
        "--readme-section",
        default="results",
        help="NAME of the README block <!-- NAME:start --> ... <!-- NAME:end -->",
    )
    add(
        "--from-json",
        type=Path,
        help="measure nothing: re-render a saved results.json (into its folder, "
        "or --output-dir)",
    )
    add(
        "--profile",
        action="store_true",
        help="profile our fit instead (first of --datasets, --dtypes, --threads; "
        f"{PROFILE_EPOCHS} epochs)",
    )
    add(
        "--serial-profile",
        action="store_true",
        help="profile our fit at each of --threads (1 and more; first of "
        "--datasets and --dtypes) and split the epoch's serial fraction by "
        "function",
    )
    add(
        "--top",
        type=int,
        default=25,
        help="--profile: rows of each cProfile table; --serial-profile: "
        "functions in its table (25)",
    )
    add(
        "--line-functions",
        type=int,
        default=4,
        help="--profile: package functions to profile line by line (4)",
    )
    args = parser.parse_args(argv)

    if args.repeats < 1 or args.predict_calls < 1:
        parser.error("--repeats and --predict-calls must be at least 1")
    unknown = set(args.datasets) - set(_measure.FULL_CONFIGS)
    if unknown:
        parser.error(f"unknown dataset(s): {', '.join(sorted(unknown))}")
    if args.threads is None:
        args.threads = ["1"] if args.quick else ["1", "2"]
    if args.predict_rows is None:
        args.predict_rows = 2_000 if args.quick else 10_000
    try:
        args.threads = [int(t) for t in args.threads]
        args.dtypes = [np.dtype(d).name for d in args.dtypes]
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    if args.serial_profile and (1 not in args.threads or len(set(args.threads)) < 2):
        parser.error(
            "--serial-profile compares one thread with more: give --threads "
            "1 and another count, e.g. --threads 1,2"
        )
    args.output_dir_given = args.output_dir is not None
    if args.output_dir is None:
        args.output_dir = QUICK_OUTPUT_DIR if args.quick else DEFAULT_OUTPUT_DIR
    return args


def case_config(dataset, args):
    """Return the :class:`_measure.BenchConfig` of ``dataset`` for this run."""
    config = _measure.FULL_CONFIGS[dataset]
    if args.quick:
        config = _measure.quick_config(config)
    if args.epochs is not None:
        config = replace(config, epochs=args.epochs)
    return config


def load_case_data(config, dtype, args, skipped):
    """Load the data of ``config`` in ``dtype``, or ``None`` if not installed.

    Why a dataset is missing is logged and added to ``skipped``, which the
    report lists.
    """
    try:
        return _measure.load_dataset(
            config.dataset,
            np.dtype(dtype),
            config.n_train,
            config.n_test,
            args.fashion_dir,
        )
    except _measure.DatasetUnavailable as error:
        log(str(error))
        if str(error) not in skipped:
            skipped.append(str(error))
        return None


def warm_up(contenders, config, data, dtype, n_threads):
    """Fit and predict with every contender once on a few batches, untimed.

    A library's first call pays one-off costs (lazy imports, BLAS buffers,
    PyTorch's dispatch set-up, numba's compilation or cache load) that would
    otherwise land in whichever contender runs first.
    """
    rows = min(data.X_train.shape[0], 4 * config.batch_size)
    one_epoch = replace(config, epochs=1)
    method = _measure.TASKS[config.task].predict_method
    for contender in contenders:
        estimator = contender.make(one_epoch, 0, dtype, n_threads)
        _measure.time_fit(estimator, data.X_train[:rows], data.y_train[:rows])
        _measure.time_predict(estimator, data.X_test[:rows], method)


def measure_rounds(contenders, config, data, X_predict, dtype, n_threads, args):
    """Time fits, predictions and the matmul bound in interleaved rounds.

    Round ``r`` fits every contender in turn with ``random_state=r`` (so the
    medians also average over initialisations and shuffles) and scores it on
    the test set; then ``args.predict_calls`` times it times one prediction
    (``predict_proba``, or ``predict`` for regression) of each fitted model
    followed by the forward products on the same rows; then one epoch of the
    matmul bound.

    Returns
    -------
    per_contender : dict
        ``{key: {"fit_s": [...], "predict_s": [...], score: [...]}}`` with
        one list per score of the task: ``accuracy``, or ``r2`` and ``rmse``.
    bound : dict
        ``matmul_epoch_s`` (one per round), ``matmul_flops`` (of one epoch)
        and ``matmul_predict_s`` (one per round of prediction calls).
    """
    task = _measure.TASKS[config.task]
    per_contender = {
        c.key: {"fit_s": [], "predict_s": [], **{name: [] for name in task.scores}}
        for c in contenders
    }
    widths = (data.n_features, *config.hidden_layer_sizes, data.n_outputs)
    n_train, n_predict = data.X_train.shape[0], X_predict.shape[0]
    epoch_bound = _measure.MatmulBound(n_train, widths, config.batch_size, dtype)
    # Prediction's floor: one "batch" of all the prediction rows.
    predict_bound = _measure.MatmulBound(n_predict, widths, n_predict, dtype)
    bound = {
        "matmul_epoch_s": [],
        "matmul_flops": epoch_bound.flops_per_epoch(),
        "matmul_predict_s": [],
    }
    for seed in range(args.repeats):
        fitted = {}
        for contender in contenders:
            estimator = contender.make(config, seed, dtype, n_threads)
            seconds = _measure.time_fit(estimator, data.X_train, data.y_train)
            per_contender[contender.key]["fit_s"].append(seconds)
            scores = _measure.held_out_scores(task, estimator, data.X_test, data.y_test)
            for name, value in scores.items():
                per_contender[contender.key][name].append(value)
            fitted[contender.key] = estimator
        for _ in range(args.predict_calls):
            for key, estimator in fitted.items():
                per_contender[key]["predict_s"].append(
                    _measure.time_predict(estimator, X_predict, task.predict_method)
                )
            bound["matmul_predict_s"].append(predict_bound.time_forward())
        bound["matmul_epoch_s"].append(epoch_bound.time_epoch())
        log(
            f"  round {seed + 1}/{args.repeats}: "
            + ", ".join(f"{k} {v['fit_s'][-1]:.2f}s" for k, v in per_contender.items())
            + f", matmul bound {1e3 * bound['matmul_epoch_s'][-1]:.1f} ms/epoch"
        )
    return per_contender, bound


def benchmark_case(contenders, config, data, dtype, n_threads, args):
    """Measure one (threads, dataset, dtype) case; return its raw record.

    :func:`threadpoolctl.threadpool_limits` caps the BLAS of the numpy
    estimators and of the bound; the PyTorch loop sets its own threads to the
    same count. Peak memory comes from separate fits of at most 2 epochs under
    tracemalloc, untimed as tracing slows Python down; the peak is reached in
    the first epoch, once every buffer of the training loop exists.
    """
    from threadpoolctl import threadpool_limits

    X_predict = _measure.prediction_rows(data.X_test, args.predict_rows)
    short = replace(config, epochs=min(2, config.epochs))
    with threadpool_limits(limits=n_threads):
        warm_up(contenders, config, data, dtype, n_threads)
        per_contender, bound = measure_rounds(
            contenders, config, data, X_predict, dtype, n_threads, args
        )
        for contender in contenders:
            per_contender[contender.key]["peak_bytes"] = (
                _measure.peak_fit_memory(
                    contender.make(short, 0, dtype, n_threads),
                    data.X_train,
                    data.y_train,
                )
                if contender.memory_traced and not args.no_memory
                else None
            )
    return {
        "threads": n_threads,
        "task": config.task,
        "dataset": config.dataset,
        "dtype": np.dtype(dtype).name,
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "hidden_layer_sizes": list(config.hidden_layer_sizes),
        "n_train": int(data.X_train.shape[0]),
        "n_test": int(data.X_test.shape[0]),
        "n_predict_rows": int(X_predict.shape[0]),
        "contenders": per_contender,
        **bound,
    }


def run_suite(args, contenders):
    """Measure every requested case, keeping what was finished if interrupted.

    Parameters
    ----------
    args : argparse.Namespace
    contenders : dict
        The list of contenders of each task of ``args.datasets``.

    Returns
    -------
    records : list of dict
        One raw record per measured case.
    skipped : list of str
        One sentence per dataset or case that was not measured.
    """
    data_cache, records, skipped = {}, [], []
    try:
        for n_threads in args.threads:
            for dataset in args.datasets:
                config = case_config(dataset, args)
                for dtype in args.dtypes:
                    if (dataset, dtype) not in data_cache:
                        data_cache[dataset, dtype] = load_case_data(
                            config, dtype, args, skipped
                        )
                    data = data_cache[dataset, dtype]
                    if data is None:
                        continue
                    log(
                        f"{dataset} ({config.task}) {dtype}, {n_threads} thread(s): "
                        f"{data.X_train.shape[0]} rows, {config.epochs} epochs, "
                        f"hidden {config.hidden_layer_sizes}, "
                        f"batch {config.batch_size}"
                    )
                    records.append(
                        benchmark_case(
                            contenders[config.task],
                            config,
                            data,
                            dtype,
                            n_threads,
                            args,
                        )
                    )
    except KeyboardInterrupt:
        # Ctrl-C (or SIGTERM) ends the measuring, not the run.
        log(f"Interrupted: reporting the {len(records)} case(s) finished so far.")
        skipped.append("The run was interrupted; later cases were not measured.")
    return records, skipped


def run_tasks(args):
    """Return the tasks of ``args.datasets``, in the report's order."""
    wanted = {_measure.dataset_task(d) for d in args.datasets}
    return [task for task in _measure.TASKS if task in wanted]


def settings_line(args, contenders):
    """Describe the run's settings in one line of the report.

    Parameters
    ----------
    args : argparse.Namespace
    contenders : dict
        The list of contenders of each task of the run.

    Returns
    -------
    line : str
    """
    epochs = ", ".join(f"{d} {case_config(d, args).epochs}" for d in args.datasets)
    tasks = []
    for task, task_contenders in contenders.items():
        datasets = [d for d in args.datasets if _measure.dataset_task(d) == task]
        tasks.append(
            f"{task} on {', '.join(datasets)}: "
            f"{', '.join(c.label for c in task_contenders)}"
        )
    return (
        f"{'quick (subsampled)' if args.quick else 'full-size'} run, {args.repeats} "
        f"interleaved rounds, epochs: {epochs}; contenders for {'; '.join(tasks)}"
    )


# ---------------------------------------------------------------------------
# --profile
# ---------------------------------------------------------------------------


def package_functions():
    """Map ``(file, first line)`` to each Python function of the loaded package.

    Functions and methods of every ``skbackprop`` module imported so far (all
    that a fit used, once it has run), so that cProfile's entries can be
    traced back to the functions that line_profiler instruments.
    """
    import skbackprop

    package_dir = str(Path(skbackprop.__file__).parent)
    found = {}
    for name, module in list(sys.modules.items()):
        if name != "skbackprop" and not name.startswith("skbackprop."):
            continue
        for member in vars(module).values():
            candidates = vars(member).values() if inspect.isclass(member) else [member]
            for candidate in candidates:
                # staticmethod and classmethod objects wrap the function.
                function = getattr(candidate, "__func__", candidate)
                code = getattr(function, "__code__", None)
                if code is not None and code.co_filename.startswith(package_dir):
                    found[code.co_filename, code.co_firstlineno] = function
    return found


def _stats_table(stats, sort_key, top):
    """Return the ``top`` rows of ``stats`` sorted by ``sort_key``, as text."""
    stats.stream = buffer = io.StringIO()
    stats.sort_stats(sort_key).print_stats(top)
    text = buffer.getvalue()
    return text[text.find("   ncalls") :].rstrip() + "\n"  # the table, no preamble


def _line_profile(make_estimator, data, functions):
    """Fit once under line_profiler; return its report in milliseconds."""
    try:
        from line_profiler import LineProfiler
    except ImportError:
        return "line_profiler is not installed (pip install line_profiler).\n"
    profiler = LineProfiler(*functions)
    with _measure.quiet_convergence():
        profiler.runcall(make_estimator().fit, data.X_train, data.y_train)
    buffer = io.StringIO()
    profiler.print_stats(stream=buffer, output_unit=1e-3, stripzeros=True)
    return buffer.getvalue()


def _profile_setup(args):
    """The case a profile runs: (dataset, dtype, config, data, our contender).

    ``data`` is None when the dataset is not installed.
    """
    dataset, dtype = args.datasets[0], args.dtypes[0]
    config = replace(case_config(dataset, args), epochs=args.epochs or PROFILE_EPOCHS)
    data = load_case_data(config, dtype, args, [])
    ours = _measure.build_contenders(config.task, include_torch=False)[0]
    return dataset, dtype, config, data, ours


def _profiled_fit(ours, config, data, dtype, n_threads):
    """Warm up, time one plain fit, then fit once under cProfile.

    Both fits run under ``threadpool_limits(n_threads)``; the plain fit is
    the reference time, as a profiler's per-call overhead inflates short
    calls.

    Returns
    -------
    plain_s, profiled_s : float
        Seconds of the plain and of the profiled fit.
    stats : pstats.Stats
        The profiled fit's statistics.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=n_threads):
        warm_up([ours], config, data, dtype, n_threads)
        plain_s = _measure.time_fit(
            ours.make(config, 0, dtype, n_threads), data.X_train, data.y_train
        )
        profiler = cProfile.Profile()
        estimator = ours.make(config, 0, dtype, n_threads)
        with _measure.quiet_convergence():
            start = time.perf_counter()
            profiler.runcall(estimator.fit, data.X_train, data.y_train)
            profiled_s = time.perf_counter() - start
    return plain_s, profiled_s, pstats.Stats(profiler)


def _short_paths(text):
    """``text`` without where this machine keeps the checkout or the packages."""
    # Of no interest to a reader of a committed report.
    paths = sysconfig.get_paths()
    for prefix, short in [
        (paths["purelib"] + "/", "<site-packages>/"),
        (paths["stdlib"] + "/", "<stdlib>/"),
        (str(REPO_ROOT) + "/", ""),
    ]:
        text = text.replace(prefix, short)
    return text


def profile(args):
    """Profile our fit on one case and write ``profile_<dataset>_<dtype>.txt``.

    After an untimed warm-up fit and one unprofiled fit (the reference time,
    as a profiler's per-call overhead inflates short calls), one fit runs
    under cProfile, and one more under line_profiler on the package
    functions with the most own time in the cProfile run.

    Returns
    -------
    report_path : Path or None
        ``None`` when the dataset is not installed.
    """
    from threadpoolctl import threadpool_limits

    dataset, dtype, config, data, ours = _profile_setup(args)
    if data is None:
        return None
    n_threads = args.threads[0]
    plain_s, profiled_s, stats = _profiled_fit(ours, config, data, dtype, n_threads)
    functions = package_functions()
    own_time = {
        functions[file, line]: entry[2]
        for (file, line, _), entry in stats.stats.items()
        if (file, line) in functions
    }
    hottest = sorted(own_time, key=own_time.get, reverse=True)
    with threadpool_limits(limits=n_threads):
        lines = _line_profile(
            lambda: ours.make(config, 0, dtype, n_threads),
            data,
            hottest[: args.line_functions],
        )

    settings = (
        f"profile of {ours.label}.fit: {dataset}, {dtype}, "
        f"{data.X_train.shape[0]} rows, hidden {config.hidden_layer_sizes}, batch "
        f"{config.batch_size}, {config.epochs} epochs, {n_threads} BLAS thread(s)"
    )
    return _write_profile_report(
        args,
        f"profile_{dataset}_{dtype}.txt",
        settings,
        [
            f"Unprofiled fit: {plain_s:.2f} s ({plain_s / config.epochs:.3f} "
            f"s/epoch); under cProfile: {profiled_s:.2f} s\n",
            "== cProfile, sorted by own time (tottime) ==",
            _stats_table(stats, "tottime", args.top),
            "== cProfile, sorted by cumulative time ==",
            _stats_table(stats, "cumulative", args.top),
            "== line_profiler, package functions with the most own time (ms) ==",
            lines,
        ],
    )


def _write_profile_report(args, filename, settings, sections):
    """Write a profile's report into ``--output-dir``; return its path.

    The report is the run's environment and ``settings``, then ``sections``,
    with this machine's paths shortened.
    """
    environment = _measure.describe_environment(REPO_ROOT)
    report = "\n".join(
        [_report.environment_lines(environment, settings) + "\n", *sections]
    )
    args.output_dir.mkdir(parents=True, exist_ok=True)
    report_path = args.output_dir / filename
    report_path.write_text(_short_paths(report), encoding="utf-8")
    return report_path


def serial_profile(args):
    """Split an epoch's serial fraction by function; write the table.

    Profiles our fit (as :func:`profile` does, without line_profiler) at
    each thread count of ``--threads``, then tabulates every function's own
    time per epoch at each count, and the serial fraction and serial time
    that Amdahl's law gives between one thread and the most, into
    ``serial_profile_<dataset>_<dtype>.txt``.

    Returns
    -------
    report_path : Path or None
        ``None`` when the dataset is not installed.
    """
    dataset, dtype, config, data, ours = _profile_setup(args)
    if data is None:
        return None
    runs = {}
    for n_threads in sorted(set(args.threads)):
        log(f"profiling {dataset} {dtype} on {n_threads} thread(s)")
        plain_s, _, stats = _profiled_fit(ours, config, data, dtype, n_threads)
        runs[n_threads] = {
            "epoch_s": plain_s / config.epochs,
            "own": {
                _short_paths(pstats.func_std_string(key)): entry[2] / config.epochs
                for key, entry in stats.stats.items()
            },
        }
    counts = "/".join(str(c) for c in sorted(runs))
    settings = (
        f"serial profile of {ours.label}.fit: {dataset}, {dtype}, "
        f"{data.X_train.shape[0]} rows, hidden {config.hidden_layer_sizes}, batch "
        f"{config.batch_size}, {config.epochs} epochs, {counts} BLAS threads"
    )
    rows = _report.serial_profile_rows(runs, args.top)
    return _write_profile_report(
        args,
        f"serial_profile_{dataset}_{dtype}.txt",
        settings,
        [
            "Own time per epoch of each function under cProfile (its products "
            "included where it calls BLAS itself), at each thread count; the "
            "serial fraction solves Amdahl's law between one thread and the "
            "most, and the serial time is that fraction of the one-thread time. "
            "The last row is the plain fit's epoch, unprofiled.\n",
            _report.serial_profile_table(rows),
            "",
        ],
    )


def main(argv=None):
    """Run the suite, a profile, or a re-rendering, and write its outputs."""
    args = parse_args(argv)
    readme_section = args.readme_section if args.update_readme else None
    if args.from_json:
        raw = json.loads(args.from_json.read_text(encoding="utf-8"))
        output_dir = args.output_dir if args.output_dir_given else args.from_json.parent
        print(_report.write_outputs(raw, output_dir, README_PATH, readme_section))
        return 0
    if args.profile or args.serial_profile:
        report_path = (serial_profile if args.serial_profile else profile)(args)
        if report_path is None:
            return 1
        print(report_path)
        return 0

    # A run started in the background ignores SIGINT; `kill PID` then ends it
    # as Ctrl-C does, with a report of the finished cases.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    started = time.perf_counter()
    contenders = {
        task: _measure.build_contenders(task, not args.no_torch)
        for task in run_tasks(args)
    }
    if not args.no_torch and all(
        c.key != "torch"
        for task_contenders in contenders.values()
        for c in task_contenders
    ):
        log("PyTorch is not installed; running without the PyTorch loop.")
    # Move every object alive after the imports to the permanent generation,
    # so that the full collection before each timed call walks only what the
    # run itself creates, not the many objects the imports (torch above all)
    # leave behind.
    gc.freeze()
    records, skipped = run_suite(args, contenders)
    if not records:
        log("No dataset could be loaded; nothing to report.")
        return 1
    raw = {
        "environment": _measure.describe_environment(REPO_ROOT),
        "settings": settings_line(args, contenders),
        "skipped": skipped,
        "argv": sys.argv[1:] if argv is None else list(argv),
        "records": records,
    }
    report_path = _report.write_outputs(
        raw, args.output_dir, README_PATH, readme_section
    )
    log(f"Done in {time.perf_counter() - started:.0f} s.")
    print(report_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
