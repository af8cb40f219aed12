"""Numerical gradients, and the checks that hold a student's gradients to them.

One implementation of centred differences serves every grader: over a whole array, or
at a few coordinates the grader picks (``coordinates``), for large parameters where a
full numerical gradient would cost too much. The numerical gradient is always taken of
the *reference's* forward pass in the grader's process, so a backward pass is held to
the maths and not only to another implementation of it. ``check`` holds one gradient to
both; ``check_backward`` holds each gradient a backward pass returns (dx, dw, db, ...).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from autograder.kit.checks import EXPECTED_EVENT, KnownBugs, Mismatch, close, floating, shape
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
        sys.audit(EXPECTED_EVENT, np.asarray(numerical))
        mine = np.array([grad[i] for i in at], dtype=np.float64)
        bad = [i for i, a, n in zip(at, mine, numerical, strict=True) if not np.isclose(a, n, **tolerances.numeric)]
        if bad:
            raise Mismatch(f"{what} disagrees with a numerical gradient at {len(bad)} of the {len(at)} entries "
                           f"checked, the first at index {bad[0]}.", hint)  # fmt: skip
    close(grad, expected, what, hint=hint, known_bugs=known_bugs, **tolerances.tight)


def check_backward(tolerances: Tolerances, names: Sequence[str], got: Sequence[Any], expected: Sequence[np.ndarray],
                   forward: Callable[..., np.ndarray], inputs: Sequence[Any], dout: np.ndarray,
                   hints: Mapping[str, str], *, only: Iterable[str] | None = None, label: str = "",
                   at: Mapping[str, Sequence[Index]] | None = None,
                   known_bugs: Mapping[str, KnownBugs] | None = None) -> None:  # fmt: skip
    """Each gradient a student's backward pass returned, held to the maths and to the reference.

    The gradient check every backward-pass grader makes: gradient ``k`` (named
    ``names[k]``) must match centred differences of ``sum(forward(*inputs) * dout)`` with
    respect to ``inputs[k]`` (``tolerances.numeric``), then the reference backward pass's
    answer ``expected[k]`` (``tolerances.tight``); see ``check`` for the order (shape,
    dtype kind, values). The grader calls the student and the reference itself, so the
    cache layout and the call stay its own:

    - ``got``: the student's gradients, in the order of ``names`` (e.g. what
      ``checks.parts(value, ("dx", "dw", "db"), name)`` returns);
    - ``expected``: the reference's gradients for the same dout and cache, same order;
    - ``forward``: the reference's forward pass as a function of ``inputs`` alone,
      returning its output, e.g. ``lambda x, w, b: reference.conv_forward(x, w, b, hp)[0]``;
      it is called with the inputs in float64, each nudged in turn;
    - ``inputs``: the forward pass's arguments, the ones with a gradient first (in the
      order of ``names``); arrays are taken in float64, anything else (a parameter
      dict) is passed through as it is, so ``forward`` copies what it changes;
    - ``hints``: each gradient's hint, by name; ``only``: the names to check (default:
      all); ``label``: added to each name in messages, e.g. ``" (stride 2, pad 1)"``;
    - ``at``: by name, the coordinates where the numerical gradient is taken (large
      parameters: ``coordinates``); ``known_bugs``: by name, realistic wrong answers
      (``checks.misread_keys``) that get their own hint.

    A failure is a ``checks.Mismatch`` for the first wrong gradient, naming it with the
    label: its shape, or how many entries disagree with the numerical gradient or the
    reference and the first of them, with that gradient's hint. Numerical gradients
    are computed only for the gradients checked.
    """
    inputs = [np.array(a, dtype=np.float64) if isinstance(a, np.ndarray) else a for a in inputs]
    wanted = set(names if only is None else only)
    for k, (name, actual, want) in enumerate(zip(names, got, expected, strict=True)):
        if name not in wanted:
            continue

        def forward_in(value: np.ndarray, k: int = k) -> np.ndarray:
            return forward(*inputs[:k], value, *inputs[k + 1 :])

        where = (at or {}).get(name)
        numerical = of_output(forward_in, inputs[k], dout, at=where)
        check(tolerances, actual, numerical, want, name + label, hint=hints[name], at=where,
              known_bugs=(known_bugs or {}).get(name))  # fmt: skip
