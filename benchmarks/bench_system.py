"""Describe the machine and the software a benchmark run used."""

from __future__ import annotations

import os
import platform
from importlib import metadata
from pathlib import Path

import bench_torch


def cpu_model():
    """Return the CPU model name from ``/proc/cpuinfo`` (or the platform's)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def cpu_flags_of_interest():
    """Return the SIMD extensions the BLAS kernels may use, as one string."""
    interesting = ("avx", "avx2", "fma", "avx512f", "avx512_bf16", "amx_tile")
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return " ".join(f for f in interesting if f in flags)
    except OSError:
        pass
    return "unknown"


def blas_description():
    """Return the BLAS libraries numpy and scipy loaded, as threadpoolctl sees them.

    Returns
    -------
    description : str
        One ``"<library> <version> (<architecture>, <threading layer>)"``
        entry per distinct library, joined by ``"; "``.
    """
    import numpy  # noqa: F401  (loads numpy's BLAS so that threadpoolctl sees it)
    import scipy.linalg  # noqa: F401  (and scipy's, if it ships its own)
    from threadpoolctl import threadpool_info

    entries = []
    for info in threadpool_info():
        if info.get("user_api") != "blas":
            continue
        # Wheels vendor their BLAS in "<package>.libs/": name the owner.
        owner = Path(info.get("filepath", "")).parent.name.removesuffix(".libs")
        entry = (
            f"{owner}: {info.get('internal_api')} {info.get('version')} "
            f"({info.get('architecture')}, {info.get('threading_layer')})"
        )
        if entry not in entries:
            entries.append(entry)
    return "; ".join(entries) or "unknown"


def _version(distribution):
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def source_revision(repo_root):
    """Return the checkout's commit, marked when the package has local edits.

    Parameters
    ----------
    repo_root : Path
        Root of the git checkout holding the ``skbackprop`` package.

    Returns
    -------
    revision : str or None
        ``"<short hash>"``, ``"<short hash> + uncommitted changes"`` when
        ``skbackprop/`` differs from that commit, or ``None`` outside git.
    """
    import subprocess

    def git(*arguments):
        return subprocess.run(
            ["git", "-C", str(repo_root), *arguments],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--", "skbackprop")
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{commit} + uncommitted changes" if dirty else commit


def _compiled_kernels_enabled():
    """Whether our estimator runs its numba kernels in this process."""
    from skbackprop import _kernels

    return bool(_kernels.use_kernels)


def describe_environment(our_is_stand_in, repo_root=None):
    """Collect what a reader needs to reproduce or compare the results.

    Parameters
    ----------
    our_is_stand_in : bool
        Whether ``MLPClassifier`` stood in for our estimator.
    repo_root : Path or None
        Checkout to read the benchmarked revision from.

    Returns
    -------
    environment : dict
    """
    return {
        "cpu_model": cpu_model(),
        "logical_cores": os.cpu_count(),
        "simd": cpu_flags_of_interest(),
        "blas": blas_description(),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "scipy": _version("scipy"),
        "scikit-learn": _version("scikit-learn"),
        "skbackprop": None if our_is_stand_in else _version("skbackprop") or "source",
        "torch": bench_torch.torch_version(),
        "numba": _version("numba"),
        "kernels": None if our_is_stand_in else _compiled_kernels_enabled(),
        "our_is_stand_in": our_is_stand_in,
        "revision": source_revision(repo_root) if repo_root else None,
    }
