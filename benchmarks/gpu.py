"""Epoch time of MLPBackpropClassifier on a GPU, against a PyTorch loop.

Run from the repository root::

    python benchmarks/gpu.py                        # CUDA, both cases, 5 epochs
    python benchmarks/gpu.py --device cpu --quick   # smoke run, no GPU needed

Two cases on Fashion-MNIST, standardised, in float32, both trained with Adam:
the reference network 784-256-128-10 with batch 256, and a wide one,
784-1024-1024-10 with batch 1024. In each case three contenders train the same
network for the same number of epochs, interleaved round by round:

* ours on the device: ``MLPBackpropClassifier`` fitted, under scikit-learn's
  array API dispatch, on torch tensors already on the device;
* the PyTorch loop on the device: a hand-written training loop of the same
  network, from the same initial weights, over the same batches in the same
  order, on the same tensors;
* ours on the CPU: the same estimator on numpy arrays.

A contender that raises (ours on torch tensors, before the estimator supports
them) is reported as failed with its error, and the others still run. The
Markdown report is printed and written, with every timing in JSON, to
``--output-dir``; ``benchmarks/README.md`` says what the numbers mean and what
the target is.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import signal
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

# scikit-learn dispatches to torch only when SciPy's own array API support is
# on, and SciPy reads this variable once, when it is first imported: it must be
# set before numpy, SciPy or scikit-learn is imported here or by a module this
# script imports. Setting it later in the process would have no effect.
os.environ["SCIPY_ARRAY_API"] = "1"

import numpy as np  # noqa: E402

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS_DIR.parent
# Benchmark the checkout this script lives in, installed or not; and find the
# suite's modules beside it when this file is imported rather than run.
for _path in (REPO_ROOT, BENCHMARKS_DIR):
    if str(_path) not in sys.path:
        sys.path.insert(1, str(_path))

import _measure  # noqa: E402
import _report  # noqa: E402

DEFAULT_OUTPUT_DIR = BENCHMARKS_DIR / "results" / "gpu"
#: Quick runs write where git ignores them, so smoke runs change no file.
QUICK_OUTPUT_DIR = BENCHMARKS_DIR / "results" / "raw" / "gpu-quick"

DEFAULT_EPOCHS = 5
QUICK_EPOCHS = 2
#: Rows of a ``--quick`` run: enough for every batch size of the cases.
QUICK_TRAIN, QUICK_TEST = 5_000, 1_000
#: The target of the issue, shown beside the ratio it judges.
TARGET_RATIO = 1.2


@dataclass(frozen=True)
class GpuCase:
    """One network and batch size, trained on the same data.

    Attributes
    ----------
    name : str
        Name in ``--cases`` and in the report.
    hidden_layer_sizes : tuple of int
    batch_size : int
    """

    name: str
    hidden_layer_sizes: tuple
    batch_size: int

    def config(self, epochs):
        """Return the suite's :class:`_measure.BenchConfig` of this case."""
        return _measure.BenchConfig(
            "fashion", self.hidden_layer_sizes, self.batch_size, epochs
        )


CASES = {
    # The suite's reference configuration.
    "fashion": GpuCase("fashion", (256, 128), 256),
    # Wide layers and large batches: few, large matrix products per epoch,
    # where a GPU gains most and the per-batch overhead matters least.
    "wide": GpuCase("wide", (1024, 1024), 1024),
}


