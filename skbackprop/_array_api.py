"""Where a fit's arrays live: the array namespace and device, and moves to them.

With scikit-learn's ``array_api_dispatch`` turned on, a fit follows its ``X``:
inputs given as PyTorch tensors, CuPy arrays or any other array-API library's
arrays keep their library (the *namespace*, ``xp``) and device, and so do the
fitted weights and every output. Without dispatch, or with NumPy inputs,
everything is NumPy as before.

Only the dense arithmetic moves. What is decided once per fit or per epoch
stays on the host in NumPy: the labels and their encoding, the initial
weights (drawn from ``random_state`` exactly as a NumPy fit draws them, then
moved), the shuffling order, the training record. That keeps the same seed
giving the same run in every namespace.
"""

from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn import get_config
from sklearn.externals.array_api_compat import is_array_api_obj
from sklearn.utils._array_api import (
    _convert_to_numpy,
    _is_numpy_namespace,
    get_namespace_and_device,
)

__all__ = ["NUMPY", "ArraySpace", "check_same_space", "space_of"]


class ArraySpace(NamedTuple):
    """An array namespace and a device: where a model's arrays live.

    Attributes
    ----------
    xp : module
        The array namespace (``numpy`` for NumPy).
    device : object
        The device, as the namespace names it (``"cpu"`` for NumPy).
    """

    xp: Any
    device: Any = "cpu"

    @property
    def is_numpy(self):
        """Whether this is plain NumPy, where the compiled kernels run."""
        return _is_numpy_namespace(self.xp)

    @property
    def name(self):
        """The namespace's module name, for messages."""
        return self.xp.__name__

    def asarray(self, values, dtype=None):
        """``values`` in this namespace and on this device.

        Parameters
        ----------
        values : array of any namespace, or None
            Host (NumPy) values or arrays already here.
        dtype : numpy dtype or None, default=None
            Floating dtype to cast to (given as NumPy's); None keeps it.

        Returns
        -------
        array or None
        """
        if values is None:
            return None
        if self.is_numpy:
            values = self.to_numpy(values)
            return values if dtype is None else values.astype(dtype, copy=False)
        target = None if dtype is None else self.dtype(dtype)
        xp = self.xp
        if not isinstance(values, np.ndarray) and _namespace(values) is not xp:
            # Between libraries the host is the common ground.
            values = self.to_numpy(values)
        return xp.asarray(values, dtype=target, device=self.device)

    def to_numpy(self, values):
        """An array of another array library as a NumPy array on the host.

        NumPy arrays, sparse matrices and what is no array-API array (lists,
        pandas objects, None) are returned as they are, for scikit-learn's
        validation to handle.
        """
        if (
            values is None
            or isinstance(values, np.ndarray)
            or sp.issparse(values)
            or not is_array_api_obj(values)
        ):
            return values
        return _convert_to_numpy(values, _namespace(values))

    def take_rows(self, values, rows):
        """The rows of ``values`` (an array here, or None) that ``rows`` picks.

        ``rows`` is a slice, an index array here, or a NumPy index array,
        which is moved here for the gather.
        """
        if values is None:
            return None
        if isinstance(rows, slice):
            return values[rows, ...]
        if isinstance(rows, np.ndarray) and not self.is_numpy:
            rows = self.xp.asarray(rows.astype(np.int64), device=self.device)
        return self.xp.take(values, rows, axis=0)

    def dtype(self, dtype):
        """The namespace's dtype of the NumPy ``dtype`` (float32 or float64)."""
        return getattr(self.xp, np.dtype(dtype).name)

    def numpy_dtype(self, array):
        """The NumPy dtype of an array of this namespace."""
        if self.is_numpy:
            return array.dtype
        return np.dtype(str(array.dtype).rsplit(".", 1)[-1])

    def copy(self, array):
        """A copy of ``array`` in this namespace, on the same device."""
        return self.xp.asarray(array, copy=True)

    def all_finite(self, array):
        """Whether every entry of ``array`` is finite."""
        return bool(self.xp.all(self.xp.isfinite(array)))


NUMPY = ArraySpace(np, "cpu")


def _namespace(array):
    """The namespace of one array, whatever the dispatch setting."""
    from sklearn.externals.array_api_compat import array_namespace

    return array_namespace(array)


def space_of(*arrays):
    """The array space of a fit's or a prediction's inputs.

    It is NumPy unless scikit-learn's ``array_api_dispatch`` is on and the
    arrays (None, lists and sparse matrices are ignored) belong to another
    namespace; then it is theirs, and they must share it and one device.

    Returns
    -------
    ArraySpace
    """
    dense = [a for a in arrays if a is not None and not sp.issparse(a)]
    if not dense:
        return NUMPY
    xp, is_array_api, device = get_namespace_and_device(*dense)
    if not is_array_api or _is_numpy_namespace(xp):
        return NUMPY
    return ArraySpace(xp, device)


def space_of_model(coefs):
    """The array space a fitted model's weights live in."""
    if isinstance(coefs[0], np.ndarray):
        return NUMPY
    xp = _namespace(coefs[0])
    from sklearn.externals.array_api_compat import device

    return ArraySpace(xp, device(coefs[0]))


def check_same_space(X, estimator, method):
    """Refuse ``X`` from another namespace or device than the fitted weights.

    Under ``array_api_dispatch`` a model answers in the space it was fitted
    in; scikit-learn's array-API estimators refuse other inputs rather than
    move them silently, and so do these, with scikit-learn's wording.

    Parameters
    ----------
    X : array
        The input of ``method``.
    estimator : BaseMLPBackprop
        The fitted estimator.
    method : str
        The calling method's name, for the message.

    Returns
    -------
    ArraySpace
        The model's (and so ``X``'s) space.

    Raises
    ------
    ValueError
        If ``X`` lives elsewhere than the fitted weights.
    """
    fitted = space_of_model(estimator.coefs_)
    given = space_of(X)
    if fitted.is_numpy and given.is_numpy:
        return NUMPY
    if not get_config()["array_api_dispatch"]:
        raise ValueError(
            f"This {type(estimator).__name__} was fitted on {fitted.name} arrays "
            f"(device {fitted.device}): call {method}() with "
            "sklearn.config_context(array_api_dispatch=True) and inputs of that "
            "namespace and device, or move the model to NumPy with "
            "sklearn.utils._array_api.move_estimator_to."
        )
    if fitted.xp is given.xp and fitted.device == given.device:
        return fitted
    if sp.issparse(X):
        detail = (
            f"Sparse input is NumPy/SciPy only, and this model lives in "
            f"{fitted.name}: pass a dense array of that namespace."
        )
    elif fitted.xp is not given.xp:
        detail = (
            f"Array namespaces used during fit ({fitted.name}) and {method} "
            f"({given.name}) differ."
        )
    else:
        detail = (
            f"Devices used during fit ({fitted.device}) and {method} "
            f"({given.device}) differ."
        )
    raise ValueError(
        f"Inputs passed to {type(estimator).__name__}.{method}() must use the "
        f"same namespace and the same device as those passed to fit(). {detail} "
        "Move the inputs, or the model with "
        "sklearn.utils._array_api.move_estimator_to."
    )
