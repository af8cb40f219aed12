"""conv_forward(A_prev, W, b, hparameters) -> (Z, cache), channels last.

Calls the student's code makes to zero_pad and conv_single_step are answered by the
reference (declared in assignment.toml's [stand_ins]), so only conv_forward's own code is graded here.
"""

import numpy as np
import pytest

from autograder.kit import checks, layer_cases

NAMES = ("Z", "cache")
CACHE = ("A_prev", "W", "b", "hparameters")
WINDOW_HINT = ("window (h, w) starts at (h*stride, w*stride) of the padded input and is f wide; "
               "n_H = floor((n_H_prev - f + 2*pad) / stride) + 1.")  # fmt: skip
LAYOUT = "(m, n_H, n_W, n_C)"
NEUTRAL = {"stride": 1, "pad": 0}  # the value of each hyperparameter that changes nothing


def inputs(rng, m, n_H_prev, n_W_prev, n_C_prev, f, n_C, stride, pad, dtype=np.float64):
    A_prev = rng.standard_normal((m, n_H_prev, n_W_prev, n_C_prev)).astype(dtype)
    W = rng.standard_normal((f, f, n_C_prev, n_C)).astype(dtype)
    b = rng.standard_normal((1, 1, 1, n_C)).astype(dtype)
    return A_prev, W, b, {"stride": stride, "pad": pad}


def misread(reference, args):
    """Known bugs of this case, named when the student's Z is theirs: stride or pad read
    from the other's key, or not used (a wrong Z that fits no bug gets the test's hint)."""
    return checks.misread_keys(lambda hp: reference.conv_forward(*args[:3], hp)[0], args[3], "Z", NEUTRAL)


def forward(student, *args, **kwargs):
    result = student.call("conv_forward", *args, **kwargs)
    return checks.parts(result.value, NAMES, "conv_forward"), result


def check_case(student, reference, args, hint=WINDOW_HINT):
    s, p = args[3]["stride"], args[3]["pad"]
    (Z, _), _ = forward(student, *args)
    checks.close(Z, reference.conv_forward(*args)[0], f"Z (stride {s}, pad {p})", hint=hint, layout=LAYOUT,
                 known_bugs=misread(reference, args))  # fmt: skip


@pytest.mark.share(2)
def test_output_shape(student, reference, rng):
    """Z has shape (m, n_H, n_W, n_C), with the floor in n_H and n_W, for every stride, remainder and pad."""
    for w in layer_cases.windows(square_kernel=True):  # every (n_H_prev + 2 pad - f) % stride
        args = inputs(rng, 1, w.H, w.W, 1, f=w.kh, n_C=1, stride=w.stride, pad=w.pad)
        (Z, _), _ = forward(student, *args)
        expected = reference.conv_forward(*args)[0]
        bugs = misread(reference, args)
        checks.shape(Z, expected.shape, f"Z ({w})", hint=WINDOW_HINT, layout=LAYOUT, known_bugs=bugs)
        checks.close(Z, expected, f"Z ({w})", hint=WINDOW_HINT, known_bugs=bugs)


@pytest.mark.share(3)
def test_stride_1_no_padding(student, reference, rng):
    """Correct Z with stride 1 and no padding, several examples and filters."""
    check_case(student, reference, inputs(rng, 2, 4, 5, 3, f=3, n_C=2, stride=1, pad=0))


@pytest.mark.share(3)
def test_stride_1_padding_1(student, reference, rng):
    """Correct Z with stride 1 and pad 1 (the padding must be zeros on height and width)."""
    check_case(student, reference, inputs(rng, 2, 3, 4, 2, f=2, n_C=3, stride=1, pad=1),
               hint="pad A_prev with hparameters['pad'] before sliding the window.")  # fmt: skip


@pytest.mark.share(3)
def test_stride_2_overlapping(student, reference, rng):
    """Correct Z with stride 2, pad 1 and overlapping 3x3 windows on non-square images."""
    check_case(student, reference, inputs(rng, 2, 5, 6, 2, f=3, n_C=3, stride=2, pad=1),
               hint="read the stride from hparameters['stride'] and the padding from hparameters['pad'].")  # fmt: skip


@pytest.mark.share(2)
def test_stride_3_pad_2(student, reference, rng):
    """Correct Z with stride 3 and pad 2, when the last window doesn't reach the edge."""
    check_case(student, reference, inputs(rng, 1, 6, 5, 2, f=4, n_C=2, stride=3, pad=2))


@pytest.mark.share(1)
def test_one_by_one_filter(student, reference, rng):
    """Correct Z for 1x1 filters."""
    check_case(student, reference, inputs(rng, 3, 3, 2, 4, f=1, n_C=2, stride=1, pad=0))


@pytest.mark.share(2)
def test_float32_inputs(student, reference, tolerances, rng):
    """Accepts float32 inputs."""
    args = inputs(rng, 2, 4, 4, 2, f=3, n_C=2, stride=1, pad=1, dtype=np.float32)
    (Z, _), _ = forward(student, *args)
    checks.floating(Z, "Z for float32 inputs")
    as64 = [a.astype(np.float64) for a in args[:3]] + [args[3]]
    checks.close(Z, reference.conv_forward(*as64)[0], "Z for float32 inputs", **tolerances.float32)


@pytest.mark.share(1)
def test_returns_float64(student, reference, rng):
    """Z is float64 for float64 inputs."""
    args = inputs(rng, 1, 4, 3, 2, f=2, n_C=2, stride=1, pad=0)
    (Z, _), _ = forward(student, *args)
    checks.floating(Z, "Z", dtype=np.float64)
    checks.close(Z, reference.conv_forward(*args)[0], "Z", layout=LAYOUT, known_bugs=misread(reference, args))


@pytest.mark.share(2)
def test_cache(student, reference, rng):
    """Returns cache = (A_prev, W, b, hparameters), the inputs unchanged."""
    args = inputs(rng, 2, 3, 3, 2, f=2, n_C=2, stride=1, pad=1)
    (_, cache), _ = forward(student, *args)
    checks.cache(cache, args, CACHE)


@pytest.mark.share(1)
def test_does_not_modify_inputs(student, reference, rng):
    """Leaves A_prev, W, b and hparameters unchanged."""
    args = inputs(rng, 2, 4, 3, 2, f=2, n_C=2, stride=2, pad=1)
    copies = [a.copy() for a in args[:3]] + [dict(args[3])]
    (Z, _), result = forward(student, *copies, return_args=True)
    checks.close(Z, reference.conv_forward(*args)[0], "Z (stride 2, pad 1)", hint=WINDOW_HINT, layout=LAYOUT,
                 known_bugs=misread(reference, args))  # fmt: skip
    for before, after, name in zip(args, result.args, CACHE, strict=True):
        checks.unchanged(before, after, name)
