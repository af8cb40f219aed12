"""spatial_groupnorm_backward(dout, cache) -> (dx, dgamma, dbeta), for dout of shape (N, C, H, W).

The cache comes from the reference spatial_groupnorm_forward, in the documented layout
(x, x_hat, mu, var, gamma, beta, G, eps), mu and var of shape (N, G, 1, 1, 1). Each
gradient is compared with centred differences of the reference forward pass
(loss = sum(out * dout)) and with the reference's backward pass, for G = 2, 1 and C.
"""

import pytest

from autograder.kit import gradients

FUNCTION, FORWARD = "spatial_groupnorm_backward", "spatial_groupnorm_forward"
HINTS = {
    "dx": "within each group of each example this is layer normalization's backward pass: reshape gamma * dout and "
    "x_hat to (N, G, C // G * H * W) and take the sums over the last axis.",
    "dgamma": "dgamma is the sum of dout * x_hat over N, H and W, with keepdims=True: shape (1, C, 1, 1).",
    "dbeta": "dbeta is the sum of dout over N, H and W, with keepdims=True: shape (1, C, 1, 1).",
}


def case(draw, N, C, H, W, G, **gn_param):
    """The forward pass's inputs (x, gamma, beta, G, gn_param) and dout."""
    inputs = [draw((N, C, H, W), 5.0, 12.0), draw((1, C, 1, 1)), draw((1, C, 1, 1)), G, gn_param]
    return inputs, draw((N, C, H, W))


@pytest.mark.share(1)
def test_output_shapes(norm, draw):
    """dx has the shape of x, (N, C, H, W); dgamma and dbeta have shape (1, C, 1, 1)."""
    norm.shapes(FUNCTION, FORWARD, *case(draw, 2, 6, 3, 4, G=2), HINTS)


@pytest.mark.share(2)
def test_dx(norm, draw):
    """dx is right, for G = 2 groups of 3 channels on non-square 3x4 feature maps."""
    norm.gradients(FUNCTION, FORWARD, *case(draw, 2, 6, 3, 4, G=2), HINTS, only=("dx",), label=" for G = 2")


@pytest.mark.share(2)
def test_dgamma_and_dbeta(norm, draw):
    """dgamma and dbeta are right, for G = 3 groups of 2 channels."""
    norm.gradients(FUNCTION, FORWARD, *case(draw, 2, 6, 2, 3, G=3), HINTS, only=("dgamma", "dbeta"))


@pytest.mark.share(2)
def test_one_group_and_one_channel_per_group(norm, rng, draw):
    """All three gradients are right for G = 1 (C = 3) and for G = C = 4, with eps = 0.01."""
    norm.gradients(FUNCTION, FORWARD, *case(draw, 2, 3, 2, 3, G=1), HINTS, label=" for G = 1")
    inputs, dout = case(draw, 2, 4, 3, 2, G=4, eps=0.01)
    at = {"dx": gradients.coordinates(rng, (2, 4, 3, 2), 12)}
    norm.gradients(FUNCTION, FORWARD, inputs, dout, HINTS, at=at, label=" for G = C = 4")


@pytest.mark.share(1)
def test_float32_and_inputs_unchanged(norm, draw):
    """Returns float32 gradients for float32 inputs, float64 for float64, and changes neither dout nor the cache."""
    norm.gradients_float32(FUNCTION, FORWARD, *case(draw, 2, 4, 2, 3, G=2), HINTS)
    norm.backward_leaves_inputs(FUNCTION, FORWARD, *case(draw, 2, 4, 2, 2, G=2), HINTS)
