"""What the class report shows, before it is rendered (``ClassReport``), and which results the graders ran."""

from __future__ import annotations

from dataclasses import dataclass, field

from autograder.course.assignments import Assignment
from autograder.outputs import similarity
from autograder.outputs.bounds import BOUNDS, Bounds
from autograder.outputs.late import LatePolicy
from autograder.outputs.results import NOT_GRADED, StudentResult


@dataclass
class ClassReport:
    """What the page shows, before it is rendered."""

    assignment: Assignment
    results: dict[str, StudentResult]  # student -> final result (late policy applied)
    missing: dict[str, str] = field(default_factory=dict)  # student with a submission but no results -> why
    pairs: list[similarity.Pair] = field(default_factory=list)
    answers: dict[str, dict[str, str]] = field(default_factory=dict)  # student -> grade_id -> the code compared
    threshold: float = similarity.DEFAULT_THRESHOLD
    late: LatePolicy | None = None
    # (student, grade_id) -> where the code compared was: "cell 45, outside its answer cell" (report_similarity.py)
    where: dict[tuple[str, str], str] = field(default_factory=dict)
    # (student, grade_id or "") -> why it was not compared, or what else to know about it
    similarity_notes: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    stopped: str = ""  # why locating or comparing stopped before the end ("" if it didn't)
    bounds: Bounds = BOUNDS


def ran(result: StudentResult) -> bool:
    """Whether the graders ran this submission (not one scored 0 unseen: refused, or its grader process failed)."""
    tests = [t for f in result.functions.values() for t in f.tests]
    if not tests:  # (a skeleton without tests: the graders could not even be listed)
        return not result.bad_input
    return any(t.passed or t.message != NOT_GRADED for t in tests)