def log(message):
    """Print a progress line to stderr; stdout carries the report."""
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
    add = parser.add_argument
    add("--device", default="cuda", help="torch device of ours and the loop (cuda)")
    add(
        "--quick",
        action="store_true",
        help=f"smoke run: {QUICK_TRAIN} training rows, {QUICK_EPOCHS} epochs",
    )
    add(
        "--epochs",
        type=int,
        help=f"epochs of every timed fit ({DEFAULT_EPOCHS}; {QUICK_EPOCHS} "
        "with --quick)",
    )
    add("--repeats", type=int, default=3, help="interleaved rounds per case (3)")
    add(
        "--cases",
        type=_comma_list,
        default=list(CASES),
        help=f"comma-separated subset of {','.join(CASES)}",
    )
    add(
        "--fashion-dir",
        help=f"folder of the Fashion-MNIST IDX files ({_measure.FASHION_MNIST_DIR})",
    )
    add(
        "--output-dir",
        type=Path,
        help="where results.md and results.json go (benchmarks/results/gpu; "
        "with --quick, benchmarks/results/raw/gpu-quick)",
    )
    args = parser.parse_args(argv)
    if args.epochs is None:
        args.epochs = QUICK_EPOCHS if args.quick else DEFAULT_EPOCHS
    if args.epochs < 1 or args.repeats < 1:
        parser.error("--epochs and --repeats must be at least 1")
    unknown = set(args.cases) - set(CASES)
    if unknown or not args.cases:
        parser.error(f"--cases takes a subset of {','.join(CASES)}")
    if args.output_dir is None:
        args.output_dir = QUICK_OUTPUT_DIR if args.quick else DEFAULT_OUTPUT_DIR
    return args


def resolve_device(name):
    """Return the torch device ``name``, or why it cannot be used.

    Returns
    -------
    device : torch.device or None
    problem : str or None
        One sentence, when ``device`` is ``None``.
    """
    try:
        import torch
    except ImportError:
        return None, "PyTorch is not installed; `pip install torch` provides it."
    try:
        device = torch.device(name)
    except RuntimeError as error:
        return None, f"--device {name!r} is not a torch device: {error}"
    if device.type == "cuda" and not torch.cuda.is_available():
        return None, (
            f"--device {name} was asked for, but torch {torch.__version__} sees "
            "no CUDA GPU (torch.cuda.is_available() is False); use --device cpu "
            "to run on the CPU."
        )
    return device, None


def synchronize(device):
    """Wait for the device's queued work, so that a timing includes it.

    CUDA runs kernels asynchronously: without this, a timed fit could end
    while its last steps are still queued, and the next timing would pay
    for them.
    """
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------


def load_data(n_train, n_test, fashion_dir):
    """Load Fashion-MNIST, standardised, in float32, outside any timing.

    Every pixel is standardised with the training split's mean and standard
    deviation (a constant pixel keeps a divisor of 1), as a user would with a
    scaler.

    Parameters
    ----------
    n_train, n_test : int or None
        Random subsample sizes; ``None`` keeps the whole split.
    fashion_dir : str or Path or None
        Folder of the IDX files, as ``_measure.load_dataset`` takes it.

    Returns
    -------
    data : _measure.Dataset
        Features in float32, labels in int64.

    Raises
    ------
    _measure.DatasetUnavailable
        If the IDX files are not installed.
    """
    data = _measure.load_dataset("fashion", np.float64, n_train, n_test, fashion_dir)
    standardise = _measure._standardiser(data.X_train)

    def features(X):
        return np.ascontiguousarray(standardise(X), dtype=np.float32)

    return _measure.Dataset(
        features(data.X_train),
        np.asarray(data.y_train, dtype=np.int64),
        features(data.X_test),
        np.asarray(data.y_test, dtype=np.int64),
    )


@dataclass
class DeviceData:
    """The run's data on the host and on the device, made once for every case.

    Attributes
    ----------
    host : _measure.Dataset
        The numpy arrays, for ours on the CPU.
    X_train, y_train, X_test, y_test : torch.Tensor
        The same on the device; labels as int64.
    codes_train : torch.Tensor
        The training labels' class indices (0 to n_classes - 1), the targets
        of the PyTorch loop's cross-entropy.
    classes : ndarray
        The sorted distinct training labels.
    """

    host: _measure.Dataset
    X_train: object
    y_train: object
    X_test: object
    y_test: object
    codes_train: object
    classes: np.ndarray

    @classmethod
    def of(cls, host, device):
        """Copy ``host`` to ``device`` and encode its labels."""
        import torch

        classes, codes = np.unique(host.y_train, return_inverse=True)

        def on_device(array):
            return torch.from_numpy(np.ascontiguousarray(array)).to(device)

        return cls(
            host,
            on_device(host.X_train),
            on_device(host.y_train),
            on_device(host.X_test),
            on_device(host.y_test),
            on_device(codes.astype(np.int64)),
            classes,
        )


