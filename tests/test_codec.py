"""The value codec of model files (``skbackprop._codec``).

A description holding every kind of value the format knows goes through
strict JSON and the arrays beside it and comes back equal, value for value
and type for type: numpy scalars as plain numbers, non-finite floats, tuples,
dicts with keys that are not strings, a dict whose keys look like a tag,
arrays of every stored kind, object arrays of strings, and a random generator
referred to twice, stored once and decoded as one object in the same state.
Values the format cannot hold without pickling are refused on writing, and
malformed tagged objects on reading, with an error that says where.
"""

import copy
import json

import numpy as np
import pytest

from skbackprop._codec import Decoder, Encoder, FormatError
from tests._saved_models import assert_same_value


def _description():
    rng = np.random.RandomState(3)
    rng.normal(size=5)  # part-way through its stream, with a cached gaussian
    return {
        "none": None,
        "flags": [True, False],
        "counts": [7, -(10**15)],
        "rate": 0.125,
        "limits": (float("inf"), -float("inf"), float("nan")),
        "name": "adam",
        "nested": [[1, 2.5], {"a": "b"}, ()],
        "pair": (1, ("x", None)),
        "labels": {0: "cat", 10**12: "dog", -3: "emu"},
        "thresholds": {2.5: [3], -1.0: None},
        "looks_tagged": {"float": "inf"},
        "looks_like_an_array": {"array": "coefs_.0", "object": True},
        "coefs_": [np.arange(6.0).reshape(2, 3), np.ones(3, dtype=np.float32)],
        "kinds": [
            np.array([True, False]),
            np.arange(4, dtype=np.int8),
            np.arange(3, dtype=np.uint64),
            np.array(["a", "bc"]),
        ],
        "strings": np.array(["cat", "dog"], dtype=object),
        "random_state": rng,
        "training": {"random_state": rng},
    }


def _decoder(arrays):
    return Decoder(arrays.__getitem__, set(arrays))


def test_a_description_round_trips_through_strict_json():
    description = _description()
    expected = copy.deepcopy(description)
    encoder = Encoder()
    text = json.dumps(encoder.encode(description), allow_nan=False)
    decoder = _decoder(encoder.arrays)
    decoded = decoder.decode(json.loads(text), "description")
    assert_same_value(decoded, expected, "description")
    assert decoder.used == set(encoder.arrays)  # every array referred to
    # Arrays are named after where they sit in the description.
    assert {"coefs_.0", "coefs_.1", "kinds.3", "strings"} <= set(encoder.arrays)
    # The generator is stored once, decoded once, and goes on as it would.
    keys = [a for a in encoder.arrays.values() if a.shape == (624,)]
    assert len(keys) == 1
    rng = decoded["random_state"]
    assert decoded["training"]["random_state"] is rng
    np.testing.assert_array_equal(
        rng.normal(size=4), expected["random_state"].normal(size=4)
    )


def test_numpy_scalars_are_written_as_plain_json_values():
    encoder = Encoder()
    for value, plain in [
        (np.int64(-3), -3),
        (np.uint8(200), 200),
        (np.float32(0.5), 0.5),
        (np.bool_(True), True),
    ]:
        encoded = encoder.encode(value)
        assert encoded == plain and type(encoded) is type(plain)
    assert encoder.encode(np.float64(-np.inf)) == {"float": "-inf"}
    assert encoder.arrays == {}


@pytest.mark.parametrize(
    "value, message",
    [
        ({"x": {1, 2}}, "Cannot save x of type set without pickling"),
        ({"x": [1, object()]}, r"Cannot save x\.1 of type object"),
        ({"x": np.array([1, None], dtype=object)}, "x, an array of dtype object"),
        ({"x": np.ones(2, dtype=complex)}, "x, an array of dtype complex128"),
    ],
    ids=["set", "object", "object-array", "complex-array"],
)
def test_values_that_need_pickling_are_refused_on_writing(value, message):
    with pytest.raises(TypeError, match=message):
        Encoder().encode(value)


KEY = np.random.RandomState(0).get_state()[1]
STORED = {
    "words": np.array(["x", "y"]),
    "floats": np.ones(2),
    "complex": np.ones(2, dtype=complex),
    "key": KEY,
    "short_key": KEY[:5],
}


def _generator(**changes):
    state = {"key": "key", "pos": 624, "has_gauss": 0, "cached_gaussian": 0.0}
    return {"random_state": {**state, **changes}}


@pytest.mark.parametrize(
    "encoded, message",
    [
        ({"array": "gone"}, r"at\.x refers to a missing member 'gone'"),
        ({"array": 3}, "refers to a missing member 3"),
        ({"float": "1e400"}, "unsupported encoding"),
        ({"tuple": 3}, "unsupported encoding"),
        ({"dict": [[1]]}, "not a valid list of key-value pairs"),
        ({"dict": [[1, 2], [1, 3]]}, "repeated or unhashable key"),
        ({"dict": [[[1], 2]]}, "repeated or unhashable key"),
        ({"array": "words", "object": "yes"}, "not a valid array of strings"),
        ({"array": "floats", "object": True}, "not a valid array of strings"),
        ({"array": "complex"}, "has dtype complex128, not one of kinds"),
        ({"random_state": {"key": "key"}}, "not a valid random generator"),
        (_generator(pos=625), "pos=625 or has_gauss=0 is out of range"),
        (_generator(has_gauss=2), "out of range"),
        (_generator(pos=1.5), "pos and has_gauss must be integers"),
        (_generator(key="short_key"), "its key must be 624 uint32 numbers"),
        (_generator(key="floats"), "its key must be 624 uint32 numbers"),
        (_generator(cached_gaussian="0"), "cached_gaussian must be a finite float"),
    ],
)
def test_malformed_tagged_values_are_refused_on_reading(encoded, message):
    decoder = _decoder(STORED)
    with pytest.raises(FormatError, match=message) as error:
        decoder.decode({"x": encoded}, "at")
    assert isinstance(error.value, ValueError)
    # The same generator state, well formed, decodes.
    assert isinstance(decoder.decode(_generator(), "at"), np.random.RandomState)
