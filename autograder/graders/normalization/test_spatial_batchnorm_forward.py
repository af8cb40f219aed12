"""spatial_batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache), for x of shape (N, C, H, W).

Each channel is normalized over N, H and W. The student's calls to batchnorm_forward
are answered by the reference ([stand_ins]). Such an answer can't update the student's
bn_param in place (only return values cross the sandbox), so the running-average tests
replay those calls on one dictionary as they are answered, as the real batchnorm_forward
would have updated it (``Replay``: only the running averages are kept, never a call's
arrays); a solution that computes the averages itself is held to its own bn_param.
"""

import numpy as np
import pytest

from autograder.kit import checks
from autograder.kit.inner_calls import patched

FUNCTION = "spatial_batchnorm_forward"
RUNNING = ("running_mean", "running_var")
CACHE = ("x_rows", "x_hat_rows", "mu", "var", "gamma", "beta", "eps")
HINTS = {
    "layout": "move the channels last and flatten, x.transpose(0, 2, 3, 1).reshape(-1, C), normalize those rows with "
    "batchnorm_forward, then reshape to (N, H, W, C) and transpose back to (N, C, H, W).",
    "running": "pass bn_param itself on to batchnorm_forward: it updates the running averages in place, with the "
    "momentum and eps bn_param holds.",
    "test": "pass bn_param on to batchnorm_forward unchanged: in 'test' mode it normalizes with the running averages.",
    "cache": "return the cache batchnorm_forward gives for the rows of x.transpose(0, 2, 3, 1).reshape(-1, C), in that "
    "order.",
}


def case(draw, N, C, H, W, dtype=np.float64):
    return draw((N, C, H, W), 2.0, 1.0, dtype), draw(C, dtype=dtype), draw(C, dtype=dtype)


class Replay:
    """Answers the student's calls to batchnorm_forward with the reference, and replays each on one
    dictionary as it is answered: the running averages the calls would have left in place, had
    batchnorm_forward updated the student's bn_param. It keeps those averages only (C numbers
    each), never a call's arrays: a student's calls can't make the grader hold more."""

    def __init__(self, reference):
        self.reference, self.state, self.calls, self.not_a_dict = reference, {}, 0, False

    def __call__(self, x, gamma, beta, bn_param):
        self.calls += 1
        out = self.reference.batchnorm_forward(x, gamma, beta, dict(bn_param))
        if isinstance(bn_param, dict):
            replayed = {**bn_param, **{k: v for k, v in self.state.items() if k in RUNNING}}
            self.reference.batchnorm_forward(x, gamma, beta, replayed)
            self.state = {k: replayed[k] for k in RUNNING if k in replayed}
        else:
            self.not_a_dict = True
        return out

    def averages(self):
        if self.not_a_dict:
            raise checks.Mismatch("Your code passed batchnorm_forward something other than a dictionary as bn_param.",
                                  HINTS["running"])  # fmt: skip
        return self.state


def run(norm, reference, grader_helpers, batches, gamma, beta, bn_param):
    """Outputs of the student's function for each batch in a row, and the bn_param they leave."""
    replay, outs = Replay(reference), []
    with patched(grader_helpers, batchnorm_forward=replay):
        for x in batches:
            out, _, result = norm.forward(FUNCTION, x, gamma, beta, bn_param, return_args=True)
            outs.append(out)
            bn_param = result.args[3]
    return outs, (replay.averages() if replay.calls else bn_param)


def check_averages(mine, theirs, when):
    for key in RUNNING:
        if key not in mine:
            raise checks.Mismatch(f"bn_param has no {key!r} {when}.", HINTS["running"])
        checks.close(mine[key], theirs[key], f"bn_param[{key!r}] {when}", hint=HINTS["running"])


def check_out(norm, reference, x, gamma, beta, bn_param, what):
    out, _, _ = norm.forward(FUNCTION, x, gamma, beta, dict(bn_param))
    checks.close(out, reference.spatial_batchnorm_forward(x, gamma, beta, dict(bn_param))[0], what,
                 hint=HINTS["layout"])  # fmt: skip


