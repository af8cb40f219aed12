"""Comparisons for graders, with failure messages that are safe to show a student.

A grader should check through these helpers rather than with a bare ``assert``: a bare
assert fails with no explanation (pytest's assertion text would reveal hidden test
code and expected values, so it never reaches feedback). Messages here describe *what*
is wrong (type, shape, how many entries, how far off) and never print expected values,
unless a grader passes ``reveal=True`` for a value the instructor chooses to show.

The order of a comparison is fixed: type, then shape, then dtype kind, then values, so
an array of the wrong shape is reported as a shape (``layout`` names its axes) and is
never subtracted from the expected one (where NumPy would broadcast or raise). A grader
may describe the realistic bugs of a case (``known_bugs``, e.g. ``misread_keys`` for a
hyperparameter read from the wrong key): a wrong answer equal to one of them gets that
bug's hint. Those only change the message, never the verdict, and are computed only
once the answer is already wrong.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from autograder.grader.failures import StudentCodeError  # re-exported: a call into student code that failed

__all__ = ["StudentCodeError", "Mismatch"]  # and the check functions below

# Each expected value a check compares against is announced as this audit event (``sys.audit``), so
# an auditor can prove that no hidden expected value reaches feedback: the test suite's plugin
# tests/plugins/record_expected.py collects them. With no audit hook installed it costs nothing.
EXPECTED_EVENT = "autograder.kit.expected"


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


# Known wrong answers for one case: (the array a known bug gives, the hint naming that
# bug), computed only when the student's answer is wrong (see ``misread_keys``).
KnownBugs = Callable[[], Iterable[tuple[np.ndarray, str]]]


def shape(value: Any, expected_shape: tuple, what: str, hint: str | None = None, layout: str | None = None,
          known_bugs: KnownBugs | None = None) -> np.ndarray:  # fmt: skip
    """An array of exactly this shape, or a Mismatch naming the shape it has.

    ``layout`` names the axes, e.g. "(N, F, H', W')": the message then says which of them
    are wrong. ``known_bugs``: a wrong shape that one of them gives gets that bug's hint
    instead of ``hint``. Neither changes what passes.
    """
    a = array(value, what, hint)
    expected_shape = tuple(expected_shape)
    if a.shape == expected_shape:
        return a
    message = f"{what} has shape {a.shape}, but should have shape {expected_shape}"
    names = [n.strip() for n in layout.strip("()").split(",")] if layout else []
    if len(names) == len(expected_shape):
        message += f" = {layout} for this input"
        if a.ndim == len(names):
            wrong = [n for n, got, want in zip(names, a.shape, expected_shape, strict=True) if got != want]
            message += f": {_listing(wrong)} {'is' if len(wrong) == 1 else 'are'} wrong"
        else:
            message += f": it has {a.ndim} axes instead of {len(names)}"
    bugs = [text for wrong, text in _known(known_bugs) if wrong.shape == a.shape]
    raise Mismatch(message + ".", " Or: ".join(bugs) if bugs else hint)


def _listing(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _known(known_bugs: KnownBugs | None) -> list[tuple[np.ndarray, str]]:
    try:
        return [(np.asarray(wrong), text) for wrong, text in (known_bugs() if known_bugs else [])]
    except Exception:  # a hint is never worth turning the student's Mismatch into a grader error
        return []


def misread_keys(compute: Callable[[dict], Any], params: dict, what: str, neutral: Mapping[str, Any],
                 name: str = "hparameters") -> KnownBugs:  # fmt: skip
    """Known bugs of a layer's hyperparameters, for ``shape`` and ``close``: each key in
    ``neutral`` read from another key of ``params``, or ignored (its ``neutral`` value).

    ``compute(params)`` is the reference's answer for other parameters; parameters it
    refuses (a stride of 0) are skipped. Nothing is computed until the check fails.
    """

    def bugs() -> list[tuple[np.ndarray, str]]:
        found = []
        for key in (k for k in params if k in neutral):
            variants = []  # (the value key gets, the bug), each value once: ignored first, then misread
            if params[key] != neutral[key]:
                variants.append((neutral[key], f"{what} is what it would be with {key} = {neutral[key]}, "
                                               f"as if {name}[{key!r}] were not used."))  # fmt: skip
            variants += [(params[o], f"{what} is what it would be with {key} = {params[o]} ({name}[{o!r}]): "
                                     f"is {key} read from {name}[{key!r}]?")
                         for o in params if o != key and params[o] not in (params[key], neutral[key])]  # fmt: skip
            for value, text in variants:
                try:
                    found.append((np.asarray(compute({**params, key: value})), text))
                except Exception:  # the reference refuses these parameters: no bug gives this answer
                    continue
        return found

    return bugs


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
    layout: str | None = None,
    known_bugs: KnownBugs | None = None,
) -> None:
    """Actual matches expected: the shape first (see ``shape`` for ``layout`` and
    ``known_bugs``), then real numbers, then every entry close. Wrong values that a
    known bug gives get that bug's hint."""
    expected = np.asarray(expected)
    sys.audit(EXPECTED_EVENT, expected)
    a = shape(actual, expected.shape, what, hint, layout, known_bugs)
    if a.dtype.kind not in "biuf":
        raise Mismatch(f"{what} has dtype {a.dtype}; expected real numbers.", hint)
    if not np.all(np.isfinite(a)):
        raise Mismatch(f"{what} contains NaN or infinite values.", hint)
    bad = ~np.isclose(a.astype(np.float64), expected.astype(np.float64), rtol=rtol, atol=atol)
    if bad.any():
        n, total = int(bad.sum()), bad.size
        # only the order of magnitude: with one wrong entry, the exact error and the
        # student's own value would give the expected value away
        err = float(np.max(np.abs(a.astype(np.float64) - expected)[bad]))
        magnitude = f"{err:.1g}"
        where = ""
        if a.ndim:
            first = tuple(int(i) for i in np.argwhere(bad)[0])
            where = f" The first wrong entry is at index {first}."
        if a.ndim == 0:  # a scalar has no "entries"
            message = f"{what} is wrong: it is off by about {magnitude}."
        else:
            message = (f"{what} has the right shape, but {n} of {total} entries are wrong "
                       f"(largest error about {magnitude}).{where}")  # fmt: skip
        if reveal:
            message += f" Expected {np.array2string(expected, precision=4)}."
        bugs = [text for wrong, text in _known(known_bugs)
                if wrong.shape == a.shape and wrong.dtype.kind in "biuf" and not np.allclose(wrong, expected)
                and np.allclose(a.astype(np.float64), wrong, rtol=rtol, atol=atol)]  # fmt: skip
        raise Mismatch(message, " Or: ".join(bugs) if bugs else hint)