# ---------------------------------------------------------------------------
# Contenders
# ---------------------------------------------------------------------------


#: Each contender's name in the report, given the device of the torch ones.
LABELS = {
    "ours_device": "ours on {device} (torch)",
    "torch_loop": "PyTorch loop on {device}",
    "ours_cpu": "ours on CPU (numpy)",
}


@dataclass(frozen=True)
class Contender:
    """One row of a case in the report.

    Attributes
    ----------
    key : {"ours_device", "torch_loop", "ours_cpu"}
    label : str
        Name in the report.
    run : callable
        ``run(seed, epochs)`` trains from scratch and returns the fit's
        seconds and the test accuracy (a fraction).
    """

    key: str
    label: str
    run: Callable


def timed(work, device):
    """Return the wall-clock seconds of ``work()``, its device work included.

    A full collection runs first, so that no earlier run's garbage is
    collected inside this timing, and the warning that every fixed-epoch fit
    emits on purpose is silenced.
    """
    gc.collect()
    synchronize(device)
    with _measure.quiet_convergence():
        start = time.perf_counter()
        work()
        synchronize(device)
        return time.perf_counter() - start


def _require_on_device(predicted, device):
    """Raise unless ``predicted`` is a torch tensor on ``device``'s kind.

    An estimator without array API support may still accept CPU tensors by
    converting them to numpy; it then trains on the host, which is not what
    this contender measures.
    """
    import torch

    if isinstance(predicted, torch.Tensor) and predicted.device.type == device.type:
        return
    where = (
        f"a tensor on {predicted.device}"
        if isinstance(predicted, torch.Tensor)
        else f"a {type(predicted).__module__}.{type(predicted).__name__}"
    )
    raise TypeError(
        f"predict returned {where}, not a torch tensor on {device}: the "
        "estimator did not keep the data on the device"
    )


def ours_on_device(case, data, device):
    """Our estimator fitted on ``data``'s device tensors, with array API dispatch.

    Parameters are the suite's (:func:`_measure.mlp_params`): Adam with
    scikit-learn's defaults, exactly ``epochs`` epochs, no early stopping.
    """
    import sklearn

    from skbackprop import MLPBackpropClassifier

    def run(seed, epochs):
        estimator = MLPBackpropClassifier(
            **_measure.mlp_params(case.config(epochs), seed)
        )
        with sklearn.config_context(array_api_dispatch=True):
            seconds = timed(lambda: estimator.fit(data.X_train, data.y_train), device)
            predicted = estimator.predict(data.X_test)
        _require_on_device(predicted, device)
        accuracy = (predicted == data.y_test).double().mean().item()
        return seconds, accuracy

    return Contender("ours_device", LABELS["ours_device"].format(device=device), run)


def ours_on_cpu(case, data):
    """Our estimator fitted on numpy arrays, with the BLAS threads it finds."""
    import torch

    from skbackprop import MLPBackpropClassifier

    host, cpu = data.host, torch.device("cpu")

    def run(seed, epochs):
        estimator = MLPBackpropClassifier(
            **_measure.mlp_params(case.config(epochs), seed)
        )
        seconds = timed(lambda: estimator.fit(host.X_train, host.y_train), cpu)
        return seconds, float(estimator.score(host.X_test, host.y_test))

    return Contender("ours_cpu", LABELS["ours_cpu"], run)


def initial_parameters(layer_units, random_state):
    """Draw scikit-learn's Glorot-uniform weights and biases, in its order.

    For every layer, weights of shape ``(fan_in, fan_out)`` and then biases
    from ``U(-b, b)``, ``b = sqrt(6 / (fan_in + fan_out))`` (the factor of
    ReLU networks), from the generator that then shuffles the batches: the
    same draws as our estimator's and MLPClassifier's for the same seed.

    Returns
    -------
    weights, biases : list of ndarray
        float64, as drawn.
    """
    weights, biases = [], []
    for fan_in, fan_out in pairwise(layer_units):
        bound = math.sqrt(6.0 / (fan_in + fan_out))
        weights.append(random_state.uniform(-bound, bound, (fan_in, fan_out)))
        biases.append(random_state.uniform(-bound, bound, fan_out))
    return weights, biases


