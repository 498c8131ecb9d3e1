"""In-place vector updates: BLAS when it runs serially, numpy otherwise.

``y += a * x`` over the parameter vector is memory-bound. BLAS ``axpy`` does it
in one pass, numpy in two (a multiply into scratch, then an add). But the BLAS
behind ``scipy.linalg.blas`` is not always numpy's: the wheels each bring their
own OpenBLAS, and with both multithreaded their thread pools compete for the
cores, so an axpy right after numpy's matrix products can wait for a pool
to hand the cores over, many times as long as the step itself. So the BLAS
path is taken only when every BLAS runs one thread.
"""

import numpy as np
from scipy.linalg import blas
from threadpoolctl import ThreadpoolController

__all__ = ["Axpy", "all_finite", "blas_is_serial"]

_controller = None


def blas_is_serial():
    """Whether every loaded BLAS library runs a single thread.

    The libraries are found once (a scan of the process) and
    only their thread counts are asked for afterwards.
    """
    global _controller
    if _controller is None:
        _controller = ThreadpoolController()
    return all(
        library.num_threads == 1
        for library in _controller.lib_controllers
        if library.user_api == "blas"
    )


def all_finite(vector):
    """Whether every entry of a 1-D vector is finite, without a temporary.

    A NaN or infinity anywhere makes the dot product non-finite; so do entries
    above ~1e154 (1e19 in float32), which only a diverged run produces.
    """
    return bool(np.isfinite(np.dot(vector, vector)))


class Axpy:
    """``y += a * x`` in place, for vectors of up to ``size`` elements.

    Parameters
    ----------
    size : int
        Longest vector to update.
    dtype : numpy dtype
        Floating dtype of the vectors.
    use_blas : bool
        Take the BLAS path (one pass); otherwise use numpy with a scratch
        vector, allocated on first use (a compiled optimizer step may never
        call this at all) and left out of pickles.
    """

    def __init__(self, size, dtype, use_blas):
        self.dtype = np.dtype(dtype)
        self.use_blas = bool(use_blas) and self.dtype in (np.float32, np.float64)
        self.size = int(size)
        self._scratch = None

    def __getstate__(self):
        return {**self.__dict__, "_scratch": None}

    def __call__(self, x, y, a):
        """Update ``y`` in place and return it."""
        if self.use_blas:
            # Looked up per call: the optimizer holding this object is pickled
            # with the model, and BLAS routines do not pickle.
            (blas.saxpy if self.dtype == np.float32 else blas.daxpy)(x, y, a=a)
            return y
        if self._scratch is None:
            self._scratch = np.empty(self.size, dtype=self.dtype)
        scaled = np.multiply(x, a, out=self._scratch[: x.size])
        y += scaled
        return y
