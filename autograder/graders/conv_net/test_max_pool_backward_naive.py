"""max_pool_backward_naive(dout, cache) -> dx, channels first (NCHW).

dx is compared with centred differences of the reference max_pool_forward_naive
(loss = sum(out * dout)) and with the reference max_pool_backward_naive. The cache is
the documented (x, pool_param), built here. Inputs never tie for a window's maximum.
"""

import numpy as np
import pytest

from autograder.kit import checks, gradients, layer_cases

HINT = ("route each dout[n, c, i, j] to the position of its window's maximum only, and add it (+=): "
        "windows can overlap.")  # fmt: skip


def pool(ph, pw, stride):
    return {"pool_height": ph, "pool_width": pw, "stride": stride}


def case(distinct, rng, shape, pool_param, dtype=np.float64):
    """dout and cache for one pooling layer."""
    x = distinct(*shape, dtype=dtype)
    N, C, H, W = shape
    H_out = 1 + (H - pool_param["pool_height"]) // pool_param["stride"]
    W_out = 1 + (W - pool_param["pool_width"]) // pool_param["stride"]
    dout = rng.standard_normal((N, C, H_out, W_out)).astype(dtype)
    return dout, (x, pool_param)


def expected(reference, dout, cache):
    """(numeric, reference) dx, computed in float64."""
    x, pool_param = cache
    dout, x = dout.astype(np.float64), x.astype(np.float64)
    numeric = gradients.of_output(lambda v: reference.max_pool_forward_naive(v, pool_param)[0], x, dout)
    return numeric, reference.max_pool_backward_naive(dout, (x, pool_param))


def label(pool_param):
    p = pool_param
    return f"dx ({p['pool_height']}x{p['pool_width']} windows, stride {p['stride']})"


def check_case(student, reference, tolerances, dout, cache):
    dx = student.call("max_pool_backward_naive", dout, cache).value
    numeric, ref = expected(reference, dout, cache)
    gradients.check(tolerances, dx, numeric, ref, label(cache[1]), hint=HINT)


@pytest.mark.share(1)
def test_output_shape(student, reference, distinct, rng):
    """dx has the shape of x (and the reference's values), for every stride and remainder."""
    for w in layer_cases.windows(pads=(0,)):
        dout, cache = case(distinct, rng, (1, 1, w.H, w.W), pool(w.kh, w.kw, w.stride))
        dx = student.call("max_pool_backward_naive", dout, cache).value
        checks.shape(dx, cache[0].shape, f"dx ({w})", hint="start from dx = np.zeros_like(x).")
        checks.close(dx, reference.max_pool_backward_naive(dout, cache), f"dx ({w})")


@pytest.mark.share(3)
def test_2x2_stride_2(student, reference, tolerances, distinct, rng):
    """2x2 windows with stride 2 (windows don't overlap), several examples and channels."""
    check_case(student, reference, tolerances, *case(distinct, rng, (2, 3, 4, 6), pool(2, 2, 2)))


@pytest.mark.share(3)
def test_3x3_stride_2_non_tiling(student, reference, tolerances, distinct, rng):
    """Overlapping 3x3 windows with stride 2 that don't tile the 7x5 input."""
    check_case(student, reference, tolerances, *case(distinct, rng, (2, 2, 7, 5), pool(3, 3, 2)))


@pytest.mark.share(3)
def test_shared_maximum(student, reference, tolerances, distinct, rng):
    """3x3 windows with stride 1, where one input is the maximum of several windows."""
    dout, (x, pool_param) = case(distinct, rng, (2, 2, 5, 4), pool(3, 3, 1))
    # move each plane's largest value to (2, 1): it is then the maximum of all 6 windows
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            plane = x[n, c]
            top = np.unravel_index(np.argmax(plane), plane.shape)
            plane[top], plane[2, 1] = plane[2, 1], plane[top]
    check_case(student, reference, tolerances, dout, (x, pool_param))


@pytest.mark.share(2)
def test_non_square_window_large_stride(student, reference, tolerances, distinct, rng):
    """2x3 windows with stride 3 (some inputs are in no window), on a non-square input."""
    check_case(student, reference, tolerances, *case(distinct, rng, (1, 2, 7, 8), pool(2, 3, 3)))


@pytest.mark.share(1)
def test_float32_inputs(student, reference, tolerances, distinct, rng):
    """Accepts float32 inputs."""
    dout, cache = case(distinct, rng, (2, 2, 4, 4), pool(2, 2, 1), dtype=np.float32)
    dx = student.call("max_pool_backward_naive", dout, cache).value
    _, ref = expected(reference, dout, cache)
    checks.floating(dx, "dx for float32 inputs")
    checks.close(dx, ref, "dx for float32 inputs", hint=HINT, **tolerances.float32)


@pytest.mark.share(2)
def test_float64_and_inputs_unchanged(student, reference, distinct, rng):
    """Returns float64 and leaves dout and the cache unchanged."""
    dout, cache = case(distinct, rng, (2, 2, 4, 4), pool(2, 2, 1))
    copies = (dout.copy(), (cache[0].copy(), dict(cache[1])))
    result = student.call("max_pool_backward_naive", *copies, return_args=True)
    ref = reference.max_pool_backward_naive(dout, cache)
    checks.floating(result.value, "dx", dtype=np.float64)
    checks.close(result.value, ref, label(cache[1]), hint=HINT)
    checks.unchanged(dout, result.args[0], "dout")
    checks.unchanged(cache, result.args[1], "cache")
