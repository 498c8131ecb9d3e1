"""Saving and loading fitted models in a portable format that never unpickles.

A model file is a zip archive, readable by :func:`numpy.load` like any
``.npz`` file, holding:

- ``metadata.json``: UTF-8 JSON with the format name and version, the
  estimator's class, its parameters and its fitted state, as the estimator
  describes them (``_get_fitted_state``);
- one ``.npy`` member per array or random generator in that description,
  named after where it sits (``coefs_.0.npy``, ``training.optimizer.m.npy``);
  :mod:`._codec` says how values become JSON and arrays.

Functions a model holds (a custom activation's, a callable
``learning_rate``, a ``scoring`` function) are written as references,
``"module:qualname"``; loading binds a reference only to a function the
caller passes for it and never imports anything, so a file cannot make the
loader run code.

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
import secrets
import struct
import zipfile
import zlib

import numpy as np

from . import _format_v1
from ._activations import Activation, is_builtin
from ._classifier import MLPBackpropClassifier
from ._codec import Decoder, Encoder, FormatError, fail
from ._references import reference, unimportable
from ._regressor import MLPBackpropRegressor

__all__ = ["load_model", "save_model"]

FORMAT_NAME = "skbackprop-model"
FORMAT_VERSION = 2
ESTIMATORS = {
    cls.__name__: cls for cls in (MLPBackpropClassifier, MLPBackpropRegressor)
}

_METADATA = "metadata.json"
# A generous bound for the JSON (parameters, loss curve, feature names): no
# model needs more, and the parser's memory stays bounded.
_MAX_METADATA_BYTES = 64 * 2**20
# Fixed timestamp: the same model always gives the same bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


# ---------------------------------------------------------------- encoding
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
    ``partial_fit``) exactly where this one would. Saving to a path is
    atomic: the model goes to a temporary file beside it, which reaches the
    disk before it is renamed over the path, so an interrupted save, or a
    crash, leaves the previous file or the new one, never a truncated model.

    Functions are stored by reference, as ``"module:qualname"``: those of a
    custom :class:`~skbackprop.Activation`, a callable ``learning_rate`` or a
    ``scoring`` function. :func:`load_model` needs them passed back.

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
        an arbitrary object, ``classes_`` of mixed Python objects, or a
        lambda, which cannot be found again by module and name).
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
    encoder = Encoder()
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
    temporary, descriptor = _new_file_beside(path)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            _write(handle, metadata, arrays)
            # On disk before the rename, so that even a crash of the machine
            # leaves the old model or the new one under the path, never a
            # part of one.
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _new_file_beside(path):
    """A new temporary file beside ``path``: its name and open descriptor.

    Created with the permissions of any new file (``tempfile.mkstemp`` would
    make the model readable by its owner only), and in the same directory, so
    that renaming it over ``path`` is atomic.
    """
    directory = os.path.dirname(os.path.abspath(path))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        name = os.path.join(directory, f".skbackprop-{secrets.token_hex(8)}.tmp")
        try:
            return name, os.open(name, flags, 0o666)
        except FileExistsError:
            continue


# ---------------------------------------------------------------- decoding
def _check_members(archive, archive_size):
    """The archive's member names, each member bounded by the file's size."""
    members = archive.namelist()
    if len(members) != len(set(members)):
        fail("the archive repeats a member name.")
    if _METADATA not in members:
        fail(f"the archive has no {_METADATA}.")
    for info in archive.infolist():
        # Members are written uncompressed; refusing anything else bounds
        # every member by the size of the file.
        if info.compress_type != zipfile.ZIP_STORED or info.flag_bits & 0x1:
            fail(f"{info.filename} is compressed or encrypted.")
        if (
            info.compress_size != info.file_size
            or info.header_offset + info.file_size > archive_size
        ):
            fail(f"{info.filename} claims more bytes than the file holds.")
    if archive.getinfo(_METADATA).file_size > _MAX_METADATA_BYTES:
        fail(f"{_METADATA} is larger than {_MAX_METADATA_BYTES} bytes.")
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
                fail(f"{member} has an unsupported .npy version {version}.")
            shape, fortran_order, dtype = header
        except FormatError:
            raise
        except (ValueError, TypeError, SyntaxError, EOFError) as error:
            fail(f"{member} is not a valid .npy array ({error}).")
        if dtype.hasobject or dtype.fields is not None:
            fail(f"{member} holds objects or records, which are refused.")
        # The data must fill the member exactly: numpy allocates the array
        # from the header before reading, so a header may not promise more
        # than the (already bounded) member holds.
        n_bytes = math.prod(shape) * dtype.itemsize
        if info.file_size != handle.tell() + n_bytes:
            fail(f"{member} does not hold the {n_bytes} bytes its header says.")
        data = handle.read(n_bytes)
    order = "F" if fortran_order else "C"
    array = np.frombuffer(data, dtype=dtype).reshape(shape, order=order)
    return array.astype(dtype.newbyteorder("="), order="C")


def _parse_metadata(raw):
    def refuse_constant(name):
        fail(f"{_METADATA} contains the non-standard number {name}.")

    def refuse_duplicates(pairs):
        keys = [key for key, _ in pairs]
        if len(keys) != len(set(keys)):
            fail(f"{_METADATA} repeats a key in one object.")
        return dict(pairs)

    try:
        metadata = json.loads(
            raw.decode("utf-8"),
            parse_constant=refuse_constant,
            object_pairs_hook=refuse_duplicates,
        )
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        fail(f"{_METADATA} is not valid UTF-8 JSON ({error}).")
    if not isinstance(metadata, dict):
        fail(f"{_METADATA} must hold a JSON object.")
    if metadata.get("format") != FORMAT_NAME:
        fail(
            f"not a skbackprop model: {_METADATA} names the format "
            f"{metadata.get('format')!r}, expected {FORMAT_NAME!r}."
        )
    version = metadata.get("format_version")
    if version not in (1, FORMAT_VERSION) or isinstance(version, bool):
        fail(
            f"unsupported format version {version!r}: this skbackprop reads "
            f"versions 1 to {FORMAT_VERSION}."
        )
    expected = {"format", "format_version", "estimator", "params", "fitted"}
    if set(metadata) != expected:
        fail(f"{_METADATA} must have exactly the keys {sorted(expected)}.")
    if metadata["estimator"] not in ESTIMATORS:
        fail(f"estimator must be one of {sorted(ESTIMATORS)}.")
    return metadata


def _describe(metadata, archive, arrays, functions):
    """The parameters, the fitted state, and the arrays they used."""
    decoder = Decoder(lambda name: _read_array(archive, name), arrays, functions)
    if metadata["format_version"] == FORMAT_VERSION:
        params = decoder.decode(metadata["params"], "params")
        fitted = decoder.decode(metadata["fitted"], "fitted")
        if decoder.missing:
            raise ValueError(
                "This model calls functions that load_model does not import: "
                + ", ".join(
                    f"{name!r} ({where})" for name, where in decoder.missing.items()
                )
                + ". Pass them, load_model(file, functions=[...]), or a dict "
                "from these references to the functions to call instead; "
                "pass only functions you trust."
            )
        return params, fitted, decoder.used
    try:
        params, fitted = _format_v1.describe(
            metadata,
            lambda name: decoder.decode({"array": name}, name),
            arrays,
            ESTIMATORS[metadata["estimator"]],
        )
    except FormatError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as error:
        fail(f"the version 1 metadata does not follow its format ({error!r}).")
    return params, fitted, decoder.used


def _restore(archive, archive_size, functions):
    members = _check_members(archive, archive_size)
    metadata = _parse_metadata(archive.read(_METADATA))
    arrays = {name.removesuffix(".npy") for name in members if name.endswith(".npy")}
    params, fitted, used = _describe(metadata, archive, arrays, functions)
    used = {_METADATA, *(f"{name}.npy" for name in used)}
    unused = sorted(members - used)
    if unused:
        fail(f"the archive has unexpected members {unused}.")
    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        fail("params must map parameter names to values.")
    cls = ESTIMATORS[metadata["estimator"]]
    try:
        return cls._from_fitted_state(params, fitted)
    except (TypeError, ValueError) as error:
        fail(str(error))


def _bindings(functions):
    """The functions given to :func:`load_model`, by their references."""
    if isinstance(functions, dict):
        if not all(isinstance(k, str) and callable(f) for k, f in functions.items()):
            raise TypeError(
                "functions must map references ('module:qualname') to callables."
            )
        return dict(functions)
    bound = {}
    for given in functions:
        if isinstance(given, Activation):
            given = () if is_builtin(given) else (given.function, given.derivative)
        elif callable(given):
            given = (given,)
        else:
            raise TypeError(
                f"functions must hold functions or Activations, not {given!r}."
            )
        for function in given:
            found = reference(function)
            if found is None:
                raise TypeError(
                    unimportable(function, "A function given to load_model")
                    + " Or bind it in a dict, from the reference the model names."
                )
            bound[found] = function
    return bound


def load_model(file, *, functions=()):
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

    functions : sequence or dict, default=()
        The functions of a model saved with a custom
        :class:`~skbackprop.Activation` or a callable ``learning_rate``
        (or ``scoring``): each function, or an Activation for its two, is
        bound to the reference that the file stores for it, its module and
        qualified name. A dict binds references to functions explicitly,
        for functions that have moved since. Nothing is imported, whatever
        the file says; the model calls the functions you pass, so pass only
        functions you trust.

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
        version; or if it refers to functions that ``functions`` lacks.
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
    functions = _bindings(functions)
    handle = file if hasattr(file, "read") else open(os.fspath(file), "rb")
    try:
        start = handle.tell()
        archive_size = handle.seek(0, os.SEEK_END) - start
        handle.seek(start)
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
            fail(f"not a skbackprop model file: it is not a zip archive ({error}).")
        with archive:
            return _restore(archive, archive_size, functions)
    except FormatError as error:
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
