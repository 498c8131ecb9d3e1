"""Optional dependencies in tests: skipped locally, required on CI.

CI installs every extra the tests use, so there a missing package is an
installation fault that must fail the run, never a silent skip.
"""

import importlib
import os

import pytest


def import_extra(name):
    """Import ``name``; skip the calling module without it, unless on CI."""
    if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
        return importlib.import_module(name)
    return pytest.importorskip(name)
