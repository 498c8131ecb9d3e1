"""Saving and loading fitted models in a portable format that never unpickles.

A model file is a zip archive, readable by :func:`numpy.load` like any
``.npz`` file, holding:

- ``metadata.json``: UTF-8 JSON with the format name and version, the
  estimator's class, its parameters and its fitted state, as the estimator
  describes them (``_get_fitted_state``);
- one ``.npy`` member per array or random generator in that description,
  named after where it sits (``coefs_.0.npy``, ``training.optimizer.m.npy``).

JSON holds None, booleans, integers, finite floats, strings, lists and dicts
with string keys as they are; everything else is a tagged object: ``{"float":
"inf"}``, ``{"tuple": [...]}``, ``{"dict": [[key, value], ...]}`` (a dict with
other keys, such as class labels), ``{"array": member}`` (``"object": true``
for an object array of strings) and ``{"random_state": {"key": member, "pos":
..., ...}}``. A
generator referred to twice (the ``random_state`` parameter that is also the
training state's generator) is stored once and loaded as one.

Loading trusts nothing in the file. Members must be stored uncompressed, so
each is bounded by the file's size, and an array's data must fill its member
exactly: no header can make the loader allocate more than the file holds.
Arrays are read with ``allow_pickle=False``; the JSON is parsed strictly; the
members must be exactly those the metadata refers to; and the estimator then
checks every value of its description (shapes, dtypes, finiteness, counters,
agreement of the parameters with the weights) before using it. Any deviation
raises a ``ValueError`` that says what is wrong.
"""

import io
import json
import math
import os
import struct
import tempfile
import zipfile
import zlib
from numbers import Integral, Real

import numpy as np

from ._classifier import MLPBackpropClassifier

__all__ = ["load_model", "save_model"]

FORMAT_NAME = "skbackprop-model"
FORMAT_VERSION = 2
ESTIMATORS = {cls.__name__: cls for cls in (MLPBackpropClassifier,)}

_METADATA = "metadata.json"
# A generous bound for the JSON (parameters, loss curve, feature names): no
# model needs more, and the parser's memory stays bounded.
_MAX_METADATA_BYTES = 64 * 2**20
# Fixed timestamp: the same model always gives the same bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
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
]


class _FormatError(ValueError):
    """A model file that does not follow the format."""


def _fail(message):
    raise _FormatError(message)


# ---------------------------------------------------------------- encoding
def _join(path, key):
    return f"{path}.{key}" if path else str(key)


class _Encoder:
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
        raise TypeError(
            f"Cannot save {path} of type {type(value).__name__} without "
            f"pickling; use pickle, joblib or skops for such a model."
        )

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


def _write(file, metadata, arrays):
    text = json.dumps(metadata, allow_nan=False, indent=1, sort_keys=True)
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(zipfile.ZipInfo(_METADATA, _ZIP_DATE), text.encode("utf-8"))
        for name, array in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", _ZIP_DATE)
            with archive.open(info, mode="w", force_zip64=True) as member:
                np.lib.format.write_array(
                    member, np.ascontiguousarray(array), allow_pickle=False
                )


