"""Model files of format version 1, written by skbackprop 0.1.0.

Version 1 kept the fitted state in its own layout: fitted attributes by name,
the optimizer as a class name and its scalars, arrays named ``coefs_0``,
``random_state``, ``optimizer_m`` and so on. :func:`describe` turns such a
file into the description the estimator restores itself from today, so that
:func:`~skbackprop.load_model` reads it like any other file, with the same
checks, and the model goes on training exactly as it would have.
"""

import math

import numpy as np

from ._optimizers import OptimizerSettings

__all__ = ["describe"]


def _value(value):
    """A value of version 1's JSON: tagged tuples, floats, dicts and arrays."""
    if isinstance(value, list):
        return [_value(v) for v in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"tuple"}:
        return tuple(_value(v) for v in value["tuple"])
    if set(value) == {"float"}:
        return float(value["float"])
    if set(value) == {"dict"}:
        return {_value(k): _value(v) for k, v in value["dict"]}
    if set(value) == {"ndarray", "dtype"}:
        dtype = np.dtype(value["dtype"])
        if dtype.kind not in "biufU":
            raise ValueError(f"an array of dtype {dtype}")
        return np.asarray([_value(v) for v in value["ndarray"]], dtype=dtype)
    raise ValueError(f"an unknown encoding {value!r}")


def _generator(state, key):
    generator = np.random.RandomState()
    cached = float(state["cached_gaussian"])
    if not math.isfinite(cached):
        raise ValueError("a generator with a non-finite cached value")
    generator.set_state(("MT19937", key, state["pos"], state["has_gauss"], cached))
    return generator


def describe(metadata, read_array, names, estimator_class):
    """``(params, fitted)`` of a version-1 file, as version 2 describes them.

    Parameters
    ----------
    metadata : dict
        The file's parsed ``metadata.json``.
    read_array : callable
        ``read_array(name)`` reads the member ``name.npy``, checked.
    names : set of str
        The names of the archive's arrays.
    estimator_class : type
        The estimator the file holds.

    Returns
    -------
    params, fitted : dict
        For ``estimator_class._from_fitted_state``, which checks them.
    """
    saved, old = metadata["params"], metadata["fitted"]
    params = {k: _value(v) for k, v in saved.items() if k != "random_state"}
    generator = None
    if old["random_state"] is not None:
        generator = _generator(old["random_state"], read_array("random_state"))
    if isinstance(saved.get("random_state"), dict):
        state = saved["random_state"]["random_state"]
        params["random_state"] = (
            generator
            if state == "fitted"
            else _generator(state, read_array("params_random_state"))
        )
    elif "random_state" in saved:
        params["random_state"] = saved["random_state"]
    attributes = {k: _value(v) for k, v in old["attributes"].items()}
    n_layers = len(old["layer_units"]) - 1
    classes = read_array("classes")
    feature_names = old["feature_names_in_"]
    fitted = {
        "n_features_in_": old["n_features_in_"],
        "feature_names_in_": None
        if feature_names is None
        else np.asarray(feature_names, dtype=object),
        "coefs_": [read_array(f"coefs_{i}") for i in range(n_layers)],
        "intercepts_": [read_array(f"intercepts_{i}") for i in range(n_layers)],
        "hidden_activations": old["hidden_activations"],
        "out_activation_": old["out_activation_"],
        "classes_": classes.astype(object) if old["classes_object"] else classes,
        "label_type": old["label_type"],
        "sparse_label_input": old["sparse_label_input"],
        "training": {
            "n_iter": attributes["n_iter_"],
            "t": attributes["t_"],
            "epochs_seen": attributes.get("_epochs_seen", 0),
            "no_improvement_count": attributes.get("_no_improvement_count", 0),
            "weight_seen": attributes.get("_weight_seen", 0.0),
            "loss": attributes.get("loss_", math.nan),
            "loss_curve": attributes["loss_curve_"],
            "history": attributes["history_"],
            "best_loss": attributes["best_loss_"],
            "validation_scores": attributes["validation_scores_"],
            "best_validation_score": attributes["best_validation_score_"],
            "best_params": read_array("best_params") if old["best_params"] else None,
            "dropout_seed": attributes.get("_dropout_seed"),
            "random_state": generator,
            "shuffle_order": None,  # 0.1.0 shuffled every fit from the start
            "optimizer": _optimizer(
                old["optimizer"], estimator_class(**params), read_array, names
            ),
        },
    }
    return params, fitted


def _optimizer(saved, estimator, read_array, names):
    """Version 1 saved the optimizer only while the parameters built it.

    It also saved scratch vectors of some optimizers, which hold no state:
    they are read (every member must be) and left out.
    """
    if saved is None:
        return None
    settings = OptimizerSettings.of(estimator)
    vectors = {"SGD": ["velocity"], "Adagrad": ["G"], "RMSprop": ["v"]}
    state = {"settings": settings._asdict()}
    state["learning_rate"] = saved["scalars"]["learning_rate"]
    if "t" in saved["scalars"]:
        state["t"] = saved["scalars"]["t"]
    kept = vectors.get(saved["class"], ["m", "v"])
    for member in sorted(names):
        name = member.removeprefix("optimizer_")
        if name != member:
            vector = read_array(member)
            if name in kept:
                state[name] = vector
    return state
