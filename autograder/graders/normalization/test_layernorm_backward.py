"""layernorm_backward(dout, cache) -> (dx, dgamma, dbeta), for a batch of shape (N, D).

The cache comes from the reference layernorm_forward, in the documented layout (x, x_hat,
mu, var, gamma, beta, eps), mu and var of shape (N, 1). Each gradient is compared with
centred differences of the reference forward pass (loss = sum(out * dout)) and with the
reference's layernorm_backward.
"""

import pytest

from autograder.kit import gradients

FUNCTION, FORWARD = "layernorm_backward", "layernorm_forward"
HINTS = {
    "dx": "batch normalization's closed form along each row: with g = gamma * dout, "
    "dx = (D * g - sum(g) - x_hat * sum(g * x_hat)) / (D * sqrt(var + eps)), the sums over axis 1 with keepdims=True.",
    "dgamma": "gamma scales each feature of every example: dgamma is the sum over the batch (axis 0) of dout * x_hat.",
    "dbeta": "dbeta is the sum of dout over the batch (axis 0): shape (D,).",
}


def case(draw, N, D, scale=5.0, offset=12.0, **ln_param):
    """The forward pass's inputs (x, gamma, beta, ln_param) and dout."""
    return [draw((N, D), scale, offset), draw(D), draw(D), ln_param], draw((N, D))


@pytest.mark.share(1)
def test_output_shapes(norm, draw):
    """dx, dgamma and dbeta have the shapes of x, gamma and beta."""
    norm.shapes(FUNCTION, FORWARD, *case(draw, 3, 5), HINTS)


@pytest.mark.share(3)
def test_dx(norm, draw):
    """dx is right, for a batch of 3 examples of 5 features far from 0."""
    norm.gradients(FUNCTION, FORWARD, *case(draw, 3, 5), HINTS, only=("dx",))


@pytest.mark.share(2)
def test_dgamma_and_dbeta(norm, draw):
    """dgamma and dbeta are right, for 6 examples of 4 features."""
    norm.gradients(FUNCTION, FORWARD, *case(draw, 6, 4), HINTS, only=("dgamma", "dbeta"))


@pytest.mark.share(1)
def test_eps_from_the_cache(norm, rng, draw):
    """All three gradients are right with eps = 0.1 on rows of variance about 0.1, for an 8 x 9 batch."""
    inputs, dout = case(draw, 8, 9, scale=0.3, offset=0.0, eps=0.1)
    at = {"dx": gradients.coordinates(rng, (8, 9), 12)}
    norm.gradients(FUNCTION, FORWARD, inputs, dout, HINTS, at=at, label=" with eps = 0.1")


@pytest.mark.share(1)
def test_float32_and_inputs_unchanged(norm, draw):
    """Returns float32 gradients for float32 inputs, float64 for float64, and changes neither dout nor the cache."""
    norm.gradients_float32(FUNCTION, FORWARD, *case(draw, 4, 6, scale=2.0, offset=1.0), HINTS)
    norm.backward_leaves_inputs(FUNCTION, FORWARD, *case(draw, 4, 3), HINTS)
