"""conv_forward_naive(x, w, b, conv_param) -> (out, cache), channels first (NCHW)."""

import numpy as np
import pytest

from autograder.kit import checks, layer_cases

NAMES = ("out", "cache")
CACHE = ("x", "w", "b", "conv_param")
WINDOW_HINT = ("window (i, j) of the padded input starts at row i * stride and column j * stride and is HH x WW; "
               "H' = 1 + (H + 2 * pad - HH) // stride and W' = 1 + (W + 2 * pad - WW) // stride.")  # fmt: skip
LAYOUT = "(N, F, H', W')"
NEUTRAL = {"stride": 1, "pad": 0}  # the value of each hyperparameter that changes nothing


def inputs(rng, N, C, H, W, F, HH, WW, stride, pad, dtype=np.float64):
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    w = rng.standard_normal((F, C, HH, WW)).astype(dtype)
    b = rng.standard_normal(F).astype(dtype)
    return x, w, b, {"stride": stride, "pad": pad}


def misread(reference, args):
    """Known bugs of this case, named when the student's out is theirs: stride or pad read
    from the other's key, or not used (a wrong out that fits no bug gets the test's hint)."""
    return checks.misread_keys(lambda cp: reference.conv_forward_naive(*args[:3], cp)[0], args[3], "out", NEUTRAL,
                               name="conv_param")  # fmt: skip


def forward(student, *args, **kwargs):
    result = student.call("conv_forward_naive", *args, **kwargs)
    return checks.parts(result.value, NAMES, "conv_forward_naive"), result


def check_case(student, reference, args, hint=WINDOW_HINT):
    s, p = args[3]["stride"], args[3]["pad"]
    (out, _), _ = forward(student, *args)
    checks.close(out, reference.conv_forward_naive(*args)[0], f"out (stride {s}, pad {p})", hint=hint,
                 layout=LAYOUT, known_bugs=misread(reference, args))  # fmt: skip


@pytest.mark.share(2)
def test_output_shape(student, reference, rng):
    """out has shape (N, F, H', W'), with the floor in H' and W', for every stride, remainder and pad."""
    for w in layer_cases.windows():  # non-square inputs and kernels, every (H + 2 pad - HH) % stride
        args = inputs(rng, 1, 1, w.H, w.W, F=1, HH=w.kh, WW=w.kw, stride=w.stride, pad=w.pad)
        (out, _), _ = forward(student, *args)
        expected = reference.conv_forward_naive(*args)[0]
        bugs = misread(reference, args)
        checks.shape(out, expected.shape, f"out ({w})", hint=WINDOW_HINT, layout=LAYOUT, known_bugs=bugs)
        checks.close(out, expected, f"out ({w})", hint=WINDOW_HINT, known_bugs=bugs)


@pytest.mark.share(3)
def test_stride_1_no_padding(student, reference, rng):
    """Correct out with stride 1 and no padding, several examples and filters."""
    check_case(student, reference, inputs(rng, 2, 3, 4, 5, F=2, HH=3, WW=3, stride=1, pad=0))


@pytest.mark.share(3)
def test_stride_1_same_padding(student, reference, rng):
    """Correct out with stride 1 and pad 1 (a "same" convolution: zeros around height and width)."""
    check_case(student, reference, inputs(rng, 2, 2, 5, 4, F=3, HH=3, WW=3, stride=1, pad=1),
               hint="pad x with conv_param['pad'] zeros on each side of its height and width (axes 2 and 3) only.")  # fmt: skip


@pytest.mark.share(3)
def test_stride_2_overlapping(student, reference, rng):
    """Correct out with stride 2, pad 1 and overlapping 3x3 windows on non-square images."""
    check_case(student, reference, inputs(rng, 2, 2, 7, 6, F=3, HH=3, WW=3, stride=2, pad=1),
               hint="read the stride from conv_param['stride'] and the padding from conv_param['pad'].")  # fmt: skip


@pytest.mark.share(2)
def test_non_square_filters(student, reference, rng):
    """Correct out with 2x3 filters (HH != WW), stride 2 and pad 2."""
    check_case(student, reference, inputs(rng, 2, 3, 5, 6, F=2, HH=2, WW=3, stride=2, pad=2),
               hint="take the filter height HH and width WW separately from w.shape (F, C, HH, WW).")  # fmt: skip


@pytest.mark.share(2)
def test_stride_3_no_padding(student, reference, rng):
    """Correct out with stride 3 and no padding, when the last window doesn't reach the edge."""
    check_case(student, reference, inputs(rng, 1, 2, 8, 7, F=2, HH=2, WW=2, stride=3, pad=0))


@pytest.mark.share(1)
def test_one_by_one_filter(student, reference, rng):
    """Correct out for 1x1 filters."""
    check_case(student, reference, inputs(rng, 3, 4, 3, 2, F=2, HH=1, WW=1, stride=1, pad=0))


@pytest.mark.share(1)
def test_float32_inputs(student, reference, tolerances, rng):
    """Accepts float32 inputs."""
    args = inputs(rng, 2, 2, 4, 4, F=2, HH=3, WW=3, stride=1, pad=1, dtype=np.float32)
    (out, _), _ = forward(student, *args)
    checks.floating(out, "out for float32 inputs")
    as64 = [a.astype(np.float64) for a in args[:3]] + [args[3]]
    checks.close(out, reference.conv_forward_naive(*as64)[0], "out for float32 inputs", **tolerances.float32)


@pytest.mark.share(1)
def test_returns_float64(student, reference, rng):
    """out is float64 for float64 inputs."""
    args = inputs(rng, 1, 2, 4, 3, F=2, HH=2, WW=2, stride=1, pad=0)
    (out, _), _ = forward(student, *args)
    checks.floating(out, "out", dtype=np.float64)
    checks.close(out, reference.conv_forward_naive(*args)[0], "out", layout=LAYOUT,
                 known_bugs=misread(reference, args))  # fmt: skip


@pytest.mark.share(1)
def test_cache(student, reference, rng):
    """Returns cache = (x, w, b, conv_param), the inputs unchanged (x not padded)."""
    args = inputs(rng, 2, 2, 3, 3, F=2, HH=2, WW=2, stride=1, pad=1)
    (_, cache), _ = forward(student, *args)
    checks.cache(cache, args, CACHE)


@pytest.mark.share(1)
def test_does_not_modify_inputs(student, reference, rng):
    """Leaves x, w, b and conv_param unchanged."""
    args = inputs(rng, 2, 2, 4, 3, F=2, HH=2, WW=2, stride=2, pad=1)
    copies = [a.copy() for a in args[:3]] + [dict(args[3])]
    (out, _), result = forward(student, *copies, return_args=True)
    checks.close(out, reference.conv_forward_naive(*args)[0], "out (stride 2, pad 1)", hint=WINDOW_HINT,
                 layout=LAYOUT, known_bugs=misread(reference, args))  # fmt: skip
    for before, after, name in zip(args, result.args, CACHE, strict=True):
        checks.unchanged(before, after, name)
