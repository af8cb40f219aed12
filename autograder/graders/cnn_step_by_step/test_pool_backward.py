"""pool_backward(dA, cache, mode="max") -> dA_prev.

dA_prev is compared with centred differences of the reference pool_forward
(loss = sum(A * dA)) and with the reference pool_backward. The cache is built here;
calls to create_mask_from_window and distribute_value get the reference's answer.
Inputs never tie for a window's maximum.
"""

import numpy as np
import pytest

from autograder.kit import checks, gradients, layer_cases

HINTS = {
    "max": ("route dA[i, h, w, c] to the position of the window's maximum, "
            "mask = create_mask_from_window(A_prev[i, window, c]), and add (+=) it: windows can overlap."),
    "average": ("spread dA[i, h, w, c] evenly over its f x f window with distribute_value(da, (f, f)), "
                "and add (+=) it: windows can overlap."),
}  # fmt: skip


def case(distinct, rng, m, n_H_prev, n_W_prev, n_C, f, stride, dtype=np.float64):
    """dA and cache for one pooling layer."""
    A_prev = distinct(m, n_H_prev, n_W_prev, n_C, dtype=dtype)
    n_H, n_W = (n_H_prev - f) // stride + 1, (n_W_prev - f) // stride + 1
    dA = rng.standard_normal((m, n_H, n_W, n_C)).astype(dtype)
    return dA, (A_prev, {"f": f, "stride": stride})


def expected(reference, dA, cache, mode):
    """(numeric, reference) dA_prev, computed in float64."""
    A_prev, hp = cache
    dA = dA.astype(np.float64)
    A_prev = A_prev.astype(np.float64)

    def loss(x):
        return float(np.sum(reference.pool_forward(x, hp, mode=mode)[0] * dA))

    numeric = gradients.numeric(loss, A_prev.copy())
    return numeric, reference.pool_backward(dA, (A_prev, hp), mode=mode)


def check_case(student, reference, tolerances, dA, cache, mode, **kwargs):
    hp = cache[1]
    dA_prev = student.call("pool_backward", dA, cache, mode=mode, **kwargs).value
    numeric, ref = expected(reference, dA, cache, mode)
    gradients.check(
        tolerances,
        dA_prev,
        numeric,
        ref,
        f"dA_prev ({mode} mode, f {hp['f']}, stride {hp['stride']})",
        hint=HINTS[mode],
    )


@pytest.mark.share(1)
def test_output_shape(student, reference, distinct, rng):
    """dA_prev has the shape of A_prev (and the reference's values), for every stride and remainder."""
    for w in layer_cases.windows(pads=(0,), square_kernel=True):
        dA, cache = case(distinct, rng, 1, w.H, w.W, 1, f=w.kh, stride=w.stride)
        dA_prev = student.call("pool_backward", dA, cache, mode="max").value
        checks.shape(dA_prev, cache[0].shape, f"dA_prev ({w})", hint="start from dA_prev = np.zeros(A_prev.shape).")
        checks.close(dA_prev, reference.pool_backward(dA, cache, mode="max"), f"dA_prev ({w})", hint=HINTS["max"])


@pytest.mark.share(3)
def test_max_separate_windows(student, reference, tolerances, distinct, rng):
    """Max mode with f 2 and stride 2 (windows don't overlap), two examples."""
    check_case(student, reference, tolerances, *case(distinct, rng, 2, 4, 6, 2, f=2, stride=2), mode="max")


@pytest.mark.share(4)
def test_max_overlapping_windows(student, reference, tolerances, distinct, rng):
    """Max mode with f 3 and stride 1, where one input is the maximum of several windows."""
    dA, (A_prev, hp) = case(distinct, rng, 2, 5, 4, 2, f=3, stride=1)
    # move each image's largest value to (2, 1): it is then the maximum of all 6 windows
    for i in range(A_prev.shape[0]):
        for c in range(A_prev.shape[3]):
            plane = A_prev[i, :, :, c]
            top = np.unravel_index(np.argmax(plane), plane.shape)
            plane[top], plane[2, 1] = plane[2, 1], plane[top]
    check_case(student, reference, tolerances, dA, (A_prev, hp), mode="max")


@pytest.mark.share(3)
def test_average_separate_windows(student, reference, tolerances, distinct, rng):
    """Average mode with f 2 and stride 2 (windows don't overlap), two examples."""
    check_case(student, reference, tolerances, *case(distinct, rng, 2, 4, 6, 2, f=2, stride=2), mode="average")


@pytest.mark.share(4)
def test_average_overlapping_windows(student, reference, tolerances, distinct, rng):
    """Average mode with f 3 and stride 1 or 2 (overlapping windows)."""
    check_case(student, reference, tolerances, *case(distinct, rng, 2, 5, 4, 2, f=3, stride=1), mode="average")
    check_case(student, reference, tolerances, *case(distinct, rng, 1, 5, 7, 2, f=3, stride=2), mode="average")


@pytest.mark.share(1)
def test_default_mode_is_max(student, reference, tolerances, distinct, rng):
    """Without a mode argument, back-propagates max pooling."""
    dA, cache = case(distinct, rng, 2, 4, 3, 2, f=2, stride=1)
    dA_prev = student.call("pool_backward", dA, cache).value
    numeric, ref = expected(reference, dA, cache, "max")
    gradients.check(tolerances, dA_prev, numeric, ref, "dA_prev (no mode given)",
                           hint="keep the signature pool_backward(dA, cache, mode=\"max\").")  # fmt: skip


@pytest.mark.share(2)
def test_stride_larger_than_window(student, reference, tolerances, distinct, rng):
    """Both modes work when the stride (3) is larger than the window (2)."""
    for mode in ("max", "average"):
        check_case(student, reference, tolerances, *case(distinct, rng, 1, 7, 5, 2, f=2, stride=3), mode=mode)


@pytest.mark.share(1)
def test_float32_inputs(student, reference, tolerances, distinct, rng):
    """Accepts float32 inputs, in both modes."""
    for mode in ("max", "average"):
        dA, cache = case(distinct, rng, 2, 4, 4, 2, f=2, stride=1, dtype=np.float32)
        dA_prev = student.call("pool_backward", dA, cache, mode=mode).value
        _, ref = expected(reference, dA, cache, mode)
        what = f"dA_prev ({mode} mode, float32 inputs)"
        checks.floating(dA_prev, what)
        checks.close(dA_prev, ref, what, hint=HINTS[mode], **tolerances.float32)


@pytest.mark.share(1)
def test_float64_and_inputs_unchanged(student, reference, distinct, rng):
    """Returns float64 and leaves dA and the cache unchanged."""
    dA, cache = case(distinct, rng, 2, 4, 4, 2, f=2, stride=1)
    copies = (dA.copy(), (cache[0].copy(), dict(cache[1])))
    result = student.call("pool_backward", *copies, mode="max", return_args=True)
    _, ref = expected(reference, dA, cache, "max")
    checks.floating(result.value, "dA_prev", dtype=np.float64)
    checks.close(result.value, ref, "dA_prev (max mode)", hint=HINTS["max"])
    checks.unchanged(dA, result.args[0], "dA")
    checks.unchanged(cache, result.args[1], "cache")
