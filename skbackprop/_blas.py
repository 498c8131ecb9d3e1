"""In-place vector updates through BLAS level 1."""

import numpy as np
from scipy.linalg import blas

__all__ = ["axpy"]


def axpy(x, y, a):
    """``y += a * x`` in place and in one pass (BLAS axpy).

    Parameters
    ----------
    x, y : ndarray of shape (n,)
        Contiguous vectors of the same floating dtype; ``y`` is updated.
    a : float
        Scale of ``x``.

    Returns
    -------
    y : ndarray
    """
    if x.dtype == np.float32:
        blas.saxpy(x, y, a=a)
    elif x.dtype == np.float64:
        blas.daxpy(x, y, a=a)
    else:  # pragma: no cover - parameters are always float32 or float64
        y += a * x
    return y
