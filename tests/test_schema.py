"""Checks of stored state before it is used (``skbackprop._schema``).

A model file, a pickle or a checkpoint hands back plain values, and these
checks stand between them and the estimator. Each accepts what it promises,
returns it in its plain Python type, and refuses everything else with a
ValueError that names the entry and says what it should have been: booleans
are not integers, NaN and infinity are refused where finiteness is asked
for, an array must have the exact shape and dtype asked for (any float and
one dimension when none is given), and a mapping must have exactly the
required keys, plus optional ones.
"""

import numpy as np
import pytest

from skbackprop._schema import (
    check_array,
    check_bool,
    check_int,
    check_keys,
    check_number,
    check_str,
)


@pytest.mark.parametrize(
    "check, value, expected",
    [
        (lambda v: check_int(v, "n"), np.int64(3), 3),
        (lambda v: check_int(v, "n", minimum=-2), -2, -2),
        (lambda v: check_number(v, "x"), np.float32(0.5), 0.5),
        (lambda v: check_number(v, "x"), 2, 2.0),
        (lambda v: check_number(v, "x"), float("inf"), float("inf")),
        (lambda v: check_number(v, "x", optional=True), None, None),
        (lambda v: check_number(v, "x", kind=int), np.int32(-7), -7),
        (lambda v: check_bool(v, "b"), np.bool_(True), True),
        (lambda v: check_str(v, "s", choices={"adam", "sgd"}), "sgd", "sgd"),
    ],
)
def test_valid_scalars_are_returned_as_plain_python_values(check, value, expected):
    result = check(value)
    assert result == expected and type(result) is type(expected)


@pytest.mark.parametrize(
    "check, value, message",
    [
        (lambda v: check_int(v, "n"), True, r"n must be an integer >= 0, got True"),
        (lambda v: check_int(v, "n"), np.bool_(False), "n must be an integer"),
        (lambda v: check_int(v, "n"), 2.0, r"n must be an integer >= 0, got 2\.0"),
        (lambda v: check_int(v, "n"), "3", "n must be an integer"),
        (lambda v: check_int(v, "n", minimum=1), 0, "n must be an integer >= 1"),
        (lambda v: check_number(v, "x"), "0.5", "x must be a number, got '0.5'"),
        (lambda v: check_number(v, "x"), True, "x must be a number"),
        (lambda v: check_number(v, "x"), None, "x must be a number, got None"),
        (lambda v: check_number(v, "x", finite=True), float("nan"), "x must be finite"),
        (lambda v: check_number(v, "x", finite=True), -np.inf, "x must be finite"),
        (lambda v: check_number(v, "x", kind=int), 1.5, "x must be an integer"),
        (lambda v: check_bool(v, "b"), 1, "b must be true or false, got 1"),
        (lambda v: check_bool(v, "b"), "true", "b must be true or false"),
        (lambda v: check_str(v, "s"), 3, "s must be a string, got 3"),
        (
            lambda v: check_str(v, "s", choices={"sgd", "adam"}),
            "newton",
            r"s must be one of \['adam', 'sgd'\], got 'newton'",
        ),
    ],
)
def test_invalid_scalars_are_refused_by_name(check, value, message):
    with pytest.raises(ValueError, match=message):
        check(value)


def test_arrays_of_the_right_shape_and_dtype_are_returned_as_they_are():
    vector = np.arange(3.0)
    assert check_array(vector, "v") is vector  # any float, one dimension
    matrix = np.zeros((2, 3), dtype=np.float32)
    assert check_array(matrix, "m", (2, 3), np.float32, finite=True) is matrix
    ints = np.arange(4, dtype=np.int64)
    assert check_array(ints, "i", [4], np.int64) is ints
    assert check_array(np.array([np.nan]), "v") is not None  # finite not asked


@pytest.mark.parametrize(
    "value, kwargs, message",
    [
        ([1.0, 2.0], {}, "v must be an array, got list"),
        (np.zeros((2, 2)), {}, r"v must be 1-D, got shape \(2, 2\)"),
        (np.zeros(3), dict(shape=(2,)), r"v has shape \(3,\), expected \(2,\)"),
        (np.arange(3), {}, "v must hold floats, got dtype int64"),
        (
            np.zeros(2, dtype=np.float32),
            dict(shape=(2,), dtype=np.float64),
            "v has dtype float32, expected float64",
        ),
        (np.array([1.0, np.inf]), dict(finite=True), "v contains NaN or infinity"),
        (np.array([np.nan]), dict(finite=True), "v contains NaN or infinity"),
    ],
)
def test_invalid_arrays_are_refused_by_name(value, kwargs, message):
    with pytest.raises(ValueError, match=message):
        check_array(value, "v", **kwargs)


def test_mappings_need_exactly_their_keys():
    state = {"a": 1, "b": 2, "c": 3}
    assert check_keys(state, ["a", "b"], optional=["c", "d"], where="s") is state
    with pytest.raises(ValueError, match="s must be a mapping, got list"):
        check_keys([("a", 1)], ["a"], where="s")
    with pytest.raises(ValueError, match=r"s has unexpected entries \['c'\]"):
        check_keys(state, ["a", "b"], where="s")
    with pytest.raises(ValueError, match=r"s lacks the entries \['b', 'e'\]"):
        check_keys({"a": 1}, ["a", "b", "e"], where="s")
    # Keys that are not strings are named too.
    with pytest.raises(ValueError, match=r"state has unexpected entries \['7'\]"):
        check_keys({"a": 1, 7: 2}, ["a"])
