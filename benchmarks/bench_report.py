"""Turn raw benchmark records into medians, ratios, verdicts, tables and a plot.

A *record* is what ``run.py`` measures for one (thread count, dataset, dtype)
case: the per-round fit and predict timings, accuracies and peak memory of
each contender, plus the per-round matmul-bound timings. Everything shown to
a reader is derived here from those raw numbers.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

#: Targets of the project, judged at 1 BLAS thread on medians of one run.
EPOCH_RATIO_MAX = 0.70  # our seconds per epoch / MLPClassifier's
MATMUL_MULTIPLE_MAX = 1.25  # our seconds per epoch / matmul bound
FIT_RATIO_MAX = 0.50  # our fit seconds / MLPClassifier's (overhead-bound data)
PREDICT_RATIO_MIN = 1.18  # our predict_proba rows/s / MLPClassifier's
MEMORY_RATIO_MAX = 0.50  # our peak fit memory / MLPClassifier's
ACCURACY_GAP_MAX_PP = 0.5  # |our test accuracy - MLPClassifier's|, points

#: Order in which datasets are shown: the reference configuration first.
DATASET_ORDER = ("fashion", "mnist5k", "digits")

_MIB = 2.0**20


def median(values):
    """Return the median of ``values``, or ``None`` when there are none."""
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def paired_ratios(ours, theirs):
    """Return ``ours[i] / theirs[i]`` for each interleaved round ``i``.

    Pairing the two measurements of one round cancels slow drifts of the
    machine's speed (other processes, frequency changes) that would bias a
    ratio of two independently taken medians.
    """
    if not ours or not theirs:
        return []  # e.g. a record written before that measurement existed
    return [a / b for a, b in zip(ours, theirs, strict=True) if a is not None and b]


@dataclass
class CaseSummary:
    """Medians and ratios of one (threads, dataset, dtype) case.

    Times are in seconds, throughputs in rows per second, memory in MiB and
    accuracies in percent. Per-contender values are dicts keyed by
    contender (``"ours"``, ``"sklearn"``, ``"torch"``); a missing contender
    or measurement is ``None``.
    """

    threads: int
    dataset: str
    dtype: str
    epochs: int
    headline_metric: str
    n_train: int
    n_predict_rows: int
    fit_s: dict
    epoch_s: dict
    rows_per_s: dict
    peak_mib: dict
    accuracy_pct: dict
    matmul_epoch_s: float
    matmul_gflops: float
    matmul_rows_per_s: float | None
    predict_ceiling: float | None
    epoch_ratio: float | None
    epoch_ratio_range: tuple | None
    fit_ratio: float | None
    predict_ratio: float | None
    memory_ratio: float | None
    accuracy_gap_pp: float | None
    matmul_multiple: float | None


def summarize(record):
    """Reduce one raw record to a :class:`CaseSummary`.

    Parameters
    ----------
    record : dict
        As produced by ``run.benchmark_case``.

    Returns
    -------
    summary : CaseSummary
    """
    results = record["contenders"]
    epochs = record["epochs"]
    n_rows = record["n_predict_rows"]

    def per_contender(fn):
        return {key: fn(result) for key, result in results.items()}

    fit_s = per_contender(lambda r: median(r["fit_s"]))
    epoch_s = {k: (v / epochs if v is not None else None) for k, v in fit_s.items()}
    rows_per_s = per_contender(
        lambda r: n_rows / median(r["predict_s"]) if r["predict_s"] else None
    )
    peak_mib = per_contender(
        lambda r: r["peak_bytes"] / _MIB if r.get("peak_bytes") is not None else None
    )
    accuracy_pct = per_contender(lambda r: 100.0 * median(r["accuracy"]))
    matmul_epoch_s = median(record["matmul_epoch_s"])
    matmul_predict_s = median(record.get("matmul_predict_s", []))

    ours, theirs = results["ours"], results["sklearn"]
    fit_pairs = paired_ratios(ours["fit_s"], theirs["fit_s"])
    # Throughput is rows / seconds, so the throughput ratio is theirs / ours.
    predict_pairs = paired_ratios(theirs["predict_s"], ours["predict_s"])
    matmul_pairs = paired_ratios(
        [t / epochs for t in ours["fit_s"]], record["matmul_epoch_s"]
    )
    memory_ratio = (
        peak_mib["ours"] / peak_mib["sklearn"]
        if peak_mib["ours"] is not None and peak_mib["sklearn"]
        else None
    )
    return CaseSummary(
        threads=record["threads"],
        dataset=record["dataset"],
        dtype=record["dtype"],
        epochs=epochs,
        headline_metric=record["headline_metric"],
        n_train=record["n_train"],
        n_predict_rows=n_rows,
        fit_s=fit_s,
        epoch_s=epoch_s,
        rows_per_s=rows_per_s,
        peak_mib=peak_mib,
        accuracy_pct=accuracy_pct,
        matmul_epoch_s=matmul_epoch_s,
        matmul_gflops=record["matmul_flops"] / matmul_epoch_s / 1e9,
        matmul_rows_per_s=n_rows / matmul_predict_s if matmul_predict_s else None,
        # The best throughput ratio any implementation on this BLAS can reach.
        predict_ceiling=median(
            paired_ratios(theirs["predict_s"], record.get("matmul_predict_s", []))
        ),
        epoch_ratio=median(fit_pairs),
        epoch_ratio_range=(min(fit_pairs), max(fit_pairs)) if fit_pairs else None,
        fit_ratio=median(fit_pairs),
        predict_ratio=median(predict_pairs),
        memory_ratio=memory_ratio,
        accuracy_gap_pp=accuracy_pct["ours"] - accuracy_pct["sklearn"],
        matmul_multiple=median(matmul_pairs),
    )


@dataclass
class TargetVerdict:
    """One target judged on one case."""

    target: str
    dataset: str
    dtype: str
    measured: float | None
    limit: str
    passed: bool | None

    @property
    def verdict(self):
        """str : ``"PASS"``, ``"FAIL"`` or ``"n/a"`` when not measured."""
        if self.passed is None:
            return "n/a"
        return "PASS" if self.passed else "FAIL"


def _at_most(value, limit):
    return None if value is None else value <= limit


def judge_targets(summaries):
    """Judge the project's targets on the single-thread cases.

    Compute-bound datasets are judged on seconds per epoch (against
    MLPClassifier and against the matmul bound); the overhead-bound one
    (``headline_metric == "fit"``) on whole-fit seconds. Prediction
    throughput, peak memory and accuracy are judged on every dataset.

    Parameters
    ----------
    summaries : list of CaseSummary

    Returns
    -------
    verdicts : list of TargetVerdict
    """
    single_thread = [s for s in summaries if s.threads == min_threads(summaries)]
    return [
        TargetVerdict(target, s.dataset, s.dtype, measured, limit, passed)
        for s in sort_summaries(single_thread)
        for target, measured, limit, passed in _case_targets(s)
    ]


def _case_targets(s):
    """Return ``(target, measured, limit text, passed)`` for one case."""
    if s.headline_metric == "epoch":
        timing = [
            (
                "epoch time / MLPClassifier",
                s.epoch_ratio,
                f"<= {EPOCH_RATIO_MAX:.2f}x",
                _at_most(s.epoch_ratio, EPOCH_RATIO_MAX),
            ),
            (
                "epoch time / matmul bound",
                s.matmul_multiple,
                f"<= {MATMUL_MULTIPLE_MAX:.2f}x",
                _at_most(s.matmul_multiple, MATMUL_MULTIPLE_MAX),
            ),
        ]
    else:
        timing = [
            (
                "fit time / MLPClassifier",
                s.fit_ratio,
                f"<= {FIT_RATIO_MAX:.2f}x",
                _at_most(s.fit_ratio, FIT_RATIO_MAX),
            ),
        ]
    accuracy_ok = (
        None
        if s.accuracy_gap_pp is None
        else abs(s.accuracy_gap_pp) <= ACCURACY_GAP_MAX_PP
    )
    predict_ok = (
        None if s.predict_ratio is None else s.predict_ratio >= PREDICT_RATIO_MIN
    )
    return timing + [
        (
            "predict_proba rows/s / MLPClassifier",
            s.predict_ratio,
            f">= {PREDICT_RATIO_MIN:.2f}x",
            predict_ok,
        ),
        (
            "peak fit memory / MLPClassifier",
            s.memory_ratio,
            f"<= {MEMORY_RATIO_MAX:.2f}x",
            _at_most(s.memory_ratio, MEMORY_RATIO_MAX),
        ),
        (
            "test accuracy difference (points)",
            s.accuracy_gap_pp,
            f"within ±{ACCURACY_GAP_MAX_PP:.1f}",
            accuracy_ok,
        ),
    ]


def min_threads(summaries):
    """Return the smallest thread count measured (the stable one)."""
    return min(s.threads for s in summaries)


def sort_summaries(summaries):
    """Order cases by threads, then dataset (reference first), then dtype."""

    def key(s):
        rank = (
            DATASET_ORDER.index(s.dataset)
            if s.dataset in DATASET_ORDER
            else len(DATASET_ORDER)
        )
        return (s.threads, rank, s.dataset, s.dtype)

    return sorted(summaries, key=key)


# --------------------------------------------------------------------------
# Markdown
# --------------------------------------------------------------------------


def _fmt(value, spec, suffix=""):
    return "—" if value is None else f"{value:{spec}}{suffix}"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |"]
    lines.append("|" + "|".join("---" for _ in header) + "|")
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def training_table(summaries):
    """Markdown table of training times, ratios and the matmul bound."""
    header = [
        "threads",
        "dataset",
        "dtype",
        "epochs",
        "ours s/epoch",
        "sklearn s/epoch",
        "ours/sklearn (min–max)",
        "torch s/epoch",
        "matmul bound s/epoch",
        "bound GFLOP/s",
        "ours/bound",
        "ours fit s",
        "sklearn fit s",
    ]
    rows = []
    for s in sort_summaries(summaries):
        spread = (
            f"{s.epoch_ratio:.2f} ({s.epoch_ratio_range[0]:.2f}–"
            f"{s.epoch_ratio_range[1]:.2f})"
            if s.epoch_ratio is not None
            else "—"
        )
        rows.append(
            [
                str(s.threads),
                s.dataset,
                s.dtype,
                str(s.epochs),
                _fmt(s.epoch_s["ours"], ".4f"),
                _fmt(s.epoch_s["sklearn"], ".4f"),
                spread,
                _fmt(s.epoch_s.get("torch"), ".4f"),
                _fmt(s.matmul_epoch_s, ".4f"),
                _fmt(s.matmul_gflops, ".0f"),
                _fmt(s.matmul_multiple, ".2f", "x"),
                _fmt(s.fit_s["ours"], ".3f"),
                _fmt(s.fit_s["sklearn"], ".3f"),
            ]
        )
    return _table(header, rows)


def prediction_table(summaries):
    """Markdown table of predict_proba throughputs."""
    header = [
        "threads",
        "dataset",
        "dtype",
        "rows",
        "ours rows/s",
        "sklearn rows/s",
        "ours/sklearn",
        "torch rows/s",
        "matmul bound rows/s",
        "ceiling (sklearn s / bound s)",
    ]
    rows = [
        [
            str(s.threads),
            s.dataset,
            s.dtype,
            str(s.n_predict_rows),
            _fmt(s.rows_per_s["ours"], ",.0f"),
            _fmt(s.rows_per_s["sklearn"], ",.0f"),
            _fmt(s.predict_ratio, ".2f", "x"),
            _fmt(s.rows_per_s.get("torch"), ",.0f"),
            _fmt(s.matmul_rows_per_s, ",.0f"),
            _fmt(s.predict_ceiling, ".2f", "x"),
        ]
        for s in sort_summaries(summaries)
    ]
    return _table(header, rows)


def memory_accuracy_table(summaries):
    """Markdown table of peak fit memory and test accuracy."""
    header = [
        "threads",
        "dataset",
        "dtype",
        "ours peak MiB",
        "sklearn peak MiB",
        "ours/sklearn",
        "ours acc %",
        "sklearn acc %",
        "torch acc %",
        "ours − sklearn (points)",
    ]
    rows = [
        [
            str(s.threads),
            s.dataset,
            s.dtype,
            _fmt(s.peak_mib["ours"], ".1f"),
            _fmt(s.peak_mib["sklearn"], ".1f"),
            _fmt(s.memory_ratio, ".2f", "x"),
            _fmt(s.accuracy_pct["ours"], ".2f"),
            _fmt(s.accuracy_pct["sklearn"], ".2f"),
            _fmt(s.accuracy_pct.get("torch"), ".2f"),
            _fmt(s.accuracy_gap_pp, "+.2f"),
        ]
        for s in sort_summaries(summaries)
    ]
    return _table(header, rows)


def targets_table(verdicts):
    """Markdown table of every target with its PASS/FAIL verdict."""
    header = ["target", "dataset", "dtype", "measured", "target value", "verdict"]
    rows = []
    for v in verdicts:
        spec = "+.2f" if "points" in v.target else ".2f"
        unit = "" if "points" in v.target else "x"
        rows.append(
            [
                v.target,
                v.dataset,
                v.dtype,
                _fmt(v.measured, spec, unit),
                v.limit,
                f"**{v.verdict}**",
            ]
        )
    return _table(header, rows)


def _kernels_note(environment):
    """How our optimizer steps ran: compiled (numba) or the numpy path."""
    if "kernels" not in environment:  # results saved before this was recorded
        return ""
    if environment["kernels"]:
        return f"; compiled kernels on (numba {environment['numba']})"
    if environment.get("numba"):
        return "; numpy path (numba installed but disabled)"
    return "; numpy path (numba not installed)"


def environment_lines(environment, settings, skipped=()):
    """Markdown bullet list describing the machine, versions and settings."""
    ours = (
        "MLPClassifier standing in (skbackprop not importable): ratios are ~1 "
        "by construction"
        if environment["our_is_stand_in"]
        else f"skbackprop {environment['skbackprop']}"
        + (
            f" at commit {environment['revision']}"
            if environment.get("revision")
            else ""
        )
        + _kernels_note(environment)
    )
    return "\n".join(
        [
            f"- CPU: {environment['cpu_model']}, {environment['logical_cores']} "
            f"logical cores ({environment['simd']})",
            f"- BLAS: {environment['blas']}",
            f"- Python {environment['python']}, numpy {environment['numpy']}, "
            f"scipy {environment['scipy']}, "
            f"scikit-learn {environment['scikit-learn']}, "
            f"torch {environment['torch'] or 'not installed'}",
            f"- Ours: {ours}",
            f"- Run: {settings}",
            *(f"- Skipped: {reason}" for reason in skipped),
        ]
    )


def markdown_report(summaries, verdicts, environment, settings, skipped=()):
    """Return the full Markdown report of one run.

    Parameters
    ----------
    summaries : list of CaseSummary
    verdicts : list of TargetVerdict
    environment : dict
        From :func:`bench_system.describe_environment`.
    settings : str
        One line describing the command-line settings of the run.
    skipped : sequence of str
        One sentence per dataset that could not be loaded.

    Returns
    -------
    markdown : str
    """
    judged_threads = min_threads(summaries) if summaries else 1
    sections = [
        "# Benchmark results: MLPBackpropClassifier vs MLPClassifier",
        environment_lines(environment, settings, skipped),
        f"## Targets ({judged_threads} BLAS thread{'s' if judged_threads > 1 else ''}, "
        "medians of interleaved runs)",
        targets_table(verdicts) if verdicts else "No case was measured.",
        "## Training time",
        training_table(summaries),
        "## Prediction throughput (predict_proba)",
        prediction_table(summaries),
        "## Peak fit memory above the data, and test accuracy",
        memory_accuracy_table(summaries),
    ]
    return "\n\n".join(sections) + "\n"


# --------------------------------------------------------------------------
# Plot
# --------------------------------------------------------------------------


def plot_results(summaries, path):
    """Save a PNG comparing the contenders, one row of panels per thread count.

    Left panel: seconds per epoch of each contender and the matmul bound (log
    scale). Right panel: ratios ours / MLPClassifier for each target metric,
    with the target value drawn as a black tick on each bar.

    Parameters
    ----------
    summaries : list of CaseSummary
    path : str or Path
    """
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")  # file output only; no display is needed or assumed
    import matplotlib.pyplot as plt
    import numpy as np

    thread_counts = sorted({s.threads for s in summaries})
    fig, axes = plt.subplots(
        len(thread_counts), 2, figsize=(14, 4.2 * len(thread_counts)), squeeze=False
    )
    for row, threads in enumerate(thread_counts):
        cases = sort_summaries([s for s in summaries if s.threads == threads])
        labels = [f"{s.dataset}\n{s.dtype}" for s in cases]
        x = np.arange(len(cases))

        ax = axes[row, 0]
        series = [
            ("MLPClassifier", [s.epoch_s["sklearn"] for s in cases], "tab:gray"),
            ("MLPBackpropClassifier", [s.epoch_s["ours"] for s in cases], "tab:blue"),
            ("PyTorch loop", [s.epoch_s.get("torch") for s in cases], "tab:orange"),
            ("matmul bound", [s.matmul_epoch_s for s in cases], "tab:green"),
        ]
        series = [item for item in series if any(v is not None for v in item[1])]
        width = 0.8 / len(series)
        for i, (name, values, color) in enumerate(series):
            heights = [np.nan if v is None else v for v in values]
            ax.bar(
                x + (i - (len(series) - 1) / 2) * width,
                heights,
                width,
                label=name,
                color=color,
            )
        ax.set_yscale("log")
        ax.set_xticks(x, labels)
        ax.set_ylabel("seconds per epoch (log)")
        ax.set_title(f"Training time, {threads} BLAS thread(s)")
        ax.legend(fontsize=8)

        ax = axes[row, 1]
        metrics = [
            (
                "time / MLPClassifier",
                [s.epoch_ratio for s in cases],
                [
                    EPOCH_RATIO_MAX if s.headline_metric == "epoch" else FIT_RATIO_MAX
                    for s in cases
                ],
            ),
            (
                "predict rows/s / MLPClassifier",
                [s.predict_ratio for s in cases],
                [PREDICT_RATIO_MIN] * len(cases),
            ),
            (
                "peak memory / MLPClassifier",
                [s.memory_ratio for s in cases],
                [MEMORY_RATIO_MAX] * len(cases),
            ),
            (
                "time / matmul bound",
                [s.matmul_multiple for s in cases],
                [
                    MATMUL_MULTIPLE_MAX if s.headline_metric == "epoch" else None
                    for s in cases
                ],
            ),
        ]
        width = 0.8 / len(metrics)
        for i, (name, values, limits) in enumerate(metrics):
            offsets = x + (i - (len(metrics) - 1) / 2) * width
            heights = [np.nan if v is None else v for v in values]
            ax.bar(offsets, heights, width, label=name)
            for offset, limit in zip(offsets, limits, strict=True):
                if limit is not None:
                    ax.hlines(
                        limit,
                        offset - width / 2,
                        offset + width / 2,
                        colors="black",
                        linewidth=2,
                    )
        ax.axhline(1.0, color="black", linewidth=0.5, linestyle=":")
        # Log scale: a ratio of 0.5 and one of 2 are the same distance from 1,
        # and the large multiples of the bound on tiny data stay readable.
        ax.set_yscale("log")
        ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_yticks([0.25, 0.5, 0.7, 1, 1.25, 2, 4, 8])
        ax.set_xticks(x, labels)
        ax.set_ylabel("ratio (time, memory: lower is better)")
        ax.set_title("Ratios; black ticks = targets")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
