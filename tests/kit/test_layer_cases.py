"""Do the generated window geometries keep their promise, so a wrong output-size formula is caught?
(autograder/kit/layer_cases.py)"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from autograder.kit.layer_cases import Window, windows

# (keyword arguments of windows(), as a grader would call it)
CALLS = {
    "defaults": {},
    "pooling (pad 0 only)": {"pads": (0,)},
    "square kernels": {"square_kernel": True},
    "strides 2 and 4": {"strides": (2, 4), "pads": (0, 1), "max_size": 12},
    "strides 1 to 4": {"strides": (1, 2, 3, 4), "max_size": 12},
    "kernels 3 and 5": {"kernels": (3, 5), "max_size": 12},
}
# Calls whose cases keep every promise (see the xfails below for the ones that don't).
NON_SQUARE_INPUTS = ["square kernels", "strides 2 and 4", "strides 1 to 4", "kernels 3 and 5"]
NON_SQUARE_KERNELS = ["pooling (pad 0 only)", "strides 2 and 4", "kernels 3 and 5"]


def cases(name: str) -> list[Window]:
    return windows(**CALLS[name])


def axes(w: Window) -> list[tuple[int, int]]:
    """(size, kernel) of the height and the width."""
    return [(w.H, w.kh), (w.W, w.kw)]


@pytest.mark.parametrize("name", CALLS)
def test_every_stride_meets_every_remainder_on_each_axis_with_every_pad(name):
    """For each stride and pad, does each axis see every remainder of (n + 2 pad - k) mod stride?"""
    kwargs = {"strides": (1, 2, 3), "pads": (0, 1, 2), **CALLS[name]}
    found = cases(name)
    for s in kwargs["strides"]:
        for p in kwargs["pads"]:
            here = [w for w in found if w.stride == s and w.pad == p]
            for axis in (0, 1):
                assert {w.remainders[axis] for w in here} == set(range(s)), (s, p, axis)


@pytest.mark.parametrize("name", CALLS)
def test_remainders_and_output_sizes_follow_the_floor_formula(name):
    """Are .remainders and .out the remainder and the floor of (n + 2 pad - k) / stride (+ 1)?"""
    for w in cases(name):
        for axis, (n, k) in enumerate(axes(w)):
            assert w.remainders[axis] == (n + 2 * w.pad - k) % w.stride
            assert w.out[axis] == (n + 2 * w.pad - k) // w.stride + 1


@pytest.mark.parametrize("name", CALLS)
def test_outputs_have_two_rows_and_kernels_are_wider_than_the_padding(name):
    """Does every case have an output of at least 2 x 2, and a kernel that is never all padding?"""
    for w in cases(name):
        assert min(w.out) >= 2, str(w)
        assert w.kh > w.pad and w.kw > w.pad, str(w)
        assert w.kh <= w.H + 2 * w.pad and w.kw <= w.W + 2 * w.pad, str(w)


@pytest.mark.parametrize("name", CALLS)
def test_sizes_stay_small(name):
    """Does no input exceed max_size (12 unless given)?"""
    limit = CALLS[name].get("max_size", 12)
    assert all(max(w.H, w.W) <= limit for w in cases(name))


def test_pad_zero_is_included_and_pooling_gets_only_pad_zero():
    """Do the default cases include pad 0 and pads above 0, and pads=(0,) only pad 0?"""
    assert {w.pad for w in windows()} == {0, 1, 2}
    assert {w.pad for w in windows(pads=(0,))} == {0}
    assert {w.stride for w in windows(strides=(2, 4), max_size=12)} == {2, 4}


def test_square_kernel_gives_square_kernels():
    """With square_kernel=True, is every kernel as tall as it is wide?"""
    assert all(w.kh == w.kw for w in windows(square_kernel=True))


@pytest.mark.parametrize("name", NON_SQUARE_INPUTS)
def test_inputs_are_not_square(name):
    """Is every input taller than wide or wider than tall (so height and width can't be swapped)?"""
    assert all(w.H != w.W for w in cases(name)), [str(w) for w in cases(name) if w.H == w.W]


@pytest.mark.parametrize("name", ["defaults", "pooling (pad 0 only)"])
def test_default_inputs_are_not_square(name):
    """Is every default input non-square, as windows() promises?"""
    assert all(w.H != w.W for w in cases(name)), [str(w) for w in cases(name) if w.H == w.W]


@pytest.mark.parametrize("name", NON_SQUARE_KERNELS)
def test_kernels_are_not_square(name):
    """Unless square_kernel, is every kernel taller than wide or wider than tall?"""
    assert all(w.kh != w.kw for w in cases(name)), [str(w) for w in cases(name) if w.kh == w.kw]


def test_kernels_with_pad_two_are_not_square():
    """With the default kernels and pad 2, is every kernel still non-square?"""
    assert all(w.kh != w.kw for w in windows() if w.pad == 2)


def test_a_stride_with_no_small_enough_size_is_refused_by_name():
    """Is a stride that needs inputs beyond max_size refused with a ValueError naming it?"""
    with pytest.raises(ValueError, match=r"no size up to 9 .* stride 4"):
        windows(strides=(4,), max_size=9)


def test_cases_describe_themselves():
    """Does str() name input, kernel (once if square), stride and pad?"""
    assert str(Window(3, 4, 2, 3, 2, 1)) == "3x4 input, kernel 2x3, stride 2, pad 1"
    assert str(Window(3, 4, 3, 3, 1, 0)) == "3x4 input, kernel 3, stride 1, pad 0"


def sizes(formula: Callable[[float], int]) -> Callable[[Window], tuple[int, int]]:
    """An output-size formula that divides exactly, then rounds with ``formula``."""
    return lambda w: tuple(formula((n + 2 * w.pad - k) / w.stride) + 1 for n, k in axes(w))


WRONG_FORMULAS = {
    "round (to even)": sizes(round),
    "round half up": sizes(lambda v: int(v + 0.5)),
    "ceil": sizes(math.ceil),
    "true division": sizes(lambda v: v),
}


@pytest.mark.parametrize("formula", WRONG_FORMULAS.values(), ids=WRONG_FORMULAS.keys())
@pytest.mark.parametrize("name", CALLS)
def test_a_wrong_output_size_formula_fails_some_case_of_every_stride(name, formula):
    """For every stride above 1, does some case's .out disagree with rounding instead of the floor?"""
    found = cases(name)
    for s in {w.stride for w in found} - {1}:
        assert any(formula(w) != w.out for w in found if w.stride == s), (s, name)


def test_every_formula_agrees_at_stride_one():
    """(The control) At stride 1 nothing is rounded: does every formula agree with .out there?"""
    for formula in WRONG_FORMULAS.values():
        assert all(formula(w) == w.out for w in windows() if w.stride == 1)
