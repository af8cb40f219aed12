"""Fully connected, ReLU and softmax layers: forward and backward passes.

Every forward function returns ``(out, cache)``; the matching backward function takes
``(dout, cache)`` and returns the gradients with respect to its inputs, in the order of
the forward function's arguments. Arrays keep the dtype they come in with.

The convolution and pooling layers are not here: ``conv_forward_naive`` and friends are
yours to write in the notebook, and ``fast_layers`` holds the vectorised versions.
"""

from __future__ import annotations

import numpy as np


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, tuple]:
    """Forward pass of a fully connected (affine) layer.

    Each example x[i] of shape (d_1, ..., d_k) is flattened into a vector of length
    D = d_1 * ... * d_k (in C order), then mapped to M outputs.

    Inputs:
    - x: input data, of shape (N, d_1, ..., d_k)
    - w: weights, of shape (D, M)
    - b: biases, of shape (M,)

    Returns a tuple of:
    - out: output, of shape (N, M)
    - cache: (x, w, b)
    """
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout: np.ndarray, cache: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward pass of a fully connected (affine) layer.

    Inputs:
    - dout: upstream derivative, of shape (N, M)
    - cache: (x, w, b) from affine_forward

    Returns a tuple of:
    - dx: gradient with respect to x, of shape (N, d_1, ..., d_k)
    - dw: gradient with respect to w, of shape (D, M)
    - db: gradient with respect to b, of shape (M,)
    """
    x, w, _ = cache
    grad_x = (dout @ w.T).reshape(x.shape)
    grad_w = x.reshape(x.shape[0], -1).T @ dout
    grad_b = dout.sum(axis=0)
    return grad_x, grad_w, grad_b


def relu_forward(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward pass of a layer of rectified linear units, max(0, x), element-wise.

    Input:
    - x: input of any shape

    Returns a tuple of:
    - out: output, of the same shape as x
    - cache: x
    """
    return np.maximum(x, 0), x


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """Backward pass of a layer of ReLUs: the gradient flows where the input was positive.

    Input:
    - dout: upstream derivatives, of any shape
    - cache: input x, of the same shape as dout

    Returns:
    - dx: gradient with respect to x (0 where x <= 0)
    """
    return dout * (cache > 0)


def softmax_loss(x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy loss of a softmax classifier, and its gradient.

    Numerically stable: each row of scores is shifted by its maximum before exp, which
    leaves the softmax unchanged, so even huge scores give a finite loss.

    Inputs:
    - x: scores, of shape (N, C); x[i, j] is the score of class j for example i
    - y: labels, of shape (N,); y[i] is the label of x[i], 0 <= y[i] < C

    Returns a tuple of:
    - loss: scalar, mean over the N examples of -log(softmax(x[i])[y[i]])
    - dx: gradient of the loss with respect to x, of shape (N, C)
    """
    shifted = x - np.max(x, axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    n = x.shape[0]
    loss = -np.sum(log_probs[np.arange(n), y]) / n
    dx = np.exp(log_probs)
    dx[np.arange(n), y] -= 1
    dx /= n
    return float(loss), dx
