"""The values of a model's description, as JSON and arrays.

An estimator describes its fitted state in plain values (see
``_get_fitted_state``); this codec turns such a description into JSON and a
set of arrays, and back. JSON holds None, booleans, integers, finite floats,
strings, lists and dicts with string keys as they are; everything else is a
tagged object: ``{"float": "inf"}``, ``{"tuple": [...]}``, ``{"dict": [[key,
value], ...]}`` (a dict with other keys, such as class labels), ``{"array":
name}`` (``"object": true`` for an object array of strings),
``{"random_state": {"key": name, "pos": ..., ...}}``, ``{"function":
"module:qualname"}`` (a function, by reference: see :mod:`._references`) and
``{"activation": {"name": ..., "function": ..., "derivative": ...}}`` (an
:class:`~skbackprop.Activation`: a built-in by its name alone, a custom one
with the references of its functions). A reference is decoded only to a
function the reader was given for it, never by importing. Arrays, generator keys
among them, are named after where they sit in the description
(``coefs_.0``, ``training.optimizer.m``). A generator referred to twice (the
``random_state`` parameter that is also the training state's generator) is
stored once and decoded as one.
"""

import math
from numbers import Integral, Real
from types import BuiltinFunctionType, FunctionType

import numpy as np

from ._activations import ACTIVATIONS, Activation, is_builtin
from ._references import reference, unimportable

__all__ = ["Decoder", "Encoder", "FormatError", "fail"]

_ARRAY_KINDS = "biufU"
# The key sets of the encoded forms that are not plain JSON; a dict with one
# of them as its keys is written as pairs, so it cannot be mistaken for one.
_TAGS = [
    {"float"},
    {"tuple"},
    {"dict"},
    {"array"},
    {"array", "object"},
    {"random_state"},
    {"function"},
    {"activation"},
]
_FUNCTIONS = (FunctionType, BuiltinFunctionType, np.ufunc)


class FormatError(ValueError):
    """A model file that does not follow the format."""


def fail(message):
    raise FormatError(message)


def _join(path, key):
    return f"{path}.{key}" if path else str(key)


class Encoder:
    """Turns a description into JSON values and the arrays beside them."""

    def __init__(self):
        self.arrays = {}
        self.generators = {}  # id -> encoded form, to store a generator once

    def encode(self, value, path=""):
        """The JSON form of ``value``, found at ``path`` in the description."""
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, np.bool_):
            return bool(value)
        if isinstance(value, Integral):
            return int(value)
        if isinstance(value, Real):
            value = float(value)
            return value if math.isfinite(value) else {"float": str(value)}
        if isinstance(value, (list, tuple)):
            items = [self.encode(v, _join(path, i)) for i, v in enumerate(value)]
            return items if isinstance(value, list) else {"tuple": items}
        if isinstance(value, dict):
            if all(isinstance(k, str) for k in value) and set(value) not in _TAGS:
                return {k: self.encode(v, _join(path, k)) for k, v in value.items()}
            return {
                "dict": [
                    [self.encode(k, path), self.encode(v, _join(path, k))]
                    for k, v in value.items()
                ]
            }
        if isinstance(value, np.ndarray):
            return self._array(value, path)
        if isinstance(value, np.random.RandomState):
            if id(value) not in self.generators:
                _, key, pos, has_gauss, cached = value.get_state(legacy=True)
                self.generators[id(value)] = {
                    "random_state": {
                        "key": self._array(key, path)["array"],
                        "pos": int(pos),
                        "has_gauss": int(has_gauss),
                        "cached_gaussian": float(cached),
                    }
                }
            return self.generators[id(value)]
        if isinstance(value, Activation):
            return {"activation": self._activation(value, path)}
        if isinstance(value, _FUNCTIONS):
            return {"function": self._reference(value, f"The function {path}")}
        raise TypeError(
            f"Cannot save {path} of type {type(value).__name__} without "
            f"pickling; use pickle, joblib or skops for such a model."
        )

    def _reference(self, function, what):
        found = reference(function)
        if found is None:
            raise TypeError(unimportable(function, what))
        return found

    def _activation(self, activation, path):
        if is_builtin(activation):
            return {"name": activation.name}
        what = f"The {{}} of activation {activation.name!r} ({path})"
        return {
            "name": activation.name,
            "function": self._reference(activation.function, what.format("function")),
            "derivative": self._reference(
                activation.derivative, what.format("derivative")
            ),
        }

    def _array(self, array, path):
        strings = array.dtype.kind == "O" and all(
            isinstance(v, str) for v in array.flat
        )
        if array.dtype.kind not in _ARRAY_KINDS and not strings:
            raise TypeError(
                f"Cannot save {path}, an array of dtype {array.dtype}, without "
                f"pickling; use pickle, joblib or skops for such a model."
            )
        self.arrays[path] = array.astype(str) if strings else array
        return {"array": path, "object": True} if strings else {"array": path}


