"""Saving and loading fitted models in a portable format that never unpickles.

A model file is a zip archive, readable by :func:`numpy.load` like any
``.npz`` file, holding:

- ``metadata.json``: UTF-8 JSON with the format name and version, the
  constructor parameters and every fitted attribute that is not an array
  (layer sizes, label type, loss curve, feature names, ...);
- one ``.npy`` member per array: ``coefs_0.npy``, ..., ``intercepts_0.npy``,
  ..., ``classes.npy``, and, where the model has them, the state of its random
  generator and of its optimizer.

Every member is written with ``allow_pickle=False`` and read back with
``numpy.load(..., allow_pickle=False)``, so loading never runs code from the
file. Loading trusts nothing in it: the JSON is checked against a fixed
schema, the set of members must be exactly the one the metadata implies, and
every array header is checked for its shape and dtype *before* the array is
read, so a tampered file cannot make the loader allocate more than the model
needs. Any deviation raises a ``ValueError`` that says what is wrong.
"""

import json
import math
import os
import tempfile
import zipfile
from numbers import Integral, Real

import numpy as np
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils.validation import check_is_fitted

from ._activations import ACTIVATIONS
from ._classifier import _OPTIMIZER_PARAMS, MLPBackpropClassifier
from ._optimizers import make_optimizer

__all__ = ["load_model", "save_model"]

FORMAT_NAME = "skbackprop-model"
FORMAT_VERSION = 1

_METADATA = "metadata.json"
# A generous bound for the JSON (parameters, loss curve, feature names), so a
# tampered size field cannot make the loader decompress gigabytes.
_MAX_METADATA_BYTES = 64 * 2**20
# Room for the .npy header in front of an array's data.
_MAX_HEADER_BYTES = 2**16
# Fixed timestamp: the same model always gives the same bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)

_LABEL_TYPES = ("binary", "multiclass", "multilabel-indicator")
_CLASS_KINDS = "biufU"
_MT19937_KEY_SIZE = 624


class _FormatError(ValueError):
    """A model file that does not follow the format."""


# ---------------------------------------------------------------- encoding
def _encode_float(value):
    """JSON has no infinities or NaN: spell them as strings."""
    value = float(value)
    if math.isfinite(value):
        return value
    return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")


def _encode_value(value, where):
    """Encode a parameter value as JSON, keeping tuples apart from lists."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, Integral):
        return int(value)
    if isinstance(value, Real):
        encoded = _encode_float(value)
        return {"float": encoded} if isinstance(encoded, str) else encoded
    if isinstance(value, tuple):
        return {"tuple": [_encode_value(v, where) for v in value]}
    if isinstance(value, list):
        return [_encode_value(v, where) for v in value]
    if (
        isinstance(value, np.ndarray)
        and value.ndim == 1
        and value.dtype.kind in "biuU"
    ):
        return {"ndarray": value.tolist(), "dtype": value.dtype.str}
    raise TypeError(
        f"Cannot save {where} of type {type(value).__name__} without pickling; "
        f"use pickle, joblib or skops for such a model."
    )


def _random_state_json(random_state):
    """The scalar part of a RandomState's state; the key goes in an array."""
    _, key, pos, has_gauss, cached_gaussian = random_state.get_state(legacy=True)
    state = {
        "pos": int(pos),
        "has_gauss": int(has_gauss),
        "cached_gaussian": _encode_float(cached_gaussian),
    }
    return state, np.asarray(key, dtype=np.uint32)


def _flat_params(coefs, intercepts):
    """Weights then biases in one vector, the layout of the training buffer."""
    return np.concatenate([c.ravel() for c in coefs] + [b.ravel() for b in intercepts])


