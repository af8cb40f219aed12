"""dropout_backward(dout, cache) -> dx, for inverted dropout with cache = (dropout_param, mask).

In training mode dx is dout * mask, with the mask from the cache: here a mask the
grader drew itself, which no seed reproduces, so a backward pass that draws a new mask
fails. Also: centred differences of the reference forward pass with a fixed seed, test
mode (dx = dout), float32, and dout and the cache left unchanged.
"""

import numpy as np
import pytest

from autograder.kit import checks, gradients

FUNCTION = "dropout_backward"
HINT = "in training mode, dx = dout * mask, with the mask from the cache (it already holds the 1 / p): don't draw a new one."


def given_mask(rng, shape, p, dtype=np.float64):
    """A cache whose mask the grader drew: 1 / p for the units kept, 0 for the others."""
    mask = ((rng.random(shape) < p) / p).astype(dtype)
    return {"mode": "train", "p": p, "seed": 0}, mask


def backward(norm, dout, cache, **kwargs):
    result = norm.student.call(FUNCTION, dout, cache, **kwargs)
    return checks.shape(result.value, dout.shape, "dx", HINT), result


@pytest.mark.share(2)
def test_uses_the_mask_from_the_cache(norm, rng):
    """In training mode, dx is dout times the mask in the cache (p = 0.3 and 0.75)."""
    for p in (0.3, 0.75):
        dout = rng.standard_normal((20, 30))
        cache = given_mask(rng, dout.shape, p)
        dx, _ = backward(norm, dout, cache)
        checks.close(dx, dout * cache[1], f"dx for p = {p}", hint=HINT)


@pytest.mark.share(1)
def test_matches_numerical_gradient(norm, reference, tolerances, rng):
    """dx matches centred differences of dropout_forward with a fixed seed (p = 0.6)."""
    x, dout = rng.standard_normal((8, 9)) + 3, rng.standard_normal((8, 9))
    dropout_param = {"mode": "train", "p": 0.6, "seed": 42}
    cache = reference.dropout_forward(x, dict(dropout_param))[1]
    dx, _ = backward(norm, dout, cache)
    numerical = gradients.of_output(lambda v: reference.dropout_forward(v, dict(dropout_param))[0], x, dout)
    gradients.check(tolerances, dx, numerical, reference.dropout_backward(dout, cache), "dx", hint=HINT)


@pytest.mark.share(1)
def test_test_mode(norm, rng):
    """In test mode (mask None), dx is dout."""
    dout = rng.standard_normal((6, 7))
    dx, _ = backward(norm, dout, ({"mode": "test", "p": 0.4}, None))
    checks.close(dx, dout, "dx in test mode", rtol=0, atol=0,
                 hint="in test mode dropout is the identity, so dx = dout; the mask is None.")  # fmt: skip


@pytest.mark.share(1)
def test_float32(norm, rng, tolerances):
    """For a float32 dout and mask, dx is float32."""
    dout = rng.standard_normal((10, 12)).astype(np.float32)
    cache = given_mask(rng, dout.shape, 0.5, dtype=np.float32)
    dx, _ = backward(norm, dout, cache)
    checks.floating(dx, "dx for float32 inputs", dtype=np.float32)
    checks.close(dx, dout.astype(np.float64) * cache[1], "dx for float32 inputs", hint=HINT, **tolerances.float32)


@pytest.mark.share(1)
def test_does_not_modify_its_inputs(norm, rng):
    """Leaves dout and the cache unchanged."""
    dout = rng.standard_normal((9, 4))
    dropout_param, mask = given_mask(rng, dout.shape, 0.5)
    dx, result = backward(norm, dout.copy(), (dict(dropout_param), mask.copy()), return_args=True)
    checks.close(dx, dout * mask, "dx", hint=HINT)
    checks.unchanged(dout, result.args[0], "dout")
    checks.unchanged((dropout_param, mask), result.args[1], "cache")