def scalar(value: Any, what: str, hint: str | None = None) -> float:
    """A real number: a Python int or float, a NumPy integer or float, or a 0-d array of one.

    Booleans, complex numbers and strings are refused (float() would turn True into 1.0
    and silently drop an imaginary part).
    """
    real = isinstance(value, (int, float, np.integer, np.floating, np.ndarray)) and not isinstance(value, bool)
    if not real:
        raise Mismatch(f"{what} should be a number, but it is {describe_type(value)}.", hint)
    if isinstance(value, np.ndarray):
        if value.shape != ():
            raise Mismatch(f"{what} should be a scalar, but it is an array of shape {value.shape}.", hint)
        if value.dtype.kind not in "iuf":
            raise Mismatch(f"{what} should be a real number, but it is a 0-d array of dtype {value.dtype}.", hint)
    return float(value)


def _same(before: Any, after: Any) -> bool:
    """Is ``after`` the same value as ``before`` (arrays entry by entry, NaN equal to NaN)?"""
    if isinstance(before, np.ndarray) or isinstance(after, np.ndarray):
        if not (isinstance(before, np.ndarray) and isinstance(after, np.ndarray)) or after.shape != before.shape:
            return False
        nan_ok = before.dtype.kind in "fc" and after.dtype.kind in "fc"
        return bool(np.array_equal(after, before, equal_nan=nan_ok))
    if isinstance(before, dict):
        return isinstance(after, dict) and set(after) == set(before) and all(_same(before[k], after[k]) for k in before)
    if isinstance(before, (list, tuple)):
        return (isinstance(after, (list, tuple)) and len(after) == len(before)
                and all(_same(b, a) for b, a in zip(before, after, strict=True)))  # fmt: skip
    if isinstance(before, float) and isinstance(after, float) and before != before:
        return after != after  # NaN stays NaN
    try:
        return bool(before == after)
    except (ValueError, TypeError):  # an object whose == is not a truth value
        return False


def unchanged(before: Any, after: Any, what: str) -> None:
    """The student's function did not modify an input argument in place (names the part that changed)."""
    if isinstance(before, dict) and isinstance(after, dict) and set(after) == set(before):
        for key in before:
            unchanged(before[key], after[key], f"{what}[{key!r}]")
    elif isinstance(before, (list, tuple)) and isinstance(after, (list, tuple)) and len(after) == len(before):
        for i, (b, a) in enumerate(zip(before, after, strict=True)):
            unchanged(b, a, f"{what}[{i}]")
    elif not _same(before, after):
        work = "; work on a copy instead" if isinstance(before, np.ndarray) else ""
        raise Mismatch(f"Your function modified its input {what} in place{work}.")


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
            if not _same(want, item):
                raise Mismatch(f"cache item `{name}` is not the {name} dictionary the function was given.", hint)
        else:
            close(item, want, f"cache item `{name}`", rtol=0, atol=0, hint=hint)