def _optimizer_state(estimator, n_params, dtype):
    """JSON scalars and arrays of the optimizer, or None if it would be rebuilt.

    A warm refit or ``partial_fit`` keeps the optimizer only while its
    hyperparameters are unchanged; if they have changed since it was built,
    the next call starts a fresh one, so there is nothing to save.
    """
    optimizer = getattr(estimator, "_optimizer", None)
    if optimizer is None:
        return None, {}
    current = tuple(getattr(estimator, name) for name in _OPTIMIZER_PARAMS)
    if getattr(estimator, "_optimizer_params", None) != current:
        return None, {}
    scalars, arrays = {}, {}
    for name, value in vars(optimizer).items():
        if isinstance(value, np.ndarray):
            if value.shape != (n_params,) or value.dtype != dtype:
                raise TypeError(
                    f"Cannot save the optimizer's {name!r}: an array of shape "
                    f"{value.shape} and dtype {value.dtype}, where ({n_params},) "
                    f"and {dtype} are expected."
                )
            arrays[f"optimizer_{name}"] = value
        elif isinstance(value, np.dtype):
            continue  # rebuilt from the weights' dtype
        elif isinstance(value, (bool, np.bool_, str)):
            scalars[name] = value if isinstance(value, str) else bool(value)
        elif isinstance(value, Integral):
            scalars[name] = int(value)
        elif isinstance(value, Real):
            scalars[name] = _encode_float(value)
        else:
            raise TypeError(
                f"Cannot save the optimizer's {name!r} of type "
                f"{type(value).__name__} without pickling."
            )
    return {"class": type(optimizer).__name__, "scalars": scalars}, arrays


def _classes_arrays(classes):
    """``classes_`` as an array numpy can store without pickling."""
    classes = np.asarray(classes)
    if classes.ndim != 1:
        raise TypeError(f"classes_ must be 1-D, got shape {classes.shape}.")
    if classes.dtype.kind in _CLASS_KINDS:
        return {"object": False}, classes
    if classes.dtype.kind == "O" and all(isinstance(c, str) for c in classes):
        return {"object": True}, np.asarray(classes.tolist(), dtype=str)
    raise TypeError(
        f"Cannot save classes_ of dtype {classes.dtype} (types "
        f"{sorted({type(c).__name__ for c in classes})}) without pickling; "
        f"use pickle, joblib or skops for such a model."
    )


