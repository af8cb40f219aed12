"""batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache), for a batch x of shape (N, D).

Training mode against the reference on batches with N != D, features with their own
scales and offsets, data far from 0, eps given and not; the running averages after
several training steps in a row (each step gets the bn_param the previous one left);
test mode with given running averages, which it must use and leave alone; float32
kept float32; the documented cache.
"""

import numpy as np
import pytest

from autograder.kit import checks

RUNNING = ("running_mean", "running_var")
CACHE = ("x", "x_hat", "mu", "var", "gamma", "beta", "eps")
HINTS = {
    "axis": "take the mean and variance of each feature over the batch, axis 0 of x (N, D): both have shape (D,).",
    "var": "normalize with the uncorrected variance (np.var's default, dividing by N) and eps inside the square "
    "root: (x - mu) / np.sqrt(var + eps), then scale by gamma and shift by beta.",
    "eps": "read eps from bn_param, 1e-5 when it has none (bn_param.get('eps', 1e-5)), and add it to the variance "
    "inside the square root.",
    "running": "after each training step, running_mean = momentum * running_mean + (1 - momentum) * mu (the same for "
    "var), stored in bn_param itself; momentum is bn_param.get('momentum', 0.9), and the averages start at zeros.",
    "test": "in 'test' mode, normalize with bn_param['running_mean'] and bn_param['running_var'] (and eps) instead "
    "of the batch's own statistics.",
    "cache": "set cache = (x, x_hat, mu, var, gamma, beta, eps) in 'train' mode, as the docstring says.",
}


def case(draw, N, D, scale=1.0, offset=0.0, dtype=np.float64):
    return draw((N, D), scale, offset, dtype), draw(D, dtype=dtype), draw(D, dtype=dtype)


def check_out(norm, reference, inputs, what, hint, **tolerance):
    out, _, result = norm.forward("batchnorm_forward", *inputs[:3], dict(inputs[3]), return_args=True)
    checks.close(out, reference.batchnorm_forward(*inputs[:3], dict(inputs[3]))[0], what, hint=hint, **tolerance)
    return out, result.args[3]


def averages(bn_param, when):
    """The running averages bn_param holds, or a Mismatch saying which one is missing."""
    for key in RUNNING:
        if key not in bn_param:
            raise checks.Mismatch(f"bn_param has no {key!r} {when}.", HINTS["running"])
    return bn_param["running_mean"], bn_param["running_var"]


def train_steps(norm, reference, batches, gamma, beta, bn_param):
    """The student's and the reference's bn_param after one training step per batch, in a row."""
    mine, theirs = dict(bn_param), dict(bn_param)
    for x in batches:
        _, _, result = norm.forward("batchnorm_forward", x, gamma, beta, mine, return_args=True)
        mine = result.args[3]
        reference.batchnorm_forward(x, gamma, beta, theirs)
    return mine, theirs


def check_averages(mine, theirs, when):
    for key, value, want in zip(RUNNING, averages(mine, when), averages(theirs, when), strict=True):
        checks.close(value, want, f"bn_param[{key!r}] {when}", hint=HINTS["running"])


@pytest.mark.share(2)
def test_train_output(norm, reference, draw):
    """In training mode, out is right for a batch of 8 examples of 5 features."""
    check_out(norm, reference, (*case(draw, 8, 5), {"mode": "train"}), "out", HINTS["var"])


@pytest.mark.share(2)
def test_each_feature_over_the_batch(norm, reference, rng, draw):
    """Each feature is normalized over the batch (axis 0), for 3 x 7 and 16 x 2 batches with their own scales."""
    for N, D in [(3, 7), (16, 2)]:
        x = draw((N, D), scale=rng.uniform(0.5, 4.0, D), offset=rng.uniform(-10, 10, D))
        check_out(norm, reference, (x, draw(D), draw(D), {"mode": "train"}), f"out for x of shape {(N, D)}",
                  HINTS["axis"])  # fmt: skip


@pytest.mark.share(1)
def test_far_from_zero(norm, reference, draw):
    """out is right for data far from 0 (5 * x + 12)."""
    check_out(norm, reference, (*case(draw, 10, 4, scale=5.0, offset=12.0), {"mode": "train"}), "out for 5 * x + 12",
              HINTS["var"])  # fmt: skip


@pytest.mark.share(1)
def test_eps_from_bn_param(norm, reference, draw):
    """Uses the eps bn_param gives (0.1 here, on features of variance about 0.1)."""
    inputs = (*case(draw, 6, 4, scale=0.3), {"mode": "train", "eps": 0.1})
    check_out(norm, reference, inputs, "out with bn_param['eps'] = 0.1", HINTS["eps"])


