"""conv_backward_naive(dout, cache) -> (dx, dw, db), channels first (NCHW).

Each gradient is compared with centred differences of the reference
conv_forward_naive (loss = sum(out * dout)) and with the reference
conv_backward_naive. The cache is the documented (x, w, b, conv_param), built here,
never by the student's forward pass.
"""

import numpy as np
import pytest

from autograder.kit import checks, gradients, layer_cases

NAMES = ("dx", "dw", "db")
HINTS = {
    "dx": ("add w[f] * dout[n, f, i, j] to each window of the padded dx, then cut the padding off with "
           "[pad : pad + H] (with pad = 0, [pad:-pad] is empty)."),
    "dw": "accumulate (+=) x_pad[n, :, window] * dout[n, f, i, j] into dw[f] over every example and window.",
    "db": "db[f] is the sum of dout[:, f, :, :] over examples and positions: shape (F,).",
}  # fmt: skip


def case(rng, N, C, H, W, F, HH, WW, stride, pad, dtype=np.float64):
    """dout and cache for one layer; H' and W' follow the forward formula."""
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((F, C, HH, WW)).astype(dtype)
    b = rng.standard_normal(F).astype(dtype)
    H_out = 1 + (H + 2 * pad - HH) // stride
    W_out = 1 + (W + 2 * pad - WW) // stride
    dout = rng.standard_normal((N, F, H_out, W_out)).astype(dtype)
    return dout, (x, w, b, {"stride": stride, "pad": pad})


def expected(reference, dout, cache):
    """The reference's gradients, computed in float64."""
    x, w, b, conv_param = cache
    as64 = tuple(a.astype(np.float64) for a in (x, w, b))
    return reference.conv_backward_naive(dout.astype(np.float64), (*as64, conv_param))


def backward(student, dout, cache, **kwargs):
    result = student.call("conv_backward_naive", dout, cache, **kwargs)
    return checks.parts(result.value, NAMES, "conv_backward_naive"), result


def check_all(student, reference, tolerances, dout, cache, only=NAMES):
    """The gradients in ``only`` against centred differences and the reference (``gradients.check_backward``)."""
    got, _ = backward(student, dout, cache)
    x, w, b, conv_param = cache
    gradients.check_backward(tolerances, NAMES, got, expected(reference, dout, cache),
                             lambda *a: reference.conv_forward_naive(*a, conv_param)[0], (x, w, b), dout, HINTS,
                             only=only, label=f" (stride {conv_param['stride']}, pad {conv_param['pad']})")  # fmt: skip


@pytest.mark.share(1)
def test_output_shapes(student, reference, rng):
    """dx, dw and db have the shapes of x, w and b (and the reference's values), for every geometry."""
    for w in layer_cases.windows():  # every stride, remainder and pad, non-square kernels
        dout, cache = case(rng, 1, 1, w.H, w.W, F=1, HH=w.kh, WW=w.kw, stride=w.stride, pad=w.pad)
        got, _ = backward(student, dout, cache)
        wants = reference.conv_backward_naive(dout, cache)
        for name, actual, like, want in zip(NAMES, got, cache[:3], wants, strict=True):
            checks.shape(actual, like.shape, f"{name} ({w})", hint=HINTS[name])
            checks.close(actual, want, f"{name} ({w})", hint=HINTS[name])


@pytest.mark.share(3)
def test_db(student, reference, tolerances, rng):
    """db is right (stride 2, pad 1, two examples)."""
    check_all(student, reference, tolerances, *case(rng, 2, 3, 5, 4, F=2, HH=3, WW=3, stride=2, pad=1), only=("db",))


@pytest.mark.share(4)
def test_dw(student, reference, tolerances, rng):
    """dw is right (stride 2, pad 1, overlapping windows, two examples)."""
    check_all(student, reference, tolerances, *case(rng, 2, 3, 5, 4, F=2, HH=3, WW=3, stride=2, pad=1), only=("dw",))


@pytest.mark.share(4)
def test_dx(student, reference, tolerances, rng):
    """dx is right (stride 2, pad 1, overlapping windows, two examples)."""
    check_all(student, reference, tolerances, *case(rng, 2, 3, 5, 4, F=2, HH=3, WW=3, stride=2, pad=1), only=("dx",))


@pytest.mark.share(3)
def test_no_padding(student, reference, tolerances, rng):
    """All three gradients are right with stride 1 and pad = 0."""
    check_all(student, reference, tolerances, *case(rng, 2, 2, 4, 3, F=3, HH=2, WW=2, stride=1, pad=0))


@pytest.mark.share(2)
def test_stride_2_no_padding_non_square(student, reference, tolerances, rng):
    """All three gradients are right with stride 2, pad = 0 and 2x3 filters, when some pixels are in no window."""
    check_all(student, reference, tolerances, *case(rng, 2, 2, 5, 6, F=3, HH=2, WW=3, stride=2, pad=0))


@pytest.mark.share(1)
def test_stride_1_pad_2(student, reference, tolerances, rng):
    """All three gradients are right with stride 1 and pad 2."""
    check_all(student, reference, tolerances, *case(rng, 1, 2, 3, 4, F=2, HH=3, WW=3, stride=1, pad=2))


@pytest.mark.share(1)
def test_float32_inputs(student, reference, tolerances, rng):
    """Accepts float32 inputs."""
    dout, cache = case(rng, 2, 2, 4, 3, F=2, HH=2, WW=2, stride=1, pad=1, dtype=np.float32)
    got, _ = backward(student, dout, cache)
    ref = expected(reference, dout, cache)
    for name, actual, want in zip(NAMES, got, ref, strict=True):
        checks.floating(actual, f"{name} for float32 inputs")
        checks.close(actual, want, f"{name} for float32 inputs", hint=HINTS[name], **tolerances.float32)


@pytest.mark.share(1)
def test_float64_and_inputs_unchanged(student, reference, rng):
    """Returns float64 gradients and leaves dout and the cache unchanged."""
    dout, cache = case(rng, 2, 2, 3, 4, F=2, HH=2, WW=2, stride=2, pad=1)
    copies = (dout.copy(), (*[a.copy() for a in cache[:3]], dict(cache[3])))
    got, result = backward(student, *copies, return_args=True)
    ref = reference.conv_backward_naive(dout, cache)
    for name, actual, want in zip(NAMES, got, ref, strict=True):
        checks.floating(actual, name, dtype=np.float64)
        checks.close(actual, want, name, hint=HINTS[name])
    checks.unchanged(dout, result.args[0], "dout")
    checks.unchanged(cache, result.args[1], "cache")
