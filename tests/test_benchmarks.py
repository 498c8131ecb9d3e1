"""The benchmark suite runs end to end for both tasks (timings are not judged).

A quick run on digits and diabetes, with the compiled kernels and on the
numpy path, writes a report that says which path it measured and compares
each estimator with scikit-learn's in tables of ratios, and draws its figure.
"""

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests._extras import import_extra

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("kernels", ["on", "off"])
def test_benchmark_suite_quick_run(tmp_path, kernels):
    if kernels == "on":
        import_extra("numba")
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "run.py"),
        "--quick",
        "--datasets",
        # One small case of each task: classification, then regression.
        "digits,diabetes",
        "--no-torch",
        "--output-dir",
        str(tmp_path),
    ]
    env = {**os.environ, "SKBACKPROP_DISABLE_NUMBA": "1" if kernels == "off" else ""}
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=600, cwd=ROOT, env=env
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = (tmp_path / "results.md").read_text()
    # The header says which of our code paths was measured.
    expected = "compiled kernels on" if kernels == "on" else "numpy path"
    assert expected in report
    # Both tasks' contenders measured and their tables of ratios reported
    # (targets and verdicts live in benchmarks/README.md, not in the report).
    assert "MLPClassifier" in report and "MLPBackpropClassifier" in report
    assert "MLPRegressor" in report and "MLPBackpropRegressor" in report
    assert "## Classification: ratios to MLPClassifier" in report
    assert "## Regression: ratios to MLPRegressor" in report
    assert "fit time / MLPClassifier" in report
    assert "fit time / MLPRegressor" in report
    assert "predict rows/s / MLPRegressor" in report
    assert "test R² ours − sklearn" in report
    # Each task's rows sit in its own tables, one per dtype.
    classification, regression = report.split("## Regression:", 1)
    for dtype in ("float32", "float64"):
        assert f"| 1 | digits | {dtype} |" in classification
        assert f"| 1 | diabetes | {dtype} |" in regression
    assert "| diabetes |" not in classification and "| digits |" not in regression
    assert (tmp_path / "results.png").stat().st_size > 0


def _case(threads, dataset, ours, sklearn, bound):
    """The fields of a benchmark case summary that the scaling table reads."""
    return SimpleNamespace(
        task="classification",
        dataset=dataset,
        dtype="float32",
        threads=threads,
        epoch_s={"ours": ours, "sklearn": sklearn},
        bound_epoch_s=bound,
    )


def test_scaling_table_solves_amdahls_law():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from _report import amdahl_time, scaling_rows, scaling_table, serial_fraction
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    # A quarter serial: 2 threads take 0.25 + 0.75 / 2 of the one-thread time.
    assert serial_fraction(1.0, 0.625, 2) == pytest.approx(0.25)
    assert amdahl_time(1.0, 0.25, 8) == pytest.approx(0.25 + 0.75 / 8)
    # Noise past the ideal speed-up, or a slowdown, stays within [0, 1].
    assert serial_fraction(1.0, 0.4, 2) == 0.0
    assert serial_fraction(1.0, 1.2, 2) == 1.0

    summaries = [
        _case(1, "fashion", ours=1.0, sklearn=2.0, bound=0.8),
        _case(2, "fashion", ours=0.625, sklearn=1.5, bound=0.4),
        _case(1, "digits", ours=0.1, sklearn=0.2, bound=0.05),  # one thread only
    ]
    (row,) = scaling_rows(summaries)
    assert (row["dataset"], row["n"]) == ("fashion", 2)
    assert row["ours"]["s"] == pytest.approx(0.25)
    assert row["sklearn"]["s"] == pytest.approx(0.5)
    assert row["bound"]["s"] == pytest.approx(0.0)
    assert row["ours"]["projected"][32] == pytest.approx(0.25 + 0.75 / 32)
    table = scaling_table([row])
    # ours / sklearn at 8 cores: (0.25 + 0.75/8) / (2 * (0.5 + 0.5/8)).
    expected = (0.25 + 0.75 / 8) / (2 * (0.5 + 0.5 / 8))
    assert f"| fashion | float32 | 0.50x | 0.42x | {expected:.2f}x |" in table
    assert "| fashion | float32 | ours | 1 | 0.625 | 1.60x | 0.25 |" in table


def test_serial_profile_splits_the_serial_time_by_function():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from _report import serial_profile_rows, serial_profile_table
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    # Products halve on two threads; the step does not; the gather slows down.
    runs = {
        1: {"epoch_s": 1.0, "own": {"products": 0.6, "step": 0.2, "gather": 0.1}},
        2: {"epoch_s": 0.7, "own": {"products": 0.3, "step": 0.2, "gather": 0.15}},
    }
    rows = serial_profile_rows(runs, top=2)
    by_name = {row["name"]: row for row in rows}
    assert [row["name"] for row in rows] == [
        "products",
        "step",
        "everything else",
        "whole epoch (unprofiled)",
    ]
    assert by_name["products"]["s"] == pytest.approx(0.0)
    assert by_name["step"]["s"] == pytest.approx(1.0)
    assert by_name["step"]["serial_s"] == pytest.approx(0.2)
    # What the table leaves out is summed, not dropped.
    assert by_name["everything else"]["times"] == {1: 0.1, 2: 0.15}
    assert by_name["whole epoch (unprofiled)"]["s"] == pytest.approx(0.4)
    table = serial_profile_table(rows)
    assert "| step | 200.0 | 200.0 | 1.00x | 1.00 | 200.0 |" in table
    assert "| products | 600.0 | 300.0 | 2.00x | 0.00 | 0.0 |" in table


def test_serial_profile_command(tmp_path):
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "run.py"),
        "--serial-profile",
        "--quick",
        "--datasets",
        "digits",
        "--threads",
        "1,2",
        "--top",
        "5",
        "--output-dir",
        str(tmp_path),
    ]
    result = subprocess.run(
        command, capture_output=True, text=True, timeout=600, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = (tmp_path / "serial_profile_digits_float32.txt").read_text()
    assert "1/2 BLAS threads" in report
    assert (
        "| function (own time) | ms/epoch, 1 thread | ms/epoch, 2 threads |" in report
    )
    assert "skbackprop/_network.py" in report  # package paths, shortened
    assert "| whole epoch (unprofiled) |" in report

    # One thread alone has nothing to compare with.
    refused = subprocess.run(
        command[:-6] + ["--threads", "2"], capture_output=True, text=True, cwd=ROOT
    )
    assert refused.returncode == 2
    assert "--serial-profile compares one thread with more" in refused.stderr
