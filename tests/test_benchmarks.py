"""The benchmark suite runs end to end for both tasks (timings are not judged).

A quick run on digits and diabetes, with the compiled kernels and on the
numpy path, writes a report that says which path it measured and compares
each estimator with scikit-learn's in tables of ratios, and draws its figure.
"""

import os
import subprocess
import sys
from pathlib import Path

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
