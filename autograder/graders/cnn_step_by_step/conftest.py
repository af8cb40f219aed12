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

import functools
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

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


@pytest.fixture(scope="session")
def grading() -> SimpleNamespace:
    """Comparison helpers shared by the graders, with this assignment's tolerances."""
    return SimpleNamespace(
        parts=checks.parts,
        scalar=checks.scalar,
        check_cache=checks.cache,
        check_gradient=functools.partial(checks.gradient, numeric_tol=NUMERIC, reference_tol=TIGHT),
        TIGHT=TIGHT,
        NUMERIC=NUMERIC,
        FLOAT32=FLOAT32,
    )
