"""Benchmark MLPBackpropClassifier against scikit-learn's MLPClassifier.

Run from the repository root::

    python benchmarks/run.py              # full size, 1 and 2 BLAS threads
    python benchmarks/run.py --quick      # subsampled smoke run, well under a minute

For every (BLAS thread count, dataset, dtype) case the contenders (ours,
MLPClassifier and, when importable, a PyTorch loop) are trained with the same
configuration for the same fixed number of epochs, interleaved round by round
in this one process, and the matmul bound of one epoch is timed in the same
rounds. The Markdown report, a PNG plot and the raw JSON records are written
to ``--output-dir``. See ``benchmarks/README.md`` for what each number means.
"""

from __future__ import annotations

import argparse
import gc
import json
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS_DIR.parent
# Benchmark the checkout this script lives in, installed or not.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(1, str(REPO_ROOT))

import bench_data  # noqa: E402  (needs the path set up above)
import bench_measure  # noqa: E402
import bench_models  # noqa: E402
import bench_report  # noqa: E402
import bench_system  # noqa: E402

DEFAULT_OUTPUT_DIR = BENCHMARKS_DIR / "results"
#: Quick runs write where git ignores them, so smoke tests leave no changes.
QUICK_OUTPUT_DIR = BENCHMARKS_DIR / "results" / "raw" / "quick"
README_PATH = BENCHMARKS_DIR / "README.md"