def forward(weights, biases, A):
    """Return the output layer (logits) of the network on the inputs ``A``.

    ``Z = A W + b`` for every layer, with ReLU on all but the output layer.
    """
    import torch

    for layer, (W, b) in enumerate(zip(weights, biases)):
        Z = torch.addmm(b, A, W)
        A = torch.relu(Z) if layer < len(weights) - 1 else Z
    return A


def train_torch_loop(data, case, epochs, seed, device, alpha=1e-4):
    """Train the case's network with a hand-written PyTorch loop.

    The network, the start and the batches are our estimator's for three
    classes or more: ReLU hidden layers and a softmax output with the mean
    cross-entropy; the weights
    :func:`initial_parameters` draws from ``numpy.random.RandomState(seed)``;
    every epoch that generator shuffles, in place, one index vector kept
    across epochs (as scikit-learn's MLP does), whose batches are taken from
    the device tensors with ``index_select``. Adam has scikit-learn's
    defaults (learning rate 1e-3, betas (0.9, 0.999), eps 1e-8), and the L2
    penalty ``0.5 * alpha * ||W||^2 / n_batch`` on the weights (not the
    biases) as scikit-learn adds it, through the gradient it adds,
    ``alpha * W / n_batch``: Adam's coupled ``weight_decay``.

    Parameters
    ----------
    data : DeviceData
    case : GpuCase
    epochs : int
    seed : int
    device : torch.device
    alpha : float, default=1e-4
        scikit-learn's default L2 penalty.

    Returns
    -------
    weights, biases : list of torch.Tensor
        The trained parameters, for :func:`forward`.
    """
    import torch
    import torch.nn.functional as F

    random_state = np.random.RandomState(seed)
    n_samples = data.X_train.shape[0]
    layer_units = [data.X_train.shape[1], *case.hidden_layer_sizes, len(data.classes)]

    def parameter(array):
        return torch.from_numpy(array.astype(np.float32)).to(device).requires_grad_()

    drawn_weights, drawn_biases = initial_parameters(layer_units, random_state)
    weights = [parameter(W) for W in drawn_weights]
    biases = [parameter(b) for b in drawn_biases]
    optimizer = torch.optim.Adam(
        [
            {"params": weights, "weight_decay": alpha / case.batch_size},
            {"params": biases, "weight_decay": 0.0},
        ],
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
    )
    decay = optimizer.param_groups[0]

    order = np.arange(n_samples, dtype=np.int64)
    for _ in range(epochs):
        random_state.shuffle(order)
        # One host-to-device copy of the epoch's order, then slices of it.
        order_on_device = torch.from_numpy(order).to(device)
        for start in range(0, n_samples, case.batch_size):
            rows = order_on_device[start : start + case.batch_size]
            # The L2 gradient is divided by this batch's rows: the last batch
            # of an epoch may be shorter.
            decay["weight_decay"] = alpha / rows.shape[0]
            optimizer.zero_grad(set_to_none=True)
            logits = forward(weights, biases, data.X_train.index_select(0, rows))
            F.cross_entropy(logits, data.codes_train.index_select(0, rows)).backward()
            optimizer.step()
    return weights, biases


def torch_loop(case, data, device):
    """The hand-written PyTorch loop of :func:`train_torch_loop`, as a contender."""
    import torch

    classes = torch.from_numpy(data.classes).to(device)

    def run(seed, epochs):
        trained = []
        seconds = timed(
            lambda: trained.extend(train_torch_loop(data, case, epochs, seed, device)),
            device,
        )
        with torch.no_grad():
            logits = forward(*trained, data.X_test)
        predicted = classes.index_select(0, logits.argmax(dim=1))
        accuracy = (predicted == data.y_test).double().mean().item()
        return seconds, accuracy

    return Contender("torch_loop", LABELS["torch_loop"].format(device=device), run)


