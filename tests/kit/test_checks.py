"""Do the grading library's checks catch wrong answers, and say so without revealing the answer?
(autograder/kit/checks.py)"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.grader.failures import StudentCodeError
from autograder.kit import checks
from autograder.kit.checks import Mismatch
from autograder.sandbox.harness.wire import RemoteRef
from tests.plugins.record_expected import recording

SECRET = 123.456  # an expected value no message may print unless the grader reveals it
SECRET_TEXTS = ("123.456", "123.46", "123.5", "1.23456e+02")


def mismatch(check, *args, **kwargs) -> Mismatch:
    """The Mismatch a check raises (the test fails if it raises nothing)."""
    with pytest.raises(Mismatch) as excinfo:
        check(*args, **kwargs)
    return excinfo.value


def assert_secret_absent(message: str) -> None:
    assert not any(text in message for text in SECRET_TEXTS), message


# --- Mismatch and describe_type ----------------------------------------------------------


def test_mismatch_is_an_assertion_error_with_its_hint_appended():
    """Is a Mismatch an AssertionError whose text is the message, then the hint?"""
    e = Mismatch("out is wrong.", hint="check the axis.")
    assert isinstance(e, AssertionError)
    assert e.message == "out is wrong." and e.hint == "check the axis."
    assert str(e) == "out is wrong. Hint: check the axis."
    assert str(Mismatch("out is wrong.")) == "out is wrong."


def test_student_code_error_is_re_exported():
    """Can a grader catch a failed call into student code through checks alone?"""
    assert checks.StudentCodeError is StudentCodeError


def test_describe_type_names_arrays_remote_objects_and_plain_values():
    """Does describe_type give an array's shape and dtype, a remote object's type, else the type's name?"""
    assert checks.describe_type(np.zeros((2, 3), dtype=np.float32)) == "an array of shape (2, 3) and dtype float32"
    assert checks.describe_type(RemoteRef(id=7, type="keras.Model")) == "an object of type `keras.Model`"
    assert checks.describe_type([1, 2]) == "a list"
    assert checks.describe_type(None) == "a NoneType"


# --- array, shape, floating --------------------------------------------------------------


def test_array_returns_an_array_unchanged():
    """Does array() hand back the very array it was given?"""
    a = np.arange(3.0)
    assert checks.array(a, "out") is a


@pytest.mark.parametrize(
    ("value", "kind"),
    [([1.0, 2.0], "a list"), (None, "a NoneType"), (3.0, "a float"), ((1, 2), "a tuple")],
)
def test_array_refuses_what_is_not_an_array(value, kind):
    """Does array() say what came back instead of an array, with the hint?"""
    e = mismatch(checks.array, value, "zero_pad(X, 1)", hint="return an array.")
    assert e.message == f"zero_pad(X, 1) should be a NumPy array, but it is {kind}."
    assert e.hint == "return an array."


def test_shape_accepts_the_right_shape_given_as_any_sequence():
    """Does shape() accept the expected shape as a list as well as a tuple?"""
    a = np.zeros((2, 3))
    assert checks.shape(a, (2, 3), "out") is a
    assert checks.shape(a, [2, 3], "out") is a


def test_shape_names_both_shapes():
    """Does a wrong shape name the student's shape and the shape it should be?"""
    e = mismatch(checks.shape, np.zeros((3, 2)), (2, 3), "out", hint="transpose?")
    assert e.message == "out has shape (3, 2), but should have shape (2, 3)."
    assert e.hint == "transpose?"


def test_shape_refuses_a_non_array_before_comparing_shapes():
    """Does shape() on a list say it is not an array (rather than crash on .shape)?"""
    e = mismatch(checks.shape, [[0.0, 0.0]], (1, 2), "out")
    assert "should be a NumPy array, but it is a list" in e.message


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_floating_accepts_every_float_dtype(dtype):
    """Does floating() without a dtype accept any floating-point array?"""
    a = np.zeros(2, dtype=dtype)
    assert checks.floating(a, "out") is a


@pytest.mark.parametrize("dtype", [np.int64, np.bool_, np.complex128])
def test_floating_refuses_arrays_of_other_numbers(dtype):
    """Does floating() refuse integers, booleans and complex numbers, naming the dtype?"""
    e = mismatch(checks.floating, np.zeros(2, dtype=dtype), "out")
    assert e.message == f"out has dtype {np.dtype(dtype)}, but should hold floating-point numbers."


