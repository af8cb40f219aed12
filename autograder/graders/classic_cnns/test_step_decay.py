"""step_decay(step, initial_lr, drop, steps_per_drop) -> float: initial_lr * drop ** floor(step / steps_per_drop)."""

import numpy as np
import pytest

from autograder.kit import checks

HINT = "lr = initial_lr * drop ** (step // steps_per_drop): the first drop happens exactly at step steps_per_drop."


def curve(student, reference, steps, *args):
    """The student's and the reference's learning rates at ``steps``, each checked to be a number."""
    got = [checks.scalar(student.call("step_decay", int(t), *args).value, f"step_decay({t}, ...)",
                         "return the learning rate as a float.") for t in steps]  # fmt: skip
    return np.array(got), np.array([reference.step_decay(int(t), *args) for t in steps])


@pytest.mark.share(2)
def test_values(student, reference, tolerances):
    """step_decay(t, 0.1, 0.5, 10) for every step t from 0 to 45."""
    got, want = curve(student, reference, range(46), 0.1, 0.5, 10)
    checks.close(
        got, want, "step_decay(t, 0.1, 0.5, 10) for t = 0, 1, ..., 45 (entry t)", hint=HINT, **tolerances.tight
    )


@pytest.mark.share(1)
def test_at_the_drops(student, reference, tolerances):
    """Just before and exactly at each drop, with steps_per_drop = 7 and drop = 0.1; and a drop every step."""
    steps = [0, 6, 7, 13, 14, 20, 21, 70]
    got, want = curve(student, reference, steps, 0.3, 0.1, 7)
    checks.close(got, want, f"step_decay(t, 0.3, 0.1, 7) at t = {steps} (in that order)", hint=HINT, **tolerances.tight)
    got, want = curve(student, reference, range(6), 1.0, 0.5, 1)
    checks.close(got, want, "step_decay(t, 1.0, 0.5, 1) for t = 0, ..., 5", hint=HINT, **tolerances.tight)


@pytest.mark.share(1)
def test_returns_a_python_float(student):
    """The result is a Python float, also for integer arguments: step_decay(3, 1, 1, 2)."""
    value = student.call("step_decay", 3, 1, 1, 2).value
    if type(value) is not float:
        raise checks.Mismatch(f"step_decay(3, 1, 1, 2) returned {checks.describe_type(value)}; return a Python float.",
                              "return float(...).")  # fmt: skip
    checks.close(np.array(value), np.array(1.0), "step_decay(3, 1, 1, 2)", hint=HINT)
