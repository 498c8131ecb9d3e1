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
read, so a tampered file cannot make the loader allocate more memory than the
file holds. Any deviation raises a ``ValueError`` that says what is wrong.
"""

import json
import math
import os
import struct
import tempfile
import zipfile
import zlib
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
# A generous bound for the JSON (parameters, loss curve, feature names): no
# model needs more, and the parser's memory stays bounded.
_MAX_METADATA_BYTES = 64 * 2**20
# Fixed timestamp: the same model always gives the same bytes.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)

_LABEL_TYPES = ("binary", "multiclass", "multilabel-indicator")
_CLASS_KINDS = "biufU"
_INLINE_KINDS = "biufU"
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
    """Encode a value as JSON, keeping tuples, dicts and arrays recognisable.

    Plain JSON is used where it is unambiguous (None, bool, int, finite
    float, str, list); everything else is a one-key object: ``{"tuple":
    [...]}``, ``{"float": "inf"}``, ``{"dict": [[key, value], ...]}`` (keys
    may be class labels of any type) and ``{"ndarray": [...], "dtype": ...}``
    for 1-D arrays of numbers, booleans or strings.
    """
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
    if isinstance(value, dict):
        return {
            "dict": [
                [_encode_value(k, where), _encode_value(v, where)]
                for k, v in value.items()
            ]
        }
    if (
        isinstance(value, np.ndarray)
        and value.ndim == 1
        and value.dtype.kind in _INLINE_KINDS
    ):
        items = [_encode_value(v, where) for v in value.tolist()]
        return {"ndarray": items, "dtype": value.dtype.str}
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


def _fresh_optimizer(estimator, n_params, dtype):
    """The optimizer a new training run would build for these weights."""
    n_coef = sum(np.asarray(c).size for c in estimator.coefs_)
    return make_optimizer(estimator, n_params=n_params, n_coef=n_coef, dtype=dtype)


def _optimizer_state(estimator, n_params, dtype):
    """JSON scalars and arrays of the optimizer, or None if it would be rebuilt.

    A warm refit or ``partial_fit`` keeps the optimizer only while its
    hyperparameters are unchanged; if they have changed since it was built,
    the next call starts a fresh one, so there is nothing to save. Numbers,
    strings and arrays are saved; any other attribute must be a helper that a
    fresh optimizer rebuilds identically (a dtype, a BLAS routine).
    """
    optimizer = getattr(estimator, "_optimizer", None)
    if optimizer is None:
        return None, {}
    current = tuple(getattr(estimator, name) for name in _OPTIMIZER_PARAMS)
    if getattr(estimator, "_optimizer_params", None) != current:
        return None, {}
    fresh_optimizer = _fresh_optimizer(estimator, n_params, dtype)
    if type(optimizer) is not type(fresh_optimizer):
        raise TypeError(
            f"Cannot save an optimizer of type {type(optimizer).__name__} for "
            f"solver={estimator.solver!r}."
        )
    fresh = vars(fresh_optimizer)
    scalars, arrays = {}, {}
    for name, value in vars(optimizer).items():
        reference = fresh.get(name)
        if isinstance(value, np.ndarray):
            if not (
                isinstance(reference, np.ndarray)
                and reference.shape == value.shape
                and reference.dtype == value.dtype
            ):
                raise TypeError(
                    f"Cannot save the optimizer's {name!r}: an array of shape "
                    f"{value.shape} and dtype {value.dtype} that a new optimizer "
                    f"does not have."
                )
            arrays[f"optimizer_{name}"] = value
        elif isinstance(value, (bool, np.bool_, str)):
            scalars[name] = value if isinstance(value, str) else bool(value)
        elif isinstance(value, Integral):
            scalars[name] = int(value)
        elif isinstance(value, Real):
            scalars[name] = _encode_float(value)
        elif value is None or type(value) is not type(reference):
            raise TypeError(
                f"Cannot save the optimizer's {name!r} of type "
                f"{type(value).__name__} without pickling."
            )
        # else: a helper object that a new optimizer rebuilds.
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
    params_names = set(estimator.get_params(deep=False))
    unknown = sorted(
        set(vars(estimator))
        - params_names
        - _EXPLICIT_ATTRIBUTES
        - set(_SIMPLE_ATTRIBUTES)
    )
    if unknown:
        raise TypeError(
            f"Cannot save the fitted attributes {unknown}: save_model does not "
            f"know them, and dropping them would change the model."
        )
    attributes = {
        name: _encode_value(getattr(estimator, name), f"attribute {name!r}")
        for name in _SIMPLE_ATTRIBUTES
        if hasattr(estimator, name)
    }

    fitted = {
        "dtype": dtype.name,
        "layer_units": [int(u) for u in layer_units],
        "hidden_activations": list(estimator._hidden_activations),
        "out_activation_": estimator.out_activation_,
        "label_type": binarizer.y_type_,
        "sparse_label_input": bool(binarizer.sparse_input_),
        "classes_object": classes_info["object"],
        "n_features_in_": int(estimator.n_features_in_),
        "feature_names_in_": None
        if feature_names is None
        else [str(name) for name in feature_names],
        "n_layers_": int(estimator.n_layers_),
        "n_outputs_": int(estimator.n_outputs_),
        "random_state": rng_state,
        "optimizer": optimizer,
        "best_params": best_params is not None,
        "attributes": attributes,
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
        if set(value) == {"dict"} and isinstance(value["dict"], list):
            pairs = value["dict"]
            if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
                _fail(f"{where} is not a valid list of key-value pairs.")
            decoded = {}
            for key, item in pairs:
                key = _decode_value(key, where)
                if isinstance(key, (list, dict)) or key in decoded:
                    _fail(f"{where} has a repeated or unhashable key.")
                decoded[key] = _decode_value(item, where)
            return decoded
        if set(value) == {"ndarray", "dtype"} and isinstance(value["ndarray"], list):
            try:
                dtype = np.dtype(_str(value["dtype"], f"{where} dtype"))
                if dtype.kind not in _INLINE_KINDS:
                    raise TypeError(dtype)
                items = [_decode_value(v, where) for v in value["ndarray"]]
                if not all(isinstance(v, (bool, int, float, str)) for v in items):
                    raise TypeError(items)
                return np.asarray(items, dtype=dtype)
            except (TypeError, ValueError, OverflowError):
                _fail(f"{where} is not a valid array of numbers or strings.")
    _fail(f"{where} has an unsupported encoding: {value!r}.")


# Fitted attributes kept as JSON, each with the shape of value it must have
# (a small grammar checked by _check_spec). save_model refuses an estimator
# with a fitted attribute it does not know, so that no state is ever dropped
# silently: a new attribute must be added here (or handled explicitly).
_SIMPLE_ATTRIBUTES = {
    "n_iter_": "count",
    "t_": "count",
    "loss_": "float",
    "best_loss_": ("optional", "float"),
    "loss_curve_": ("list", "float"),
    "validation_scores_": ("optional", ("list", "float")),
    "best_validation_score_": ("optional", "float"),
    "history_": ("dict", ("list", ("optional", ("oneof", "float", ("list", "float"))))),
    "_no_improvement_count": "count",
    "_dropout_rates": ("tuple", "float"),
    "_dropout_seed": ("optional", "count"),
    "_epochs_seen": "count",
    "_weight_seen": "float",
}
# The attributes every fitted model has; the private ones above are saved
# when present (loss_ is missing when the first epoch diverged).
_REQUIRED_ATTRIBUTES = {
    "n_iter_",
    "t_",
    "best_loss_",
    "loss_curve_",
    "validation_scores_",
    "best_validation_score_",
}
# Attributes save_model handles one by one.
_EXPLICIT_ATTRIBUTES = {
    "coefs_",
    "intercepts_",
    "classes_",
    "n_features_in_",
    "feature_names_in_",
    "n_layers_",
    "n_outputs_",
    "out_activation_",
    "_hidden_activations",
    "_label_binarizer",
    "_random_state",
    "_optimizer",
    "_optimizer_params",
    "_best_params",
}


def _check_spec(value, spec, where):
    """Check a decoded value against a spec of ``_SIMPLE_ATTRIBUTES``."""
    if spec == "count":
        _int(value, where)
    elif spec == "float":
        _float(value, where)
    elif spec[0] == "optional":
        if value is not None:
            _check_spec(value, spec[1], where)
    elif spec[0] == "oneof":
        for option in spec[1:]:
            try:
                _check_spec(value, option, where)
                return
            except _FormatError:
                continue
        _fail(f"{where} has an unexpected value {value!r}.")
    elif spec[0] in ("list", "tuple"):
        container = list if spec[0] == "list" else tuple
        if not isinstance(value, container):
            _fail(f"{where} must be a {spec[0]}, got {type(value).__name__}.")
        for i, item in enumerate(value):
            _check_spec(item, spec[1], f"{where}[{i}]")
    elif spec[0] == "dict":
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            _fail(f"{where} must map names to values.")
        for key, item in value.items():
            _check_spec(item, spec[1], f"{where}[{key!r}]")
    elif spec[0] == "array":
        if not (
            isinstance(value, np.ndarray)
            and value.ndim == 1
            and value.dtype.kind in spec[1]
        ):
            _fail(f"{where} must be a 1-D array of kind {spec[1]!r}.")
    else:  # pragma: no cover - a mistake in _SIMPLE_ATTRIBUTES
        raise AssertionError(spec)


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
    _check_keys(metadata, ["format", "format_version", "estimator", "params", "fitted"])
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
        if (
            name == "random_state"
            and isinstance(value, dict)
            and ("random_state" in value)
        ):
            continue  # a generator, restored with the arrays
        params[name] = _decode_value(value, f"parameter {name!r}")
    estimator = MLPBackpropClassifier(**params)
    try:
        estimator._validate_params()
    except (TypeError, ValueError) as error:
        _fail(f"invalid parameter: {error}")
    return estimator


def _validate_fitted(fitted):
    """Check the fitted metadata against its schema and itself.

    Returns the decoded ``attributes``.
    """
    _check_keys(
        fitted,
        [
            "dtype",
            "layer_units",
            "hidden_activations",
            "out_activation_",
            "label_type",
            "sparse_label_input",
            "classes_object",
            "n_features_in_",
            "feature_names_in_",
            "n_layers_",
            "n_outputs_",
            "random_state",
            "optimizer",
            "best_params",
            "attributes",
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
    if fitted["random_state"] is not None:
        _validate_rng_json(fitted["random_state"], "fitted.random_state")
    optimizer = fitted["optimizer"]
    if optimizer is not None:
        _check_keys(optimizer, ["class", "scalars"], where="fitted.optimizer")
        _str(optimizer["class"], "fitted.optimizer.class")
        if not isinstance(optimizer["scalars"], dict):
            _fail("fitted.optimizer.scalars must be a JSON object.")

    encoded = fitted["attributes"]
    _check_keys(
        encoded,
        _REQUIRED_ATTRIBUTES,
        set(_SIMPLE_ATTRIBUTES) - _REQUIRED_ATTRIBUTES,
        where="fitted.attributes",
    )
    attributes = {}
    for name, value in encoded.items():
        where = f"fitted.attributes.{name}"
        attributes[name] = _decode_value(value, where)
        _check_spec(attributes[name], _SIMPLE_ATTRIBUTES[name], where)
    rates = attributes.get("_dropout_rates", ())
    if "_dropout_rates" in attributes and (
        len(rates) != len(units) - 2 or not all(0 <= r < 1 for r in rates)
    ):
        _fail(
            f"fitted.attributes._dropout_rates must hold {len(units) - 2} rates "
            f"in [0, 1)."
        )
    return attributes


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
        (
            "MT19937",
            key,
            state["pos"],
            state["has_gauss"],
            float(state["cached_gaussian"]),
        )
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
                    _fail(
                        f"{member} is not a valid .npy array (unsupported format "
                        f"version {version})."
                    )
                header_size = handle.tell()
            except _FormatError:
                raise
            except (ValueError, TypeError, SyntaxError, EOFError) as error:
                _fail(f"{member} is not a valid .npy array ({error}).")
        found_shape, _, found_dtype = header
        if found_dtype.hasobject or found_dtype.fields is not None:
            _fail(f"{member} holds objects or records, which are refused.")
        native = found_dtype.newbyteorder("=")
        if isinstance(dtype, str):
            if native.kind not in dtype:
                _fail(f"{member} has dtype {found_dtype}, not one of kinds {dtype!r}.")
        elif native != dtype:
            _fail(f"{member} has dtype {found_dtype}, expected {np.dtype(dtype)}.")
        if shape is None and len(found_shape) != 1:
            _fail(f"{member} must be 1-D, got shape {found_shape}.")
        if shape is not None and tuple(found_shape) != tuple(shape):
            _fail(f"{member} has shape {found_shape}, expected {tuple(shape)}.")
        # The data must fill the member exactly: numpy allocates the array
        # from the header before reading, so a header may not promise more
        # than the (already bounded) member holds.
        n_bytes = math.prod(found_shape) * found_dtype.itemsize
        if info.file_size != header_size + n_bytes:
            _fail(f"{member} does not hold the {n_bytes} bytes its header says.")
        array = self.npz[member]
        if array.shape != tuple(found_shape) or array.dtype != found_dtype:
            _fail(f"{member} changed between its header and its data.")
        array = array.astype(native, copy=False)
        # Weights must be finite; an optimizer's moments may legitimately have
        # overflowed (they are restored as they were).
        finite = not name.startswith("optimizer_")
        if finite and native.kind == "f" and not np.isfinite(array).all():
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
    optimizer = _fresh_optimizer(estimator, n_params, dtype)
    if saved["class"] != type(optimizer).__name__:
        _fail(
            f"the saved optimizer is {saved['class']!r} but solver="
            f"{estimator.solver!r} uses {type(optimizer).__name__!r}."
        )
    current = vars(optimizer)
    for name, value in saved["scalars"].items():
        where = f"fitted.optimizer.scalars.{name}"
        reference = current.get(name)
        if not isinstance(reference, (bool, np.bool_, str, Integral, Real)):
            _fail(f"{where} is not part of the optimizer's state.")
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
        name = member[len("optimizer_") :]
        if not isinstance(current.get(name), np.ndarray):
            _fail(f"{member}.npy is not part of the optimizer's state.")
        reader.expected[member] = (current[name].shape, current[name].dtype)
        np.copyto(current[name], reader.read(member))
    return optimizer


def _check_members(archive, archive_size):
    """Member names, and sizes bounded by the file itself."""
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
    return members


def _restore(npz, archive_size):
    members = _check_members(npz.zip, archive_size)
    metadata = _parse_metadata(npz[_METADATA])
    estimator = _build_estimator(metadata["params"])
    fitted = metadata["fitted"]
    attributes = _validate_fitted(fitted)

    expected, n_params = _expected_arrays(fitted, metadata["params"])
    optimizer_members = sorted(
        m[: -len(".npy")]
        for m in members
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
        estimator.feature_names_in_ = np.asarray(
            fitted["feature_names_in_"], dtype=object
        )
    for name in ("n_layers_", "n_outputs_", "out_activation_"):
        setattr(estimator, name, fitted[name])
    estimator._hidden_activations = tuple(fitted["hidden_activations"])
    for name, value in attributes.items():
        setattr(estimator, name, value)

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

    estimator._best_params = (
        reader.read("best_params") if fitted["best_params"] else None
    )
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
        start = handle.tell()
        archive_size = handle.seek(0, os.SEEK_END) - start
        handle.seek(start)
        try:
            npz = np.load(handle, allow_pickle=False)
        except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
            _fail(f"not a zip archive of .npy arrays ({error}).")
        if not isinstance(npz, np.lib.npyio.NpzFile):
            _fail("a single .npy array, not a model archive.")
        with npz:
            return _restore(npz, archive_size)
    except _FormatError as error:
        raise ValueError(f"Invalid skbackprop model file: {error}") from None
    except (
        ValueError,
        OSError,
        EOFError,
        KeyError,
        zipfile.BadZipFile,
        zlib.error,
        struct.error,
        NotImplementedError,
        OverflowError,
    ) as error:
        # Corruption found while reading (a bad CRC, a truncated member, ...).
        raise ValueError(
            f"Invalid skbackprop model file: {type(error).__name__}: {error}"
        ) from error
    finally:
        if handle is not file:
            handle.close()
