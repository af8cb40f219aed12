"""zero_pad(X, pad): zeros around the height and width of every image of X."""

import numpy as np
import pytest

from autograder.kit import checks

HINT = "pad axis 1 (height) and axis 2 (width) only, e.g. np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))."


@pytest.mark.share(1)
def test_output_shape(student, reference, rng):
    """Returns shape (m, n_H + 2*pad, n_W + 2*pad, n_C) for a non-square batch."""
    X = rng.standard_normal((3, 4, 2, 5))
    X_pad = student.call("zero_pad", X, 2).value
    checks.shape(X_pad, reference.zero_pad(X, 2).shape, "zero_pad(X, 2)", hint=HINT)


@pytest.mark.share(1)
def test_pads_height_and_width(student, reference, rng):
    """Keeps X in the centre and puts zeros on the height and width axes (pad = 2)."""
    X = rng.standard_normal((3, 4, 2, 5))
    checks.close(student.call("zero_pad", X, 2).value, reference.zero_pad(X, 2), "zero_pad(X, 2)", hint=HINT)


@pytest.mark.share(1)
def test_pad_one_float32(student, reference, rng):
    """Works for pad = 1 and float32 images."""
    X = rng.standard_normal((2, 3, 5, 1)).astype(np.float32)
    X_pad = student.call("zero_pad", X, 1).value
    checks.floating(X_pad, "zero_pad(X, 1)")
    checks.close(X_pad, reference.zero_pad(X, 1), "zero_pad(X, 1)", hint=HINT)


@pytest.mark.share(1)
def test_pad_zero(student, reference, rng):
    """With pad = 0, returns the images unchanged."""
    X = rng.standard_normal((2, 3, 4, 2))
    checks.close(student.call("zero_pad", X, 0).value, reference.zero_pad(X, 0), "zero_pad(X, 0)",
                 hint="with pad = 0 nothing is added; check how you slice or build the padded array.")  # fmt: skip


@pytest.mark.share(1)
def test_keeps_float64_and_input(student, reference, rng):
    """Returns float64 for float64 images and leaves X itself unchanged."""
    X = rng.standard_normal((2, 3, 3, 3))
    result = student.call("zero_pad", X.copy(), 3, return_args=True)
    checks.floating(result.value, "zero_pad(X, 3)", dtype=np.float64)
    checks.close(result.value, reference.zero_pad(X, 3), "zero_pad(X, 3)", hint=HINT)
    checks.unchanged(X, result.args[0], "X")