def log(message):
    """Print a progress line to stderr, keeping stdout for the report path."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _comma_list(text):
    return [item.strip() for item in text.split(",") if item.strip()]


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
    parser.add_argument(
        "--quick",
        action="store_true",
        help="subsampled data and 2 epochs: a smoke run in seconds",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="interleaved rounds per case; medians need >= 3 (default: 3)",
    )
    parser.add_argument(
        "--threads",
        type=_comma_list,
        default=None,
        help="comma-separated BLAS thread counts (default 1,2; 1 with --quick)",
    )
    parser.add_argument(
        "--datasets",
        type=_comma_list,
        default=list(bench_models.FULL_CONFIGS),
        help="comma-separated subset of "
        f"{','.join(bench_models.FULL_CONFIGS)} (default: all)",
    )
    parser.add_argument(
        "--dtypes",
        type=_comma_list,
        default=["float32", "float64"],
        help="comma-separated dtypes (default: float32,float64)",
    )
    parser.add_argument(
        "--epochs", type=int, default=None, help="override every dataset's epoch count"
    )
    parser.add_argument(
        "--predict-rows",
        type=int,
        default=None,
        help="rows of each timed predict_proba call (default 10000; 2000 with --quick)",
    )
    parser.add_argument(
        "--predict-calls",
        type=int,
        default=3,
        help="timed predict_proba calls per contender per round (default: 3)",
    )
    parser.add_argument(
        "--no-torch",
        action="store_true",
        help="leave out the PyTorch column even if torch is installed",
    )
    parser.add_argument(
        "--no-memory",
        action="store_true",
        help="skip the (extra, traced) peak-memory fits",
    )
    parser.add_argument(
        "--fashion-dir",
        default=None,
        help="folder of the Fashion-MNIST IDX files "
        f"(default {bench_data.FASHION_MNIST_DIR})",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        help=f"where to write results (default {DEFAULT_OUTPUT_DIR}, "
        f"or {QUICK_OUTPUT_DIR} with --quick)",
    )
    parser.add_argument(
        "--update-readme",
        action="store_true",
        help="also replace a results section of "
        "benchmarks/README.md with this run's report",
    )
    parser.add_argument(
        "--readme-section",
        default="results",
        help="with --update-readme: the NAME of the README block "
        "<!-- NAME:start --> ... <!-- NAME:end --> to replace (default: results)",
    )
    parser.add_argument(
        "--from-json",
        type=Path,
        default=None,
        help="measure nothing: re-render the report and plot of a saved "
        "results.json (into its folder, or --output-dir)",
    )
    args = parser.parse_args(argv)

    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    unknown = set(args.datasets) - set(bench_models.FULL_CONFIGS)
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
    args.output_dir_given = args.output_dir is not None
    if args.output_dir is None:
        args.output_dir = QUICK_OUTPUT_DIR if args.quick else DEFAULT_OUTPUT_DIR
    return args


def case_config(dataset, args):
    """Return the :class:`bench_models.BenchConfig` of ``dataset`` for this run."""
    config = bench_models.FULL_CONFIGS[dataset]
    if args.quick:
        config = bench_models.quick_config(config)
    if args.epochs is not None:
        config = replace(config, epochs=args.epochs)
    return config


def load_case_data(config, dtype, args, skipped):
    """Load the dataset of ``config`` in ``dtype``; ``None`` if not installed.

    The reason a dataset is unavailable is logged and appended to ``skipped``
    so that the report says so too.
    """
    loader = bench_data.LOADERS[config.dataset]
    kwargs = dict(n_train=config.n_train, n_test=config.n_test)
    if config.dataset == "fashion":
        kwargs["directory"] = args.fashion_dir
    try:
        return loader(np.dtype(dtype), **kwargs)
    except bench_data.DatasetUnavailable as error:
        log(str(error))
        if str(error) not in skipped:
            skipped.append(str(error))
        return None


def warm_up(contenders, config, data, dtype, n_threads):
    """Run every contender once on a few batches, untimed.

    The first call of a library pays one-off costs (lazy imports, BLAS
    buffer allocation, PyTorch's kernel dispatch set-up) that would
    otherwise land in whichever contender happens to run first.
    """
    rows = min(data.X_train.shape[0], 4 * config.batch_size)
    tiny = replace(config, epochs=1)
    for contender in contenders:
        estimator = contender.make(tiny, 0, dtype, n_threads)
        bench_measure.time_fit(estimator, data.X_train[:rows], data.y_train[:rows])
        bench_measure.time_predict_proba(estimator, data.X_test[:rows])


def measure_rounds(
    contenders, config, data, X_predict, dtype, n_threads, repeats, predict_calls
):
    """Time fits, predictions and the matmul bound in interleaved rounds.

    Round ``r`` fits every contender in turn with ``random_state=r`` (so the
    medians also average over initialisations and shuffles), scores it, times
    ``predict_calls`` interleaved ``predict_proba`` calls of each fitted
    model, then times one epoch of the matmul bound.

    Returns
    -------
    per_contender : dict
        ``{key: {"fit_s": [...], "predict_s": [...], "accuracy": [...]}}``.
    matmul_epoch_s : list of float
        Seconds of one epoch of the matmul bound, one per round.
    matmul_flops : int
        Floating-point operations of one epoch of the matmul bound.
    matmul_predict_s : list of float
        Seconds of the forward matmuls on the prediction rows, one per
        ``predict_proba`` call round.
    """
    per_contender = {
        c.key: {"fit_s": [], "predict_s": [], "accuracy": []} for c in contenders
    }
    widths = (data.n_features, *config.hidden_layer_sizes, data.n_classes)
    bound = bench_measure.MatmulBound(
        data.X_train.shape[0], widths, config.batch_size, dtype
    )
    # The prediction floor: one "batch" holding every prediction row.
    predict_bound = bench_measure.MatmulBound(
        X_predict.shape[0], widths, X_predict.shape[0], dtype
    )
    matmul_epoch_s, matmul_predict_s = [], []
    for seed in range(repeats):
        fitted = {}
        for contender in contenders:
            estimator = contender.make(config, seed, dtype, n_threads)
            seconds = bench_measure.time_fit(estimator, data.X_train, data.y_train)
            per_contender[contender.key]["fit_s"].append(seconds)
            per_contender[contender.key]["accuracy"].append(
                float(estimator.score(data.X_test, data.y_test))
            )
            fitted[contender.key] = estimator
        for _ in range(predict_calls):
            for key, estimator in fitted.items():
                per_contender[key]["predict_s"].append(
                    bench_measure.time_predict_proba(estimator, X_predict)
                )
            matmul_predict_s.append(predict_bound.time_forward())
        matmul_epoch_s.append(bound.time_epoch())
        log(
            f"  round {seed + 1}/{repeats}: "
            + ", ".join(
                f"{key} {per_contender[key]['fit_s'][-1]:.2f}s" for key in fitted
            )
            + f", matmul bound {1e3 * matmul_epoch_s[-1]:.1f} ms/epoch"
        )
    return per_contender, matmul_epoch_s, bound.flops_per_epoch(), matmul_predict_s


def measure_memory(contenders, config, data, dtype, n_threads):
    """Return each numpy-based contender's peak fit memory in bytes.

    Tracing slows Python down, so these are separate, untimed fits of
    ``min(2, epochs)`` epochs: the peak is reached within the first epoch,
    as every buffer of the training loop exists by then.
    """
    short = replace(config, epochs=min(2, config.epochs))
    peaks = {}
    for contender in contenders:
        if not contender.numpy_allocations:
            peaks[contender.key] = None  # tracemalloc cannot see its allocator
            continue
        estimator = contender.make(short, 0, dtype, n_threads)
        peaks[contender.key] = bench_measure.peak_fit_memory(
            estimator, data.X_train, data.y_train
        )
    return peaks


def benchmark_case(contenders, config, data, dtype, n_threads, args):
    """Measure one (threads, dataset, dtype) case and return its raw record.

    BLAS threads are pinned with :func:`threadpoolctl.threadpool_limits` for
    the numpy estimators and the bound; the PyTorch contender pins its own
    intra-op threads to the same count.
    """
    from threadpoolctl import threadpool_limits

    X_predict = bench_data.prediction_rows(data.X_test, args.predict_rows)
    with threadpool_limits(limits=n_threads):
        warm_up(contenders, config, data, dtype, n_threads)
        per_contender, matmul_epoch_s, matmul_flops, matmul_predict_s = measure_rounds(
            contenders,
            config,
            data,
            X_predict,
            dtype,
            n_threads,
            args.repeats,
            args.predict_calls,
        )
        peaks = (
            {c.key: None for c in contenders}
            if args.no_memory
            else measure_memory(contenders, config, data, dtype, n_threads)
        )
    for key, peak in peaks.items():
        per_contender[key]["peak_bytes"] = peak
    return {
        "threads": n_threads,
        "dataset": config.dataset,
        "dtype": np.dtype(dtype).name,
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "hidden_layer_sizes": list(config.hidden_layer_sizes),
        "headline_metric": config.headline_metric,
        "n_train": int(data.X_train.shape[0]),
        "n_test": int(data.X_test.shape[0]),
        "n_predict_rows": int(X_predict.shape[0]),
        "contenders": per_contender,
        "matmul_epoch_s": matmul_epoch_s,
        "matmul_flops": matmul_flops,
        "matmul_predict_s": matmul_predict_s,
    }


def run_suite(args, contenders):
    """Measure every requested case.

    Returns
    -------
    records : list of dict
        One raw record per measured case.
    skipped : list of str
        One sentence per dataset that could not be loaded.
    """
    configs = [case_config(name, args) for name in args.datasets]
    data_cache = {}
    records, skipped = [], []
    try:
        _run_cases(args, contenders, configs, data_cache, records, skipped)
    except KeyboardInterrupt:
        # Ctrl-C ends the measurements, not the run: the cases finished so
        # far are still reported.
        log(f"Interrupted: reporting the {len(records)} case(s) finished so far.")
        skipped.append("The run was interrupted; later cases were not measured.")
    return records, skipped


def _run_cases(args, contenders, configs, data_cache, records, skipped):
    """Measure each case in turn, appending its raw record to ``records``."""
    for n_threads in args.threads:
        for config in configs:
            for dtype in args.dtypes:
                key = (config.dataset, dtype)
                if key not in data_cache:
                    data_cache[key] = load_case_data(config, dtype, args, skipped)
                data = data_cache[key]
                if data is None:
                    continue
                log(
                    f"{config.dataset} {dtype}, {n_threads} thread(s): "
                    f"{data.X_train.shape[0]} rows, {config.epochs} epochs, "
                    f"hidden {config.hidden_layer_sizes}, batch {config.batch_size}"
                )
                records.append(
                    benchmark_case(contenders, config, data, dtype, n_threads, args)
                )


def settings_line(args, contenders):
    """Describe the run's settings in one line for the report."""
    epochs = ", ".join(
        f"{name} {case_config(name, args).epochs}" for name in args.datasets
    )
    return (
        f"{'quick (subsampled)' if args.quick else 'full-size'} run, {args.repeats} "
        f"interleaved rounds, epochs: {epochs}; contenders: "
        f"{', '.join(c.label for c in contenders)}"
    )


def update_readme(markdown, section="results", readme_path=README_PATH):
    """Replace the text between the markers of one README section.

    Parameters
    ----------
    markdown : str
        The run's report; its title is dropped and its headings demoted two
        levels, to sit under the README's "Results" and per-thread headings.
    section : str, default="results"
        Name in the ``<!-- NAME:start -->`` / ``<!-- NAME:end -->`` markers.
    readme_path : Path
    """
    start_marker, end_marker = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    text = readme_path.read_text(encoding="utf-8")
    start, end = text.find(start_marker), text.find(end_marker)
    if start < 0 or end < start:
        raise RuntimeError(f"{readme_path} lacks the {start_marker} markers")
    body = markdown.split("\n", 1)[1].strip().replace("\n## ", "\n#### ")
    new_text = text[: start + len(start_marker)] + "\n" + body + "\n" + text[end:]
    readme_path.write_text(new_text, encoding="utf-8")


def _stop_on_sigterm():
    """Make ``kill PID`` end a run the way Ctrl-C does: with a report.

    A run started in the background ignores SIGINT, so SIGTERM is the way
    to cut a run short (on a busy machine, say) and keep what it measured.
    """

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def write_outputs(raw, output_dir, readme_section=None):
    """Write the report, plot and raw records of a run; optionally the README.

    Parameters
    ----------
    raw : dict
        ``environment``, ``settings``, ``skipped`` and ``records`` of a run.
    output_dir : Path
        Receives ``results.md``, ``results.png`` and ``results.json``.
    readme_section : str or None
        Name of the README block to replace with the report, if any.

    Returns
    -------
    report_path : Path
    """
    summaries = [bench_report.summarize(record) for record in raw["records"]]
    verdicts = bench_report.judge_targets(summaries)
    markdown = bench_report.markdown_report(
        summaries, verdicts, raw["environment"], raw["settings"], raw["skipped"]
    )
    output_dir.mkdir(parents=True, exist_ok=True)
    report_path = output_dir / "results.md"
    report_path.write_text(markdown, encoding="utf-8")
    bench_report.plot_results(summaries, output_dir / "results.png")
    (output_dir / "results.json").write_text(
        json.dumps(raw, indent=1), encoding="utf-8"
    )
    if readme_section:
        update_readme(markdown, readme_section)
    return report_path


def main(argv=None):
    """Run the suite (or reload a run) and write its report, plot and records."""
    args = parse_args(argv)
    if args.from_json:
        # Re-render a saved run: no measurement, same numbers.
        raw = json.loads(args.from_json.read_text(encoding="utf-8"))
        output_dir = args.output_dir if args.output_dir_given else args.from_json.parent
        print(
            write_outputs(raw, output_dir, args.update_readme and args.readme_section)
        )
        return 0

    _stop_on_sigterm()
    started = time.perf_counter()
    contenders, is_stand_in = bench_models.build_contenders(not args.no_torch)
    if not args.no_torch and all(c.key != "torch" for c in contenders):
        log("PyTorch is not installed; running without the PyTorch column.")
    # Move every object alive after the imports into the permanent
    # generation: the full collection before each timed call then takes
    # microseconds instead of ~0.1 s (torch alone brings ~10^5 objects).
    gc.freeze()
    records, skipped = run_suite(args, contenders)
    if not records:
        log("No dataset could be loaded; nothing to report.")
        return 1

    raw = {
        "environment": bench_system.describe_environment(is_stand_in, REPO_ROOT),
        "settings": settings_line(args, contenders),
        "skipped": skipped,
        "argv": sys.argv[1:] if argv is None else list(argv),
        "records": records,
    }
    report_path = write_outputs(
        raw, args.output_dir, args.update_readme and args.readme_section
    )
    log(f"Done in {time.perf_counter() - started:.0f} s.")
    print(report_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
