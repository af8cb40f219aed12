"""Numerical gradients, to check the backward passes you write.

All three estimators use centred differences, (f(x + h) - f(x - h)) / 2h, which are
accurate to O(h^2). They change x in place while they work and put every entry back.
Use float64 inputs: in float32 the rounding error swamps the estimate.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def rel_error(x: np.ndarray, y: np.ndarray) -> float:
    """Largest relative difference between x and y: max |x - y| / max(1e-8, |x| + |y|).

    Around 1e-7 or less means two float64 computations agree; 1e-2 or more means a bug.
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def eval_numerical_gradient(f: Callable, x: np.ndarray, verbose: bool = False, h: float = 1e-5) -> np.ndarray:
    """Numerical gradient of a scalar function f at x.

    Inputs:
    - f: function of one argument (x), returning a number
    - x: the point (array) at which to evaluate the gradient; changed and restored
    - verbose: print every entry of the gradient as it is computed
    - h: step of the centred difference

    Returns:
    - grad: array of the shape of x, grad[i] ~ df/dx[i]
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        plus = f(x)
        x[ix] = old - h
        minus = f(x)
        x[ix] = old
        grad[ix] = (plus - minus) / (2 * h)
        if verbose:
            print(ix, grad[ix])
        it.iternext()
    return grad


def eval_numerical_gradient_array(f: Callable, x: np.ndarray, df: np.ndarray, h: float = 1e-5) -> np.ndarray:
    """Numerical gradient of sum(f(x) * df) at x, for a function f returning an array.

    This is what a backward pass computes when df is the upstream gradient dout:
    compare it with the dx your backward function returns.

    Inputs:
    - f: function of one argument (x), returning an array of the shape of df
    - x: the point (array) at which to evaluate the gradient; changed and restored
    - df: upstream gradient
    - h: step of the centred difference

    Returns:
    - grad: array of the shape of x
    """
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        old = x[ix]
        x[ix] = old + h
        plus = np.array(f(x), dtype=np.float64)  # a copy: f may return a buffer it reuses
        x[ix] = old - h
        minus = np.array(f(x), dtype=np.float64)
        x[ix] = old
        grad[ix] = np.sum((plus - minus) * df) / (2 * h)
        it.iternext()
    return grad


def grad_check_sparse(
    f: Callable,
    x: np.ndarray,
    analytic_grad: np.ndarray,
    num_checks: int = 10,
    h: float = 1e-5,
    seed: int | None = None,
    verbose: bool = True,
) -> list[float]:
    """Compare an analytic gradient with centred differences at a few random entries.

    Cheaper than a full numerical gradient when x is big (a weight matrix, say).

    Inputs:
    - f: function of one argument (x), returning a number
    - x: the point (array); changed and restored
    - analytic_grad: the gradient you computed, of the shape of x
    - num_checks: how many random entries to check
    - h: step of the centred difference
    - seed: seed for choosing the entries (None: a different choice each time)
    - verbose: print one line per entry

    Returns:
    - errors: the relative error at each checked entry
    """
    rng = np.random.default_rng(seed)
    errors = []
    for _ in range(num_checks):
        ix = tuple(int(rng.integers(n)) for n in x.shape)
        old = x[ix]
        x[ix] = old + h
        plus = f(x)
        x[ix] = old - h
        minus = f(x)
        x[ix] = old
        numerical = (plus - minus) / (2 * h)
        analytic = analytic_grad[ix]
        error = abs(numerical - analytic) / max(1e-8, abs(numerical) + abs(analytic))
        errors.append(float(error))
        if verbose:
            print(f"numerical: {numerical:+.6e}  analytic: {analytic:+.6e}  relative error: {error:.2e}")
    return errors
