"""Results, typed: one student's scores on one assignment, and the JSON forms they take.

    TestResult       one hidden test: name, passed, points, message, description
    FunctionResult   one graded function: score, max_score, its tests
    StudentResult    one submission: the functions, the problems found (errors), whether
                     the notebook was bad input, timings (``extra``) and when it was
                     submitted (``timestamp``)

Three forms, one per reader:

- ``StudentResult.parse(raw, student, assignment)``: from what a grader process wrote or a
  saved results.json held, checked and with every string cleaned (``text.clean``);
  anything of the wrong layout is a ValueError, never a half-read result;
- ``record()``: what results.json saves and ``parse`` reads back (every field);
- ``public()``: one student's entry of the documented ``--json`` output
  (docs/results.schema.json), exactly its keys, which tools depend on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from .text import clean, clean_messages, clean_tree

PUBLIC_TEST_KEYS = ("name", "passed", "points", "message")
NOT_GRADED = "Not graded: see the problem with your notebook above."


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise ValueError(f"{value!r} is not a score")
    return float(value)


@dataclass(frozen=True)
class TestResult:
    name: str
    passed: bool
    points: float
    message: str
    description: str = ""

    __test__ = False  # (not a pytest test class)

    @classmethod
    def parse(cls, raw: object) -> TestResult:
        if not isinstance(raw, dict):
            raise ValueError("a test is not an object")
        return cls(clean(raw.get("name", "")), raw.get("passed") is True, _number(raw.get("points")),
                   clean(raw.get("message", "")), clean(raw.get("description", "")))  # fmt: skip

    def record(self) -> dict:
        return {"name": self.name, "passed": self.passed, "points": self.points, "message": self.message,
                "description": self.description}  # fmt: skip


@dataclass(frozen=True)
class FunctionResult:
    score: float
    max_score: float
    tests: tuple[TestResult, ...] = ()

    @classmethod
    def parse(cls, raw: object, name: str) -> FunctionResult:
        if not isinstance(raw, dict) or not isinstance(raw.get("tests"), list):
            raise ValueError(f"function {name!r} has no list of tests")
        return cls(_number(raw.get("score")), _number(raw.get("max_score")),
                   tuple(TestResult.parse(t) for t in raw["tests"]))  # fmt: skip

    @property
    def lost(self) -> bool:
        return self.score < self.max_score

    def unscored(self, message: str) -> FunctionResult:
        return FunctionResult(0.0, self.max_score, tuple(replace(t, passed=False, message=message) for t in self.tests))

    def record(self) -> dict:
        return {"score": self.score, "max_score": self.max_score, "tests": [t.record() for t in self.tests]}


@dataclass(frozen=True)
class StudentResult:
    assignment: str
    student: str
    score: float
    max_score: float
    functions: dict[str, FunctionResult]
    errors: tuple[str, ...] = ()
    bad_input: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # seconds, student_seconds, isolation, ...
    # When it was submitted (UTC), from nbgrader's timestamp.txt; None without one. Set by the
    # batch on every run and never saved: an identical notebook submitted again keeps its
    # saved grade but gets its new time.
    timestamp: datetime | None = None

    KNOWN = ("assignment", "student", "score", "max_score", "errors", "bad_input", "functions")

    @classmethod
    def parse(cls, raw: object, student: str, assignment: str) -> StudentResult:
        """Results from a grader process or a saved file; ValueError if they don't have the layout.

        The student and assignment are ours, not the file's: they name the folders the
        outputs are written to.
        """
        if not isinstance(raw, dict) or not isinstance(raw.get("functions"), dict):
            raise ValueError("not a results object")
        functions = {clean(gid): FunctionResult.parse(f, gid) for gid, f in raw["functions"].items()}
        errors = raw.get("errors", [])
        if not isinstance(errors, list):
            raise ValueError("errors is not a list")
        extra = {clean(k): clean_tree(v) for k, v in raw.items() if k not in cls.KNOWN}  # timings and the like
        return cls(assignment, student, _number(raw.get("score")), _number(raw.get("max_score")), functions,
                   tuple(clean_messages(errors)), raw.get("bad_input") is True, extra)  # fmt: skip

    @classmethod
    def unscored(cls, skeleton: Mapping[str, FunctionResult], student: str, assignment: str,
                 message: str) -> StudentResult:  # fmt: skip
        """0 points on every test, for a submission that could not be graded; ``message`` says why."""
        functions = {gid: f.unscored(NOT_GRADED) for gid, f in skeleton.items()}
        return cls(assignment, student, 0.0, sum(f.max_score for f in functions.values()), functions,
                   (clean(message),), True)  # fmt: skip

    def lost_points(self) -> dict[str, list[str]]:
        """graded function -> the messages of its failed tests, for every function that lost points."""
        return {gid: [t.message for t in f.tests if not t.passed] for gid, f in self.functions.items() if f.lost}

    def record(self) -> dict:
        return {
            **self.extra,
            "assignment": self.assignment,
            "student": self.student,
            "score": self.score,
            "max_score": self.max_score,
            "errors": list(self.errors),
            "bad_input": self.bad_input,
            "functions": {gid: f.record() for gid, f in self.functions.items()},
        }

    def public(self) -> dict:
        """This student's entry of the documented ``--json`` output: exactly its keys."""
        return {
            "score": self.score,
            "max_score": self.max_score,
            "errors": list(self.errors),
            "functions": {
                gid: {
                    "score": f.score,
                    "max_score": f.max_score,
                    "tests": [{k: getattr(t, k) for k in PUBLIC_TEST_KEYS} for t in f.tests],
                }  # fmt: skip
                for gid, f in self.functions.items()
            },
        }


def public_json(assignment: str, results: Mapping[str, StudentResult]) -> dict:
    """The documented ``--json`` output for a class (docs/results.schema.json)."""
    return {"assignment": assignment, "students": {clean(s): r.public() for s, r in sorted(results.items())}}
