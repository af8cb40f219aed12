"""Sandwich layers: common sequences of layers, as one forward and one backward function.

Each is built from ``layers`` and the fast convolution and pooling of ``fast_layers``,
so a model written with them is fast. The cache of a sandwich holds the caches of its
parts, in order.
"""

from __future__ import annotations

import numpy as np

from .fast_layers import conv_backward_fast, conv_forward_fast, max_pool_backward_fast, max_pool_forward_fast
from .layers import affine_backward, affine_forward, relu_backward, relu_forward


def affine_relu_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """An affine layer followed by a ReLU.

    Inputs:
    - x: input to the affine layer, of shape (N, d_1, ..., d_k)
    - w, b: weights (D, M) and biases (M,) of the affine layer

    Returns a tuple of:
    - out: output of the ReLU, of shape (N, M)
    - cache: (affine cache, relu cache)
    """
    a, fc_cache = affine_forward(x, w, b)
    out, relu_cache = relu_forward(a)
    return out, (fc_cache, relu_cache)


def affine_relu_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of affine_relu_forward: returns (dx, dw, db)."""
    fc_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return affine_backward(da, fc_cache)


def conv_relu_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict) -> tuple[np.ndarray, tuple]:
    """A (fast) convolution followed by a ReLU.

    Inputs:
    - x: input, of shape (N, C, H, W)
    - w, b, conv_param: weights (F, C, HH, WW), biases (F,) and {"stride", "pad"}

    Returns a tuple of:
    - out: output of the ReLU, of shape (N, F, H', W')
    - cache: (conv cache, relu cache)
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    out, relu_cache = relu_forward(a)
    return out, (conv_cache, relu_cache)


def conv_relu_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of conv_relu_forward: returns (dx, dw, db)."""
    conv_cache, relu_cache = cache
    da = relu_backward(dout, relu_cache)
    return conv_backward_fast(da, conv_cache)


def conv_relu_pool_forward(
    x: np.ndarray, w: np.ndarray, b: np.ndarray, conv_param: dict, pool_param: dict
) -> tuple[np.ndarray, tuple]:
    """A (fast) convolution, a ReLU, then (fast) max pooling.

    Inputs:
    - x: input, of shape (N, C, H, W)
    - w, b, conv_param: weights (F, C, HH, WW), biases (F,) and {"stride", "pad"}
    - pool_param: {"pool_height", "pool_width", "stride"}

    Returns a tuple of:
    - out: output of the pooling layer, of shape (N, F, H'', W'')
    - cache: (conv cache, relu cache, pool cache)
    """
    a, conv_cache = conv_forward_fast(x, w, b, conv_param)
    s, relu_cache = relu_forward(a)
    out, pool_cache = max_pool_forward_fast(s, pool_param)
    return out, (conv_cache, relu_cache, pool_cache)


def conv_relu_pool_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of conv_relu_pool_forward: returns (dx, dw, db)."""
    conv_cache, relu_cache, pool_cache = cache
    ds = max_pool_backward_fast(dout, pool_cache)
    da = relu_backward(ds, relu_cache)
    return conv_backward_fast(da, conv_cache)
