"""layernorm_forward(x, gamma, beta, ln_param) -> (out, cache), for a batch x of shape (N, D).

Against the reference on batches whose examples have their own scales and offsets
(N != D, and N = 1), data far from 0, eps given and not; float32 kept float32; the
documented cache.
"""

import numpy as np
import pytest

from autograder.kit import checks

FUNCTION = "layernorm_forward"
CACHE = ("x", "x_hat", "mu", "var", "gamma", "beta", "eps")
HINTS = {
    "axis": "take the mean and variance of each example over its features, axis 1 of x (N, D), with keepdims=True: "
    "shape (N, 1).",
    "var": "normalize with the uncorrected variance (np.var's default) and eps inside the square root, then scale by "
    "gamma and shift by beta (both of shape (D,)).",
    "eps": "read eps from ln_param, 1e-5 when it has none (ln_param.get('eps', 1e-5)).",
    "cache": "set cache = (x, x_hat, mu, var, gamma, beta, eps), with mu and var of shape (N, 1).",
}


def case(draw, N, D, scale=1.0, offset=0.0, dtype=np.float64):
    return draw((N, D), scale, offset, dtype), draw(D, dtype=dtype), draw(D, dtype=dtype)


def check_out(norm, reference, x, gamma, beta, ln_param, what, hint):
    out, _, _ = norm.forward(FUNCTION, x, gamma, beta, dict(ln_param))
    checks.close(out, reference.layernorm_forward(x, gamma, beta, dict(ln_param))[0], what, hint=hint)


@pytest.mark.share(2)
def test_output(norm, reference, draw):
    """out is right for a batch of 4 examples of 7 features."""
    check_out(norm, reference, *case(draw, 4, 7), {}, "out", HINTS["var"])


@pytest.mark.share(2)
def test_each_example_over_its_features(norm, reference, rng, draw):
    """Each example is normalized over its features (axis 1), for a 6 x 3 batch with their own scales, and alone."""
    x = draw((6, 3), scale=rng.uniform(0.5, 4.0, (6, 1)), offset=rng.uniform(-10, 10, (6, 1)))
    check_out(norm, reference, x, draw(3), draw(3), {}, "out for x of shape (6, 3)", HINTS["axis"])
    check_out(norm, reference, *case(draw, 1, 5), {}, "out for a batch of one example", HINTS["axis"])


@pytest.mark.share(1)
def test_far_from_zero(norm, reference, draw):
    """out is right for data far from 0 (5 * x + 12)."""
    check_out(norm, reference, *case(draw, 5, 6, scale=5.0, offset=12.0), {}, "out for 5 * x + 12", HINTS["var"])


@pytest.mark.share(1)
def test_eps(norm, reference, draw):
    """Uses the eps ln_param gives (0.1, on rows of variance about 0.1), and 1e-5 when it gives none."""
    check_out(norm, reference, *case(draw, 4, 5, scale=0.3), {"eps": 0.1}, "out with ln_param['eps'] = 0.1",
              HINTS["eps"])  # fmt: skip
    check_out(norm, reference, *case(draw, 4, 5, scale=1e-3), {}, "out for rows of variance about 1e-6, no eps given",
              HINTS["eps"])  # fmt: skip


@pytest.mark.share(1)
def test_float32(norm, reference, tolerances, draw):
    """Keeps float32 inputs in float32."""
    x, gamma, beta = case(draw, 5, 4, scale=5.0, offset=12.0, dtype=np.float32)
    out, _, _ = norm.forward(FUNCTION, x, gamma, beta, {})
    checks.floating(out, "out for float32 inputs", dtype=np.float32)
    expected = reference.layernorm_forward(*[a.astype(np.float64) for a in (x, gamma, beta)], {})[0]
    checks.close(out, expected, "out for float32 inputs", hint=HINTS["var"], **tolerances.float32)


@pytest.mark.share(1)
def test_cache_and_inputs_unchanged(norm, reference, draw):
    """Returns cache = (x, x_hat, mu, var, gamma, beta, eps), and changes none of its inputs."""
    inputs = [*case(draw, 4, 3, scale=2.0), {"eps": 1e-4}]
    _, cache, _ = norm.forward(FUNCTION, *inputs[:3], dict(inputs[3]))
    norm.cache(cache, reference.layernorm_forward(*inputs[:3], dict(inputs[3]))[1], CACHE, HINTS["cache"])
    norm.forward_leaves_inputs(FUNCTION, inputs, ("x", "gamma", "beta", "ln_param"))
