"""cosine_decay(step, total_steps, initial_lr, warmup_steps=0) -> float: a linear warm-up, then a half cosine to 0."""

import numpy as np
import pytest

from autograder.kit import checks

HINT = ("lr = initial_lr * step / warmup_steps while step < warmup_steps; after that "
        "initial_lr / 2 * (1 + cos(pi * min(1, (step - warmup_steps) / (total_steps - warmup_steps)))).")  # fmt: skip


def curve(student, reference, steps, *args, **kwargs):
    got = [checks.scalar(student.call("cosine_decay", int(t), *args, **kwargs).value, f"cosine_decay({t}, ...)",
                         "return the learning rate as a float.") for t in steps]  # fmt: skip
    return np.array(got), np.array([reference.cosine_decay(int(t), *args, **kwargs) for t in steps])


@pytest.mark.share(2)
def test_without_warmup(student, reference, tolerances):
    """cosine_decay(t, 100, 0.2) (no warm-up) for t = 0, 4, 8, ..., 100: from 0.2 at step 0 down to 0."""
    steps = list(range(0, 101, 4))
    got, want = curve(student, reference, steps, 100, 0.2)
    checks.close(got, want, "cosine_decay(t, 100, 0.2) for t = 0, 4, ..., 100 (entry t / 4)", hint=HINT,
                 **tolerances.tight)  # fmt: skip


@pytest.mark.share(1)
def test_warmup_ramp(student, reference, tolerances):
    """With warmup_steps=10: the rate rises linearly from 0 at step 0, through steps 0 to 9."""
    got, want = curve(student, reference, range(10), 60, 0.5, warmup_steps=10)
    checks.close(got, want, "cosine_decay(t, 60, 0.5, warmup_steps=10) for t = 0, ..., 9", hint=HINT,
                 **tolerances.tight)  # fmt: skip


@pytest.mark.share(1)
def test_peak_at_the_end_of_warmup(student, reference, tolerances):
    """At step warmup_steps the rate is exactly initial_lr, and it starts to fall right after."""
    steps = [7, 8, 9]
    got, want = curve(student, reference, steps, 40, 0.3, warmup_steps=8)
    checks.close(got, want, f"cosine_decay(t, 40, 0.3, warmup_steps=8) at t = {steps}", hint=HINT, **tolerances.tight)


@pytest.mark.share(1)
def test_cosine_after_warmup(student, reference, tolerances):
    """With warmup_steps=20 and total_steps=120: the half cosine over steps 20 to 120, ending at 0."""
    steps = list(range(20, 121, 5))
    got, want = curve(student, reference, steps, 120, 0.1, warmup_steps=20)
    checks.close(got, want, "cosine_decay(t, 120, 0.1, warmup_steps=20) for t = 20, 25, ..., 120", hint=HINT,
                 **tolerances.tight)  # fmt: skip


@pytest.mark.share(1)
def test_after_the_end(student, reference, tolerances):
    """Past total_steps the rate stays 0 (with and without warm-up)."""
    steps = [50, 51, 75, 100]
    for kwargs in ({}, {"warmup_steps": 5}):
        got, want = curve(student, reference, steps, 50, 0.1, **kwargs)
        checks.close(got, want, f"cosine_decay(t, 50, 0.1{', warmup_steps=5' if kwargs else ''}) at t = {steps}",
                     hint="clip the progress at 1: min(1, ...).", **tolerances.tight)  # fmt: skip
