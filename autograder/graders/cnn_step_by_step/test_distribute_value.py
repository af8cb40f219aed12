"""distribute_value(dz, shape) -> an array of that shape, every entry dz / (n_H * n_W)."""

import pytest

from autograder.kit import checks

HINT = "every entry is dz / (n_H * n_W), with (n_H, n_W) = shape; np.ones(shape) * average does it."


@pytest.mark.share(1)
def test_output_shape(student, reference):
    """Returns an array of the requested shape."""
    value = student.call("distribute_value", 1.5, (3, 4)).value
    checks.shape(value, reference.distribute_value(1.5, (3, 4)).shape, "distribute_value(1.5, (3, 4))", hint=HINT)


@pytest.mark.share(1)
def test_square_window(student, reference, rng):
    """Spreads dz evenly over a 2x2 window."""
    dz = float(rng.standard_normal())
    checks.close(student.call("distribute_value", dz, (2, 2)).value, reference.distribute_value(dz, (2, 2)),
                 "distribute_value(dz, (2, 2))", hint=HINT)  # fmt: skip


@pytest.mark.share(2)
def test_non_square_window(student, reference, rng):
    """Spreads dz evenly over a 3x5 window (divides by n_H * n_W)."""
    dz = float(rng.standard_normal() * 4)
    checks.close(student.call("distribute_value", dz, (3, 5)).value, reference.distribute_value(dz, (3, 5)),
                 "distribute_value(dz, (3, 5))", hint=HINT)  # fmt: skip


@pytest.mark.share(1)
def test_integer_dz(student, reference):
    """Returns floats even when dz is an integer (e.g. 3 over a 2x2 window)."""
    value = student.call("distribute_value", 3, (2, 2)).value
    checks.floating(value, "distribute_value(3, (2, 2))")
    checks.close(value, reference.distribute_value(3, (2, 2)), "distribute_value(3, (2, 2))",
                 hint="use true division (/), not integer division (//).")  # fmt: skip
