"""spatial_batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta), for dout of shape (N, C, H, W).

The cache comes from the reference spatial_batchnorm_forward in training mode: the
batchnorm_forward cache of the rows x.transpose(0, 2, 3, 1).reshape(-1, C). The
student's calls to batchnorm_backward and batchnorm_backward_alt are answered by the
reference ([stand_ins]). Each gradient is compared with centred differences of the
reference forward pass (loss = sum(out * dout)) and with the reference's backward pass.
"""

import pytest

from autograder.kit import gradients

FUNCTION, FORWARD = "spatial_batchnorm_backward", "spatial_batchnorm_forward"
HINTS = {
    "dx": "reshape dout like x in the forward pass, dout.transpose(0, 2, 3, 1).reshape(-1, C), so that its rows match "
    "the cache's; pass them to your batch normalization backward pass, then undo the reshape and the transpose.",
    "dgamma": "dgamma has one entry per channel, shape (C,): batch normalization's dgamma of the (N * H * W, C) rows.",
    "dbeta": "dbeta is the sum of dout over N, H and W: shape (C,).",
}


def case(draw, N, C, H, W, **bn_param):
    """The forward pass's inputs (x, gamma, beta, bn_param) and dout."""
    return [draw((N, C, H, W), 5.0, 12.0), draw(C), draw(C), {"mode": "train", **bn_param}], draw((N, C, H, W))


@pytest.mark.share(1)
def test_output_shapes(norm, draw):
    """dx has the shape of x, (N, C, H, W); dgamma and dbeta have shape (C,)."""
    norm.shapes(FUNCTION, FORWARD, *case(draw, 2, 3, 4, 5), HINTS)


@pytest.mark.share(3)
def test_dx(norm, draw):
    """dx is right, for non-square 4x5 feature maps of 3 channels."""
    norm.gradients(FUNCTION, FORWARD, *case(draw, 2, 3, 4, 5), HINTS, only=("dx",))


@pytest.mark.share(2)
def test_dgamma_and_dbeta(norm, draw):
    """dgamma and dbeta are right."""
    norm.gradients(FUNCTION, FORWARD, *case(draw, 2, 3, 3, 2), HINTS, only=("dgamma", "dbeta"))


@pytest.mark.share(1)
def test_other_shape(norm, rng, draw):
    """All three gradients are right for one example of 5 channels of 3x2, with eps = 0.01."""
    inputs, dout = case(draw, 1, 5, 3, 2, eps=0.01)
    at = {"dx": gradients.coordinates(rng, (1, 5, 3, 2), 12)}
    norm.gradients(FUNCTION, FORWARD, inputs, dout, HINTS, at=at, label=" for x of shape (1, 5, 3, 2)")


@pytest.mark.share(1)
def test_float32_and_inputs_unchanged(norm, draw):
    """Returns float32 gradients for float32 inputs, float64 for float64, and changes neither dout nor the cache."""
    norm.gradients_float32(FUNCTION, FORWARD, *case(draw, 2, 3, 2, 3), HINTS)
    norm.backward_leaves_inputs(FUNCTION, FORWARD, *case(draw, 2, 2, 3, 2), HINTS)
