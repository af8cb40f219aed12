"""max_pool_forward_naive(x, pool_param) -> (out, cache), channels first (NCHW).

Inputs never tie for a window's maximum.
"""

import numpy as np
import pytest

from autograder.kit import checks, layer_cases

NAMES = ("out", "cache")
WINDOW_HINT = ("window (i, j) is x[n, c, i * stride : i * stride + pool_height, j * stride : j * stride + pool_width]; "
               "H' = 1 + (H - pool_height) // stride and W' = 1 + (W - pool_width) // stride.")  # fmt: skip


def pool(ph, pw, stride):
    return {"pool_height": ph, "pool_width": pw, "stride": stride}


def forward(student, x, pool_param, **kwargs):
    result = student.call("max_pool_forward_naive", x, pool_param, **kwargs)
    return checks.parts(result.value, NAMES, "max_pool_forward_naive"), result


def check_case(student, reference, x, pool_param, hint=WINDOW_HINT):
    (out, _), _ = forward(student, x, pool_param)
    p = pool_param
    what = f"out ({p['pool_height']}x{p['pool_width']} windows, stride {p['stride']})"
    checks.close(out, reference.max_pool_forward_naive(x, pool_param)[0], what, hint=hint)


@pytest.mark.share(1)
def test_output_shape(student, reference, distinct):
    """out has shape (N, C, H', W'), with the floor in H' and W', for every stride and remainder."""
    for w in layer_cases.windows(pads=(0,)):  # non-square windows, every (H - pool_height) % stride
        x, pool_param = distinct(1, 2, w.H, w.W), pool(w.kh, w.kw, w.stride)
        (out, _), _ = forward(student, x, pool_param)
        expected = reference.max_pool_forward_naive(x, pool_param)[0]
        checks.shape(out, expected.shape, f"out ({w})", hint=WINDOW_HINT, layout="(N, C, H', W')")
        checks.close(out, expected, f"out ({w})", hint=WINDOW_HINT)


@pytest.mark.share(3)
def test_2x2_stride_2(student, reference, distinct):
    """Correct out for 2x2 windows with stride 2, several examples and channels."""
    check_case(student, reference, distinct(2, 3, 4, 6), pool(2, 2, 2))


@pytest.mark.share(3)
def test_3x3_stride_2_overlapping(student, reference, distinct):
    """Correct out for overlapping 3x3 windows with stride 2, which don't tile the 7x5 input."""
    check_case(student, reference, distinct(2, 2, 7, 5), pool(3, 3, 2),
               hint="slide the window by the stride; a reshape into blocks only works when the windows tile the input.")  # fmt: skip


@pytest.mark.share(2)
def test_non_square_window(student, reference, distinct):
    """Correct out for 2x3 windows with stride 1 (pool_height != pool_width)."""
    check_case(student, reference, distinct(2, 2, 4, 5), pool(2, 3, 1),
               hint="use pool_height for the rows and pool_width for the columns of each window.")  # fmt: skip


@pytest.mark.share(2)
def test_stride_larger_than_window(student, reference, distinct):
    """Correct out when the stride (3) is larger than the 2x2 window, on a non-square input."""
    check_case(student, reference, distinct(1, 2, 8, 7), pool(2, 2, 3))


@pytest.mark.share(1)
def test_float32_inputs(student, reference, tolerances, distinct):
    """Accepts float32 inputs."""
    x, pool_param = distinct(2, 2, 4, 4, dtype=np.float32), pool(2, 2, 2)
    (out, _), _ = forward(student, x, pool_param)
    checks.floating(out, "out for float32 inputs")
    want = reference.max_pool_forward_naive(x.astype(np.float64), pool_param)[0]
    checks.close(out, want, "out for float32 inputs", **tolerances.float32)


@pytest.mark.share(1)
def test_returns_float64(student, reference, distinct):
    """out is float64 for float64 inputs."""
    x, pool_param = distinct(1, 2, 4, 4), pool(2, 2, 2)
    (out, _), _ = forward(student, x, pool_param)
    checks.floating(out, "out", dtype=np.float64)
    checks.close(out, reference.max_pool_forward_naive(x, pool_param)[0], "out")


@pytest.mark.share(1)
def test_cache(student, reference, distinct):
    """Returns cache = (x, pool_param), the inputs unchanged."""
    x, pool_param = distinct(2, 2, 4, 4), pool(2, 2, 2)
    (_, cache), _ = forward(student, x, pool_param)
    checks.cache(cache, (x, pool_param), ("x", "pool_param"))


@pytest.mark.share(1)
def test_does_not_modify_inputs(student, reference, distinct):
    """Leaves x and pool_param unchanged."""
    x, pool_param = distinct(2, 2, 5, 4), pool(2, 2, 1)
    (out, _), result = forward(student, x.copy(), dict(pool_param), return_args=True)
    checks.close(out, reference.max_pool_forward_naive(x, pool_param)[0], "out (2x2 windows, stride 1)",
                 hint=WINDOW_HINT)  # fmt: skip
    checks.unchanged(x, result.args[0], "x")
    checks.unchanged(pool_param, result.args[1], "pool_param")