def save_model(estimator, file):
    """Save a fitted estimator in a portable, pickle-free format.

    The file is a zip archive (an ``.npz`` that :func:`numpy.load` opens) with
    the parameters and fitted state as JSON in ``metadata.json`` and every
    array as a ``.npy`` member; see :ref:`persistence`. It holds the weights,
    the classes, the training history, the random generator's state and the
    optimizer's state, so that :func:`load_model` returns a model that
    predicts identically and continues training (``warm_start`` or
    ``partial_fit``) exactly where this one would. Saving to a path writes a
    temporary file first and renames it, so an interrupted save never leaves
    a truncated model behind.

    Parameters
    ----------
    estimator : MLPBackpropClassifier
        A fitted estimator.
    file : str, os.PathLike or binary file object
        Where to write; a path is used exactly as given (no extension is
        added).

    Raises
    ------
    TypeError
        If ``estimator`` is not a skbackprop estimator, or holds a value the
        format cannot store without pickling (for instance a parameter set to
        an arbitrary object, or ``classes_`` of mixed Python objects).
    ValueError
        If a parameter that shapes the network was changed after fitting, so
        that the parameters no longer describe the weights.
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.

    See Also
    --------
    load_model : Read a model saved by this function.

    Examples
    --------
    >>> import io
    >>> from sklearn.datasets import load_iris
    >>> from skbackprop import MLPBackpropClassifier, load_model, save_model
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPBackpropClassifier(max_iter=20, random_state=0).fit(X, y)
    >>> file = io.BytesIO()  # or a path, such as "iris-model.npz"
    >>> save_model(clf, file)
    >>> _ = file.seek(0)
    >>> restored = load_model(file)
    >>> bool((restored.predict_proba(X) == clf.predict_proba(X)).all())
    True
    """
    name = type(estimator).__name__
    if ESTIMATORS.get(name) is not type(estimator):
        raise TypeError(f"save_model saves one of {sorted(ESTIMATORS)}, got {name}.")
    fitted = estimator._get_fitted_state()
    encoder = _Encoder()
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "estimator": name,
        "params": encoder.encode(estimator.get_params(deep=False), "params"),
        "fitted": encoder.encode(fitted),
    }
    arrays = encoder.arrays
    if hasattr(file, "write"):
        _write(file, metadata, arrays)
        return
    path = os.fspath(file)
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(
        prefix=".skbackprop-", suffix=".tmp", dir=directory
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            _write(handle, metadata, arrays)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


# ---------------------------------------------------------------- decoding
def _check_members(archive, archive_size):
    """The archive's member names, each member bounded by the file's size."""
    members = archive.namelist()
    if len(members) != len(set(members)):
        _fail("the archive repeats a member name.")
    if _METADATA not in members:
        _fail(f"the archive has no {_METADATA}.")
    for info in archive.infolist():
        # Members are written uncompressed; refusing anything else bounds
        # every member by the size of the file.
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            _fail(f"{info.filename} is compressed or encrypted.")
        if (
            info.compress_size != info.file_size
            or info.header_offset + info.file_size > archive_size
        ):
            _fail(f"{info.filename} claims more bytes than the file holds.")
    if archive.getinfo(_METADATA).file_size > _MAX_METADATA_BYTES:
        _fail(f"{_METADATA} is larger than {_MAX_METADATA_BYTES} bytes.")
    return set(members)


def _read_array(archive, name):
    """Read ``name.npy``, checking its header against the member's size first."""
    member = f"{name}.npy"
    info = archive.getinfo(member)
    with archive.open(info) as handle:
        try:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                header = np.lib.format.read_array_header_1_0(handle)
            elif version == (2, 0):
                header = np.lib.format.read_array_header_2_0(handle)
            else:
                _fail(f"{member} has an unsupported .npy version {version}.")
            shape, fortran_order, dtype = header
        except _FormatError:
            raise
        except (ValueError, TypeError, SyntaxError, EOFError) as error:
            _fail(f"{member} is not a valid .npy array ({error}).")
        if dtype.hasobject or dtype.fields is not None:
            _fail(f"{member} holds objects or records, which are refused.")
        # The data must fill the member exactly: numpy allocates the array
        # from the header before reading, so a header may not promise more
        # than the (already bounded) member holds.
        n_bytes = math.prod(shape) * dtype.itemsize
        if info.file_size != handle.tell() + n_bytes:
            _fail(f"{member} does not hold the {n_bytes} bytes its header says.")
        data = handle.read(n_bytes)
    order = "F" if fortran_order else "C"
    array = np.frombuffer(data, dtype=dtype).reshape(shape, order=order)
    return array.astype(dtype.newbyteorder("="), order="C")


class _Decoder:
    """Rebuilds the values that :class:`_Encoder` described."""

    def __init__(self, archive, members):
        self.archive, self.members = archive, members
        self.used = {_METADATA}
        self.generators = {}  # key member -> generator, to load one as one

    def _array(self, name, where):
        if not isinstance(name, str) or f"{name}.npy" not in self.members:
            _fail(f"{where} refers to a missing member {name!r}.")
        self.used.add(f"{name}.npy")
        return _read_array(self.archive, name)

    def decode(self, value, where):
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            return [self.decode(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, dict):
            _fail(f"{where} has an unsupported encoding: {value!r}.")
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
                    _fail(f"{where} is not a valid array of strings.")
                array = array.astype(object)
            elif array.dtype.kind not in _ARRAY_KINDS:
                _fail(f"{where} has dtype {array.dtype}, not one of kinds "
                      f"{_ARRAY_KINDS!r}.")  # fmt: skip
            return array
        if set(value) == {"random_state"}:
            return self._generator(body, where)
        _fail(f"{where} has an unsupported encoding: {value!r}.")

    def _dict(self, pairs, where):
        decoded = {}
        for pair in pairs:
            if not (isinstance(pair, list) and len(pair) == 2):
                _fail(f"{where} is not a valid list of key-value pairs.")
            key = self.decode(pair[0], where)
            if isinstance(key, (list, dict, np.ndarray)) or key in decoded:
                _fail(f"{where} has a repeated or unhashable key.")
            decoded[key] = self.decode(pair[1], f"{where}[{key!r}]")
        return decoded

    def _generator(self, state, where):
        if not isinstance(state, dict) or set(state) != {
            "key", "pos", "has_gauss", "cached_gaussian",
        }:  # fmt: skip
            _fail(f"{where} is not a valid random generator.")
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
                _fail(f"{where} is not a valid random generator ({error}).")
            self.generators[name] = generator
        return self.generators[name]


def _parse_metadata(raw):
    def refuse_constant(name):
        _fail(f"{_METADATA} contains the non-standard number {name}.")

    def refuse_duplicates(pairs):
        keys = [key for key, _ in pairs]
        if len(keys) != len(set(keys)):
            _fail(f"{_METADATA} repeats a key in one object.")
        return dict(pairs)

    try:
        metadata = json.loads(
            raw.decode("utf-8"),
            parse_constant=refuse_constant,
            object_pairs_hook=refuse_duplicates,
        )
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        _fail(f"{_METADATA} is not valid UTF-8 JSON ({error}).")
    if not isinstance(metadata, dict):
        _fail(f"{_METADATA} must hold a JSON object.")
    if metadata.get("format") != FORMAT_NAME:
        _fail(
            f"not a skbackprop model: {_METADATA} names the format "
            f"{metadata.get('format')!r}, expected {FORMAT_NAME!r}."
        )
    version = metadata.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        _fail(
            f"unsupported format version {version!r}: this skbackprop reads "
            f"version {FORMAT_VERSION}."
        )
    expected = {"format", "format_version", "estimator", "params", "fitted"}
    if set(metadata) != expected:
        _fail(f"{_METADATA} must have exactly the keys {sorted(expected)}.")
    if metadata["estimator"] not in ESTIMATORS:
        _fail(f"estimator must be one of {sorted(ESTIMATORS)}.")
    return metadata


def _restore(archive, archive_size):
    members = _check_members(archive, archive_size)
    metadata = _parse_metadata(archive.read(_METADATA))
    decoder = _Decoder(archive, members)
    params = decoder.decode(metadata["params"], "params")
    fitted = decoder.decode(metadata["fitted"], "fitted")
    unused = sorted(members - decoder.used)
    if unused:
        _fail(f"the archive has unexpected members {unused}.")
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        _fail("params must map parameter names to values.")
    cls = ESTIMATORS[metadata["estimator"]]
    try:
        return cls._from_fitted_state(params, fitted)
    except (TypeError, ValueError) as error:
        _fail(str(error))


def load_model(file):
    """Load a model written by :func:`save_model`, without unpickling anything.

    The file is checked throughout before any of it is used: the archive's
    members (uncompressed, within the file, exactly those the metadata
    refers to), the JSON metadata against the format and its version, every
    array's header against its member's size before the array is read, and
    every value against what the estimator can be: the weights' shapes,
    dtypes and finiteness, the classes against the output layer, the
    parameters against the weights, the training state's counters and the
    optimizer's state. A file from an untrusted source therefore yields
    either a valid model or a ``ValueError``.

    Parameters
    ----------
    file : str, os.PathLike or binary file object
        The file written by :func:`save_model`.

    Returns
    -------
    estimator : MLPBackpropClassifier
        The fitted estimator, with the parameters, weights, classes, training
        history, random generator and optimizer state it was saved with.

    Raises
    ------
    ValueError
        If the file is not a valid model file: not a skbackprop model file at
        all, truncated, tampered with, or written in an unsupported format
        version.
    FileNotFoundError
        If the path does not exist.

    See Also
    --------
    save_model : Write a model in this format.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from skbackprop import MLPBackpropClassifier, load_model, save_model
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPBackpropClassifier(max_iter=20, random_state=0).fit(X, y)
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "iris-model.npz")
    >>> save_model(clf, path)
    >>> restored = load_model(path)
    >>> restored.score(X, y) == clf.score(X, y)
    True
    """
    handle = file if hasattr(file, "read") else open(os.fspath(file), "rb")
    try:
        start = handle.tell()
        archive_size = handle.seek(0, os.SEEK_END) - start
        handle.seek(start)
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
            _fail(f"not a skbackprop model file: it is not a zip archive ({error}).")
        with archive:
            return _restore(archive, archive_size)
    except _FormatError as error:
        raise ValueError(f"Invalid skbackprop model file: {error}") from None
    except (
        OSError,
        EOFError,
        KeyError,
        zipfile.BadZipFile,
        zlib.error,
        struct.error,
        NotImplementedError,
        OverflowError,
        io.UnsupportedOperation,
    ) as error:
        # Corruption found while reading (a bad CRC, a truncated member, ...).
        raise ValueError(
            f"Invalid skbackprop model file: {type(error).__name__}: {error}"
        ) from error
    finally:
        if handle is not file:
            handle.close()
