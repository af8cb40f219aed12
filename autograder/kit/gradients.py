"""Numerical gradients, and the check that holds a student's gradient to them.

One implementation of centred differences serves every grader: over a whole array, or
at a few coordinates the grader picks (``coordinates``), for large parameters where a
full numerical gradient would cost too much. The numerical gradient is always taken of
the *reference's* forward pass in the grader's process, so a backward pass is held to
the maths and not only to another implementation of it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from autograder.kit.checks import EXPECTED_SEEN, KnownBugs, Mismatch, close, floating, shape
from autograder.kit.tolerances import Tolerances

Index = tuple[int, ...]
STEP = 1e-6  # float64 centred differences: error about STEP**2 plus rounding of about 1e-16 / STEP


def numeric(f: Callable[[np.ndarray], float], x: np.ndarray, at: Sequence[Index] | None = None,
            h: float = STEP) -> np.ndarray:  # fmt: skip
    """Centred differences of the scalar ``f(x)`` in x: at every entry, or at the indices ``at``.

    ``x`` is changed in place one entry at a time (``f`` may read it through a closure,
    as a model reads its parameters) and restored afterwards. With ``at``, the result
    is a 1-d array, one value per index.
    """
    indices = list(np.ndindex(x.shape)) if at is None else [tuple(i) for i in at]
    values = np.empty(len(indices))
    for k, i in enumerate(indices):
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        x[i] = old
        values[k] = (plus - minus) / (2 * h)
    return values.reshape(x.shape) if at is None else values


def of_output(forward: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray,
              at: Sequence[Index] | None = None) -> np.ndarray:  # fmt: skip
    """Centred differences of sum(forward(x) * dout) in x, in float64 (x is not changed)."""
    dout = np.asarray(dout, dtype=np.float64)
    return numeric(lambda v: float(np.sum(forward(v) * dout)), np.array(x, dtype=np.float64), at)


def of_inputs(forward: Callable[..., np.ndarray], inputs: Sequence[np.ndarray], dout: np.ndarray) -> list[np.ndarray]:
    """Centred differences of sum(forward(*inputs) * dout) in each input, in float64.

    For a layer's backward pass: ``of_inputs(lambda x, w, b: conv_forward(x, w, b, hp)[0],
    (x, w, b), dout)`` is the numerical (dx, dw, db).
    """
    inputs = [np.array(a, dtype=np.float64) for a in inputs]

    def wrt(k: int) -> Callable[[np.ndarray], np.ndarray]:
        return lambda v: forward(*inputs[:k], v, *inputs[k + 1 :])

    return [of_output(wrt(k), a, dout) for k, a in enumerate(inputs)]


def coordinates(rng: np.random.Generator, shape_: tuple[int, ...], k: int = 8) -> list[Index]:
    """Up to k distinct indices of an array of this shape, chosen at random (sorted)."""
    size = int(np.prod(shape_))
    picks = np.sort(rng.choice(size, min(k, size), replace=False))
    return [tuple(int(i) for i in np.unravel_index(p, shape_)) for p in picks]


def check(tolerances: Tolerances, actual: Any, numerical: np.ndarray, expected: np.ndarray, what: str,
          hint: str | None = None, at: Sequence[Index] | None = None, layout: str | None = None,
          known_bugs: KnownBugs | None = None) -> None:  # fmt: skip
    """A gradient matches the numerical gradient (``tolerances.numeric``) and the reference's (``tight``).

    The shape is checked first (an array of another shape is never subtracted from the
    expected one), then the dtype kind, then the values. With ``at``, ``numerical`` holds
    the numerical gradient at those indices only. ``layout`` and ``known_bugs`` only
    change the message (see ``checks.shape`` and ``checks.close``).
    """
    shape(actual, np.shape(expected), what, hint, layout, known_bugs)
    grad = floating(actual, what)
    if at is None:
        close(grad, numerical, what, hint=hint, known_bugs=known_bugs, **tolerances.numeric)
    else:
        EXPECTED_SEEN.append(np.asarray(numerical))
        mine = np.array([grad[i] for i in at], dtype=np.float64)
        bad = [i for i, a, n in zip(at, mine, numerical, strict=True) if not np.isclose(a, n, **tolerances.numeric)]
        if bad:
            raise Mismatch(f"{what} disagrees with a numerical gradient at {len(bad)} of the {len(at)} entries "
                           f"checked, the first at index {bad[0]}.", hint)  # fmt: skip
    close(grad, expected, what, hint=hint, known_bugs=known_bugs, **tolerances.tight)
