"""Shared fixtures for the cnn_step_by_step graders.

Expected values always come from ``reference``: the source notebook's own solution,
run in this (grader) process. Gradients are also checked against centred differences
of the reference *forward* functions, so a backward pass is held to the maths, not
only to another implementation of it.

Policy on graded helpers: ``conv_forward`` may call ``zero_pad`` and
``conv_single_step``, ``conv_backward`` may call ``zero_pad``, and ``pool_backward``
may call ``create_mask_from_window`` and ``distribute_value``. While one graded
function runs, every call it makes to another graded helper is answered by the
reference (``grader_helpers`` below; the framework swaps them in inside the sandbox
and calls back here). So each function is graded on its own code only: a bug in
``zero_pad`` costs points in ``zero_pad`` and never again in ``conv_forward``.

Inputs are random but fixed per test (``rng``), small (a grading takes seconds, and
each helper call crosses a pipe), and never the notebook's public self-check inputs.
Pooling inputs never have tied maxima: which entry a tie picks is not part of the
contract, so it is never graded.
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

# Graded functions that other graded functions may call; answered by the reference.
HELPERS = ("zero_pad", "conv_single_step", "create_mask_from_window", "distribute_value")

# Tolerances: float64 results against the reference, against numeric gradients, and
# results computed from float32 inputs (about 7 significant digits).
TIGHT = {"rtol": 1e-6, "atol": 1e-8}
NUMERIC = {"rtol": 1e-5, "atol": 1e-6}
FLOAT32 = {"rtol": 1e-4, "atol": 1e-5}


@pytest.fixture(scope="session")
def reference() -> SimpleNamespace:
    """The source notebook's set-up and answer cells, run here."""
    return load_reference(ASSIGNMENT)


@pytest.fixture(scope="session")
def grader_helpers(reference: SimpleNamespace) -> dict[str, Callable]:
    """Reference versions of the helpers, served to the student's other functions."""
    return {name: getattr(reference, name) for name in HELPERS}


@pytest.fixture
def distinct(rng: np.random.Generator) -> Callable[..., np.ndarray]:
    """``distinct(*shape, dtype=...)``: random values, all different (no ties anywhere).

    Entries are a shuffled grid 0.1 apart plus a little noise, so every pooling
    window has a clear maximum even in float32 and far beyond a numeric step.
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


@pytest.fixture(scope="session")
def grading() -> SimpleNamespace:
    """Comparison helpers shared by the graders (see the functions above)."""
    return SimpleNamespace(
        parts=parts,
        scalar=checks.scalar,
        check_cache=check_cache,
        check_gradient=check_gradient,
        TIGHT=TIGHT,
        NUMERIC=NUMERIC,
        FLOAT32=FLOAT32,
    )