class Decoder:
    """Rebuilds the values that :class:`Encoder` described.

    Parameters
    ----------
    read_array : callable
        ``read_array(name)`` returns the array stored under ``name``.
    names : set of str
        The names of the stored arrays; ``used`` records those the decoded
        values referred to.
    functions : dict, default=None
        The functions to bind to references, by reference. A reference
        without one decodes to None and is recorded in ``missing``, with
        where it was found.
    """

    def __init__(self, read_array, names, functions=None):
        self.read_array, self.names = read_array, names
        self.functions = {} if functions is None else functions
        self.missing = {}
        self.used = set()
        self.generators = {}  # key name -> generator, to decode one as one

    def _array(self, name, where):
        if not isinstance(name, str) or name not in self.names:
            fail(f"{where} refers to a missing member {name!r}.")
        self.used.add(name)
        return self.read_array(name)

    def decode(self, value, where):
        """The value that the JSON form ``value``, found at ``where``, encodes."""
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            return [self.decode(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, dict):
            fail(f"{where} has an unsupported encoding: {value!r}.")
        if set(value) not in _TAGS:
            return {k: self.decode(v, f"{where}.{k}") for k, v in value.items()}
        kind = "array" if "array" in value else next(iter(value))
        body = value[kind]
        if set(value) == {"float"} and body in ("inf", "-inf", "nan"):
            return float(body)
        if set(value) == {"tuple"} and isinstance(body, list):
            return tuple(self.decode(v, f"{where}[{i}]") for i, v in enumerate(body))
        if set(value) == {"dict"} and isinstance(body, list):
            return self._dict(body, where)
        if kind == "array" and set(value) <= {"array", "object"}:
            array = self._array(body, where)
            if value.get("object", False) is not False:
                if value["object"] is not True or array.dtype.kind != "U":
                    fail(f"{where} is not a valid array of strings.")
                array = array.astype(object)
            elif array.dtype.kind not in _ARRAY_KINDS:
                fail(f"{where} has dtype {array.dtype}, not one of kinds "
                      f"{_ARRAY_KINDS!r}.")  # fmt: skip
            return array
        if set(value) == {"random_state"}:
            return self._generator(body, where)
        if set(value) == {"function"}:
            return self._function(body, where)
        if set(value) == {"activation"}:
            return self._activation(body, where)
        fail(f"{where} has an unsupported encoding: {value!r}.")

    def _dict(self, pairs, where):
        decoded = {}
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2):
                fail(f"{where} is not a valid list of key-value pairs.")
            key = self.decode(pair[0], where)
            if isinstance(key, (list, dict, np.ndarray)) or key in decoded:
                fail(f"{where} has a repeated or unhashable key.")
            decoded[key] = self.decode(pair[1], f"{where}[{key!r}]")
        return decoded

    def _function(self, name, where):
        if not isinstance(name, str) or ":" not in name:
            fail(f"{where} is not a valid function reference: {name!r}.")
        if name not in self.functions:
            self.missing.setdefault(name, where)
            return None
        return self.functions[name]

    def _activation(self, body, where):
        if isinstance(body, dict) and set(body) == {"name"}:
            if body["name"] not in ACTIVATIONS:
                fail(f"{where} names no built-in activation: {body['name']!r}.")
            return Activation.builtin(body["name"])
        if not isinstance(body, dict) or set(body) != {
            "name", "function", "derivative",
        }:  # fmt: skip
            fail(f"{where} is not a valid activation.")
        function = self._function(body["function"], f"{where}.function")
        derivative = self._function(body["derivative"], f"{where}.derivative")
        if function is None or derivative is None:
            return None
        try:
            return Activation(body["name"], function, derivative)
        except (TypeError, ValueError) as error:
            fail(f"{where} is not a valid activation ({error}).")

    def _generator(self, state, where):
        if not isinstance(state, dict) or set(state) != {
            "key", "pos", "has_gauss", "cached_gaussian",
        }:  # fmt: skip
            fail(f"{where} is not a valid random generator.")
        name = state["key"]
        if name not in self.generators:
            key = self._array(name, where)
            pos, has_gauss, cached = (
                state["pos"], state["has_gauss"], state["cached_gaussian"],
            )  # fmt: skip
            generator = np.random.RandomState()
            try:
                if key.shape != (624,) or key.dtype != np.uint32:
                    raise ValueError("its key must be 624 uint32 numbers")
                if not (isinstance(pos, int) and isinstance(has_gauss, int)):
                    raise TypeError("pos and has_gauss must be integers")
                if not 0 <= pos <= 624 or has_gauss not in (0, 1):
                    raise ValueError(
                        f"pos={pos} or has_gauss={has_gauss} is out of range"
                    )
                if not (isinstance(cached, float) and math.isfinite(cached)):
                    raise ValueError("cached_gaussian must be a finite float")
                generator.set_state(("MT19937", key, pos, has_gauss, cached))
            except (TypeError, ValueError) as error:
                fail(f"{where} is not a valid random generator ({error}).")
            self.generators[name] = generator
        return self.generators[name]
