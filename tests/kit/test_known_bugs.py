"""Do the checks report shapes before values, name the wrong axes, and point a known bug out by name,
without changing what passes? (``layout`` and ``known_bugs`` in autograder/kit/checks.py and
gradients.py)"""

from __future__ import annotations

import numpy as np
import pytest

from autograder.kit import checks, gradients
from autograder.kit.checks import Mismatch
from autograder.kit.tolerances import Tolerances

NEUTRAL = {"stride": 1, "pad": 0}


def out_size(H: int, f: int, hp: dict) -> int:
    return 1 + (H + 2 * hp["pad"] - f) // hp["stride"]


def conv_like(hp: dict) -> np.ndarray:
    """A stand-in reference: an output whose size and values depend on stride and pad."""
    n = out_size(7, 3, hp)
    return np.arange(n * n, dtype=np.float64).reshape(1, n, n, 1) * hp["stride"] + hp["pad"]


def mismatch(check, *args, **kwargs) -> Mismatch:
    with pytest.raises(Mismatch) as excinfo:
        check(*args, **kwargs)
    return excinfo.value


def test_layout_names_the_wrong_axes():
    """Does a wrong shape say the right one in the layout's terms, and which axes are wrong?"""
    e = mismatch(checks.shape, np.zeros((2, 3, 4, 4)), (2, 3, 5, 5), "out", layout="(N, F, H', W')")
    assert e.message == ("out has shape (2, 3, 4, 4), but should have shape (2, 3, 5, 5) = (N, F, H', W') for this "
                         "input: H' and W' are wrong.")  # fmt: skip
    e = mismatch(checks.shape, np.zeros((2, 3, 4, 5)), (2, 3, 4, 4), "out", layout="(N, F, H', W')")
    assert e.message.endswith(": W' is wrong.")
    e = mismatch(checks.shape, np.zeros((2, 48)), (2, 3, 4, 4), "out", layout="(N, F, H', W')")
    assert e.message.endswith(": it has 2 axes instead of 4.")


def test_close_checks_the_shape_before_any_arithmetic():
    """Is an array of another (even broadcastable) shape reported as a shape, never subtracted?"""
    e = mismatch(checks.close, np.zeros((3, 1)), np.zeros((3, 4)), "out", layout="(N, D)")
    assert "has shape (3, 1), but should have shape (3, 4)" in e.message and "D is wrong" in e.message


def test_a_known_bug_s_shape_gets_its_hint():
    """Does Z shaped as if pad were read from hparameters['stride'] get a hint that names the key?"""
    hp = {"stride": 2, "pad": 1}
    bugs = checks.misread_keys(conv_like, hp, "Z", NEUTRAL)
    student = conv_like({"stride": 2, "pad": 2})  # pad = hparameters["stride"]
    e = mismatch(checks.shape, student, conv_like(hp).shape, "Z", hint="the floor.", known_bugs=bugs)
    assert e.hint == "Z is what it would be with pad = 2 (hparameters['stride']): is pad read from hparameters['pad']?"
    assert "floor" not in str(e)


def test_a_known_bug_s_values_get_its_hint():
    """Are wrong values equal to a known bug's (same shape) named, and other wrong values left with the test's hint?"""
    hp = {"stride": 1, "pad": 2}
    right = np.linspace(0.0, 1.0, 12).reshape(3, 4)

    def ignoring_pad_keeps_the_shape(p: dict) -> np.ndarray:
        return right + (5.0 if p["pad"] == 0 else 0.0)

    bugs = checks.misread_keys(ignoring_pad_keeps_the_shape, hp, "Z", {"pad": 0})
    e = mismatch(checks.close, right + 5.0, right, "Z", hint="generic.", known_bugs=bugs)
    assert e.hint == "Z is what it would be with pad = 0, as if hparameters['pad'] were not used."
    assert e.message.startswith("Z has the right shape, but 12 of 12 entries are wrong")  # the message is unchanged
    e = mismatch(checks.close, right + 3.0, right, "Z", hint="generic.", known_bugs=bugs)
    assert e.hint == "generic."


def test_known_bugs_are_computed_only_on_failure_and_never_change_a_pass():
    """Does a right answer pass without the known bugs being computed, and do parameters the
    reference refuses (a stride of 0) simply drop out?"""
    calls = []

    def counting(hp: dict) -> np.ndarray:
        calls.append(hp)
        return conv_like(hp)

    hp = {"stride": 2, "pad": 0}
    bugs = checks.misread_keys(counting, hp, "Z", NEUTRAL)
    checks.close(conv_like(hp), conv_like(hp), "Z", known_bugs=bugs)
    checks.shape(conv_like(hp), conv_like(hp).shape, "Z", known_bugs=bugs)
    assert calls == []
    found = bugs()  # stride from pad is 0: refused (ZeroDivisionError), so not a known bug
    assert all("stride = 0" not in text for _, text in found)
    assert any("pad = 2 (hparameters['stride'])" in text for _, text in found)


def test_two_bugs_with_the_same_shape_are_both_named():
    """When two bugs give the same wrong shape, are both offered rather than one guessed?"""
    hp = {"stride": 2, "pad": 0}

    def sized(p: dict) -> np.ndarray:  # 6 wide, f = 2: pad read from stride, or stride ignored, both give 5
        return np.zeros(out_size(6, 2, p))

    bugs = checks.misread_keys(sized, hp, "Z", NEUTRAL)
    e = mismatch(checks.shape, np.zeros(5), sized(hp).shape, "Z", hint="generic.", known_bugs=bugs)
    assert e.hint == ("Z is what it would be with stride = 1, as if hparameters['stride'] were not used. Or: "
                      "Z is what it would be with pad = 2 (hparameters['stride']): is pad read from hparameters['pad']?")  # fmt: skip
    e = mismatch(checks.shape, np.zeros(99), sized(hp).shape, "Z", hint="generic.", known_bugs=bugs)
    assert e.hint == "generic."


def test_gradient_check_reports_the_shape_first():
    """Does a gradient of the wrong shape and dtype get the shape message, before any comparison?"""
    tolerances = Tolerances.declared({})
    want = np.ones((3, 4))
    e = mismatch(gradients.check, tolerances, np.ones((3, 1), dtype=np.int64), want, want, "dx", layout="(N, D)")
    assert e.message.startswith("dx has shape (3, 1), but should have shape (3, 4)")
    e = mismatch(gradients.check, tolerances, np.ones((3, 1)), want, want, "dx", at=[(0, 0), (2, 3)])
    assert "has shape (3, 1)" in e.message  # never indexed with the expected array's coordinates


def test_a_broken_known_bug_leaves_the_verdict_and_the_hint():
    """If computing the known bugs fails, is the student still told the Mismatch with the test's own hint?"""

    def broken() -> list:
        raise RuntimeError("grader bug")

    e = mismatch(checks.shape, np.zeros(2), (3,), "Z", hint="generic.", known_bugs=broken)
    assert e.hint == "generic."
    e = mismatch(checks.close, np.zeros(3), np.ones(3), "Z", hint="generic.", known_bugs=broken)
    assert e.hint == "generic."