def _model_contents(estimator):
    """The metadata dict and the arrays of a fitted estimator."""
    if not isinstance(estimator, MLPBackpropClassifier):
        raise TypeError(
            f"save_model saves an MLPBackpropClassifier, got "
            f"{type(estimator).__name__}."
        )
    check_is_fitted(estimator)
    coefs = [np.asarray(c) for c in estimator.coefs_]
    intercepts = [np.asarray(b) for b in estimator.intercepts_]
    dtype = coefs[0].dtype
    layer_units = [coefs[0].shape[0]] + [c.shape[1] for c in coefs]
    n_params = sum(c.size for c in coefs) + sum(b.size for b in intercepts)

    binarizer = estimator._label_binarizer
    if not (
        np.array_equal(binarizer.classes_, estimator.classes_)
        and binarizer.classes_.dtype == np.asarray(estimator.classes_).dtype
    ):
        raise ValueError("classes_ disagrees with the fitted label binarizer.")
    classes_info, classes = _classes_arrays(estimator.classes_)

    arrays = {}
    for i, (coef, intercept) in enumerate(zip(coefs, intercepts)):
        arrays[f"coefs_{i}"] = coef
        arrays[f"intercepts_{i}"] = intercept
    arrays["classes"] = classes

    params = {
        name: _encode_value(value, f"parameter {name!r}")
        for name, value in estimator.get_params(deep=False).items()
        if name != "random_state"
    }
    random_state_param = estimator.random_state
    fitted_rng = getattr(estimator, "_random_state", None)
    if isinstance(random_state_param, np.random.RandomState):
        if random_state_param is fitted_rng:
            # One generator shared by the parameter and the fitted model.
            params["random_state"] = {"random_state": "fitted"}
        else:
            state, arrays["params_random_state"] = _random_state_json(
                random_state_param
            )
            params["random_state"] = {"random_state": state}
    else:
        params["random_state"] = _encode_value(random_state_param, "random_state")

    rng_state = None
    if fitted_rng is not None:
        rng_state, arrays["random_state"] = _random_state_json(fitted_rng)

    optimizer, optimizer_arrays = _optimizer_state(estimator, n_params, dtype)
    arrays.update(optimizer_arrays)
    best_params = getattr(estimator, "_best_params", None)
    if best_params is not None:
        arrays["best_params"] = np.asarray(best_params)

    feature_names = getattr(estimator, "feature_names_in_", None)

    def optional_float(value):
        return None if value is None else _encode_float(value)

    fitted = {
        "dtype": dtype.name,
        "layer_units": [int(u) for u in layer_units],
        "hidden_activations": list(estimator._hidden_activations),
        "out_activation_": estimator.out_activation_,
        "label_type": binarizer.y_type_,
        "sparse_label_input": bool(binarizer.sparse_input_),
        "classes_object": classes_info["object"],
        "n_features_in_": int(estimator.n_features_in_),
        "feature_names_in_": None if feature_names is None
        else [str(name) for name in feature_names],
        "n_iter_": int(estimator.n_iter_),
        "t_": int(estimator.t_),
        "n_layers_": int(estimator.n_layers_),
        "n_outputs_": int(estimator.n_outputs_),
        "loss_": optional_float(getattr(estimator, "loss_", None)),
        "best_loss_": optional_float(estimator.best_loss_),
        "loss_curve_": [_encode_float(v) for v in estimator.loss_curve_],
        "validation_scores_": None if estimator.validation_scores_ is None
        else [_encode_float(v) for v in estimator.validation_scores_],
        "best_validation_score_": optional_float(estimator.best_validation_score_),
        "no_improvement_count": int(getattr(estimator, "_no_improvement_count", 0)),
        "random_state": rng_state,
        "optimizer": optimizer,
        "best_params": best_params is not None,
    }
    metadata = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "estimator": type(estimator).__name__,
        "params": params,
        "fitted": fitted,
    }
    return metadata, arrays