def build_contenders(case, data, device):
    """Return the case's contenders in the order every round runs them."""
    return [
        ours_on_device(case, data, device),
        torch_loop(case, data, device),
        ours_on_cpu(case, data),
    ]


# ---------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------


def _failure(error):
    """One line naming an exception, for the report."""
    text = " ".join(str(error).split()) or "(no message)"
    return f"{type(error).__name__}: {text[:300]}"


def measure_case(case, data, device, args):
    """Time every contender of one case in interleaved rounds.

    First an untimed 1-epoch fit of each contender, so that one-off costs
    (CUDA's context and libraries, numba's compilation or cache load, lazy
    imports) stay out of the timings; then ``args.repeats`` rounds, round
    ``r`` fitting every contender in turn with ``random_state=r`` for
    ``args.epochs`` epochs. A contender that raises is marked failed with
    its error and left out of the later rounds.

    Returns
    -------
    record : dict
        The case's settings and, per contender, its ``label``, ``status``
        (``"ok"`` or ``"failed"``), ``error``, and per round ``fit_s``,
        ``epoch_s`` and ``accuracy``.
    """
    contenders = build_contenders(case, data, device)
    results = {
        c.key: {
            "label": c.label,
            "status": "ok",
            "error": None,
            "fit_s": [],
            "epoch_s": [],
            "accuracy": [],
        }
        for c in contenders
    }

    def attempt(contender, seed, epochs):
        result = results[contender.key]
        if result["status"] != "ok":
            return None
        try:
            return contender.run(seed, epochs)
        except Exception as error:  # reported, so that the others still run
            result["status"], result["error"] = "failed", _failure(error)
            log(f"  {contender.label} failed: {result['error']}")
            return None

    for contender in contenders:
        attempt(contender, 0, 1)
    for seed in range(args.repeats):
        for contender in contenders:
            outcome = attempt(contender, seed, args.epochs)
            if outcome is not None:
                seconds, accuracy = outcome
                result = results[contender.key]
                result["fit_s"].append(seconds)
                result["epoch_s"].append(seconds / args.epochs)
                result["accuracy"].append(accuracy)
        log(
            f"  round {seed + 1}/{args.repeats}: "
            + ", ".join(
                f"{r['label']} "
                + (f"{r['epoch_s'][-1]:.4f} s/epoch" if r["status"] == "ok" else "-")
                for r in results.values()
            )
        )
    return {
        "case": case.name,
        "hidden_layer_sizes": list(case.hidden_layer_sizes),
        "layer_units": [
            data.host.n_features,
            *case.hidden_layer_sizes,
            data.host.n_classes,
        ],
        "batch_size": case.batch_size,
        "epochs": args.epochs,
        "n_train": int(data.host.X_train.shape[0]),
        "n_test": int(data.host.X_test.shape[0]),
        "contenders": results,
    }


def blas_threads():
    """Describe the BLAS thread pools of numpy and SciPy, as threadpoolctl sees them."""
    from threadpoolctl import threadpool_info

    pools = sorted(
        {
            f"{info.get('internal_api')} {info.get('num_threads')} threads"
            for info in threadpool_info()
            if info.get("user_api") == "blas"
        }
    )
    return ", ".join(pools) or "unknown"


def describe_device(device):
    """Return what a reader needs to know of the device and of torch."""
    import torch

    if device.type == "cuda":
        name = (
            f"{torch.cuda.get_device_name(device)}, CUDA {torch.version.cuda}, "
            f"{torch.cuda.device_count()} visible"
        )
    else:
        name = f"torch CPU, {torch.get_num_threads()} intra-op threads"
    return {
        "device": str(device),
        "device_name": name,
        "torch": torch.__version__,
        # TF32 would make float32 products faster and less precise; both
        # torch contenders share this setting.
        "float32_matmul_precision": torch.get_float32_matmul_precision(),
        "blas_threads": blas_threads(),
    }


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------


