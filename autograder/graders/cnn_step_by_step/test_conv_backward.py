"""conv_backward(dZ, cache) -> (dA_prev, dW, db).

Each gradient is compared with centred differences of the reference conv_forward
(loss = sum(Z * dZ)) and with the reference conv_backward. The cache is built here,
never by the student's conv_forward; calls to zero_pad get the reference's answer.
"""

import numpy as np
import pytest

from autograder.kit import checks, gradients, layer_cases

NAMES = ("dA_prev", "dW", "db")
HINTS = {
    "dA_prev": ("add W[:, :, :, c] * dZ[i, h, w, c] to each window of the padded dA_prev, then cut the padding "
                "off (with pad = 0 there is nothing to cut: a[0:-0] is empty)."),
    "dW": "accumulate (+=) a_slice * dZ[i, h, w, c] into dW[:, :, :, c] over every example and window.",
    "db": "accumulate (+=) dZ[i, h, w, c] into db[:, :, :, c] over every example and window.",
}  # fmt: skip
NEUTRAL = {"stride": 1, "pad": 0}  # the value of each hyperparameter that changes nothing


def case(rng, m, n_H_prev, n_W_prev, n_C_prev, f, n_C, stride, pad, dtype=np.float64):
    """dZ and cache for one layer; n_H and n_W follow the forward formula."""
    A_prev = rng.standard_normal((m, n_H_prev, n_W_prev, n_C_prev)).astype(dtype)
    W = rng.standard_normal((f, f, n_C_prev, n_C)).astype(dtype)
    b = rng.standard_normal((1, 1, 1, n_C)).astype(dtype)
    n_H = (n_H_prev - f + 2 * pad) // stride + 1
    n_W = (n_W_prev - f + 2 * pad) // stride + 1
    dZ = rng.standard_normal((m, n_H, n_W, n_C)).astype(dtype)
    return dZ, (A_prev, W, b, {"stride": stride, "pad": pad})


def expected(reference, dZ, cache):
    """The reference's gradients, computed in float64."""
    A_prev, W, b, hp = cache
    as64 = tuple(x.astype(np.float64) for x in (A_prev, W, b))
    return reference.conv_backward(dZ.astype(np.float64), (*as64, hp))


def misread(reference, dZ, cache, k, what):
    """Known bugs of gradient ``k`` in this case, named when the student's answer is theirs:
    stride or pad read from the other's key, or not used."""
    as64 = tuple(x.astype(np.float64) for x in cache[:3])
    return checks.misread_keys(lambda hp: reference.conv_backward(dZ.astype(np.float64), (*as64, hp))[k], cache[3],
                               what, NEUTRAL)  # fmt: skip


def backward(student, dZ, cache, **kwargs):
    result = student.call("conv_backward", dZ, cache, **kwargs)
    return checks.parts(result.value, NAMES, "conv_backward"), result


def check_all(student, reference, tolerances, dZ, cache, only=NAMES):
    """The gradients in ``only`` against centred differences and the reference (``gradients.check_backward``)."""
    got, _ = backward(student, dZ, cache)
    A_prev, W, b, hp = cache
    bugs = {name: misread(reference, dZ, cache, k, name) for k, name in enumerate(NAMES)}
    gradients.check_backward(tolerances, NAMES, got, expected(reference, dZ, cache),
                             lambda *a: reference.conv_forward(*a, hp)[0], (A_prev, W, b), dZ, HINTS, only=only,
                             label=f" (stride {hp['stride']}, pad {hp['pad']})", known_bugs=bugs)  # fmt: skip


