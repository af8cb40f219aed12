"""One parallel batch grades every notebook the conv_net fidelity tests look at."""

from __future__ import annotations

import pytest

from autograder.assignments import Assignment
from autograder.batch import Layout, Options, grade_class
from tests.support import build_submission, write_submission

from .variants import CORRECT, MUTANTS

ASSIGNMENT = Assignment("conv_net")


@pytest.fixture(scope="session")
def graded(tmp_path_factory) -> dict[str, dict]:
    """student id -> results, for: perfect, release, every mutant and every correct variant."""
    submitted = tmp_path_factory.mktemp("conv_net_class") / "submitted"
    name = ASSIGNMENT.name
    write_submission(build_submission(ASSIGNMENT), submitted, "perfect", name)
    write_submission(build_submission(ASSIGNMENT, perfect=False), submitted, "release", name)
    for v in MUTANTS:
        write_submission(build_submission(ASSIGNMENT, {v.function: v.source}), submitted, f"mutant-{v.name}", name)
    for v in CORRECT:
        write_submission(build_submission(ASSIGNMENT, {v.function: v.source}), submitted, f"correct-{v.name}", name)
    report = grade_class(ASSIGNMENT, Layout.beside(submitted), Options(workers=2))
    assert not report.failed, report.failed
    return report.results