def test_floating_with_a_dtype_wants_exactly_that_dtype():
    """Does floating(dtype=float64) refuse float32, naming both dtypes?"""
    a = np.zeros(2)
    assert checks.floating(a, "out", dtype=np.float64) is a
    e = mismatch(checks.floating, np.zeros(2, dtype=np.float32), "out", dtype=np.float64)
    assert e.message == "out has dtype float32, but should have dtype float64."


def test_floating_refuses_a_non_array():
    """Does floating() refuse a list, saying it is not an array?"""
    e = mismatch(checks.floating, [1.0], "out")
    assert "should be a NumPy array, but it is a list" in e.message


# --- close -------------------------------------------------------------------------------


def test_close_passes_within_tolerance_and_fails_beyond_it():
    """Does close() accept an error under rtol/atol and refuse one over it?"""
    expected = np.array([1.0, 2.0, 3.0])
    checks.close(expected + 1e-9, expected, "out")
    checks.close(expected * (1 + 1e-3), expected, "out", rtol=1e-2, atol=0)
    mismatch(checks.close, expected * (1 + 1e-3), expected, "out", rtol=1e-4, atol=0)
    mismatch(checks.close, expected + 1e-3, expected, "out", rtol=0, atol=1e-4)


def test_close_accepts_integers_for_real_expected_values():
    """Does close() compare an integer array with float expected values by value?"""
    checks.close(np.array([1, 2, 3]), np.array([1.0, 2.0, 3.0]), "out")
    e = mismatch(checks.close, np.array([1, 2, 3]), np.array([1.0, 2.5, 3.0]), "out")
    assert "1 of 3 entries are wrong" in e.message


def test_close_counts_wrong_entries_and_names_the_first():
    """Does close() say how many entries are wrong, the largest error and the first wrong index?"""
    expected = np.zeros((3, 4))
    actual = expected.copy()
    actual[1, 2] = 0.5
    actual[2, 0] = -2.0
    actual[2, 3] = 1.0
    e = mismatch(checks.close, actual, expected, "conv_forward(x)", hint="check the stride.")
    assert e.message == (
        "conv_forward(x) has the right shape, but 3 of 12 entries are wrong (largest error about 2)."
        " The first wrong entry is at index (1, 2)."
    )
    assert e.hint == "check the stride."


def test_close_on_a_scalar_names_no_index():
    """Does a wrong 0-d answer get a count but no index?"""
    e = mismatch(checks.close, np.array(2.0), np.array(3.0), "loss")
    assert e.message == "loss is wrong: it is off by about 1."


def test_close_gives_only_the_order_of_the_error_away():
    """With one wrong entry, is the error shown to one digit only (so the expected value stays hidden)?"""
    e = mismatch(checks.close, np.array([0.5]), np.array([0.123456]), "out")
    assert "about 0.4" in e.message and "0.376" not in e.message and "0.123" not in e.message


def test_close_checks_the_shape_first():
    """Does a wrong shape fail as a shape, not as wrong entries?"""
    e = mismatch(checks.close, np.zeros(3), np.zeros(4), "out")
    assert e.message == "out has shape (3,), but should have shape (4,)."


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_close_refuses_nan_and_infinity(bad):
    """Is a NaN or an infinity refused as such, even where the expected value is the same?"""
    actual = np.array([1.0, bad])
    e = mismatch(checks.close, actual, np.array([1.0, bad]), "out", hint="h")
    assert e.message == "out contains NaN or infinite values." and e.hint == "h"


@pytest.mark.parametrize("value", [np.array(["1.0"]), np.array([1 + 0j]), np.array([None], dtype=object)])
def test_close_refuses_arrays_that_are_not_real_numbers(value):
    """Are strings, complex numbers and objects refused by dtype, without comparing them?"""
    e = mismatch(checks.close, value, np.array([1.0]), "out")
    assert e.message == f"out has dtype {value.dtype}; expected real numbers."


@pytest.mark.parametrize(
    "actual",
    [np.array([SECRET + 1.0]), np.array([0.0, 0.0]), [SECRET], np.array([np.nan]), np.array(["x"])],
    ids=["wrong value", "wrong shape", "not an array", "nan", "strings"],
)
def test_close_never_prints_the_expected_value(actual):
    """Does no failure of close() show the expected value, whatever the student returned?"""
    e = mismatch(checks.close, actual, np.array([SECRET]), "out", hint="look again.")
    assert_secret_absent(str(e))


