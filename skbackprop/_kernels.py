"""Optional compiled kernels: whether they run, and the module that holds them.

A numpy optimizer step streams the parameter-sized vectors through memory
once per operation: Adam takes nine passes (scale ``m``, add ``g``, scale
``v``, square ``g``, add it, square root, add ``eps``, divide, add to the
weights), plus one for the penalty's gradient and one per layer for the
gradient norms. The kernels of :mod:`._numba_kernels` do all of that in a
single loop that reads every vector once and writes it once, and fuse a few
element-wise passes of the forward and backward pass.

They are compiled with numba when it is installed (the ``fast`` extra).
Without numba, or with the environment variable ``SKBACKPROP_DISABLE_NUMBA``
set to a non-empty value other than ``0``, :func:`for_dtype` returns None and
the callers take their numpy path, which the tests hold to the same results.
Importing numba is deferred to the first fit that can use it, so that
``import skbackprop`` stays light.
"""

import importlib
import importlib.util
import os
import warnings

import numpy as np

__all__ = ["enabled", "for_dtype"]

_DISABLED = os.environ.get("SKBACKPROP_DISABLE_NUMBA", "") not in ("", "0")
_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

# The switch: off without numba or when disabled; tests flip it to exercise
# the numpy path in the same process.
use_kernels = not _DISABLED and importlib.util.find_spec("numba") is not None

# The compiled module once loaded, and the dtypes whose kernels have been
# compiled (or loaded from numba's cache) and run.
_module = None
_ready = set()


def enabled(dtype):
    """Whether compiled kernels handle arrays of this dtype.

    The first call for a dtype imports numba and compiles every kernel for it
    on tiny arrays, so that a numba that cannot (an incompatible version, a
    broken installation) fails here, with a warning and the numpy path from
    then on, rather than in the middle of a fit.

    Parameters
    ----------
    dtype : numpy dtype
        Dtype of the arrays.

    Returns
    -------
    bool
    """
    global use_kernels, _module
    if not use_kernels:
        return False
    dtype = np.dtype(dtype)
    if dtype in _ready:
        return True
    if dtype not in _KERNEL_DTYPES:
        return False
    try:
        module = _module if _module is not None else _load()
        _run_once(module, dtype.type)
    except Exception as exc:  # numba raises many types; any means "not here"
        use_kernels = False
        warnings.warn(
            f"numba is installed but could not compile skbackprop's kernels "
            f"({type(exc).__name__}: {exc}); skbackprop uses its numpy code "
            f"paths instead.",
            RuntimeWarning,
        )
        return False
    _module = module
    _ready.add(dtype)
    return True


def for_dtype(dtype):
    """The compiled kernels for arrays of ``dtype``, or None.

    Parameters
    ----------
    dtype : numpy dtype
        Dtype of the arrays.

    Returns
    -------
    module or None
        :mod:`skbackprop._numba_kernels` when :func:`enabled`, else None.
    """
    # Called a few times per batch: the ready case first, without a call.
    if use_kernels and dtype in _ready:
        return _module
    return _module if enabled(dtype) else None


def _load():
    """Import the kernels' module, and with it numba."""
    return importlib.import_module("._numba_kernels", __package__)


def _run_once(kernels, scalar):
    """Call every kernel once on tiny arrays of dtype ``scalar``."""
    vector = np.zeros(4, dtype=scalar)
    bounds = np.array([0, 2, 4], dtype=np.int64)
    sq_norms = np.zeros((2, 2), dtype=scalar)
    one, zero = scalar(1), scalar(0)
    kernels.adam_step(
        vector.copy(), vector.copy(), vector.copy(), vector.copy(), bounds, 1,
        zero, one, one, zero, one, zero, one, one, sq_norms,
    )  # fmt: skip
    for nesterov in (False, True):
        kernels.sgd_step(
            vector.copy(), vector.copy(), vector.copy(), bounds, 1, zero,
            one, one, nesterov, sq_norms,
        )  # fmt: skip
    kernels.rmsprop_step(
        vector.copy(), vector.copy(), vector.copy(), bounds, 1, zero,
        one, zero, one, one, sq_norms,
    )  # fmt: skip
    kernels.adagrad_step(
        vector.copy(), vector.copy(), vector.copy(), bounds, 1, zero, one, one,
        sq_norms,
    )  # fmt: skip
    block = np.zeros((2, 2), dtype=scalar)
    kernels.bias_relu(block, vector[:2])
    kernels.relu_backward(block, block.copy())
    for weights in (None, np.ones(2)):
        kernels.softmax_and_loss(block, block.copy(), block.copy(), weights)