def _write_zip(file, metadata, arrays):
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
    """Save a fitted MLPBackpropClassifier in a portable, pickle-free format.

    The file is a zip archive (an ``.npz`` that :func:`numpy.load` opens) with
    the parameters and fitted metadata as JSON in ``metadata.json`` and every
    array as a ``.npy`` member; see :ref:`persistence`. It holds the weights,
    the classes, the random generator's state and the optimizer's state, so
    that :func:`load_model` returns a model that predicts identically and
    continues training (``warm_start`` or ``partial_fit``) exactly where this
    one would. Saving to a path writes a temporary file first and renames it,
    so an interrupted save never leaves a truncated model behind.

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
        If ``estimator`` is not an MLPBackpropClassifier, or holds a value the
        format cannot store without pickling (for instance a parameter set to
        an arbitrary object, or ``classes_`` of mixed Python objects).
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted.

    See Also
    --------
    load_model : Read a model saved by this function.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn.datasets import load_iris
    >>> from skbackprop import MLPBackpropClassifier, load_model, save_model
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = MLPBackpropClassifier(solver="lbfgs", random_state=0).fit(X, y)
    >>> path = os.path.join(tempfile.mkdtemp(), "iris-model.npz")
    >>> save_model(clf, path)
    >>> (load_model(path).predict(X) == clf.predict(X)).all()
    np.True_
    """
    metadata, arrays = _model_contents(estimator)
    if hasattr(file, "write"):
        _write_zip(file, metadata, arrays)
        return
    path = os.fspath(file)
    directory = os.path.dirname(os.path.abspath(path))
    descriptor, temporary = tempfile.mkstemp(
        prefix=".skbackprop-", suffix=".tmp", dir=directory
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            _write_zip(handle, metadata, arrays)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


# ---------------------------------------------------------------- decoding
def _fail(message):
    raise _FormatError(message)


def _check_keys(mapping, required, optional=(), where="metadata"):
    if not isinstance(mapping, dict):
        _fail(f"{where} must be a JSON object, got {type(mapping).__name__}.")
    unknown = sorted(set(mapping) - set(required) - set(optional))
    if unknown:
        _fail(f"{where} has unexpected keys {unknown}.")
    missing = sorted(set(required) - set(mapping))
    if missing:
        _fail(f"{where} lacks the keys {missing}.")


def _int(value, where, minimum=0):
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        _fail(f"{where} must be an integer >= {minimum}, got {value!r}.")
    return value


def _bool(value, where):
    if not isinstance(value, bool):
        _fail(f"{where} must be true or false, got {value!r}.")
    return value


def _str(value, where, choices=None):
    if not isinstance(value, str) or (choices is not None and value not in choices):
        expected = "a string" if choices is None else f"one of {sorted(choices)}"
        _fail(f"{where} must be {expected}, got {value!r}.")
    return value


def _float(value, where, optional=False):
    if value is None and optional:
        return None
    if isinstance(value, str) and value in ("inf", "-inf", "nan"):
        return float(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    _fail(f"{where} must be a number, got {value!r}.")


def _float_list(value, where, optional=False):
    if value is None and optional:
        return None
    if not isinstance(value, list):
        _fail(f"{where} must be a list of numbers, got {type(value).__name__}.")
    return [_float(v, f"{where}[{i}]") for i, v in enumerate(value)]


def _decode_value(value, where):
    """Inverse of :func:`_encode_value`."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_decode_value(v, where) for v in value]
    if isinstance(value, dict):
        if set(value) == {"tuple"} and isinstance(value["tuple"], list):
            return tuple(_decode_value(v, where) for v in value["tuple"])
        if set(value) == {"float"}:
            return _float(value["float"], where)
        if set(value) == {"ndarray", "dtype"} and isinstance(value["ndarray"], list):
            try:
                dtype = np.dtype(_str(value["dtype"], f"{where} dtype"))
                if dtype.kind not in "biuU":
                    raise TypeError(dtype)
                items = value["ndarray"]
                if not all(isinstance(v, (bool, int, float, str)) for v in items):
                    raise TypeError(items)
                return np.asarray(items, dtype=dtype)
            except (TypeError, ValueError, OverflowError):
                _fail(f"{where} is not a valid array of numbers or strings.")
    _fail(f"{where} has an unsupported encoding: {value!r}.")


def _parse_metadata(raw):
    if not isinstance(raw, bytes):
        _fail(f"{_METADATA} is not a text member.")

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
            f"version {FORMAT_VERSION}. A file from a newer skbackprop needs that "
            f"version to load."
        )
    _check_keys(
        metadata, ["format", "format_version", "estimator", "params", "fitted"]
    )
    _str(metadata["estimator"], "estimator", {MLPBackpropClassifier.__name__})
    return metadata


def _build_estimator(encoded_params):
    """A new estimator with the saved parameters, validated by scikit-learn."""
    defaults = MLPBackpropClassifier().get_params(deep=False)
    if not isinstance(encoded_params, dict):
        _fail("params must be a JSON object.")
    unknown = sorted(set(encoded_params) - set(defaults))
    if unknown:
        _fail(f"params has unknown parameters {unknown}.")
    # Parameters added after the file was written take their defaults.
    params = {}
    for name, value in encoded_params.items():
        if name == "random_state" and isinstance(value, dict) and "random_state" in value:
            continue  # restored with the arrays
        params[name] = _decode_value(value, f"parameter {name!r}")
    estimator = MLPBackpropClassifier(**params)
    try:
        estimator._validate_params()
    except (TypeError, ValueError) as error:
        _fail(f"invalid parameter: {error}")
    return estimator


def _validate_fitted(fitted):
    """Check the fitted metadata against its schema and itself."""
    _check_keys(
        fitted,
        [
            "dtype", "layer_units", "hidden_activations", "out_activation_",
            "label_type", "sparse_label_input", "classes_object", "n_features_in_",
            "feature_names_in_", "n_iter_", "t_", "n_layers_", "n_outputs_",
            "loss_", "best_loss_", "loss_curve_", "validation_scores_",
            "best_validation_score_", "no_improvement_count", "random_state",
            "optimizer", "best_params",
        ],
        where="fitted",
    )
    _str(fitted["dtype"], "fitted.dtype", {"float32", "float64"})
    units = fitted["layer_units"]
    if not isinstance(units, list) or len(units) < 2:
        _fail("fitted.layer_units must list at least 2 layer sizes.")
    for i, units_i in enumerate(units):
        _int(units_i, f"fitted.layer_units[{i}]", minimum=1)
    activations = fitted["hidden_activations"]
    if not isinstance(activations, list) or len(activations) != len(units) - 2:
        _fail(
            f"fitted.hidden_activations must name one activation for each of "
            f"the {len(units) - 2} hidden layers."
        )
    for i, name in enumerate(activations):
        _str(name, f"fitted.hidden_activations[{i}]", set(ACTIVATIONS))
    label_type = _str(fitted["label_type"], "fitted.label_type", set(_LABEL_TYPES))
    expected_out = "softmax" if label_type == "multiclass" else "logistic"
    _str(fitted["out_activation_"], "fitted.out_activation_", {expected_out})
    _bool(fitted["sparse_label_input"], "fitted.sparse_label_input")
    _bool(fitted["classes_object"], "fitted.classes_object")
    _bool(fitted["best_params"], "fitted.best_params")
    n_features = _int(fitted["n_features_in_"], "fitted.n_features_in_", minimum=1)
    if n_features != units[0]:
        _fail(
            f"fitted.n_features_in_ is {n_features} but the first layer has "
            f"{units[0]} units."
        )
    if _int(fitted["n_layers_"], "fitted.n_layers_", minimum=2) != len(units):
        _fail(f"fitted.n_layers_ must be {len(units)}, the number of layers.")
    if _int(fitted["n_outputs_"], "fitted.n_outputs_", minimum=1) != units[-1]:
        _fail(f"fitted.n_outputs_ must be {units[-1]}, the output layer's size.")
    names = fitted["feature_names_in_"]
    if names is not None and (
        not isinstance(names, list)
        or len(names) != n_features
        or not all(isinstance(n, str) for n in names)
    ):
        _fail(f"fitted.feature_names_in_ must list {n_features} strings or be null.")
    for key in ("n_iter_", "t_", "no_improvement_count"):
        _int(fitted[key], f"fitted.{key}")
    _float(fitted["loss_"], "fitted.loss_", optional=True)
    _float(fitted["best_loss_"], "fitted.best_loss_", optional=True)
    _float_list(fitted["loss_curve_"], "fitted.loss_curve_")
    _float_list(fitted["validation_scores_"], "fitted.validation_scores_", True)
    _float(fitted["best_validation_score_"], "fitted.best_validation_score_", True)
    if fitted["random_state"] is not None:
        _validate_rng_json(fitted["random_state"], "fitted.random_state")
    optimizer = fitted["optimizer"]
    if optimizer is not None:
        _check_keys(optimizer, ["class", "scalars"], where="fitted.optimizer")
        _str(optimizer["class"], "fitted.optimizer.class")
        if not isinstance(optimizer["scalars"], dict):
            _fail("fitted.optimizer.scalars must be a JSON object.")


def _validate_rng_json(state, where):
    _check_keys(state, ["pos", "has_gauss", "cached_gaussian"], where=where)
    if _int(state["pos"], f"{where}.pos") > _MT19937_KEY_SIZE:
        _fail(f"{where}.pos must be at most {_MT19937_KEY_SIZE}.")
    if _int(state["has_gauss"], f"{where}.has_gauss") > 1:
        _fail(f"{where}.has_gauss must be 0 or 1.")
    if not math.isfinite(_float(state["cached_gaussian"], f"{where}.cached_gaussian")):
        _fail(f"{where}.cached_gaussian must be finite.")


def _make_random_state(state, key):
    random_state = np.random.RandomState()
    random_state.set_state(
        ("MT19937", key, state["pos"], state["has_gauss"],
         float(state["cached_gaussian"]))
    )
    return random_state


class _ArrayReader:
    """Read the .npy members of an open archive, checking each header first."""

    def __init__(self, npz, expected):
        self.npz = npz
        self.expected = expected  # name -> (shape or None, dtype or kinds)

    def read(self, name):
        shape, dtype = self.expected[name]
        member = f"{name}.npy"
        info = self.npz.zip.getinfo(member)
        with self.npz.zip.open(info) as handle:
            try:
                version = np.lib.format.read_magic(handle)
                if version == (1, 0):
                    header = np.lib.format.read_array_header_1_0(handle)
                elif version == (2, 0):
                    header = np.lib.format.read_array_header_2_0(handle)
                else:
                    _fail(f"{member} has an unsupported .npy version {version}.")
            except _FormatError:
                raise
            except (ValueError, TypeError, SyntaxError, EOFError) as error:
                _fail(f"{member} is not a valid .npy array ({error}).")
        found_shape, _, found_dtype = header
        if found_dtype.hasobject or found_dtype.fields is not None:
            _fail(f"{member} holds objects or records, which are refused.")
        native = found_dtype.newbyteorder("=")
        if isinstance(dtype, str):
            if native.kind not in dtype or (native.kind == "U" and not found_shape):
                _fail(f"{member} has dtype {found_dtype}, not one of kinds {dtype!r}.")
        elif native != dtype:
            _fail(f"{member} has dtype {found_dtype}, expected {np.dtype(dtype)}.")
        if shape is not None and tuple(found_shape) != tuple(shape):
            _fail(f"{member} has shape {found_shape}, expected {tuple(shape)}.")
        if len(found_shape) != 1 and shape is None:
            _fail(f"{member} must be 1-D, got shape {found_shape}.")
        n_bytes = math.prod(found_shape) * found_dtype.itemsize
        if info.file_size > n_bytes + _MAX_HEADER_BYTES:
            _fail(f"{member} is larger than its header says.")
        array = self.npz[member]
        if array.shape != tuple(found_shape) or array.dtype != found_dtype:
            _fail(f"{member} changed between its header and its data.")
        array = array.astype(native, copy=False)
        if native.kind == "f" and not np.isfinite(array).all():
            _fail(f"{member} contains NaN or infinity.")
        return array


def _expected_arrays(fitted, params):
    """Name -> (shape, dtype) of every array member the metadata implies."""
    dtype = np.dtype(fitted["dtype"])
    units = fitted["layer_units"]
    n_params = sum(a * b for a, b in zip(units[:-1], units[1:])) + sum(units[1:])
    expected = {}
    for i, (fan_in, fan_out) in enumerate(zip(units[:-1], units[1:])):
        expected[f"coefs_{i}"] = ((fan_in, fan_out), dtype)
        expected[f"intercepts_{i}"] = ((fan_out,), dtype)
    expected["classes"] = (None, "U" if fitted["classes_object"] else _CLASS_KINDS)
    key = ((_MT19937_KEY_SIZE,), np.dtype(np.uint32))
    if fitted["random_state"] is not None:
        expected["random_state"] = key
    if isinstance(params.get("random_state"), dict):
        state = params["random_state"].get("random_state")
        if isinstance(state, dict):
            expected["params_random_state"] = key
    if fitted["best_params"]:
        expected["best_params"] = ((n_params,), dtype)
    return expected, n_params


def _check_classes(classes, fitted):
    n_outputs = fitted["layer_units"][-1]
    label_type = fitted["label_type"]
    if classes.ndim != 1 or len(classes) == 0:
        _fail("classes must be a non-empty 1-D array.")
    if len(np.unique(classes)) != len(classes) or not np.array_equal(
        np.sort(classes), classes
    ):
        _fail("classes must be sorted and distinct.")
    if label_type == "multilabel-indicator":
        consistent = np.array_equal(classes, np.arange(n_outputs))
    elif label_type == "binary":
        consistent = n_outputs == 1 and len(classes) <= 2
    else:
        consistent = len(classes) == n_outputs and len(classes) > 2
    if not consistent:
        _fail(
            f"{len(classes)} classes do not fit a {label_type} model with "
            f"{n_outputs} output unit(s)."
        )


def _restore_optimizer(estimator, saved, reader, names, n_params, dtype):
    """A fresh optimizer for the parameters, with the saved state put back."""
    optimizer = make_optimizer(estimator, n_params, dtype)
    if saved["class"] != type(optimizer).__name__:
        _fail(
            f"the saved optimizer is {saved['class']!r} but solver="
            f"{estimator.solver!r} uses {type(optimizer).__name__!r}."
        )
    current = vars(optimizer)
    for name, value in saved["scalars"].items():
        where = f"fitted.optimizer.scalars.{name}"
        if name not in current or isinstance(current[name], (np.ndarray, np.dtype)):
            _fail(f"{where} is not part of the optimizer's state.")
        reference = current[name]
        if isinstance(reference, (bool, np.bool_)):
            value = _bool(value, where)
        elif isinstance(reference, str):
            value = _str(value, where)
        elif isinstance(reference, Integral):
            value = _int(value, where)
        else:
            value = _float(value, where)
            if not math.isfinite(value):
                _fail(f"{where} must be finite.")
        setattr(optimizer, name, type(reference)(value))
    for member in names:
        name = member[len("optimizer_"):]
        if not isinstance(current.get(name), np.ndarray):
            _fail(f"{member}.npy is not part of the optimizer's state.")
        reader.expected[member] = ((n_params,), np.dtype(dtype))
        np.copyto(current[name], reader.read(member))
    return optimizer


def _restore(npz):
    members = npz.zip.namelist()
    if len(members) != len(set(members)):
        _fail("the archive repeats a member name.")
    if _METADATA not in members:
        _fail(f"the archive has no {_METADATA}.")
    if npz.zip.getinfo(_METADATA).file_size > _MAX_METADATA_BYTES:
        _fail(f"{_METADATA} is larger than {_MAX_METADATA_BYTES} bytes.")
    metadata = _parse_metadata(npz[_METADATA])
    estimator = _build_estimator(metadata["params"])
    fitted = metadata["fitted"]
    _validate_fitted(fitted)

    expected, n_params = _expected_arrays(fitted, metadata["params"])
    optimizer_members = sorted(
        m[: -len(".npy")] for m in members
        if m.startswith("optimizer_") and m.endswith(".npy")
    )
    if optimizer_members and fitted["optimizer"] is None:
        _fail("the archive has optimizer arrays but no optimizer metadata.")
    allowed = {f"{name}.npy" for name in [*expected, *optimizer_members]}
    unexpected = sorted(set(members) - allowed - {_METADATA})
    if unexpected:
        _fail(f"the archive has unexpected members {unexpected}.")
    missing = sorted(f"{name}.npy" for name in expected if f"{name}.npy" not in members)
    if missing:
        _fail(f"the archive lacks the members {missing}.")

    reader = _ArrayReader(npz, expected)
    dtype = np.dtype(fitted["dtype"])
    n_layers = len(fitted["layer_units"]) - 1
    estimator.coefs_ = [reader.read(f"coefs_{i}") for i in range(n_layers)]
    estimator.intercepts_ = [reader.read(f"intercepts_{i}") for i in range(n_layers)]

    classes = reader.read("classes")
    _check_classes(classes, fitted)
    if fitted["classes_object"]:
        classes = np.asarray(classes.tolist(), dtype=object)
    binarizer = LabelBinarizer()
    binarizer.y_type_ = fitted["label_type"]
    binarizer.sparse_input_ = fitted["sparse_label_input"]
    binarizer.classes_ = classes
    estimator._label_binarizer = binarizer
    estimator.classes_ = classes

    estimator.n_features_in_ = fitted["n_features_in_"]
    if fitted["feature_names_in_"] is not None:
        estimator.feature_names_in_ = np.asarray(fitted["feature_names_in_"], dtype=object)
    for name in ("n_iter_", "t_", "n_layers_", "n_outputs_", "out_activation_"):
        setattr(estimator, name, fitted[name])
    if fitted["loss_"] is not None:
        estimator.loss_ = _float(fitted["loss_"], "fitted.loss_")
    estimator.best_loss_ = _float(fitted["best_loss_"], "", optional=True)
    estimator.loss_curve_ = _float_list(fitted["loss_curve_"], "")
    estimator.validation_scores_ = _float_list(fitted["validation_scores_"], "", True)
    estimator.best_validation_score_ = _float(
        fitted["best_validation_score_"], "", optional=True
    )
    estimator._no_improvement_count = fitted["no_improvement_count"]
    estimator._hidden_activations = tuple(fitted["hidden_activations"])

    if fitted["random_state"] is not None:
        estimator._random_state = _make_random_state(
            fitted["random_state"], reader.read("random_state")
        )
    saved_param = metadata["params"].get("random_state")
    if isinstance(saved_param, dict) and "random_state" in saved_param:
        _check_keys(saved_param, ["random_state"], where="parameter 'random_state'")
        state = saved_param["random_state"]
        if state == "fitted":
            if fitted["random_state"] is None:
                _fail("parameter 'random_state' refers to a missing fitted generator.")
            estimator.random_state = estimator._random_state
        else:
            _validate_rng_json(state, "parameter 'random_state'")
            estimator.random_state = _make_random_state(
                state, reader.read("params_random_state")
            )

    estimator._best_params = reader.read("best_params") if fitted["best_params"] else None
    estimator._optimizer = None
    estimator._optimizer_params = None
    if fitted["optimizer"] is not None:
        estimator._optimizer = _restore_optimizer(
            estimator, fitted["optimizer"], reader, optimizer_members, n_params, dtype
        )
        estimator._optimizer_params = tuple(
            getattr(estimator, name) for name in _OPTIMIZER_PARAMS
        )
    return estimator


def load_model(file):
    """Load a model written by :func:`save_model`, without unpickling anything.

    The file is opened with ``numpy.load(..., allow_pickle=False)`` and checked
    throughout before any of it is used: the JSON metadata against a fixed
    schema and format version, the archive's members against those the
    metadata implies, and every array's shape and dtype (read from its header
    before its data), the weights' finiteness and the classes' consistency
    with the output layer. A file from an untrusted source therefore yields
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
        If the file is not a valid model file: not a zip archive, truncated,
        tampered with, or written in an unsupported format version.
    FileNotFoundError
        If the path does not exist.

    See Also
    --------
    save_model : Write a model in this format.
    """
    handle = file if hasattr(file, "read") else open(os.fspath(file), "rb")
    try:
        try:
            npz = np.load(handle, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
            _fail(f"not a zip archive of .npy arrays ({error}).")
        if not isinstance(npz, np.lib.npyio.NpzFile):
            _fail("a single .npy array, not a model archive.")
        with npz:
            return _restore(npz)
    except _FormatError as error:
        raise ValueError(f"Invalid skbackprop model file: {error}") from None
    except (
        ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile,
        UnicodeDecodeError,
    ) as error:
        # Corruption found while reading (a bad CRC, a truncated member, ...).
        raise ValueError(
            f"Invalid skbackprop model file: {type(error).__name__}: {error}"
        ) from error
    finally:
        if handle is not file:
            handle.close()
