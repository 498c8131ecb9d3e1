"""Functions that users bring, referred to by their module and qualified name.

A custom :class:`~skbackprop.Activation` and a callable ``learning_rate``
schedule are code, and every way of storing a model stores code the same
way, by reference: pickle (and joblib, loky, skops) records where to import a
function from, and :func:`~skbackprop.save_model` writes ``"module:qualname"``
and binds it again only to a function the user hands to
:func:`~skbackprop.load_model`. A function therefore travels only if it can be
found again under its module and name: one defined with ``def`` at the top
level of a module. A lambda, a nested function or a closure cannot, and this
module is the one place that says so, in the same words wherever it matters.
"""

import pickle
import sys
from types import FunctionType

__all__ = ["for_pickling", "importable", "reference", "restored", "unimportable"]


def reference(function):
    """``"module:qualname"`` under which ``function`` can be imported, or None.

    Parameters
    ----------
    function : callable
        A function, a built-in function or a numpy ufunc.

    Returns
    -------
    str or None
        None for a lambda, a nested function, a closure, or any object that
        its module does not hold under its name.
    """
    qualname = getattr(function, "__qualname__", None) or getattr(
        function, "__name__", None
    )
    if not isinstance(qualname, str) or "<" in qualname:
        return None
    module = getattr(function, "__module__", None)
    if module is None:
        # numpy ufuncs of other packages (scipy.special's) name no module;
        # pickle searches the loaded modules for them in the same way.
        module = pickle.whichmodule(function, qualname)
    found = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return f"{module}:{qualname}" if found is function else None


def _lost(value):
    """Whether ``value`` is a Python function that pickle cannot find again.

    Other callables (a ``functools.partial``, an instance of a class with
    ``__call__``) pickle as objects, through their class, and are left to
    pickle.
    """
    return isinstance(value, FunctionType) and reference(value) is None


def unimportable(function, what):
    """Why ``function`` cannot be stored: the message every refusal gives."""
    return (
        f"{what}, {function!r}, cannot be stored: a model stores functions by "
        f"module and name, and this one cannot be imported again (a lambda, a "
        f"nested function or a closure). Define it with def at the top level "
        f"of a module, and import it from there."
    )


def importable(function, what):
    """``function`` itself, or a PicklingError saying how to make it storable.

    Parameters
    ----------
    function : callable
        The function to pickle.
    what : str
        What it is, for the message (``"the derivative of activation 'x'"``).

    Returns
    -------
    function : callable

    Raises
    ------
    pickle.PicklingError
        If ``function`` is a Python function that cannot be imported by its
        module and name.
    """
    if _lost(function):
        raise pickle.PicklingError(unimportable(function, what))
    return function


class _Unpicklable:
    """Stands in for an unimportable function in a pickled state.

    Pickling it raises the message of :func:`unimportable`; copying it gives
    the function back, so that ``copy.deepcopy`` of an estimator works with
    any function while ``pickle`` explains what it cannot store.
    """

    def __init__(self, function, what):
        self.function, self.what = function, what

    def __reduce__(self):
        raise pickle.PicklingError(unimportable(self.function, self.what))

    def __deepcopy__(self, memo):
        return self.function


def for_pickling(value, what):
    """``value`` for an object's pickled state: a stand-in if it cannot travel.

    Parameters
    ----------
    value : object
        A parameter's value; only Python functions are looked at.
    what : str
        What it is, for the message.

    Returns
    -------
    object
        ``value``, or a stand-in whose pickling raises a clear
        ``PicklingError``.
    """
    return _Unpicklable(value, what) if _lost(value) else value


def restored(value):
    """The inverse of :func:`for_pickling`, for a state that was only copied."""
    return value.function if isinstance(value, _Unpicklable) else value
