"""create_mask_from_window(x) -> a mask that is True (1) at x's maximum, False (0) elsewhere.

What a tie should give is not part of the contract, so every input here has one
clear maximum. The mask's dtype is open too: pool_backward only multiplies by it,
so bool is expected, and a 0/1 array of ints or floats is accepted as well.
"""

import numpy as np
import pytest

from autograder.kit import checks

HINT = "mask = (x == np.max(x)): True only where x holds its maximum."


def check_mask(value, x, reference, what):
    """Same shape as x; True/1 exactly at the maximum, False/0 elsewhere."""
    mask = checks.shape(value, x.shape, what, hint=HINT)
    if mask.dtype.kind not in "biuf":
        raise checks.Mismatch(f"{what} has dtype {mask.dtype}; it should be a boolean (or 0/1) array.", HINT)
    if not np.all((mask == 0) | (mask == 1)):
        raise checks.Mismatch(f"{what} holds values other than True/False (or 0/1).", HINT)
    expected = np.asarray(reference.create_mask_from_window(x)).astype(np.float64)
    checks.close(mask.astype(np.float64), expected, what, rtol=0, atol=0, hint=HINT)


@pytest.mark.share(2)
def test_marks_the_maximum(student, reference, distinct):
    """Marks the single largest entry of a 3x3 window."""
    x = distinct(3, 3)
    check_mask(student.call("create_mask_from_window", x).value, x, reference, "create_mask_from_window(x)")


@pytest.mark.share(1)
def test_negative_window(student, reference, distinct):
    """Works when every entry is negative."""
    x = distinct(2, 2) - 10.0
    check_mask(
        student.call("create_mask_from_window", x).value, x, reference, "create_mask_from_window(x) for negative x"
    )


@pytest.mark.share(1)
def test_non_square_window(student, reference, distinct):
    """Works for a non-square window, whatever row or column holds the maximum."""
    for shape in ((2, 4), (4, 1)):
        x = distinct(*shape)
        check_mask(
            student.call("create_mask_from_window", x).value,
            x,
            reference,
            f"create_mask_from_window(x) for shape {shape}",
        )


@pytest.mark.share(1)
def test_does_not_modify_x(student, reference, distinct):
    """Leaves x unchanged."""
    x = distinct(3, 3)
    result = student.call("create_mask_from_window", x.copy(), return_args=True)
    check_mask(result.value, x, reference, "create_mask_from_window(x)")
    checks.unchanged(x, result.args[0], "x")
