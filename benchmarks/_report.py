"""From a run's raw records to medians, paired ratios, tables, a plot and files.

A *record* is what ``run.py`` measured for one (threads, dataset, dtype)
case: its task, per round each contender's fit and prediction seconds and
test scores (accuracy, or R² and RMSE), its peak fit memory, and the matmul
bound's seconds. Every number a reader sees is derived here from those; the
raw records are saved too, so that a run can be re-rendered without measuring
again. Each task has its own tables, named after it and after the
scikit-learn estimator it is compared with.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass

from _measure import TASKS

#: Order of the datasets in tables and plots: each task's reference
#: configuration first.
DATASET_ORDER = ("fashion", "mnist5k", "digits", "friedman", "diabetes")


def paired_ratios(numerators, denominators):
    """Return ``numerators[i] / denominators[i]`` for each round ``i``.

    Pairing the two measurements of one round cancels slow drifts of the
    machine's speed, which a ratio of two separately taken medians would not.
    """
    return [a / b for a, b in zip(numerators, denominators, strict=True)]


@dataclass
class CaseSummary:
    """Medians and ratios of one (threads, dataset, dtype) case.

    Seconds, rows per second, MiB and percent; per-contender values are dicts
    keyed by contender, and a measurement not taken is ``None``. The scores
    of the other task are ``None`` too: ``accuracy_pct`` and
    ``accuracy_gap_pp`` belong to classification, ``r2``, ``rmse`` and
    ``r2_gap`` to regression.
    """

    threads: int
    task: str
    dataset: str
    dtype: str
    epochs: int
    n_predict_rows: int
    fit_s: dict
    epoch_s: dict
    rows_per_s: dict
    peak_mib: dict
    accuracy_pct: dict | None
    r2: dict | None
    rmse: dict | None
    bound_epoch_s: float
    bound_gflops: float
    bound_rows_per_s: float
    predict_ceiling: float
    time_ratio: float
    time_ratio_range: tuple
    bound_ratio: float
    predict_ratio: float
    memory_ratio: float | None
    accuracy_gap_pp: float | None
    r2_gap: float | None


def _median_scores(results, name, scale=1.0):
    """Return each contender's median of score ``name``, or ``None`` if unscored."""
    if name not in results["ours"]:
        return None
    return {key: scale * statistics.median(r[name]) for key, r in results.items()}


def summarize(record):
    """Reduce one raw record to a :class:`CaseSummary`.

    Parameters
    ----------
    record : dict
        As ``run.py`` measures it; one without a ``task`` (saved before
        regression was benchmarked) is a classification case.

    Returns
    -------
    summary : CaseSummary
    """
    results, epochs = record["contenders"], record["epochs"]
    n_rows = record["n_predict_rows"]
    ours, theirs = results["ours"], results["sklearn"]
    fit_s = {key: statistics.median(r["fit_s"]) for key, r in results.items()}
    peak_mib = {
        key: None if r["peak_bytes"] is None else r["peak_bytes"] / 2**20
        for key, r in results.items()
    }
    accuracy_pct = _median_scores(results, "accuracy", scale=100)
    r2, rmse = _median_scores(results, "r2"), _median_scores(results, "rmse")
    time_ratios = paired_ratios(ours["fit_s"], theirs["fit_s"])
    bound_epoch_s = statistics.median(record["matmul_epoch_s"])
    return CaseSummary(
        threads=record["threads"],
        task=record.get("task", "classification"),
        dataset=record["dataset"],
        dtype=record["dtype"],
        epochs=epochs,
        n_predict_rows=n_rows,
        fit_s=fit_s,
        epoch_s={key: seconds / epochs for key, seconds in fit_s.items()},
        rows_per_s={
            key: n_rows / statistics.median(r["predict_s"])
            for key, r in results.items()
        },
        peak_mib=peak_mib,
        accuracy_pct=accuracy_pct,
        r2=r2,
        rmse=rmse,
        bound_epoch_s=bound_epoch_s,
        bound_gflops=record["matmul_flops"] / bound_epoch_s / 1e9,
        bound_rows_per_s=n_rows / statistics.median(record["matmul_predict_s"]),
        # The largest throughput ratio against scikit-learn that any
        # implementation calling this BLAS could reach.
        predict_ceiling=statistics.median(
            paired_ratios(theirs["predict_s"], record["matmul_predict_s"])
        ),
        time_ratio=statistics.median(time_ratios),
        time_ratio_range=(min(time_ratios), max(time_ratios)),
        bound_ratio=statistics.median(
            paired_ratios(
                [seconds / epochs for seconds in ours["fit_s"]],
                record["matmul_epoch_s"],
            )
        ),
        # Throughput is rows / seconds: its ratio is their seconds / ours.
        predict_ratio=statistics.median(
            paired_ratios(theirs["predict_s"], ours["predict_s"])
        ),
        memory_ratio=(
            None
            if None in (peak_mib["ours"], peak_mib["sklearn"])
            else peak_mib["ours"] / peak_mib["sklearn"]
        ),
        accuracy_gap_pp=(
            None
            if accuracy_pct is None
            else accuracy_pct["ours"] - accuracy_pct["sklearn"]
        ),
        r2_gap=None if r2 is None else r2["ours"] - r2["sklearn"],
    )


