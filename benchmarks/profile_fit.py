"""Profile MLPBackpropClassifier.fit on the reference configuration.

Run from the repository root::

    python benchmarks/profile_fit.py                 # Fashion-MNIST, float32, 3 epochs
    python benchmarks/profile_fit.py --dtype float64 --epochs 2

It fits once under :mod:`cProfile` with one BLAS thread and writes, to
``benchmarks/results/profile.txt`` (or ``--output``):

1. the functions with the most *own* time (``tottime``): where the CPU is;
2. the functions with the most cumulative time: which call paths matter;
3. when ``line_profiler`` is installed, a line-by-line profile of the
   package's own functions that have the most own time, found from the
   cProfile run, so the report follows the code as it changes.

Because a profiler's per-call overhead inflates short Python calls, the
script also reports the unprofiled fit time of the same configuration.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import inspect
import io
import pkgutil
import pstats
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS_DIR.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(1, str(REPO_ROOT))

import bench_data  # noqa: E402  (needs the path set up above)
import bench_measure  # noqa: E402
import bench_models  # noqa: E402

PACKAGE = "skbackprop"


def parse_args(argv=None):
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--dataset", default="fashion", choices=list(bench_models.FULL_CONFIGS)
    )
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--top", type=int, default=25, help="functions listed in each cProfile table"
    )
    parser.add_argument(
        "--line-functions",
        type=int,
        default=4,
        help="package functions to profile line by line",
    )
    parser.add_argument(
        "--output", type=Path, default=BENCHMARKS_DIR / "results" / "profile.txt"
    )
    return parser.parse_args(argv)


def cprofile_fit(estimator, X, y):
    """Fit under cProfile; return the :class:`pstats.Stats` and wall seconds."""
    profiler = cProfile.Profile()
    with bench_measure.quiet_convergence():
        start = time.perf_counter()
        profiler.runcall(estimator.fit, X, y)
        seconds = time.perf_counter() - start
    return pstats.Stats(profiler), seconds


def stats_text(stats, sort_key, top):
    """Return the ``top`` rows of ``stats`` sorted by ``sort_key`` as text."""
    buffer = io.StringIO()
    stats.stream = buffer
    stats.sort_stats(sort_key).print_stats(top)
    # Drop pstats' preamble up to the column header; keep the table.
    text = buffer.getvalue()
    return text[text.find("   ncalls") :].rstrip() + "\n"


def package_functions():
    """Map ``(filename, first line)`` to every function of the package.

    Module-level functions and methods of module-level classes are
    collected, so that entries of a cProfile run can be traced back to
    function objects that line_profiler can instrument.
    """
    package = importlib.import_module(PACKAGE)
    found = {}
    modules = [package] + [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(package.__path__, PACKAGE + ".")
    ]
    for module in modules:
        for _, obj in inspect.getmembers(module):
            candidates = [obj]
            if inspect.isclass(obj) and obj.__module__.startswith(PACKAGE):
                candidates = [
                    member
                    for klass in obj.__mro__
                    if klass.__module__.startswith(PACKAGE)
                    for member in vars(klass).values()
                ]
            for candidate in candidates:
                function = getattr(candidate, "__func__", candidate)
                code = getattr(function, "__code__", None)
                if code is not None and PACKAGE in code.co_filename:
                    found[(code.co_filename, code.co_firstlineno)] = function
    return found


def hottest_package_functions(stats, count):
    """Return the ``count`` package functions with the most own time."""
    by_location = package_functions()
    ranked = sorted(
        (
            (own_time, by_location[(filename, line)])
            for (filename, line, _), (_, _, own_time, _, _) in stats.stats.items()
            if (filename, line) in by_location
        ),
        key=lambda pair: pair[0],
        reverse=True,
    )
    return [function for _, function in ranked[:count]]


def line_profile_fit(make_estimator, X, y, functions):
    """Fit once more under line_profiler; return its report, or a note."""
    try:
        from line_profiler import LineProfiler
    except ImportError:
        return "line_profiler is not installed (pip install line_profiler).\n"
    profiler = LineProfiler()
    for function in functions:
        profiler.add_function(function)
    estimator = make_estimator()
    with bench_measure.quiet_convergence():
        profiler.runcall(estimator.fit, X, y)
    buffer = io.StringIO()
    profiler.print_stats(stream=buffer, output_unit=1e-3, stripzeros=True)
    return buffer.getvalue()


def shorten_paths(text):
    """Make file names in ``text`` relative to the checkout or site-packages.

    The report is meant to be read and committed; where this machine keeps
    the checkout or the virtual environment is of no interest to a reader.
    """
    import sysconfig

    site_packages = sysconfig.get_paths()["purelib"]
    text = text.replace(site_packages + "/", "<site-packages>/")
    text = text.replace(sysconfig.get_paths()["stdlib"] + "/", "<stdlib>/")
    return text.replace(str(REPO_ROOT) + "/", "")


def main(argv=None):
    """Profile one fit and write the report."""
    from threadpoolctl import threadpool_limits

    args = parse_args(argv)
    our_class, is_stand_in = bench_models.load_our_estimator()
    if is_stand_in:
        print("skbackprop is not importable: nothing to profile.", file=sys.stderr)
        return 1
    config = replace(bench_models.FULL_CONFIGS[args.dataset], epochs=args.epochs)
    data = bench_data.LOADERS[args.dataset](np.dtype(args.dtype))

    def make_estimator():
        return our_class(**bench_models.mlp_params(config, seed=0))

    with threadpool_limits(limits=args.threads):
        # A short fit first: one-time costs (BLAS buffers, loading or
        # compiling the numba kernels) stay out of every measurement.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # one epoch does not converge
            make_estimator().set_params(max_iter=1).fit(
                data.X_train[:1000], data.y_train[:1000]
            )
        # One unprofiled fit: the reference time.
        plain_seconds = bench_measure.time_fit(
            make_estimator(), data.X_train, data.y_train
        )
        stats, profiled_seconds = cprofile_fit(
            make_estimator(), data.X_train, data.y_train
        )
        hot = hottest_package_functions(stats, args.line_functions)
        lines = line_profile_fit(make_estimator, data.X_train, data.y_train, hot)

    header = (
        f"Profile of {our_class.__name__}.fit: {args.dataset}, {args.dtype}, "
        f"{data.X_train.shape[0]} rows, hidden {config.hidden_layer_sizes}, batch "
        f"{config.batch_size}, {args.epochs} epochs, {args.threads} BLAS thread(s)\n"
        f"Unprofiled fit: {plain_seconds:.2f} s "
        f"({plain_seconds / args.epochs:.3f} s/epoch); under cProfile: "
        f"{profiled_seconds:.2f} s\n"
    )
    report = "\n".join(
        [
            header,
            "== cProfile, sorted by own time (tottime) ==",
            stats_text(stats, "tottime", args.top),
            "== cProfile, sorted by cumulative time ==",
            stats_text(stats, "cumulative", args.top),
            "== line_profiler, package functions with the most own time (ms) ==",
            lines,
        ]
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(shorten_paths(report), encoding="utf-8")
    print(header + f"Written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
