"""Helpers for "Normalization layers": gradient checks, a toy data set, and the layers
of a small fully connected network.

Nothing in here normalises anything or drops units: that is what you write in the
notebook. Only NumPy is imported.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def eval_numerical_gradient_array(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray, df: np.ndarray,
                                  h: float = 1e-5) -> np.ndarray:  # fmt: skip
    """Centred differences of sum(f(x) * df) with respect to x, one entry at a time.

    ``x`` is changed in place while this runs (``f`` may read it through a closure)
    and restored afterwards. For a layer's forward pass ``f`` and the upstream
    gradient ``df``, the result is what the layer's backward pass should give.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        plus = f(x).copy()
        x[index] = old - h
        minus = f(x).copy()
        x[index] = old
        grad[index] = np.sum((plus - minus) * df) / (2 * h)
    return grad


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """The largest relative difference between two arrays (about 1e-8 or less: equal)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def print_mean_std(name: str, a: np.ndarray, axis: int | tuple[int, ...] = 0) -> None:
    """Print the mean and standard deviation of ``a`` along ``axis`` (per feature by default)."""
    print(f"{name}\n  means: {a.mean(axis=axis).round(4)}\n  stds:  {a.std(axis=axis).round(4)}")


def make_spirals(n_per_class: int = 300, classes: int = 3, noise: float = 0.2, seed: int = 0):
    """A toy classification problem: interleaved spiral arms in the plane, one per class.

    Returns X of shape (classes * n_per_class, 2) and integer labels y, in random order.
    """
    rng = np.random.default_rng(seed)
    radius = np.tile(np.linspace(0.05, 1.0, n_per_class), classes)
    label = np.repeat(np.arange(classes), n_per_class)
    angle = radius * 4.0 + label * (2 * np.pi / classes) + rng.normal(0.0, noise, radius.size)
    X = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    order = rng.permutation(X.shape[0])
    return X[order], label[order]


# --- the layers of a fully connected network (as in CS231n's layers.py) ---------------


def affine_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray):
    """out = x @ w + b for x of shape (N, D), w (D, M), b (M,); cache = (x, w, b)."""
    return x @ w + b, (x, w, b)


def affine_backward(dout: np.ndarray, cache: tuple):
    """Gradients (dx, dw, db) of an affine layer, from its cache (x, w, b)."""
    x, w, _ = cache
    return dout @ w.T, x.T @ dout, np.sum(dout, axis=0)


def relu_forward(x: np.ndarray):
    """out = max(0, x) elementwise; cache = x."""
    return np.maximum(0, x), x


def relu_backward(dout: np.ndarray, cache: np.ndarray) -> np.ndarray:
    """The upstream gradient where the input was positive, 0 elsewhere."""
    return np.where(cache > 0, dout, 0.0)


def softmax_loss(scores: np.ndarray, y: np.ndarray):
    """Mean cross-entropy of the softmax of scores (N, C) for labels y (N,), and its gradient."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    n = scores.shape[0]
    loss = -np.mean(log_probs[np.arange(n), y])
    dscores = np.exp(log_probs)
    dscores[np.arange(n), y] -= 1
    return float(loss), dscores / n