def _median(values):
    return statistics.median(values) if values else None


def _cell(value, spec, suffix=""):
    return "—" if value is None else f"{value:{spec}}{suffix}"


def _paired(record, numerator, denominator):
    """Medians and range of one contender's per-round ratio to another's.

    Only rounds in which both ran are paired; ``None`` if there are none.
    """
    a = record["contenders"][numerator]
    b = record["contenders"][denominator]
    if a["status"] != "ok" or b["status"] != "ok" or not a["epoch_s"]:
        return None
    ratios = _report.paired_ratios(a["epoch_s"], b["epoch_s"])
    return statistics.median(ratios), min(ratios), max(ratios)


def _ratio_cell(paired):
    if paired is None:
        return "—"
    median, low, high = paired
    return f"{median:.2f}x ({low:.2f}–{high:.2f})"


def _accuracy_gap(record, key, other):
    a, b = record["contenders"][key], record["contenders"][other]
    if a["status"] != "ok" or b["status"] != "ok" or not a["accuracy"]:
        return None
    return 100 * (_median(a["accuracy"]) - _median(b["accuracy"]))


def network_name(record):
    """The layer widths joined by dashes, as in "784-256-128-10"."""
    return "-".join(str(units) for units in record["layer_units"])


def _header(raw):
    """The report's title and the bullet list of the machine and the run."""
    device = raw["device"]
    return [
        "# GPU benchmark: MLPBackpropClassifier on torch tensors against a "
        "PyTorch loop",
        f"- Device: {device['device']} ({device['device_name']}), torch "
        f"{device['torch']}, float32 matmul precision "
        f"'{device['float32_matmul_precision']}'\n"
        f"- BLAS of ours on the CPU: {device['blas_threads']}\n"
        + _report.environment_lines(
            raw["environment"], raw["settings"], raw.get("skipped", ())
        ),
    ]


def _time_table(raw):
    """The table of epoch times and accuracies, and the list of failures."""
    table = [
        "| case | network | batch | contender | s/epoch | min–max | "
        "test accuracy % | status |",
        "|---|---|---|---|---|---|---|---|",
    ]
    failures = []
    for record in raw["records"]:
        for result in record["contenders"].values():
            epoch_s = result["epoch_s"]
            spread = f"{min(epoch_s):.4f}–{max(epoch_s):.4f}" if epoch_s else "—"
            accuracy = _median(result["accuracy"])
            table.append(
                f"| {record['case']} | {network_name(record)} | "
                f"{record['batch_size']} | {result['label']} | "
                f"{_cell(_median(epoch_s), '.4f')} | {spread} | "
                f"{_cell(None if accuracy is None else 100 * accuracy, '.2f')} | "
                f"{result['status']} |"
            )
            if result["error"]:
                failures.append(
                    f"- {record['case']}, {result['label']}: {result['error']}"
                )
    sections = [
        "## Epoch time and test accuracy",
        "Seconds per epoch are a fit's seconds over its epochs, medians over "
        "the interleaved rounds. Ours on torch tensors and the PyTorch loop "
        "train the same network from the same weights over the same batches.",
        "\n".join(table),
    ]
    if failures:
        sections += ["Failed contenders, with their errors:", "\n".join(failures)]
    return sections


def _ratio_table(raw):
    """The table of per-round ratios, and the sentence that reads it."""
    device = raw["device"]["device"]
    ours, loop, cpu = (
        LABELS[key].format(device=device)
        for key in ("ours_device", "torch_loop", "ours_cpu")
    )
    table = [
        f"| case | network | {ours} / {loop} (target ≤ {TARGET_RATIO}x) | "
        f"{ours} / {cpu} | accuracy {ours} − {loop} (points) | {loop} / {cpu} |",
        "|---|---|---|---|---|---|",
    ]
    for record in raw["records"]:
        gap = _accuracy_gap(record, "ours_device", "torch_loop")
        table.append(
            f"| {record['case']} | {network_name(record)} | "
            f"{_ratio_cell(_paired(record, 'ours_device', 'torch_loop'))} | "
            f"{_ratio_cell(_paired(record, 'ours_device', 'ours_cpu'))} | "
            f"{_cell(gap, '+.2f')} | "
            f"{_ratio_cell(_paired(record, 'torch_loop', 'ours_cpu'))} |"
        )
    return [
        "## Ratios of epoch times (medians of the per-round ratios, min–max)",
        f"The target: {ours} takes at most {TARGET_RATIO}x the epoch time of "
        f"{loop}, at equal test accuracy. A ratio is left blank when either "
        "side failed.",
        "\n".join(table),
    ]