def sort_summaries(summaries):
    """Order cases by threads, task, dataset (reference first), then dtype."""

    def key(s):
        rank = DATASET_ORDER.index(s.dataset) if s.dataset in DATASET_ORDER else 99
        task_rank = list(TASKS).index(s.task) if s.task in TASKS else 99
        return (s.threads, task_rank, rank, s.dataset, s.dtype)

    return sorted(summaries, key=key)


# ---------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------


def _cell(value, spec, suffix=""):
    return "—" if value is None else f"{value:{spec}}{suffix}"


def _time_ratio_spread(s):
    low, high = s.time_ratio_range
    return f"{s.time_ratio:.2f} ({low:.2f}–{high:.2f})"


def _score_columns(task):
    """Return the test-score columns of ``task``'s memory and score table."""
    if task.name == "regression":
        return [
            ("ours R²", lambda s: _cell(s.r2["ours"], ".4f")),
            ("sklearn R²", lambda s: _cell(s.r2["sklearn"], ".4f")),
            ("torch R²", lambda s: _cell(s.r2.get("torch"), ".4f")),
            ("R² ours − sklearn", lambda s: _cell(s.r2_gap, "+.4f")),
            ("ours RMSE", lambda s: _cell(s.rmse["ours"], ".4f")),
            ("sklearn RMSE", lambda s: _cell(s.rmse["sklearn"], ".4f")),
            ("torch RMSE", lambda s: _cell(s.rmse.get("torch"), ".4f")),
        ]
    return [
        ("ours acc %", lambda s: _cell(s.accuracy_pct["ours"], ".2f")),
        ("sklearn acc %", lambda s: _cell(s.accuracy_pct["sklearn"], ".2f")),
        ("torch acc %", lambda s: _cell(s.accuracy_pct.get("torch"), ".2f")),
        ("ours − sklearn (points)", lambda s: _cell(s.accuracy_gap_pp, "+.2f")),
    ]


