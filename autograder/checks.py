"""Comparisons for graders, with failure messages that are safe to show a student.

A grader should check through these helpers rather than with a bare ``assert``: a bare
assert fails with no explanation (pytest's assertion text would reveal hidden test
code and expected values, so it never reaches feedback). Messages here describe *what*
is wrong (type, shape, how many entries, how far off) and never print expected values,
unless a grader passes ``reveal=True`` for a value the instructor chooses to show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

# Expected values the graders compared against in this process. The fidelity tests use
# this to prove that no hidden expected value ever reaches feedback.
EXPECTED_SEEN: list[np.ndarray] = []


class Mismatch(AssertionError):
    """A student's answer is wrong; the message (and hint) are written for them."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message + (f" Hint: {self.hint}" if self.hint else "")


def describe_type(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if hasattr(value, "type") and hasattr(value, "id"):  # a RemoteRef
        return f"an object of type `{value.type}`"
    return f"a {type(value).__name__}"


def array(value: Any, what: str, hint: str | None = None) -> np.ndarray:
    """The value as an ndarray, or a Mismatch saying what came back instead."""
    if not isinstance(value, np.ndarray):
        raise Mismatch(f"{what} should be a NumPy array, but it is {describe_type(value)}.", hint)
    return value


def shape(value: Any, expected_shape: tuple, what: str, hint: str | None = None) -> np.ndarray:
    a = array(value, what, hint)
    if a.shape != tuple(expected_shape):
        raise Mismatch(f"{what} has shape {a.shape}, but should have shape {tuple(expected_shape)}.", hint)
    return a


def floating(value: Any, what: str, dtype: Any = None) -> np.ndarray:
    """A floating-point array; with ``dtype``, exactly that dtype."""
    a = array(value, what)
    if dtype is not None and a.dtype != np.dtype(dtype):
        raise Mismatch(f"{what} has dtype {a.dtype}, but should have dtype {np.dtype(dtype)}.")
    if a.dtype.kind != "f":
        raise Mismatch(f"{what} has dtype {a.dtype}, but should hold floating-point numbers.")
    return a


def close(
    actual: Any,
    expected: np.ndarray,
    what: str,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    hint: str | None = None,
    reveal: bool = False,
) -> None:
    """Actual matches expected (same shape, all entries close)."""
    expected = np.asarray(expected)
    EXPECTED_SEEN.append(expected)
    a = shape(actual, expected.shape, what, hint)
    if a.dtype.kind not in "biuf":
        raise Mismatch(f"{what} has dtype {a.dtype}; expected real numbers.", hint)
    if not np.all(np.isfinite(a)):
        raise Mismatch(f"{what} contains NaN or infinite values.", hint)
    bad = ~np.isclose(a.astype(np.float64), expected.astype(np.float64), rtol=rtol, atol=atol)
    if bad.any():
        n, total = int(bad.sum()), bad.size
        err = float(np.max(np.abs(a.astype(np.float64) - expected)[bad]))
        where = ""
        if a.ndim:
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            where = f" The first wrong entry is at index {first}."
        message = f"{what} has the right shape, but {n} of {total} entries are wrong (largest error {err:.3g}).{where}"
        if reveal:
            message += f" Expected {np.array2string(expected, precision=4)}."
        raise Mismatch(message, hint)


def scalar(value: Any, what: str, hint: str | None = None) -> float:
    """A real number: a Python number, a NumPy scalar or a 0-d array."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number, np.ndarray)):
        raise Mismatch(f"{what} should be a number, but it is {describe_type(value)}.", hint)
    if isinstance(value, np.ndarray) and value.shape != ():
        raise Mismatch(f"{what} should be a scalar, but it is an array of shape {value.shape}.", hint)
    return float(value)


def unchanged(before: Any, after: Any, what: str) -> None:
    """The student's function did not modify an input argument in place."""
    if isinstance(before, np.ndarray):
        if not isinstance(after, np.ndarray) or after.shape != before.shape or not np.array_equal(after, before):
            raise Mismatch(f"Your function modified its input {what} in place; work on a copy instead.")
    elif isinstance(before, dict):
        if not isinstance(after, dict) or set(after) != set(before):
            raise Mismatch(f"Your function modified its input {what} in place.")
        for key in before:
            unchanged(before[key], after[key], f"{what}[{key!r}]")
    elif isinstance(before, (list, tuple)):
        if not isinstance(after, (list, tuple)) or len(after) != len(before):
            raise Mismatch(f"Your function modified its input {what} in place.")
        for i, (b, a) in enumerate(zip(before, after, strict=False)):
            unchanged(b, a, f"{what}[{i}]")
    elif before != after:
        raise Mismatch(f"Your function modified its input {what} in place.")


def numeric_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Centred differences of a scalar function of x (which is restored afterwards)."""
    grad = np.zeros_like(x, dtype=np.float64)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


def numeric_gradient_of_output(
    forward: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray
) -> np.ndarray:
    """Centred differences of sum(forward(x) * dout) with respect to x (float64)."""
    dout = dout.astype(np.float64)
    return numeric_gradient(lambda v: float(np.sum(forward(v) * dout)), x.astype(np.float64))


def gradient(
    actual: Any,
    numeric: np.ndarray,
    expected: np.ndarray,
    what: str,
    hint: str | None = None,
    *,
    numeric_tol: dict[str, float],
    reference_tol: dict[str, float],
) -> None:
    """A gradient matches the numeric gradient of the forward pass and the reference's."""
    floating(actual, what)
    close(actual, numeric, what, hint=hint, **numeric_tol)
    close(actual, expected, what, hint=hint, **reference_tol)


def parts(value: Any, names: tuple[str, ...], what: str) -> tuple:
    """Split a returned tuple into its named parts, or say what came back instead."""
    listing = ", ".join(names)
    hint = f"return the tuple ({listing})."
    if not isinstance(value, (tuple, list)):
        raise Mismatch(f"{what} should return a tuple ({listing}), but it returned {describe_type(value)}.", hint)
    if len(value) != len(names):
        raise Mismatch(f"{what} should return {len(names)} values ({listing}), but it returned {len(value)}.", hint)
    return tuple(value)


def cache(value: Any, expected: tuple, names: tuple[str, ...]) -> None:
    """A layer's cache holds its forward inputs, in the documented order, with the same values.

    A tuple is documented; a list with the same items works just as well downstream,
    so it is accepted.
    """
    listing = ", ".join(names)
    hint = f"set cache = ({listing}), the function's inputs."
    if not isinstance(value, (tuple, list)):
        raise Mismatch(f"cache should be a tuple ({listing}), but it is {describe_type(value)}.", hint)
    if len(value) != len(names):
        raise Mismatch(f"cache should hold {len(names)} items ({listing}), but it holds {len(value)}.", hint)
    for item, want, name in zip(value, expected, names, strict=True):
        if isinstance(want, dict):
            if not isinstance(item, dict) or item != want:
                raise Mismatch(f"cache item `{name}` is not the {name} dictionary the function was given.", hint)
        else:
            close(item, want, f"cache item `{name}`", rtol=0, atol=0, hint=hint)
