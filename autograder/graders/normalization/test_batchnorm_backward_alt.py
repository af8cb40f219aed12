"""batchnorm_backward_alt(dout, cache) -> (dx, dgamma, dbeta), the closed form of batchnorm_backward.

The cache comes from the reference batchnorm_forward in training mode, in the documented
layout (x, x_hat, mu, var, gamma, beta, eps). Each gradient is compared with centred
differences of the reference forward pass (loss = sum(out * dout)) and with the
reference's batchnorm_backward, through the graph: the two must agree.
"""

import pytest

from autograder.kit import gradients

FUNCTION, FORWARD = "batchnorm_backward_alt", "batchnorm_forward"
HINTS = {
    "dx": "with g = gamma * dout, dx needs g, x_hat, the sums over the batch (axis 0) of g and of g * x_hat, and "
    "sqrt(var + eps), with eps from the cache; check each term of your simplification against batchnorm_backward.",
    "dgamma": "dgamma is the sum over the batch (axis 0) of dout * x_hat: shape (D,).",
    "dbeta": "dbeta is the sum of dout over the batch (axis 0): shape (D,).",
}


def case(draw, N, D, scale=5.0, offset=12.0, **bn_param):
    """The forward pass's inputs (x, gamma, beta, bn_param) and dout."""
    return [draw((N, D), scale, offset), draw(D), draw(D), {"mode": "train", **bn_param}], draw((N, D))


def check(norm, inputs, dout, **kwargs):
    norm.gradients(FUNCTION, FORWARD, inputs, dout, HINTS, expected_from="batchnorm_backward", **kwargs)


@pytest.mark.share(1)
def test_output_shapes(norm, draw):
    """dx, dgamma and dbeta have the shapes of x, gamma and beta."""
    norm.shapes(FUNCTION, FORWARD, *case(draw, 6, 4), HINTS)


@pytest.mark.share(2)
def test_dx(norm, draw):
    """dx is right, and the same as through the graph, for a batch of 6 examples of 4 features far from 0."""
    check(norm, *case(draw, 6, 4), only=("dx",))


@pytest.mark.share(2)
def test_dgamma_and_dbeta(norm, draw):
    """dgamma and dbeta are right."""
    check(norm, *case(draw, 5, 3), only=("dgamma", "dbeta"))


@pytest.mark.share(1)
def test_eps_from_the_cache(norm, rng, draw):
    """All three gradients are right with eps = 0.1 on features of variance about 0.1, for a 12 x 7 batch."""
    inputs, dout = case(draw, 12, 7, scale=0.3, offset=0.0, eps=0.1)
    check(norm, inputs, dout, at={"dx": gradients.coordinates(rng, (12, 7), 12)}, label=" with eps = 0.1")


@pytest.mark.share(1)
def test_float32(norm, draw):
    """For a float32 cache and dout, returns float32 gradients."""
    norm.gradients_float32(FUNCTION, FORWARD, *case(draw, 6, 3, scale=2.0, offset=1.0), HINTS)


@pytest.mark.share(1)
def test_float64_and_inputs_unchanged(norm, draw):
    """Returns float64 gradients for float64 inputs, and changes neither dout nor the cache."""
    norm.backward_leaves_inputs(FUNCTION, FORWARD, *case(draw, 4, 3), HINTS)