def test_close_prints_the_expected_value_only_when_revealed():
    """With reveal=True, and only then, does the message show the expected values?"""
    expected = np.array([SECRET, 1.0])
    hidden = mismatch(checks.close, np.array([1.0, 1.0]), expected, "out")
    shown = mismatch(checks.close, np.array([1.0, 1.0]), expected, "out", reveal=True)
    assert_secret_absent(str(hidden))
    assert shown.message.startswith(hidden.message)
    assert "Expected [123.456" in shown.message


def test_close_records_every_expected_value_it_compares_against():
    """Does each close() call announce its expected values (checks.EXPECTED_EVENT), passing or failing?"""
    expected = np.array([SECRET, 2.0])
    with recording() as seen:
        checks.close(expected.copy(), expected, "out")
        mismatch(checks.close, np.zeros(5), [7.0, 8.0], "out")  # fails on shape, still recorded
    assert len(seen) == 2
    assert seen[0] is expected
    assert np.array_equal(seen[1], [7.0, 8.0])


# --- scalar ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [3, 3.0, np.float32(3.0), np.int64(3), np.array(3.0)])
def test_scalar_accepts_every_kind_of_real_number(value):
    """Do Python numbers, NumPy scalars and 0-d arrays all come back as a float?"""
    result = checks.scalar(value, "loss")
    assert type(result) is float and result == 3.0


@pytest.mark.parametrize(("value", "kind"), [(True, "a bool"), (False, "a bool"), ("3", "a str"), (None, "a NoneType")])
def test_scalar_refuses_bools_and_non_numbers(value, kind):
    """Is a bool (a Python int, but not an answer) refused like any other non-number?"""
    e = mismatch(checks.scalar, value, "loss", hint="return a float.")
    assert e.message == f"loss should be a number, but it is {kind}."
    assert e.hint == "return a float."


@pytest.mark.parametrize("value", [np.array([3.0]), np.zeros((2, 2))])
def test_scalar_refuses_arrays_with_entries(value):
    """Is an array with a shape (even a single entry) refused, naming its shape?"""
    e = mismatch(checks.scalar, value, "loss")
    assert e.message == f"loss should be a scalar, but it is an array of shape {value.shape}."


@pytest.mark.filterwarnings("ignore")  # float() of a complex NumPy scalar warns, then drops the imaginary part
@pytest.mark.parametrize(
    "value",
    [np.array("3.0"), np.array(1 + 2j), np.complex128(1 + 2j), np.array(True)],
    ids=["str", "complex", "np.complex", "bool"],
)
def test_scalar_refuses_zero_d_values_that_are_not_real_numbers(value):
    """Is a 0-d array (or NumPy scalar) of text, complex numbers or a bool refused with a Mismatch?"""
    mismatch(checks.scalar, value, "loss")


# --- unchanged ---------------------------------------------------------------------------


def test_unchanged_accepts_equal_copies():
    """Are equal arrays, dicts, lists, tuples and scalars all accepted as unchanged?"""
    x = np.arange(6.0).reshape(2, 3)
    checks.unchanged(x, x.copy(), "x")
    checks.unchanged({"stride": 2, "w": x}, {"stride": 2, "w": x.copy()}, "params")
    checks.unchanged([x, 1], [x.copy(), 1], "inputs")
    checks.unchanged((x, "a"), [x.copy(), "a"], "inputs")  # a tuple may come back as a list
    checks.unchanged(3, 3, "n")


def test_unchanged_catches_a_changed_array():
    """Is an array written to, or reshaped, in place reported, with the advice to copy?"""
    x = np.zeros((2, 3))
    written = x.copy()
    written[1, 1] = 1.0
    for after in (written, x.reshape(3, 2), x.ravel(), [0.0] * 6):
        e = mismatch(checks.unchanged, x, after, "X")
        assert e.message == "Your function modified its input X in place; work on a copy instead."


def test_unchanged_names_the_changed_item_of_a_dict():
    """Does a changed dict value get reported under its key?"""
    before = {"stride": 1, "pad": 2}
    e = mismatch(checks.unchanged, before, {"stride": 1, "pad": 3}, "conv_param")
    assert e.message == "Your function modified its input conv_param['pad'] in place."


