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

import functools
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

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


@pytest.fixture(scope="session")
def grading() -> SimpleNamespace:
    """Comparison helpers shared by the graders, with this assignment's tolerances."""
    return SimpleNamespace(
        parts=checks.parts,
        scalar=checks.scalar,
        check_cache=checks.cache,
        check_gradient=functools.partial(checks.gradient, numeric_tol=NUMERIC, reference_tol=TIGHT),
        numeric_gradient_array=checks.numeric_gradient_of_output,
        TIGHT=TIGHT,
        NUMERIC=NUMERIC,
        FLOAT32=FLOAT32,
    )
