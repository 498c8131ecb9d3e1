"""Damaged and tampered model files: each one a clear ValueError.

A file from an untrusted source yields a valid model or a ``ValueError`` that
says what is wrong; it is never unpickled and never makes the loader allocate
more memory than the file holds.
"""

import io
import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from skbackprop import load_model, save_model
from tests._saved_models import (
    archive,
    assert_same_predictions,
    data,
    edit_metadata,
    fit,
    members,
    npy,
)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _node(metadata, path):
    *parents, last = path.split(".")
    node = metadata
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    return node, int(last) if isinstance(node, list) else last


def _set(path, value):
    def tamper(contents):
        def edit(metadata):
            node, key = _node(metadata, path)
            node[key] = value

        edit_metadata(contents, edit)

    return tamper


def _delete(path):
    def tamper(contents):
        def edit(metadata):
            node, key = _node(metadata, path)
            del node[key]

        edit_metadata(contents, edit)

    return tamper


def _append(path, value):
    def tamper(contents):
        edit_metadata(
            contents, lambda metadata: _node(metadata, path + ".0")[0].append(value)
        )

    return tamper


def _both(*tampers):
    def tamper(contents):
        for each in tampers:
            each(contents)

    return tamper


def _replace(name, payload):
    def tamper(contents):
        contents[name] = payload

    return tamper


def _remove(name):
    def tamper(contents):
        del contents[name]

    return tamper