def report_tables(task):
    """Return the report's tables of one task.

    Every table starts with the case's threads, dataset and dtype; the
    headings name the task, and the columns the estimator ours is compared
    with and the prediction method timed.

    Parameters
    ----------
    task : _measure.Task

    Returns
    -------
    tables : list of (str, list of (str, callable))
        Section heading, then the header and cell function of each column.
    """
    theirs, method = task.theirs, task.predict_method
    if task.name == "regression":
        score_gap = ("test R² ours − sklearn", lambda s: _cell(s.r2_gap, "+.4f"))
        scores = "test R² and RMSE"
    else:
        score_gap = (
            "test accuracy ours − sklearn (points)",
            lambda s: _cell(s.accuracy_gap_pp, "+.2f"),
        )
        scores = "test accuracy"
    title = task.name.capitalize()
    return [
        (
            f"{title}: ratios to {theirs} (medians over interleaved rounds)",
            [
                (f"fit time / {theirs} (min–max)", _time_ratio_spread),
                (
                    "epoch time / matmul bound",
                    lambda s: _cell(s.bound_ratio, ".2f", "x"),
                ),
                (
                    f"{method} rows/s / {theirs}",
                    lambda s: _cell(s.predict_ratio, ".2f", "x"),
                ),
                (
                    f"peak fit memory / {theirs}",
                    lambda s: _cell(s.memory_ratio, ".2f", "x"),
                ),
                score_gap,
            ],
        ),
        (
            f"{title}: training time",
            [
                ("epochs", lambda s: str(s.epochs)),
                ("ours s/epoch", lambda s: _cell(s.epoch_s["ours"], ".4f")),
                ("sklearn s/epoch", lambda s: _cell(s.epoch_s["sklearn"], ".4f")),
                ("ours/sklearn (min–max)", _time_ratio_spread),
                ("torch s/epoch", lambda s: _cell(s.epoch_s.get("torch"), ".4f")),
                ("matmul bound s/epoch", lambda s: _cell(s.bound_epoch_s, ".4f")),
                ("bound GFLOP/s", lambda s: _cell(s.bound_gflops, ".0f")),
                ("ours/bound", lambda s: _cell(s.bound_ratio, ".2f", "x")),
                ("ours fit s", lambda s: _cell(s.fit_s["ours"], ".3f")),
                ("sklearn fit s", lambda s: _cell(s.fit_s["sklearn"], ".3f")),
            ],
        ),
        (
            f"{title}: prediction throughput ({method})",
            [
                ("rows", lambda s: str(s.n_predict_rows)),
                ("ours rows/s", lambda s: _cell(s.rows_per_s["ours"], ",.0f")),
                ("sklearn rows/s", lambda s: _cell(s.rows_per_s["sklearn"], ",.0f")),
                ("ours/sklearn", lambda s: _cell(s.predict_ratio, ".2f", "x")),
                ("torch rows/s", lambda s: _cell(s.rows_per_s.get("torch"), ",.0f")),
                ("matmul bound rows/s", lambda s: _cell(s.bound_rows_per_s, ",.0f")),
                (
                    "ceiling (sklearn s / bound s)",
                    lambda s: _cell(s.predict_ceiling, ".2f", "x"),
                ),
            ],
        ),
        (
            f"{title}: peak fit memory above the data, and {scores}",
            [
                ("ours peak MiB", lambda s: _cell(s.peak_mib["ours"], ".1f")),
                ("sklearn peak MiB", lambda s: _cell(s.peak_mib["sklearn"], ".1f")),
                ("ours/sklearn", lambda s: _cell(s.memory_ratio, ".2f", "x")),
                *_score_columns(task),
            ],
        ),
    ]


# Core counts the scaling table projects to.
PROJECTED_CORES = (8, 32)


def serial_fraction(time_1, time_n, n):
    """The serial fraction that Amdahl's law gives for two measured times.

    Amdahl's law says that on ``n`` threads a run takes
    ``time_1 * (s + (1 - s) / n)``, ``s`` being the fraction of the one-thread
    time that does not run in parallel. Solved for ``s`` from the measured
    ``time_n``, and clipped to [0, 1]: noise can show a speed-up above ``n``
    or below 1.
    """
    s = (time_n / time_1 - 1 / n) / (1 - 1 / n)
    return min(1.0, max(0.0, s))


def amdahl_time(time_1, s, n):
    """Amdahl's projection of a one-thread time to ``n`` threads."""
    return time_1 * (s + (1 - s) / n)


def scaling_rows(summaries):
    """The epoch times of each case at one and at most threads, and projections.

    Parameters
    ----------
    summaries : list of CaseSummary

    Returns
    -------
    rows : list of dict
        One per (task, dataset, dtype) measured at one thread and at more,
        with, for ours, scikit-learn's estimator and the matmul bound
        (``'bound'``): ``time_1``, ``time_n``, the serial fraction ``s`` and
        ``projected`` times keyed by :data:`PROJECTED_CORES`; and ``n``, the
        most threads measured.
    """
    cases = {}
    for summary in summaries:
        key = (summary.task, summary.dataset, summary.dtype)
        cases.setdefault(key, {})[summary.threads] = summary
    rows = []
    for (task, dataset, dtype), by_threads in cases.items():
        n = max(by_threads)
        if 1 not in by_threads or n == 1:
            continue
        one, many = by_threads[1], by_threads[n]
        row = {"task": task, "dataset": dataset, "dtype": dtype, "n": n}
        for who, time_1, time_n in (
            ("ours", one.epoch_s["ours"], many.epoch_s["ours"]),
            ("sklearn", one.epoch_s["sklearn"], many.epoch_s["sklearn"]),
            ("bound", one.bound_epoch_s, many.bound_epoch_s),
        ):
            s = serial_fraction(time_1, time_n, n)
            row[who] = {
                "time_1": time_1,
                "time_n": time_n,
                "s": s,
                "projected": {c: amdahl_time(time_1, s, c) for c in PROJECTED_CORES},
            }
        rows.append(row)
    order = {name: i for i, name in enumerate(DATASET_ORDER)}
    rows.sort(key=lambda r: (r["task"], order.get(r["dataset"], 99), r["dtype"]))
    return rows


