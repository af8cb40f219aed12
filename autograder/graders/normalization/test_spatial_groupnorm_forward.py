"""spatial_groupnorm_forward(x, gamma, beta, G, gn_param) -> (out, cache), for x of shape (N, C, H, W).

Against the reference for G = 2, 3, 1 and C, channel counts that aren't multiples of
4, non-square feature maps, data far from 0, eps given and not; gamma and beta of
shape (1, C, 1, 1); float32 kept float32; the documented cache.
"""

import numpy as np
import pytest

from autograder.kit import checks

FUNCTION = "spatial_groupnorm_forward"
CACHE = ("x", "x_hat", "mu", "var", "gamma", "beta", "G", "eps")
HINTS = {
    "groups": "group C // G consecutive channels: x.reshape(N, G, C // G, H, W), then take each group's mean and "
    "variance over its last three axes (channels, height, width) with keepdims=True.",
    "scale": "normalize each group with its uncorrected variance and eps inside the square root, reshape back to "
    "(N, C, H, W), then scale by gamma and shift by beta, both of shape (1, C, 1, 1).",
    "eps": "read eps from gn_param, 1e-5 when it has none (gn_param.get('eps', 1e-5)).",
    "cache": "set cache = (x, x_hat, mu, var, gamma, beta, G, eps), with mu and var of shape (N, G, 1, 1, 1).",
}


def case(draw, N, C, H, W, scale=2.0, offset=1.0, dtype=np.float64):
    return draw((N, C, H, W), scale, offset, dtype), draw((1, C, 1, 1), dtype=dtype), draw((1, C, 1, 1), dtype=dtype)


def check_out(norm, reference, x, gamma, beta, G, gn_param, what, hint=HINTS["groups"]):
    out, _, _ = norm.forward(FUNCTION, x, gamma, beta, G, dict(gn_param))
    checks.close(out, reference.spatial_groupnorm_forward(x, gamma, beta, G, dict(gn_param))[0], what, hint=hint)


@pytest.mark.share(2)
def test_two_groups(norm, reference, draw):
    """out is right for G = 2 groups of 3 channels, on non-square 3x4 feature maps."""
    check_out(norm, reference, *case(draw, 2, 6, 3, 4), 2, {}, "out for G = 2, C = 6")


@pytest.mark.share(1)
def test_three_groups(norm, reference, rng, draw):
    """out is right for G = 3 groups of 2 channels, each channel with its own scale and offset."""
    x = draw((3, 6, 2, 5), scale=rng.uniform(0.5, 4.0, (1, 6, 1, 1)), offset=rng.uniform(-10, 10, (1, 6, 1, 1)))
    check_out(norm, reference, x, *case(draw, 1, 6, 1, 1)[1:], 3, {}, "out for G = 3, C = 6")


@pytest.mark.share(1)
def test_one_group(norm, reference, draw):
    """G = 1 normalizes each example over all its channels and positions (C = 5)."""
    check_out(norm, reference, *case(draw, 2, 5, 3, 2), 1, {}, "out for G = 1, C = 5")


@pytest.mark.share(1)
def test_one_channel_per_group(norm, reference, draw):
    """G = C normalizes each channel of each example on its own (C = 5)."""
    check_out(norm, reference, *case(draw, 2, 5, 2, 3), 5, {}, "out for G = C = 5")


@pytest.mark.share(1)
def test_far_from_zero(norm, reference, draw):
    """out is right for data far from 0 (5 * x + 12), G = 2."""
    check_out(norm, reference, *case(draw, 2, 4, 3, 3, scale=5.0, offset=12.0), 2, {}, "out for 5 * x + 12",
              HINTS["scale"])  # fmt: skip


@pytest.mark.share(1)
def test_eps(norm, reference, draw):
    """Uses the eps gn_param gives (0.1 on groups of variance about 0.1), and 1e-5 when it gives none."""
    check_out(norm, reference, *case(draw, 2, 4, 2, 3, scale=0.3, offset=0.0), 2, {"eps": 0.1},
              "out with gn_param['eps'] = 0.1", HINTS["eps"])  # fmt: skip
    check_out(norm, reference, *case(draw, 2, 4, 2, 3, scale=1e-3, offset=0.0), 2, {},
              "out for groups of variance about 1e-6, no eps given", HINTS["eps"])  # fmt: skip


@pytest.mark.share(1)
def test_float32(norm, reference, tolerances, draw):
    """Keeps float32 inputs in float32."""
    x, gamma, beta = case(draw, 2, 6, 3, 2, dtype=np.float32)
    out, _, _ = norm.forward(FUNCTION, x, gamma, beta, 3, {})
    checks.floating(out, "out for float32 inputs", dtype=np.float32)
    expected = reference.spatial_groupnorm_forward(*[a.astype(np.float64) for a in (x, gamma, beta)], 3, {})[0]
    checks.close(out, expected, "out for float32 inputs", hint=HINTS["scale"], **tolerances.float32)


@pytest.mark.share(1)
def test_cache_and_inputs_unchanged(norm, reference, draw):
    """Returns cache = (x, x_hat, mu, var, gamma, beta, G, eps), and changes none of its inputs."""
    inputs = [*case(draw, 2, 4, 2, 3), 2, {"eps": 1e-4}]
    _, cache, _ = norm.forward(FUNCTION, *inputs[:4], dict(inputs[4]))
    norm.cache(cache, reference.spatial_groupnorm_forward(*inputs[:4], dict(inputs[4]))[1], CACHE, HINTS["cache"])
    norm.forward_leaves_inputs(FUNCTION, inputs, ("x", "gamma", "beta", "G", "gn_param"))