@pytest.mark.share(1)
def test_output_shapes(student, reference, rng):
    """dA_prev, dW and db have the shapes of A_prev, W and b (and the reference's values), for every geometry."""
    for w in layer_cases.windows(square_kernel=True):  # every stride, remainder and pad
        dZ, cache = case(rng, 1, w.H, w.W, 1, f=w.kh, n_C=1, stride=w.stride, pad=w.pad)
        got, _ = backward(student, dZ, cache)
        ref = reference.conv_backward(dZ, cache)
        for k, (name, actual, like, want) in enumerate(zip(NAMES, got, cache[:3], ref, strict=True)):
            bugs = misread(reference, dZ, cache, k, name)
            checks.shape(actual, like.shape, f"{name} ({w})", hint=HINTS[name], known_bugs=bugs)
            checks.close(actual, want, f"{name} ({w})", hint=HINTS[name], known_bugs=bugs)


@pytest.mark.share(3)
def test_db(student, reference, tolerances, rng):
    """db is right (stride 2, pad 1, two examples)."""
    check_all(student, reference, tolerances, *case(rng, 2, 5, 4, 3, f=3, n_C=2, stride=2, pad=1), only=("db",))


@pytest.mark.share(4)
def test_dW(student, reference, tolerances, rng):
    """dW is right (stride 2, pad 1, overlapping windows, two examples)."""
    check_all(student, reference, tolerances, *case(rng, 2, 5, 4, 3, f=3, n_C=2, stride=2, pad=1), only=("dW",))


@pytest.mark.share(4)
def test_dA_prev(student, reference, tolerances, rng):
    """dA_prev is right (stride 2, pad 1, overlapping windows, two examples)."""
    check_all(student, reference, tolerances, *case(rng, 2, 5, 4, 3, f=3, n_C=2, stride=2, pad=1), only=("dA_prev",))


@pytest.mark.share(3)
def test_no_padding(student, reference, tolerances, rng):
    """All three gradients are right with pad = 0."""
    check_all(student, reference, tolerances, *case(rng, 2, 4, 3, 2, f=2, n_C=3, stride=1, pad=0))


@pytest.mark.share(2)
def test_stride_1_pad_2(student, reference, tolerances, rng):
    """All three gradients are right with stride 1 and pad 2."""
    check_all(student, reference, tolerances, *case(rng, 1, 3, 4, 2, f=3, n_C=2, stride=1, pad=2))


@pytest.mark.share(1)
def test_stride_3(student, reference, tolerances, rng):
    """All three gradients are right with stride 3, when some inputs are in no window."""
    check_all(student, reference, tolerances, *case(rng, 2, 5, 5, 1, f=2, n_C=2, stride=3, pad=1))


@pytest.mark.share(1)
def test_float32_inputs(student, reference, tolerances, rng):
    """Accepts float32 inputs."""
    dZ, cache = case(rng, 2, 4, 3, 2, f=2, n_C=2, stride=1, pad=1, dtype=np.float32)
    got, _ = backward(student, dZ, cache)
    ref = expected(reference, dZ, cache)
    for name, actual, want in zip(NAMES, got, ref, strict=True):
        checks.floating(actual, f"{name} for float32 inputs")
        checks.close(actual, want, f"{name} for float32 inputs", hint=HINTS[name], **tolerances.float32)


@pytest.mark.share(1)
def test_float64_and_inputs_unchanged(student, reference, rng):
    """Returns float64 gradients and leaves dZ and the cache unchanged."""
    dZ, cache = case(rng, 2, 3, 4, 2, f=2, n_C=2, stride=2, pad=1)
    copies = (dZ.copy(), (*[x.copy() for x in cache[:3]], dict(cache[3])))
    got, result = backward(student, *copies, return_args=True)
    ref = expected(reference, dZ, cache)
    for k, (name, actual, want) in enumerate(zip(NAMES, got, ref, strict=True)):
        checks.floating(actual, name, dtype=np.float64)
        checks.close(actual, want, name, hint=HINTS[name], known_bugs=misread(reference, dZ, cache, k, name))
    checks.unchanged(dZ, result.args[0], "dZ")
    checks.unchanged(cache, result.args[1], "cache")