def scaling_table(rows):
    """The Markdown tables of :func:`scaling_rows`: times, then ratios."""
    n_values = sorted({row["n"] for row in rows})
    n_label = "/".join(str(n) for n in n_values)
    cores = PROJECTED_CORES
    times = [
        "| dataset | dtype | who | s/epoch, 1 thread | s/epoch, "
        f"{n_label} threads | speed-up | serial fraction | "
        + " | ".join(f"projected s/epoch, {c} cores" for c in cores)
        + " |",
        "|" + "---|" * (7 + len(cores)),
    ]
    ratios = [
        "| dataset | dtype | ours / sklearn: 1 thread | "
        f"{n_label} threads | "
        + " | ".join(f"{c} cores (projected)" for c in cores)
        + " | ours / bound: 1 thread | "
        f"{n_label} threads | "
        + " | ".join(f"{c} cores (projected)" for c in cores)
        + " |",
        "|" + "---|" * (6 + 2 * len(cores)),
    ]
    for row in rows:
        for who in ("ours", "sklearn", "bound"):
            r = row[who]
            times.append(
                f"| {row['dataset']} | {row['dtype']} | {who} | {r['time_1']:.4g} | "
                f"{r['time_n']:.4g} | {r['time_1'] / r['time_n']:.2f}x | "
                f"{r['s']:.2f} | "
                + " | ".join(f"{r['projected'][c]:.4g}" for c in cores)
                + " |"
            )
        ours, sk, bound = row["ours"], row["sklearn"], row["bound"]

        def ratio(a, b, key, core=None):
            if core is None:
                return f"{a[key] / b[key]:.2f}x"
            return f"{a['projected'][core] / b['projected'][core]:.2f}x"

        ratios.append(
            f"| {row['dataset']} | {row['dtype']} | "
            + " | ".join(
                [ratio(ours, sk, "time_1"), ratio(ours, sk, "time_n")]
                + [ratio(ours, sk, None, c) for c in cores]
                + [ratio(ours, bound, "time_1"), ratio(ours, bound, "time_n")]
                + [ratio(ours, bound, None, c) for c in cores]
            )
            + " |"
        )
    return "\n".join(times) + "\n\n" + "\n".join(ratios)


def serial_profile_rows(runs, top):
    """Where the serial fraction of an epoch sits: own time per function.

    Parameters
    ----------
    runs : dict
        Keyed by thread count (1 and at least one more): ``epoch_s``, the
        unprofiled seconds per epoch, and ``own``, a dict from a profiled
        function's name to its own seconds per epoch under cProfile.
    top : int
        Functions to list: those with the most own time on one thread.

    Returns
    -------
    rows : list of dict
        One per listed function, then ``'everything else'`` and
        ``'whole epoch (unprofiled)'``: ``name``, ``times`` (seconds per
        epoch by thread count), the serial fraction ``s`` between one thread
        and the most (:func:`serial_fraction`) and ``serial_s``, the seconds
        per epoch of that function that Amdahl's law counts as serial,
        ``s * time_1``.
    """
    counts = sorted(runs)
    n = counts[-1]
    own = {c: runs[c]["own"] for c in counts}
    listed = sorted(own[1], key=own[1].get, reverse=True)[:top]

    def row(name, times):
        s = serial_fraction(times[1], times[n], n) if times[1] > 0 else 1.0
        return {"name": name, "times": times, "s": s, "serial_s": s * times[1]}

    rows = [row(name, {c: own[c].get(name, 0.0) for c in counts}) for name in listed]
    rest = {
        c: sum(t for name, t in own[c].items() if name not in listed) for c in counts
    }
    rows.append(row("everything else", rest))
    epoch = {c: runs[c]["epoch_s"] for c in counts}
    rows.append(row("whole epoch (unprofiled)", epoch))
    return rows


