"""Checks of stored state before it is used.

A saved model, a pickle or a checkpoint hands back dictionaries of plain
values; each object that restores itself from one (the training state, an
optimizer, the estimator's fitted attributes) checks every entry with these
helpers, which raise a ``ValueError`` naming the entry and what is wrong.
"""

import math
from numbers import Integral, Real

import numpy as np

__all__ = [
    "check_array",
    "check_bool",
    "check_int",
    "check_keys",
    "check_number",
    "check_str",
]


def check_keys(mapping, required, optional=(), where="state"):
    """Check that ``mapping`` is a dict with these keys and no others."""
    if not isinstance(mapping, dict):
        raise ValueError(f"{where} must be a mapping, got {type(mapping).__name__}.")
    unknown = sorted(map(str, set(mapping) - set(required) - set(optional)))
    if unknown:
        raise ValueError(f"{where} has unexpected entries {unknown}.")
    missing = sorted(set(required) - set(mapping))
    if missing:
        raise ValueError(f"{where} lacks the entries {missing}.")
    return mapping


def check_int(value, where, minimum=0):
    """An integer (not a bool) of at least ``minimum``."""
    if (
        not isinstance(value, Integral)
        or isinstance(value, (bool, np.bool_))
        or value < minimum
    ):
        raise ValueError(f"{where} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def check_number(value, where, kind=float, finite=False, optional=False):
    """A number of ``kind`` (``float`` or ``int``), or None if ``optional``."""
    if value is None and optional:
        return None
    if kind is int:
        return check_int(value, where, minimum=-math.inf)
    if not isinstance(value, Real) or isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{where} must be a number, got {value!r}.")
    if finite and not math.isfinite(value):
        raise ValueError(f"{where} must be finite, got {value!r}.")
    return float(value)


def check_bool(value, where):
    """True or False."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{where} must be true or false, got {value!r}.")
    return bool(value)


def check_str(value, where, choices=None):
    """A string, one of ``choices`` if given."""
    if not isinstance(value, str) or (choices is not None and value not in choices):
        expected = "a string" if choices is None else f"one of {sorted(choices)}"
        raise ValueError(f"{where} must be {expected}, got {value!r}.")
    return value


def check_array(value, where, shape=None, dtype=None, finite=False):
    """An ndarray of this shape (None: any 1-D) and dtype (None: any float)."""
    if not isinstance(value, np.ndarray):
        raise ValueError(f"{where} must be an array, got {type(value).__name__}.")
    if shape is None and value.ndim != 1:
        raise ValueError(f"{where} must be 1-D, got shape {value.shape}.")
    if shape is not None and value.shape != tuple(shape):
        raise ValueError(f"{where} has shape {value.shape}, expected {tuple(shape)}.")
    if dtype is None and value.dtype.kind != "f":
        raise ValueError(f"{where} must hold floats, got dtype {value.dtype}.")
    if dtype is not None and value.dtype != np.dtype(dtype):
        raise ValueError(
            f"{where} has dtype {value.dtype}, expected {np.dtype(dtype)}."
        )
    if finite and not np.isfinite(value).all():
        raise ValueError(f"{where} contains NaN or infinity.")
    return value
