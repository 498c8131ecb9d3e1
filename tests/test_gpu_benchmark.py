"""The GPU benchmark runs end to end on the CPU (its timings are not judged).

``benchmarks/gpu.py`` is run on torch's CPU device with small data: in this
process on scikit-learn's digits, through its ``main``; and as a script on
digits written as Fashion-MNIST IDX files, the way it is run on a GPU
machine. The PyTorch loop and ours on numpy must train and score; ours on
torch tensors is reported, run or failed.
"""

import gzip
import importlib
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
CONTENDERS = ("ours_device", "torch_loop", "ours_cpu")


#: torch's CPU threads, one: its thread pool's waits make the tiny products
#: of these tests many times slower on a small machine that is busy.
ONE_THREAD = {"OMP_NUM_THREADS": "1"}


@pytest.fixture
def gpu(monkeypatch):
    """``benchmarks/gpu.py`` as a module, leaving the process as it was.

    Importing it sets ``SCIPY_ARRAY_API`` and extends ``sys.path``; both are
    restored after the test, and so is torch's thread count.
    """
    torch = pytest.importorskip("torch")
    monkeypatch.setenv("SCIPY_ARRAY_API", "1")
    monkeypatch.setattr(sys, "path", [str(ROOT / "benchmarks"), *sys.path])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield importlib.import_module("gpu")
    torch.set_num_threads(threads)


def _digits_as_fashion(gpu, monkeypatch):
    """Make the benchmark's loader read scikit-learn's digits instead."""
    load_dataset = gpu._measure.load_dataset

    def digits(name, dtype, n_train=None, n_test=None, fashion_dir=None):
        return load_dataset("digits", dtype, n_train, n_test)

    monkeypatch.setattr(gpu._measure, "load_dataset", digits)


def _check_record(record, epochs):
    """The loop and ours on numpy ran and learnt; ours on torch ran or failed."""
    results = record["contenders"]
    assert set(results) == set(CONTENDERS)
    assert record["epochs"] == epochs
    for key in ("torch_loop", "ours_cpu"):
        assert results[key]["status"] == "ok", results[key]["error"]
    # Ten classes: chance is 10%.
    assert min(results["torch_loop"]["accuracy"]) > 0.5
    assert min(results["ours_cpu"]["accuracy"]) > 0.5
    assert results["ours_device"]["status"] == "ok", results["ours_device"]["error"]
    assert min(results["ours_device"]["accuracy"]) > 0.5
    for result in results.values():
        if result["status"] == "ok":
            assert all(math.isfinite(s) and s > 0 for s in result["epoch_s"])
            assert all(0 <= a <= 1 for a in result["accuracy"])
        else:
            assert result["error"]


def test_gpu_benchmark_main_on_cpu(gpu, monkeypatch, tmp_path, capsys):
    assert gpu.CASES["fashion"] == gpu.GpuCase("fashion", (256, 128), 256)
    assert gpu.CASES["wide"] == gpu.GpuCase("wide", (1024, 1024), 1024)
    # Digits, and the cases' networks made narrow, keep the test quick.
    _digits_as_fashion(gpu, monkeypatch)
    monkeypatch.setitem(gpu.CASES, "fashion", gpu.GpuCase("fashion", (32, 16), 32))
    monkeypatch.setitem(gpu.CASES, "wide", gpu.GpuCase("wide", (64, 64), 64))
    argv = ["--device", "cpu", "--quick", "--epochs", "2", "--repeats", "1"]
    status = gpu.main([*argv, "--output-dir", str(tmp_path)])
    assert status == 0
    raw = json.loads((tmp_path / "results.json").read_text())
    assert [r["case"] for r in raw["records"]] == ["fashion", "wide"]
    for record in raw["records"]:
        _check_record(record, epochs=2)
    assert raw["records"][1]["layer_units"] == [64, 64, 64, 10]

    report = (tmp_path / "results.md").read_text()
    assert capsys.readouterr().out.strip() == report.strip()
    for label in ("ours on cpu (torch)", "PyTorch loop on cpu", "ours on CPU (numpy)"):
        assert f"| fashion | 64-32-16-10 | 32 | {label} |" in report
        assert f"| wide | 64-64-64-10 | 64 | {label} |" in report
    assert "ours on cpu (torch) / PyTorch loop on cpu (target ≤ 1.2x)" in report
    # The loop's ratio to ours on numpy is there whatever ours on torch did.
    ratios = report.split("## Ratios")[1]
    for row in ("| fashion | 64-32-16-10 |", "| wide | 64-64-64-10 |"):
        (line,) = [line for line in ratios.splitlines() if line.startswith(row)]
        assert re.fullmatch(
            r"\d+\.\d\dx \(\d+\.\d\d–\d+\.\d\d\)", line.split("|")[-2].strip()
        )