def serial_profile_table(rows):
    """The Markdown table of :func:`serial_profile_rows`, in milliseconds."""
    counts = sorted(rows[0]["times"])
    n = counts[-1]
    lines = [
        "| function (own time) | "
        + " | ".join(f"ms/epoch, {c} thread{'s' * (c > 1)}" for c in counts)
        + f" | speed-up at {n} | serial fraction | serial ms/epoch |",
        "|" + "---|" * (len(counts) + 4),
    ]
    for r in rows:
        times = r["times"]
        speed_up = f"{times[1] / times[n]:.2f}x" if times[n] > 0 else "—"
        lines.append(
            f"| {r['name']} | "
            + " | ".join(f"{times[c] * 1e3:.1f}" for c in counts)
            + f" | {speed_up} | {r['s']:.2f} | {r['serial_s'] * 1e3:.1f} |"
        )
    return "\n".join(lines)


def report_tasks(summaries):
    """Return the tasks present in ``summaries``, in the report's order."""
    present = {s.task for s in summaries}
    return [task for name, task in TASKS.items() if name in present]


def markdown_table(summaries, columns):
    """Return one Markdown table, a row per case.

    Parameters
    ----------
    summaries : list of CaseSummary
    columns : list of (str, callable)
        Header and cell function of each column after threads, dataset and
        dtype.

    Returns
    -------
    markdown : str
    """
    header = ["threads", "dataset", "dtype", *(name for name, _ in columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for s in sort_summaries(summaries):
        cells = [str(s.threads), s.dataset, s.dtype, *(cell(s) for _, cell in columns)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def environment_lines(environment, settings, skipped=()):
    """Return the report's header: machine, versions, our code path, settings.

    Parameters
    ----------
    environment : dict
        From ``_measure.describe_environment``.
    settings : str
        One line describing the run.
    skipped : sequence of str
        One sentence per dataset that could not be loaded.

    Returns
    -------
    markdown : str
    """
    commit = environment["revision"]
    return "\n".join(
        [
            f"- CPU: {environment['cpu_model']}, {environment['logical_cores']} "
            f"logical cores ({environment['simd']})",
            f"- BLAS: {environment['blas']}",
            f"- Python {environment['python']}, numpy {environment['numpy']}, "
            f"scipy {environment['scipy']}, "
            f"scikit-learn {environment['scikit-learn']}, "
            f"torch {environment['torch'] or 'not installed'}",
            f"- Ours: skbackprop {environment['skbackprop']}"
            + (f" at commit {commit}" if commit else "")
            + f"; {environment['code_path']}",
            f"- Run: {settings}",
            *(f"- Skipped: {reason}" for reason in skipped),
        ]
    )


def markdown_report(summaries, environment, settings, skipped=()):
    """Return the Markdown report of one run.

    Parameters
    ----------
    summaries : list of CaseSummary
    environment : dict
    settings : str
    skipped : sequence of str

    Returns
    -------
    markdown : str
    """
    tasks = report_tasks(summaries)
    sections = [
        "# Benchmark results: "
        + "; ".join(f"{task.ours} vs {task.theirs}" for task in tasks),
        environment_lines(environment, settings, skipped),
    ]
    for task in tasks:
        cases = [s for s in summaries if s.task == task.name]
        for heading, columns in report_tables(task):
            sections += [f"## {heading}", markdown_table(cases, columns)]
    rows = scaling_rows(summaries)
    if rows:
        sections += [
            "## Scaling with cores: measured serial fraction, Amdahl projection",
            "The serial fraction s solves Amdahl's law, t(n) = t(1) (s + (1 - s) "
            "/ n), for the measured epoch times; the projection assumes the rest "
            "scales perfectly, so it bounds the speed-up from above. "
            "'bound' is the bare matrix products of an epoch. The ratios are of "
            "median epoch times (the tables above give medians of paired "
            "ratios).",
            scaling_table(rows),
        ]
    return "\n\n".join(sections) + "\n"


# ---------------------------------------------------------------------------
# Plot and files
# ---------------------------------------------------------------------------


def plot_results(summaries, path):
    """Save a PNG with one row of two panels per thread count.

    Left: seconds per epoch of each contender and of the matmul bound (log
    scale). Right: the ratios of ours to scikit-learn's estimator of the
    case's task (MLPClassifier or MLPRegressor) and to the bound.

    Parameters
    ----------
    summaries : list of CaseSummary
    path : str or Path
    """
    import matplotlib

    matplotlib.use("Agg")  # a file is written; no display is needed
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import FormatStrFormatter, NullFormatter

    thread_counts = sorted({s.threads for s in summaries})
    tasks = report_tasks(summaries)
    ours = " / ".join(task.ours for task in tasks)
    theirs = " / ".join(task.theirs for task in tasks)
    fig, axes = plt.subplots(
        len(thread_counts), 2, figsize=(14, 4.2 * len(thread_counts)), squeeze=False
    )

    def grouped_bars(ax, x, series):
        # series: (label, one value or None per case, colour or None).
        width = 0.8 / len(series)
        for i, (name, values, color) in enumerate(series):
            heights = [np.nan if v is None else v for v in values]
            offsets = x + (i - (len(series) - 1) / 2) * width
            ax.bar(offsets, heights, width, label=name, color=color)
        ax.set_yscale("log")
        ax.legend(fontsize=8)

    for (left, right), threads in zip(axes, thread_counts):
        cases = sort_summaries([s for s in summaries if s.threads == threads])
        x = np.arange(len(cases))
        times = [
            (theirs, [s.epoch_s["sklearn"] for s in cases], "tab:gray"),
            (ours, [s.epoch_s["ours"] for s in cases], "tab:blue"),
            ("PyTorch loop", [s.epoch_s.get("torch") for s in cases], "tab:orange"),
            ("matmul bound", [s.bound_epoch_s for s in cases], "tab:green"),
        ]
        grouped_bars(left, x, [t for t in times if any(v is not None for v in t[1])])
        left.set_ylabel("seconds per epoch (log)")
        left.set_title(f"Training time, {threads} BLAS thread(s)")
        grouped_bars(
            right,
            x,
            [
                (f"time / {theirs}", [s.time_ratio for s in cases], None),
                (
                    f"predict rows/s / {theirs}",
                    [s.predict_ratio for s in cases],
                    None,
                ),
                (f"peak memory / {theirs}", [s.memory_ratio for s in cases], None),
                ("time / matmul bound", [s.bound_ratio for s in cases], None),
            ],
        )
        right.axhline(1.0, color="black", linewidth=0.5, linestyle=":")
        # Log scale: ratios of 0.5 and 2 lie equally far from 1, and the large
        # multiples of the bound on tiny data stay readable.
        right.yaxis.set_major_formatter(FormatStrFormatter("%g"))
        right.yaxis.set_minor_formatter(NullFormatter())
        right.set_yticks([0.25, 0.5, 0.75, 1, 1.5, 2, 4, 8])
        right.set_ylabel("ratio (time, memory: lower is better)")
        right.set_title("Ratios of ours")
        for ax in (left, right):
            ax.set_xticks(x, [f"{s.dataset}\n{s.dtype}" for s in cases])
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def update_readme(markdown, readme_path, section):
    """Replace the text between the markers of one README section.

    Parameters
    ----------
    markdown : str
        The run's report; its title is dropped and its headings are demoted
        two levels, to sit under the README's own.
    readme_path : Path
    section : str
        ``NAME`` of the ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``
        markers.
    """
    start_marker, end_marker = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    text = readme_path.read_text(encoding="utf-8")
    start, end = text.find(start_marker), text.find(end_marker)
    if start < 0 or end < start:
        raise RuntimeError(f"{readme_path} lacks the {start_marker} markers")
    body = markdown.split("\n", 1)[1].strip().replace("\n## ", "\n#### ")
    text = text[: start + len(start_marker)] + "\n" + body + "\n" + text[end:]
    readme_path.write_text(text, encoding="utf-8")


def write_outputs(raw, output_dir, readme_path=None, readme_section=None):
    """Write a run's report, plot and raw records, and optionally the README.

    Parameters
    ----------
    raw : dict
        ``environment``, ``settings``, ``skipped``, ``argv`` and ``records``.
    output_dir : Path
        Receives ``results.md``, ``results.png`` and ``results.json``.
    readme_path : Path or None
    readme_section : str or None
        README block to replace with the report; ``None`` leaves it alone.

    Returns
    -------
    report_path : Path
    """
    summaries = [summarize(record) for record in raw["records"]]
    markdown = markdown_report(
        summaries, raw["environment"], raw["settings"], raw["skipped"]
    )
    output_dir.mkdir(parents=True, exist_ok=True)
    report_path = output_dir / "results.md"
    report_path.write_text(markdown, encoding="utf-8")
    plot_results(summaries, output_dir / "results.png")
    (output_dir / "results.json").write_text(json.dumps(raw, indent=1), "utf-8")
    if readme_section:
        update_readme(markdown, readme_path, readme_section)
    return report_path
