"""conv_single_step(a_slice_prev, W, b): one filter applied to one slice, as a number."""

import numpy as np
import pytest

from autograder.kit import checks

SCALAR_HINT = "return a scalar: add b.item() (or float(b[0, 0, 0])), not the (1, 1, 1) array b."


def as_number(value, what):
    """The student's value as a 0-d array; a one-element array counts here (its shape
    is graded separately, in test_returns_a_scalar)."""
    if isinstance(value, np.ndarray) and value.size == 1:
        return value.reshape(())
    if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
        return np.asarray(value)
    raise checks.Mismatch(f"{what} should be a number, but it is {checks.describe_type(value)}.", SCALAR_HINT)


def expected(reference, *args):
    """The reference's value as a 0-d array."""
    return np.asarray(reference.conv_single_step(*args), dtype=np.float64).reshape(())


def inputs(rng, f, n_C_prev, dtype=np.float64, bias=True):
    a = rng.standard_normal((f, f, n_C_prev)).astype(dtype)
    W = rng.standard_normal((f, f, n_C_prev)).astype(dtype)
    b = (rng.standard_normal((1, 1, 1)) * 3 if bias else np.zeros((1, 1, 1))).astype(dtype)
    return a, W, b


@pytest.mark.share(2)
def test_sums_products(student, reference, rng):
    """With b = 0, returns the sum of the element-wise products of the slice and W."""
    a, W, b = inputs(rng, 3, 4, bias=False)
    value = as_number(student.call("conv_single_step", a, W, b).value, "conv_single_step(...)")
    checks.close(value, expected(reference, a, W, b), "conv_single_step(...)",
                 hint="multiply a_slice_prev and W element-wise, then sum every entry.")  # fmt: skip


@pytest.mark.share(3)
def test_adds_bias(student, reference, rng):
    """Adds the bias b (once) to the sum of products."""
    a, W, b = inputs(rng, 3, 4)
    value = as_number(student.call("conv_single_step", a, W, b).value, "conv_single_step(...)")
    checks.close(value, expected(reference, a, W, b), "conv_single_step(...)",
                 hint="Z = sum(a_slice_prev * W) + b.")  # fmt: skip


@pytest.mark.share(2)
def test_returns_a_scalar(student, reference, rng):
    """Returns a single number, not an array of shape (1, 1, 1)."""
    a, W, b = inputs(rng, 2, 3)
    value = student.call("conv_single_step", a, W, b).value
    checks.scalar(value, "conv_single_step(...)", hint=SCALAR_HINT)
    checks.close(as_number(value, "conv_single_step(...)"), expected(reference, a, W, b), "conv_single_step(...)")


@pytest.mark.share(1)
def test_other_sizes(student, reference, rng):
    """Works for other filter sizes and channel counts (f = 1 and f = 4)."""
    for f, n_C_prev in ((1, 5), (4, 1)):
        a, W, b = inputs(rng, f, n_C_prev)
        value = as_number(student.call("conv_single_step", a, W, b).value, f"conv_single_step(...) with f = {f}")
        checks.close(value, expected(reference, a, W, b), f"conv_single_step(...) with f = {f}")


@pytest.mark.share(1)
def test_float32_inputs(student, reference, rng):
    """Accepts float32 inputs."""
    a, W, b = inputs(rng, 3, 2, dtype=np.float32)
    value = as_number(student.call("conv_single_step", a, W, b).value, "conv_single_step(...)")
    want = expected(reference, a.astype(np.float64), W.astype(np.float64), b.astype(np.float64))
    checks.close(value, want, "conv_single_step(...) for float32 inputs", rtol=1e-4, atol=1e-5)


@pytest.mark.share(1)
def test_does_not_modify_inputs(student, reference, rng):
    """Leaves a_slice_prev, W and b unchanged."""
    a, W, b = inputs(rng, 3, 3)
    result = student.call("conv_single_step", a.copy(), W.copy(), b.copy(), return_args=True)
    value = as_number(result.value, "conv_single_step(...)")
    checks.close(value, expected(reference, a, W, b), "conv_single_step(...)")
    for before, after, name in zip((a, W, b), result.args, ("a_slice_prev", "W", "b"), strict=True):
        checks.unchanged(before, after, name)
