"""l2_penalty(weights, lam) -> scalar: lam * sum over the arrays of the sum of their squared entries."""

import numpy as np
import pytest

from autograder.kit import checks

HINT = "lam * (the sum over the list of ops.sum(ops.square(p))); an empty list gives 0."


def penalty(student, weights, lam, what):
    return checks.scalar(
        student.call("l2_penalty", weights, lam).value, what, "return a scalar (a float or a 0-d tensor)."
    )


@pytest.mark.share(2)
def test_values(student, reference, tolerances, rng):
    """A list of four arrays of different shapes (a 4-d kernel, a matrix, a vector, a scalar-like array), lam = 0.01 and 3."""
    weights = [rng.standard_normal((3, 3, 2, 4)), rng.standard_normal((5, 3)), rng.standard_normal(7), np.array([2.5])]
    for lam in (0.01, 3.0):
        got = penalty(student, weights, lam, f"l2_penalty(weights, {lam})")
        want = float(reference.l2_penalty(weights, lam))
        checks.close(np.array(got), np.array(want), f"l2_penalty(weights, {lam}) for four arrays", hint=HINT,
                     **tolerances.float32)  # fmt: skip


@pytest.mark.share(1)
def test_zero_lambda_and_empty_list(student, rng):
    """lam = 0 gives 0 for any weights, and an empty list gives 0 for any lam."""
    for weights, lam, what in (
        ([rng.standard_normal((2, 3))], 0.0, "l2_penalty([W], 0.0)"),
        ([], 0.5, "l2_penalty([], 0.5)"),
    ):
        got = penalty(student, weights, lam, what)
        checks.close(np.array(got), np.array(0.0), what, hint=HINT, rtol=0, atol=1e-12)


@pytest.mark.share(1)
def test_keras_variables(student, kernel_penalties, tolerances):
    """On Keras variables (as train_step passes them): the kernels of a small model, lam = 0.01, 0 and 0.5."""
    kernel_penalties.grade(student)  # train_step's checks read these graded values (see conftest.py)
    for lam in (0.01, 0.0, 0.5):
        got, want, error = kernel_penalties.graded(lam)
        if error is not None:
            raise error
        what = f"l2_penalty of a model's three kernels as keras.Variable, lam = {lam}"
        checks.close(np.array(got), np.array(want), what, hint=HINT + " Use keras.ops, which accept variables, "
                     "tensors and arrays.", **tolerances.float32)  # fmt: skip