@pytest.mark.share(2)
def test_train_output(norm, reference, draw):
    """In training mode, out is right for non-square 4x5 feature maps of 3 channels."""
    check_out(norm, reference, *case(draw, 2, 3, 4, 5), {"mode": "train"}, "out")


@pytest.mark.share(2)
def test_each_channel_over_batch_and_positions(norm, reference, rng, draw):
    """Each channel is normalized over N, H and W, for 5 channels with their own scales, and for one example."""
    x = draw((3, 5, 2, 3), scale=rng.uniform(0.5, 4.0, (1, 5, 1, 1)), offset=rng.uniform(-10, 10, (1, 5, 1, 1)))
    check_out(norm, reference, x, draw(5), draw(5), {"mode": "train"}, "out for x of shape (3, 5, 2, 3)")
    check_out(norm, reference, *case(draw, 1, 2, 3, 4), {"mode": "train", "eps": 0.1},
              "out for one example, with eps = 0.1")  # fmt: skip


@pytest.mark.share(2)
def test_running_averages(norm, reference, grader_helpers, draw):
    """Three training steps in a row with momentum 0.8, on batches of different sizes, update the running averages."""
    _, gamma, beta = case(draw, 1, 3, 1, 1)
    batches = [draw(shape, 3.0, offset) for shape, offset in [((2, 3, 4, 5), 1.0), ((3, 3, 2, 2), -2.0),
                                                             ((1, 3, 5, 3), 4.0)]]  # fmt: skip
    outs, mine = run(norm, reference, grader_helpers, batches, gamma, beta, {"mode": "train", "momentum": 0.8})
    theirs = {"mode": "train", "momentum": 0.8}
    for step, (x, out) in enumerate(zip(batches, outs, strict=True), start=1):
        checks.close(out, reference.spatial_batchnorm_forward(x, gamma, beta, theirs)[0], f"out of step {step}",
                     hint=HINTS["layout"])  # fmt: skip
    check_averages(mine, theirs, "after three training steps")


@pytest.mark.share(2)
def test_test_mode(norm, reference, grader_helpers, rng, draw):
    """In test mode, normalizes with the running averages in bn_param, and leaves them alone."""
    x, gamma, beta = case(draw, 2, 4, 3, 2)
    bn_param = {"mode": "test", "running_mean": draw(4), "running_var": rng.uniform(0.5, 3.0, 4)}
    outs, after = run(norm, reference, grader_helpers, [x], gamma, beta, dict(bn_param))
    expected = reference.spatial_batchnorm_forward(x, gamma, beta, dict(bn_param))[0]
    checks.close(outs[0], expected, "out in test mode", hint=HINTS["test"])
    for key in RUNNING:
        checks.close(after.get(key, bn_param[key]), bn_param[key], f"bn_param[{key!r}] after a test-mode call",
                     hint="test mode leaves the running averages unchanged.")  # fmt: skip


@pytest.mark.share(1)
def test_float32(norm, reference, tolerances, draw):
    """Keeps float32 inputs in float32."""
    x, gamma, beta = case(draw, 2, 3, 3, 4, dtype=np.float32)
    out, _, _ = norm.forward(FUNCTION, x, gamma, beta, {"mode": "train"})
    checks.floating(out, "out for float32 inputs", dtype=np.float32)
    expected = reference.spatial_batchnorm_forward(*[a.astype(np.float64) for a in (x, gamma, beta)],
                                                   {"mode": "train"})[0]  # fmt: skip
    checks.close(out, expected, "out for float32 inputs", hint=HINTS["layout"], **tolerances.float32)


@pytest.mark.share(1)
def test_cache_and_inputs_unchanged(norm, reference, draw):
    """Returns batchnorm_forward's cache for the rows in the documented order, and changes x, gamma and beta not."""
    inputs = [*case(draw, 2, 3, 2, 3), {"mode": "train"}]
    _, cache, _ = norm.forward(FUNCTION, *inputs[:3], dict(inputs[3]))
    norm.cache(cache, reference.spatial_batchnorm_forward(*inputs[:3], dict(inputs[3]))[1], CACHE, HINTS["cache"])
    norm.forward_leaves_inputs(FUNCTION, inputs, ("x", "gamma", "beta", "bn_param"))
