"""The benchmark suite runs end to end (timings are not judged here)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_suite_quick_run(tmp_path):
    command = [
        sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick",
        "--datasets", "digits", "--no-torch", "--output-dir", str(tmp_path),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600,
                            cwd=ROOT)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    report = (tmp_path / "results.md").read_text()
    # Both contenders measured, ratios and verdicts reported.
    assert "MLPClassifier" in report and "MLPBackpropClassifier" in report
    assert "fit time / MLPClassifier" in report
    assert "PASS" in report or "FAIL" in report
    assert (tmp_path / "results.png").stat().st_size > 0
