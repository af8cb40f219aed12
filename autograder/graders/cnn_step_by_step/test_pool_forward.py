"""pool_forward(A_prev, hparameters, mode="max") -> (A, cache), channels last.

Inputs never tie for a window's maximum.
"""

import numpy as np
import pytest

from autograder.kit import checks, layer_cases

NAMES = ("A", "cache")
WINDOW_HINT = ("window (h, w) covers rows h*stride to h*stride + f and columns w*stride to w*stride + f, "
               "one channel at a time; n_H = floor((n_H_prev - f) / stride) + 1.")  # fmt: skip
MODE_HINT = {
    "max": "in 'max' mode, take np.max of each window.",
    "average": "in 'average' mode, take np.mean of each window (the sum divided by f*f).",
}


def forward(student, A_prev, hparameters, mode=None, **kwargs):
    extra = {} if mode is None else {"mode": mode}
    result = student.call("pool_forward", A_prev, hparameters, **extra, **kwargs)
    return checks.parts(result.value, NAMES, "pool_forward"), result


def check_case(student, reference, A_prev, f, stride, mode, hint=None):
    hp = {"f": f, "stride": stride}
    (A, _), _ = forward(student, A_prev, hp, mode)
    expected = reference.pool_forward(A_prev, hp, mode=mode)[0]
    checks.close(
        A, expected, f"A ({mode} pooling, f {f}, stride {stride})", hint=hint or MODE_HINT[mode] + " " + WINDOW_HINT
    )


@pytest.mark.share(1)
def test_output_shape(student, reference, distinct):
    """A has shape (m, n_H, n_W, n_C), with the floor in n_H and n_W, for every stride and remainder."""
    for w in layer_cases.windows(pads=(0,), square_kernel=True):  # every (n_H_prev - f) % stride
        A_prev, hp = distinct(1, w.H, w.W, 2), {"f": w.kh, "stride": w.stride}
        (A, _), _ = forward(student, A_prev, hp, "max")
        expected = reference.pool_forward(A_prev, hp, mode="max")[0]
        checks.shape(A, expected.shape, f"A ({w})", hint=WINDOW_HINT, layout="(m, n_H, n_W, n_C)")
        checks.close(A, expected, f"A ({w})", hint=WINDOW_HINT)


@pytest.mark.share(2)
def test_max_stride_1(student, reference, distinct):
    """Max pooling with stride 1 (overlapping windows), several examples and channels."""
    check_case(student, reference, distinct(2, 3, 4, 2), f=2, stride=1, mode="max")


@pytest.mark.share(2)
def test_max_stride_2(student, reference, distinct):
    """Max pooling with f 3 and stride 2 on non-square images."""
    check_case(student, reference, distinct(2, 5, 6, 2), f=3, stride=2, mode="max")


@pytest.mark.share(2)
def test_average_stride_1(student, reference, distinct):
    """Average pooling with stride 1 (overlapping windows)."""
    check_case(student, reference, distinct(2, 3, 4, 2), f=2, stride=1, mode="average")


@pytest.mark.share(2)
def test_average_stride_2(student, reference, distinct):
    """Average pooling with f 3 and stride 2 on non-square images."""
    check_case(student, reference, distinct(2, 5, 6, 2), f=3, stride=2, mode="average")


@pytest.mark.share(1)
def test_default_mode_is_max(student, reference, distinct):
    """Without a mode argument, pools with max."""
    A_prev, hp = distinct(2, 4, 3, 2), {"f": 2, "stride": 1}
    (A, _), _ = forward(student, A_prev, hp)
    checks.close(A, reference.pool_forward(A_prev, hp)[0], "A (no mode given)",
                 hint="keep the signature pool_forward(A_prev, hparameters, mode=\"max\").")  # fmt: skip


@pytest.mark.share(1)
def test_stride_larger_than_window(student, reference, distinct):
    """Both modes work when the stride (3) is larger than the window (2)."""
    A_prev = distinct(1, 7, 5, 2)
    for mode in ("max", "average"):
        check_case(student, reference, A_prev, f=2, stride=3, mode=mode)


@pytest.mark.share(2)
def test_cache(student, reference, distinct):
    """Returns cache = (A_prev, hparameters), the inputs unchanged."""
    A_prev, hp = distinct(2, 3, 3, 2), {"f": 2, "stride": 1}
    (_, cache), _ = forward(student, A_prev, hp, "max")
    checks.cache(cache, (A_prev, hp), ("A_prev", "hparameters"))


@pytest.mark.share(1)
def test_float32_inputs(student, reference, tolerances, distinct):
    """Accepts float32 inputs, in both modes."""
    A_prev, hp = distinct(2, 4, 4, 2, dtype=np.float32), {"f": 2, "stride": 2}
    for mode in ("max", "average"):
        (A, _), _ = forward(student, A_prev, hp, mode)
        checks.floating(A, f"A ({mode} pooling, float32 input)")
        expected = reference.pool_forward(A_prev.astype(np.float64), hp, mode=mode)[0]
        checks.close(A, expected, f"A ({mode} pooling, float32 input)", **tolerances.float32)


@pytest.mark.share(1)
def test_float64_and_inputs_unchanged(student, reference, distinct):
    """Returns float64 for float64 input and leaves A_prev and hparameters unchanged."""
    A_prev, hp = distinct(2, 4, 3, 2), {"f": 2, "stride": 1}
    (A, _), result = forward(student, A_prev.copy(), dict(hp), "average", return_args=True)
    checks.floating(A, "A", dtype=np.float64)
    checks.close(A, reference.pool_forward(A_prev, hp, mode="average")[0], "A (average pooling)")
    checks.unchanged(A_prev, result.args[0], "A_prev")
    checks.unchanged(hp, result.args[1], "hparameters")