def test_gpu_benchmark_script_reads_fashion_mnist_files(tmp_path):
    pytest.importorskip("torch")
    # Digits drawn on Fashion-MNIST's 28 x 28 grid, as its IDX files.
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    images = np.zeros((len(X), 28, 28), dtype=np.uint8)
    images[:, 2:26, 2:26] = np.kron(X.reshape(-1, 8, 8) * 15, np.ones((3, 3)))
    fashion_dir = tmp_path / "fashion"
    fashion_dir.mkdir()
    for prefix, rows in (("train", slice(0, 1400)), ("t10k", slice(1400, None))):
        _write_idx(fashion_dir / f"{prefix}-images-idx3-ubyte.gz", images[rows])
        _write_idx(
            fashion_dir / f"{prefix}-labels-idx1-ubyte.gz", y[rows].astype(np.uint8)
        )
    command = [
        sys.executable,
        str(ROOT / "benchmarks" / "gpu.py"),
        "--device",
        "cpu",
        "--quick",
        "--epochs",
        "2",
        "--repeats",
        "1",
        "--cases",
        "fashion",
        "--fashion-dir",
        str(fashion_dir),
        "--output-dir",
        str(tmp_path / "out"),
    ]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, **ONE_THREAD},
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    raw = json.loads((tmp_path / "out" / "results.json").read_text())
    (record,) = raw["records"]
    assert (record["n_train"], record["n_test"]) == (1400, 397)
    assert record["layer_units"] == [784, 256, 128, 10]
    _check_record(record, epochs=2)
    assert "| fashion | 784-256-128-10 | 256 | PyTorch loop on cpu |" in result.stdout


def _write_idx(path, array):
    """Write ``array`` (uint8) as a gzip-compressed IDX file."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    with gzip.open(path, "wb") as stream:
        stream.write(header + np.ascontiguousarray(array, np.uint8).tobytes())


def test_torch_loop_starts_and_shuffles_as_ours(gpu):
    import torch

    from skbackprop import MLPBackpropClassifier

    host = gpu._measure.load_dataset("digits", np.float32, 600, 100)
    data = gpu.DeviceData.of(host, torch.device("cpu"))
    case = gpu.GpuCase("small", (32, 16), 64)
    ours = MLPBackpropClassifier(**gpu._measure.mlp_params(case.config(2), 0))
    with gpu._measure.quiet_convergence():
        ours.fit(host.X_train, host.y_train)

    def median_gap(seed):
        weights, _ = gpu.train_torch_loop(data, case, 2, seed, torch.device("cpu"))
        return max(
            np.median(np.abs(W.detach().numpy() - coef))
            for W, coef in zip(weights, ours.coefs_)
        )

    # Same start, same batches: the weights differ by rounding and by where
    # Adam adds its epsilon, far less than one step of 1e-3. Another seed's
    # start and order end far away.
    assert median_gap(0) < 2e-4
    assert median_gap(1) > 1e-2


def test_cuda_missing_is_one_line_and_status_2(gpu, monkeypatch, capsys):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert gpu.main(["--device", "cuda"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert "torch.cuda.is_available() is False" in captured.err
    assert "--device cpu" in captured.err


def test_failed_contender_is_reported_and_ratios_left_blank(gpu):
    def result(label, status="ok", error=None, epoch_s=(0.5, 0.4), acc=(0.8, 0.9)):
        ok = status == "ok"
        return {
            "label": label,
            "status": status,
            "error": error,
            "fit_s": [2 * s for s in epoch_s] if ok else [],
            "epoch_s": list(epoch_s) if ok else [],
            "accuracy": list(acc) if ok else [],
        }

    record = {
        "case": "fashion",
        "layer_units": [784, 256, 128, 10],
        "batch_size": 256,
        "contenders": {
            "ours_device": result("ours on cuda (torch)", "failed", "TypeError: no"),
            "torch_loop": result("PyTorch loop on cuda", epoch_s=(0.25, 0.4)),
            "ours_cpu": result("ours on CPU (numpy)", epoch_s=(1.0, 0.8)),
        },
    }
    raw = {
        "environment": gpu._measure.describe_environment(ROOT),
        "device": {
            "device": "cuda",
            "device_name": "a GPU",
            "torch": "2",
            "float32_matmul_precision": "highest",
            "blas_threads": "openblas 16 threads",
        },
        "settings": "a test",
        "records": [record],
    }
    report = gpu.markdown_report(raw)
    assert (
        "| fashion | 784-256-128-10 | 256 | ours on cuda (torch) | — | — | — | failed |"
        in report
    )
    assert "- fashion, ours on cuda (torch): TypeError: no" in report
    # Loop over numpy, per round 0.25 and 0.5: median 0.375.
    assert "| fashion | 784-256-128-10 | — | — | — | 0.38x (0.25–0.50) |" in report

    record["contenders"]["ours_device"] = result(
        "ours on cuda (torch)", epoch_s=(0.3, 0.44), acc=(0.8, 0.88)
    )
    report = gpu.markdown_report(raw)
    # Ours over the loop per round: 1.2 and 1.1; accuracy 84 - 85 points.
    assert "| 1.15x (1.10–1.20) | 0.42x (0.30–0.55) | -1.00 |" in report