@pytest.mark.share(1)
def test_default_eps(norm, reference, draw):
    """Without eps in bn_param, adds 1e-5 to the variance (features of variance about 1e-6 here)."""
    check_out(norm, reference, (*case(draw, 6, 4, scale=1e-3), {"mode": "train"}),
              "out for features of variance about 1e-6, with no eps in bn_param", HINTS["eps"])  # fmt: skip


@pytest.mark.share(2)
def test_running_averages_from_zero(norm, reference, draw):
    """Three training steps in a row, from no running averages and the default momentum 0.9."""
    _, gamma, beta = case(draw, 1, 4)
    batches = [draw((6, 4), scale=2.0, offset=offset) for offset in (1.0, -3.0, 5.0)]
    mine, theirs = train_steps(norm, reference, batches, gamma, beta, {"mode": "train"})
    check_averages(mine, theirs, "after three training steps")


@pytest.mark.share(1)
def test_running_averages_with_momentum(norm, reference, rng, draw):
    """Two training steps with momentum 0.7, from given running averages."""
    _, gamma, beta = case(draw, 1, 3)
    bn_param = {"mode": "train", "momentum": 0.7, "running_mean": draw(3), "running_var": rng.uniform(1, 2, 3)}
    batches = [draw((5, 3), scale=3.0, offset=2.0) for _ in range(2)]
    mine, theirs = train_steps(norm, reference, batches, gamma, beta, bn_param)
    check_averages(mine, theirs, "after two training steps with momentum 0.7")


def given_averages(draw, rng, D, eps=1e-5):
    return {"mode": "test", "eps": eps, "running_mean": draw(D, 2.0), "running_var": rng.uniform(0.5, 3.0, D)}


@pytest.mark.share(2)
def test_test_mode_uses_running_averages(norm, reference, rng, draw):
    """In test mode, normalizes with the running averages in bn_param, not the batch's statistics."""
    inputs = (*case(draw, 7, 4, scale=2.0, offset=1.0), given_averages(draw, rng, 4, eps=1e-3))
    check_out(norm, reference, inputs, "out in test mode", HINTS["test"])
    x, gamma, beta, _ = inputs  # a batch of one example works too
    check_out(norm, reference, (x[:1], gamma, beta, inputs[3]), "out in test mode for a batch of one", HINTS["test"])


@pytest.mark.share(1)
def test_test_mode_leaves_running_averages(norm, reference, rng, draw):
    """In test mode, leaves bn_param's running averages as they were."""
    bn_param = given_averages(draw, rng, 4)
    _, after = check_out(norm, reference, (*case(draw, 6, 4), bn_param), "out in test mode", HINTS["test"])
    for key, value, want in zip(
        RUNNING, averages(after, "after a test-mode call"), averages(bn_param, ""), strict=True
    ):
        checks.close(value, want, f"bn_param[{key!r}] after a test-mode call", rtol=0, atol=0,
                     hint="test mode uses the running averages and leaves them unchanged: only training updates them.")  # fmt: skip


@pytest.mark.share(1)
def test_float32(norm, reference, tolerances, draw):
    """Keeps float32 inputs in float32: out, the running averages it creates, and out in test mode."""
    x, gamma, beta = case(draw, 8, 3, scale=5.0, offset=12.0, dtype=np.float32)
    as64 = [a.astype(np.float64) for a in (x, gamma, beta)]
    out, _, result = norm.forward("batchnorm_forward", x, gamma, beta, {"mode": "train"}, return_args=True)
    checks.floating(out, "out for float32 inputs", dtype=np.float32)
    checks.close(out, reference.batchnorm_forward(*as64, {"mode": "train"})[0], "out for float32 inputs",
                 hint=HINTS["var"], **tolerances.float32)  # fmt: skip
    bn_param = result.args[3]
    for key, value in zip(RUNNING, averages(bn_param, "after a training step"), strict=True):
        checks.floating(value, f"bn_param[{key!r}] for float32 x", dtype=np.float32)
    out, _, _ = norm.forward("batchnorm_forward", x, gamma, beta, {**bn_param, "mode": "test"})
    checks.floating(out, "out in test mode for float32 inputs", dtype=np.float32)


@pytest.mark.share(1)
def test_cache_and_inputs_unchanged(norm, reference, draw):
    """Returns cache = (x, x_hat, mu, var, gamma, beta, eps), and changes neither x, gamma, beta nor bn_param's mode."""
    inputs = [*case(draw, 5, 3, scale=2.0), {"mode": "train", "eps": 1e-4, "momentum": 0.5}]
    _, cache, _ = norm.forward("batchnorm_forward", *inputs[:3], dict(inputs[3]))
    norm.cache(cache, reference.batchnorm_forward(*inputs[:3], dict(inputs[3]))[1], CACHE, HINTS["cache"])
    norm.forward_leaves_inputs("batchnorm_forward", inputs, ("x", "gamma", "beta", "bn_param"))
