"""Shared fixtures for the conv_net graders.

Expected values always come from ``reference``: the source notebook's own solution,
run in this (grader) process. Backward passes are also checked against centred
differences of the reference *forward* functions (and the network's gradients against
centred differences of the reference network's loss), so a gradient is held to the
maths, not only to another implementation of it.

Policy on graded helpers: none. The four naive layers don't call one another, and
``ThreeLayerConvNet`` is built from the fast layers of the provided ``cs231n`` package,
never from the student's naive layers. So every answer is graded on its own code
without any help from the grader (``grader_helpers`` is empty).

The graders pass dtypes as NumPy dtypes (``np.dtype("float64")`` and ``np.float64`` both
travel as data); a student's ``.astype(dtype)`` accepts either.

Inputs are random but fixed per test (``rng``), small (grading one submission takes
seconds), and never the notebook's public check inputs. Pooling inputs never tie for a
window's maximum: how ties are broken is not part of the contract.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from autograder import checks
from autograder.assignments import Assignment, load_reference

ASSIGNMENT = Assignment(Path(__file__).parent.name)

# Tolerances: float64 results against the reference, against numeric gradients, and
# results computed from float32 inputs (about 7 significant digits).
TIGHT = {"rtol": 1e-6, "atol": 1e-8}
NUMERIC = {"rtol": 1e-5, "atol": 1e-7}
FLOAT32 = {"rtol": 1e-4, "atol": 1e-5}


@pytest.fixture(scope="session")
def reference() -> SimpleNamespace:
    """The source notebook's set-up and answer cells, run here."""
    return load_reference(ASSIGNMENT)


@pytest.fixture(scope="session")
def grader_helpers() -> dict[str, Callable]:
    """No graded answer calls another one (see the module docstring)."""
    return {}


@pytest.fixture
def distinct(rng: np.random.Generator) -> Callable[..., np.ndarray]:
    """``distinct(*shape, dtype=...)``: random values, all different (no ties anywhere).

    Entries are a shuffled grid 0.1 apart plus a little noise, so every pooling window
    has a clear maximum even in float32 and far beyond a numeric step.
    """

    def make(*shape: int, dtype: Any = np.float64) -> np.ndarray:
        n = int(np.prod(shape))
        values = (rng.permutation(n) - n / 2) * 0.1 + rng.uniform(0.0, 0.05, n)
        return values.reshape(shape).astype(dtype)

    return make


def parts(value: Any, names: tuple[str, ...], what: str) -> tuple:
    """Split a returned tuple into its named parts, or say what came back instead."""
    listing = ", ".join(names)
    hint = f"return the tuple ({listing})."
    if not isinstance(value, (tuple, list)):
        raise checks.Mismatch(
            f"{what} should return a tuple ({listing}), but it returned {checks.describe_type(value)}.", hint
        )
    if len(value) != len(names):
        raise checks.Mismatch(
            f"{what} should return {len(names)} values ({listing}), but it returned {len(value)}.", hint
        )
    return tuple(value)


def check_cache(cache: Any, expected: tuple, names: tuple[str, ...]) -> None:
    """The cache holds the forward inputs, in the documented order, with the same values.

    A tuple is documented; a list with the same items works just as well downstream,
    so it is accepted.
    """
    listing = ", ".join(names)
    hint = f"set cache = ({listing}), the function's inputs."
    if not isinstance(cache, (tuple, list)):
        raise checks.Mismatch(f"cache should be a tuple ({listing}), but it is {checks.describe_type(cache)}.", hint)
    if len(cache) != len(names):
        raise checks.Mismatch(f"cache should hold {len(names)} items ({listing}), but it holds {len(cache)}.", hint)
    for item, want, name in zip(cache, expected, names, strict=True):
        if isinstance(want, dict):
            if not isinstance(item, dict) or item != want:
                raise checks.Mismatch(f"cache item `{name}` is not the {name} dictionary the function was given.", hint)
        else:
            checks.close(item, want, f"cache item `{name}`", rtol=0, atol=0, hint=hint)


def check_gradient(actual: Any, numeric: np.ndarray, expected: np.ndarray, what: str, hint: str | None = None) -> None:
    """A gradient matches the numeric gradient of the forward pass and the reference."""
    checks.floating(actual, what)
    checks.close(actual, numeric, what, hint=hint, **NUMERIC)
    checks.close(actual, expected, what, hint=hint, **TIGHT)


def numeric_gradient_array(forward: Callable[[np.ndarray], np.ndarray], x: np.ndarray, dout: np.ndarray) -> np.ndarray:
    """Centred differences of sum(forward(x) * dout) with respect to x (float64)."""
    dout = dout.astype(np.float64)
    return checks.numeric_gradient(lambda v: float(np.sum(forward(v) * dout)), x.astype(np.float64))


@pytest.fixture(scope="session")
def grading() -> SimpleNamespace:
    """Comparison helpers shared by the graders (see the functions above)."""
    return SimpleNamespace(
        parts=parts,
        scalar=checks.scalar,
        check_cache=check_cache,
        check_gradient=check_gradient,
        numeric_gradient_array=numeric_gradient_array,
        TIGHT=TIGHT,
        NUMERIC=NUMERIC,
        FLOAT32=FLOAT32,
    )