def test_unchanged_catches_keys_added_or_removed():
    """Is a dict with a key added or removed (or replaced by another type) reported?"""
    before = {"stride": 1}
    for after in ({"stride": 1, "pad": 0}, {}, [1]):
        e = mismatch(checks.unchanged, before, after, "conv_param")
        assert e.message == "Your function modified its input conv_param in place."


def test_unchanged_names_the_changed_item_of_a_list():
    """Is a list with an item changed, added or removed reported, by index where it can be?"""
    before = [np.zeros(2), np.ones(2)]
    e = mismatch(checks.unchanged, before, [np.zeros(2), np.zeros(2)], "grads")
    assert "grads[1]" in e.message
    e = mismatch(checks.unchanged, before, [np.zeros(2)], "grads")
    assert e.message == "Your function modified its input grads in place."


def test_unchanged_catches_a_changed_scalar():
    """Is a different scalar reported as a change?"""
    e = mismatch(checks.unchanged, 2, 3, "pad")
    assert e.message == "Your function modified its input pad in place."


def test_unchanged_accepts_an_untouched_input_holding_nan():
    """Is an input holding NaN, given back untouched, accepted as unchanged?"""
    x = np.array([1.0, np.nan])
    checks.unchanged(x, x.copy(), "x")


# --- parts and cache ---------------------------------------------------------------------


def test_parts_splits_a_tuple_or_list():
    """Does parts() give back the returned values as a tuple, from a tuple or a list?"""
    assert checks.parts((1, 2), ("out", "cache"), "conv_forward") == (1, 2)
    assert checks.parts([1, 2], ("out", "cache"), "conv_forward") == (1, 2)


def test_parts_says_what_came_back_instead_of_a_tuple():
    """Does a single returned array get a message naming the tuple it should be?"""
    e = mismatch(checks.parts, np.zeros((2, 2)), ("out", "cache"), "conv_forward")
    assert e.message == (
        "conv_forward should return a tuple (out, cache), but it returned an array of shape (2, 2) and dtype float64."
    )
    assert e.hint == "return the tuple (out, cache)."


def test_parts_counts_the_values_returned():
    """Does a tuple of the wrong length get a message with both counts?"""
    e = mismatch(checks.parts, (1, 2, 3), ("dx", "dw", "db", "dconv"), "conv_backward")
    assert e.message == "conv_backward should return 4 values (dx, dw, db, dconv), but it returned 3."


def test_cache_accepts_the_inputs_as_a_tuple_or_list():
    """Is a cache holding the forward's inputs accepted, as a tuple or a list?"""
    x, w = np.ones((2, 2)), np.arange(4.0)
    conv_param = {"stride": 1, "pad": 0}
    checks.cache((x.copy(), w.copy(), dict(conv_param)), (x, w, conv_param), ("x", "w", "conv_param"))
    checks.cache([x.copy(), w.copy(), dict(conv_param)], (x, w, conv_param), ("x", "w", "conv_param"))


def test_cache_refuses_what_is_not_a_tuple():
    """Does a cache that is a lone array say so, with the hint listing its items?"""
    e = mismatch(checks.cache, np.zeros(2), (np.zeros(2),), ("x",))
    assert e.message == "cache should be a tuple (x), but it is an array of shape (2,) and dtype float64."
    assert e.hint == "set cache = (x), the function's inputs."


def test_cache_counts_its_items():
    """Does a cache with too few items say how many it holds and should hold?"""
    e = mismatch(checks.cache, (np.zeros(2),), (np.zeros(2), np.zeros(3)), ("x", "w"))
    assert e.message == "cache should hold 2 items (x, w), but it holds 1."


def test_cache_names_an_item_with_other_values():
    """Is an item that differs at all (no tolerance) named, without its expected value?"""
    x = np.full(3, SECRET)
    e = mismatch(checks.cache, (x + 1e-9,), (x,), ("x",))
    assert e.message.startswith("cache item `x` has the right shape, but 3 of 3 entries are wrong")
    assert e.hint == "set cache = (x), the function's inputs."
    assert_secret_absent(str(e))


def test_cache_names_a_dictionary_item_that_differs():
    """Is a changed or missing parameter dictionary in the cache named?"""
    for item in ({"stride": 2, "pad": 1}, None):
        e = mismatch(checks.cache, (np.zeros(1), item), (np.zeros(1), {"stride": 1, "pad": 1}), ("x", "conv_param"))
        assert e.message == "cache item `conv_param` is not the conv_param dictionary the function was given."