def markdown_report(raw):
    """Return the Markdown report of a run's raw records.

    Parameters
    ----------
    raw : dict
        ``environment``, ``device``, ``settings``, ``skipped`` and
        ``records``, as :func:`main` collects them.

    Returns
    -------
    markdown : str
    """
    sections = [*_header(raw), *_time_table(raw), *_ratio_table(raw)]
    return "\n\n".join(sections) + "\n"


def write_outputs(raw, output_dir):
    """Write ``results.md`` and ``results.json``; return the report's text."""
    markdown = markdown_report(raw)
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / "results.md").write_text(markdown, encoding="utf-8")
    (output_dir / "results.json").write_text(json.dumps(raw, indent=1), "utf-8")
    return markdown


def settings_line(args, data):
    """Describe the run's settings in one line of the report."""
    rows = f"{data.X_train.shape[0]:,} train / {data.X_test.shape[0]:,} test rows" + (
        " (subsampled, --quick)" if args.quick else ""
    )
    return (
        f"Fashion-MNIST, {rows}, standardised, float32; Adam; {args.epochs} "
        f"epochs per timed fit after an untimed 1-epoch warm-up fit; "
        f"{args.repeats} interleaved rounds (seeds 0 to {args.repeats - 1}), "
        "medians"
    )


def main(argv=None):
    """Measure the requested cases, print the report and write its files.

    Returns
    -------
    status : int
        0 when at least one case was measured, 1 when the data are missing,
        2 when the device cannot be used.
    """
    args = parse_args(argv)
    device, problem = resolve_device(args.device)
    if device is None:
        print(problem, file=sys.stderr)
        return 2
    try:
        host = load_data(
            QUICK_TRAIN if args.quick else None,
            QUICK_TEST if args.quick else None,
            args.fashion_dir,
        )
    except _measure.DatasetUnavailable as error:
        print(error, file=sys.stderr)
        return 1
    # A run in the background ignores SIGINT; `kill PID` then ends it as
    # Ctrl-C does, with a report of the finished cases.
    previous_handler = signal.signal(signal.SIGTERM, signal.default_int_handler)
    started = time.perf_counter()
    raw = {
        "environment": _measure.describe_environment(REPO_ROOT),
        "device": describe_device(device),
        "settings": settings_line(args, host),
        "skipped": [],
        "argv": sys.argv[1:] if argv is None else list(argv),
        "records": [],
    }
    data = DeviceData.of(host, device)
    # Objects alive after the imports move to the permanent generation, so
    # that the collection before each timing walks only what the run makes.
    gc.freeze()
    try:
        for name in args.cases:
            case = CASES[name]
            log(
                f"{name}: hidden {case.hidden_layer_sizes}, batch "
                f"{case.batch_size}, {args.epochs} epochs, on {device}"
            )
            raw["records"].append(measure_case(case, data, device, args))
            # Written after every case, so that a run cut short keeps them.
            write_outputs(raw, args.output_dir)
    except KeyboardInterrupt:
        log(f"Interrupted: reporting the {len(raw['records'])} finished case(s).")
        raw["skipped"].append("The run was interrupted; later cases were not measured.")
    finally:
        # Leave the process as it was, for a caller that goes on.
        gc.unfreeze()
        signal.signal(signal.SIGTERM, previous_handler)
    markdown = write_outputs(raw, args.output_dir)
    print(markdown)
    log(
        f"Done in {time.perf_counter() - started:.0f} s; report and raw timings in "
        f"{args.output_dir}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