class _RunsCode:
    """A pickle that would create a file when unpickled."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


TAMPERED = {
    # The JSON: the format.
    "newer-version": (_set("format_version", 3), "unsupported format version 3"),
    "version-as-string": (_set("format_version", "2"), "unsupported format version"),
    "other-format": (_set("format", "other"), "not a skbackprop model"),
    "other-estimator": (_set("estimator", "MLPClassifier"), "estimator must be one of"),
    "unknown-top-key": (_set("extra", 1), "must have exactly the keys"),
    "nan-literal": (
        _replace("metadata.json", b'{"format": NaN}'),
        "non-standard number",
    ),
    "duplicate-key": (
        _replace("metadata.json", b'{"format": 1, "format": 2}'),
        "repeats a key",
    ),
    "not-json": (_replace("metadata.json", b"{'format': 1"), "not valid UTF-8 JSON"),
    "not-utf8": (_replace("metadata.json", b"\xff\xfe{}"), "not valid UTF-8 JSON"),
    "json-list": (_replace("metadata.json", b"[1, 2]"), "must hold a JSON object"),
    "metadata-is-npy": (
        _replace("metadata.json", npy(np.zeros(3))),
        "not valid UTF-8 JSON",
    ),
    "odd-float": (_set("params.alpha", {"float": "1e5"}), "unsupported encoding"),
    "odd-tuple": (_set("params.alpha", {"tuple": 5}), "unsupported encoding"),
    "odd-value": (_set("params.alpha", {"array": 5}), "refers to a missing member"),
    # The parameters.
    "unknown-parameter": (_set("params.evil", 1), "unknown parameters \\['evil'\\]"),
    "invalid-parameter": (_set("params.solver", "evil"), "invalid parameter"),
    "invalid-parameter-type": (_set("params.alpha", [1, 2]), "invalid parameter"),
    "sizes-disagree": (
        _set("params.hidden_layer_sizes", {"tuple": [17]}),
        "hidden_layer_sizes=\\(17,\\) but the weights have hidden layers of "
        "\\[8\\] units",
    ),
    "activation-disagrees": (
        _set("params.activation", "tanh"),
        "activation='tanh' but the network's hidden layers use \\['relu'\\]",
    ),
    # The fitted values.
    "missing-fitted-key": (_delete("fitted.label_type"), "lacks the entries"),
    "unknown-fitted-key": (_set("fitted.extra", [1]), "unexpected entries"),
    "bool-as-int": (_set("fitted.n_features_in_", True), "n_features_in_ must be an"),
    "features-disagree": (_set("fitted.n_features_in_", 4), "first layer has 5 units"),
    "feature-names": (_set("fitted.feature_names_in_", ["a"]), "must hold 5 strings"),
    "no-layers": (
        _both(
            _set("fitted.coefs_", []),
            _remove("coefs_.0.npy"),
            _remove("coefs_.1.npy"),
        ),
        "coefs_ must be a non-empty list",
    ),
    "layer-count": (
        _both(_delete("fitted.intercepts_.1"), _remove("intercepts_.1.npy")),
        "one array per layer",
    ),
    "unknown-activation": (
        _set("fitted.hidden_activations", ["evil"]),
        "hidden_activations\\[0\\] must be one of",
    ),
    "activation-count": (
        _set("fitted.hidden_activations", ["relu", "relu"]),
        "one activation for each of the 1 hidden layers",
    ),
    "bad-label-type": (_set("fitted.label_type", "continuous"), "label_type must be"),
    "label-type-disagrees": (
        _set("fitted.label_type", "binary"),
        "3 classes do not fit a binary model",
    ),
    # The training state.
    "missing-counter": (_delete("fitted.training.t"), "lacks the entries \\['t'\\]"),
    "n-iter-as-string": (
        _set("fitted.training.n_iter", "3"),
        "n_iter must be an integer",
    ),
    "negative-t": (_set("fitted.training.t", -1), "t must be an integer >= 0"),
    "bad-loss-curve": (
        _set("fitted.training.loss_curve", ["x"]),
        "loss_curve\\[0\\] must be a number",
    ),
    "history-lengths": (
        _append("fitted.training.history.loss", 1.0),
        "columns of different lengths",
    ),
    "rng-pos": (
        _set("fitted.training.random_state.random_state.pos", 10**6),
        "not a valid random generator",
    ),
    "rng-not-a-generator": (
        _both(
            _set("fitted.training.random_state", 3),
            _remove("training.random_state.npy"),
        ),
        "random_state must be a RandomState",
    ),
    "optimizer-solver": (
        _set("fitted.training.optimizer.settings.solver", "evil"),
        "solver must be one of",
    ),
    "optimizer-of-another-solver": (
        _set("fitted.training.optimizer.settings.solver", "sgd"),
        "optimizer has unexpected entries \\['m', 't', 'v'\\]",
    ),
    "optimizer-scalar": (
        _set("fitted.training.optimizer.evil", 1),
        "unexpected entries \\['evil'\\]",
    ),
    "optimizer-type": (
        _set("fitted.training.optimizer.t", "3"),
        "optimizer.t must be an integer",
    ),
    # The members.
    "no-metadata": (_remove("metadata.json"), "has no metadata.json"),
    "missing-weights": (_remove("coefs_.1.npy"), "missing member 'coefs_.1'"),
    "missing-rng": (_remove("training.random_state.npy"), "missing member"),
    "extra-member": (
        _replace("payload.npy", npy(np.zeros(2))),
        "unexpected members \\['payload.npy'\\]",
    ),
    "extra-text": (_replace("README", b"hello"), "unexpected members"),
    # The arrays.
    "weights-shape": (
        _replace("coefs_.1.npy", npy(np.zeros((7, 3)))),
        "coefs_\\[1\\] has shape \\(7, 3\\), expected \\(8, 3\\)",
    ),
    "weights-int": (
        _replace("coefs_.0.npy", npy(np.zeros((5, 8), dtype=int))),
        "coefs_\\[0\\] must hold float32 or float64",
    ),
    "weights-dtypes-differ": (
        _replace("coefs_.1.npy", npy(np.zeros((8, 3), dtype=np.float32))),
        "coefs_\\[1\\] has dtype float32, expected float64",
    ),
    "weights-nan": (
        _replace("intercepts_.0.npy", npy(np.full(8, np.nan))),
        "intercepts_\\[0\\] contains NaN or infinity",
    ),
    "weights-inf": (
        _replace("coefs_.1.npy", npy(np.full((8, 3), np.inf))),
        "contains NaN or infinity",
    ),
    "weights-pickled": (
        _replace("coefs_.0.npy", npy(np.empty((5, 8), dtype=object), True)),
        "holds objects or records",
    ),
    "weights-structured": (
        _replace("coefs_.0.npy", npy(np.zeros(5, dtype=[("a", "f8")]))),
        "holds objects or records",
    ),
    "weights-not-npy": (
        _replace("coefs_.0.npy", b"\x93NUMPY garbage" * 20),
        "coefs_.0.npy has an unsupported .npy version",
    ),
    "weights-bad-header": (
        _replace("coefs_.0.npy", b"\x93NUMPY\x01\x00\x10\x00{'descr': 1}    \n"),
        "coefs_.0.npy is not a valid .npy array",
    ),
    "weights-short": (
        _replace("coefs_.0.npy", npy(np.zeros((5, 8)))[:-8]),
        "does not hold the 320 bytes",
    ),
    "classes-unsorted": (
        _replace("classes_.npy", npy(np.array([2, 0, 1]))),
        "sorted and distinct",
    ),
    "classes-duplicate": (
        _replace("classes_.npy", npy(np.array([0, 0, 1]))),
        "sorted and distinct",
    ),
    "classes-count": (
        _replace("classes_.npy", npy(np.arange(4))),
        "4 classes do not fit a multiclass model with 3 output",
    ),
    "classes-2d": (
        _replace("classes_.npy", npy(np.arange(3)[None])),
        "classes_ must be a non-empty 1-D array",
    ),
    "classes-complex": (
        _replace("classes_.npy", npy(np.arange(3) + 1j)),
        "dtype complex128, not one of kinds",
    ),
    "classes-pickled": (
        _replace("classes_.npy", npy(np.array([0, 1, 2], dtype=object), True)),
        "holds objects or records",
    ),
    "rng-shape": (
        _replace("training.random_state.npy", npy(np.zeros(10, dtype=np.uint32))),
        "not a valid random generator",
    ),
    "shuffle-order-not-a-permutation": (
        _replace("training.shuffle_order.npy", npy(np.zeros(90, dtype=np.int32))),
        "shuffle_order must be a permutation",
    ),
    "optimizer-shape": (
        _replace("training.optimizer.m.npy", npy(np.zeros(3))),
        "optimizer.m has shape \\(3,\\)",
    ),
}


@pytest.mark.parametrize("case", TAMPERED)
def test_tampered_file_is_a_clear_value_error(case):
    tamper, message = TAMPERED[case]
    contents = members(fit(*data()))
    tamper(contents)
    with pytest.raises(ValueError, match="Invalid skbackprop model file: .*" + message):
        load_model(archive(contents))


def test_header_promising_a_huge_array_is_refused_before_allocating():
    # A 100-byte member whose header announces 8 TB: refused from the header
    # and the member's size, without numpy ever allocating the array.
    contents = members(fit(*data()))
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)}
    )
    contents["coefs_.0.npy"] = header.getvalue() + b"\0" * 100
    with pytest.raises(ValueError, match="does not hold the 8000000000000 bytes"):
        load_model(archive(contents))


def test_compressed_member_is_refused():
    # Compression would let a small file expand without bound.
    contents = members(fit(*data()))
    with pytest.raises(ValueError, match="compressed or encrypted"):
        load_model(archive(contents, compression=zipfile.ZIP_DEFLATED))


def test_duplicate_member_is_refused():
    contents = members(fit(*data()))
    buffer = archive(contents)
    with zipfile.ZipFile(buffer, "a") as zipped, pytest.warns(UserWarning):
        zipped.writestr("coefs_.0.npy", contents["coefs_.0.npy"])
    buffer.seek(0)
    with pytest.raises(ValueError, match="repeats a member name"):
        load_model(buffer)


@pytest.mark.parametrize("keep", [0, 1, 5, 30, 0.5, 0.9, -22, -1])
def test_truncated_file_is_a_clear_value_error(keep):
    buffer = io.BytesIO()
    save_model(fit(*data()), buffer)
    payload = buffer.getvalue()
    cut = int(len(payload) * keep) if isinstance(keep, float) else keep
    with pytest.raises(ValueError, match="Invalid skbackprop model file"):
        load_model(io.BytesIO(payload[:cut]))


@pytest.mark.parametrize("seed", range(5))
def test_corrupted_bytes_are_a_clear_value_error_or_an_identical_model(seed):
    # Flip bytes at random: the loader refuses the file, or the damage hit
    # bytes that carry no information (zip padding, unused header space).
    clf = fit(*data())
    buffer = io.BytesIO()
    save_model(clf, buffer)
    payload = bytearray(buffer.getvalue())
    rng = np.random.RandomState(seed)
    for position in rng.randint(0, len(payload), size=3):
        payload[position] ^= 0xFF
    try:
        restored = load_model(io.BytesIO(bytes(payload)))
    except ValueError as error:
        assert str(error).startswith("Invalid skbackprop model file")
    else:
        assert_same_predictions(clf, restored, data()[0])


@pytest.mark.parametrize(
    "content",
    [b"", b"PK", b"not a model at all", npy(np.zeros(3)), b"\x80\x04K\x01."],
    ids=["empty", "zip-magic", "text", "npy", "pickle"],
)
def test_other_files_are_not_skbackprop_model_files(tmp_path, content):
    path = tmp_path / "model.npz"
    path.write_bytes(content)
    with pytest.raises(
        ValueError, match="Invalid skbackprop model file: not a skbackprop model file"
    ):
        load_model(path)


def test_malicious_pickle_is_never_run(tmp_path):
    marker = tmp_path / "was-run"
    for payload in [
        pickle.dumps(_RunsCode(marker)),  # the whole file a pickle
        npy(np.array([_RunsCode(marker)], dtype=object), allow_pickle=True),
    ]:
        path = tmp_path / "model.npz"
        path.write_bytes(payload)
        with pytest.raises(ValueError, match="not a skbackprop model file"):
            load_model(path)
    contents = members(fit(*data()))
    contents["classes_.npy"] = npy(
        np.array([_RunsCode(marker)] * 3, dtype=object), allow_pickle=True
    )
    with pytest.raises(ValueError, match="holds objects"):
        load_model(archive(contents))
    assert not marker.exists()


def test_metadata_stays_human_readable():
    # Plain JSON where it can be: the fitted state reads as a document.
    contents = members(fit(*data()))
    metadata = json.loads(contents["metadata.json"])
    assert metadata["fitted"]["hidden_activations"] == ["relu"]
    assert metadata["fitted"]["training"]["t"] == 450
