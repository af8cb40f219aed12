"""Results, typed: one student's scores on one assignment, and the JSON forms they take.

    TestResult       one hidden test: name, passed, points, message, description
    FunctionResult   one graded function: score, max_score, its tests
    StudentResult    one submission: the functions, the problems found (errors), whether
                     the notebook was bad input, timings (``extra``), when it was
                     submitted (``timestamp``), under a late policy its raw score
                     and penalty (``late``), and its manually graded cells (``manual``)
    Late             what a late policy did to one score: raw score, penalty, hours late, the
                     time it used and where that came from, or why the time needs review
    ManualResult     one manually graded cell: its points and the instructor's score (None
                     until graded in formgrader)
    ManualGrades     the assignment's manual cells and the gradebook's scores; ``apply``
                     adds them to a result
    LatePolicy       the due date and assignment.toml's ``[late]``; ``apply`` turns a
                     raw result into a final one

Three forms, one per reader:

- ``StudentResult.parse(raw, student, assignment)``: from what a grader process wrote or a
  saved results.json held, checked and with every string cleaned (``text.clean``);
  anything of the wrong layout is a ValueError, never a half-read result;
- ``record()``: what results.json saves and ``parse`` reads back (every field);
- ``public()``: one student's entry of the documented ``--json`` output
  (docs/results.schema.json), exactly its keys, which tools depend on.

Submission times come from sources the student can't write (``times.py``); a result
without a trusted time *needs review* and is scored as if submitted when the grader
first saw it (``LatePolicy.apply``), never as on time.

A late penalty is applied when results are finished (``LatePolicy.apply``), never saved:
results.json keeps the raw grade, so a new due date needs no re-grading (editing
assignment.toml does: the whole file is in the fingerprint).
``score`` is then the final score, ``late.raw_score`` the graded one.

Manually graded cells (written answers, tasks: ``ManualResult``) are the same kind of
thing: the instructor's scores come from nbgrader's gradebook (``Grade.manual_score``,
set in formgrader) when results are finished (``ManualGrades.apply``, before the late
policy), and are never saved nor fingerprinted, so grading a written answer needs no
re-grading. Then ``max_score`` counts every manual cell's points and ``score`` the
manual points given so far; until every manual cell has a score the result says
``needs manual grading`` (``status``) and ``manual_pending`` points may still come.

Decision: the late penalty applies to the whole submission, manual points included,
as nbgrader's late-submission plugins do (they take points off the notebook's total).
A percentage penalty (of the max score) is the same before and after manual grading;
only a penalty capped at the score, or the cutoff's "everything", grows with it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from autograder.run.times import FIRST_SEEN, TIMES_FILE, TIMESTAMP_TXT, SubmissionTime
from autograder.text import clean, clean_messages, clean_tree

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
class Late:
    """What the late policy did to one score (``score`` is then the final score)."""

    raw_score: float  # as graded
    penalty: float  # points taken off: raw_score - score
    hours_late: float | None  # hours after the due date (0 on time); None without any time (largest penalty)
    cutoff: bool = False  # after the cutoff: 0 points
    grace: bool = False  # late, but within the grace period: no penalty
    at: datetime | None = None  # the submission time used (naive UTC)
    source: str = ""  # where ``at`` came from: times.TIMES_FILE, FIRST_SEEN, TIMESTAMP_TXT ("" if given)
    review: str = ""  # why the time needs review ("" if it doesn't): then ``at`` is an upper bound

    def record(self) -> dict:
        return {
            "raw_score": self.raw_score,
            "late_penalty": self.penalty,
            "hours_late": None if self.hours_late is None else round(self.hours_late, 4),
            "submitted_at": None if self.at is None else self.at.isoformat(timespec="seconds") + "Z",
            "time_source": self.source or None,
            "time_review": self.review or None,
        }

    def describe(self) -> str:
        """For the feedback page, after "Score: 72 / 100": "raw 80, submitted 2 h 10 min late: −8"."""
        if self.review:
            when = "submission time needs review"
            if self.hours_late:
                when += f", scored as {duration(self.hours_late)} late"
            elif self.hours_late is None:
                when += ", scored with the largest late penalty"
            return f"raw {self.raw_score:g}, {when}: −{self.penalty:g}" if self.penalty else when
        if not self.hours_late:
            return ""
        when = f"submitted {duration(self.hours_late)} late"
        if self.grace:
            return f"{when}, within the grace period: no penalty"
        if not self.penalty and not self.cutoff:
            return f"{when}: no penalty"
        cut = ", after the cutoff" if self.cutoff else ""
        return f"raw {self.raw_score:g}, {when}{cut}: −{self.penalty:g}"


def duration(hours: float) -> str:
    """2.1667 -> '2 h 10 min'; whole minutes, rounded up (1 s late is '1 min')."""
    minutes = math.ceil(round(hours * 60, 6))
    days, rest = divmod(minutes, 24 * 60)
    parts = [f"{days} d"] if days else []
    if rest // 60:
        parts.append(f"{rest // 60} h")
    if rest % 60 or not parts:
        parts.append(f"{rest % 60} min")
    return " ".join(parts)


@dataclass(frozen=True)
class LatePolicy:
    """A due date (naive UTC, as nbgrader's gradebook keeps it) and assignment.toml's ``[late]``.

    Lateness counts from the due date; within ``grace_minutes`` of it there is no penalty.
    Past the grace: ``penalty_per_hour`` (or ``_per_day``) of the max score for every
    started hour (day), as nbgrader's SubtractPlugin counts, at most ``max_penalty`` of
    the max score, and never below 0 points. Past ``cutoff_hours``: 0 points.
    """

    due: datetime
    penalty_per_hour: float = 0.0
    penalty_per_day: float = 0.0
    max_penalty: float = 1.0
    cutoff_hours: float | None = None
    grace_minutes: float = 0.0

    @classmethod
    def of(cls, table: Mapping[str, float], due: datetime | None) -> LatePolicy | None:
        """The policy for ``due`` and a checked ``[late]`` table; None without a due date."""
        if due is None:
            return None
        if due.tzinfo is not None:
            due = due.astimezone(UTC).replace(tzinfo=None)
        return cls(due, **{k: float(v) for k, v in table.items()})

    def late(self, raw: float, max_score: float, timestamp: datetime | None) -> Late:
        """What the policy does to ``raw`` of ``max_score`` submitted at ``timestamp``; with no time
        at all, the largest penalty it can give (never: on time)."""
        if timestamp is None:
            if self.cutoff_hours is not None:
                return Late(raw, raw, None, cutoff=True)
            rate = self.penalty_per_day or self.penalty_per_hour
            return Late(raw, round(min(self.max_penalty * max_score, raw), 9) if rate else 0.0, None)
        hours = max(0.0, (timestamp - self.due).total_seconds() / 3600)
        if hours == 0:
            return Late(raw, 0.0, 0.0)
        if hours * 60 <= self.grace_minutes:
            return Late(raw, 0.0, hours, grace=True)
        if self.cutoff_hours is not None and hours > self.cutoff_hours:
            return Late(raw, raw, hours, cutoff=True)
        rate, units = (
            (self.penalty_per_day, math.ceil(round(hours / 24, 9)))
            if self.penalty_per_day
            else (self.penalty_per_hour, math.ceil(round(hours, 9)))
        )
        penalty = min(rate * units, self.max_penalty) * max_score
        return Late(raw, round(min(penalty, raw), 9), hours)

    def apply(self, result: StudentResult) -> StudentResult:
        """``result`` (raw, as graded) with its final score and what the policy did.

        The time, in order: a notebook the grader first saw at or before the due date is on
        time; else the trusted time (``result.timestamp``: the times file, or a plausible
        timestamp.txt the instructor chose to trust), never later than the first sighting;
        else the time *needs review* and the result is scored as if submitted when the grader
        first saw it (an upper bound), or with the largest penalty if it never saw it.
        """
        time = result.time
        seen = time.seen if time else None
        raw, top = result.score, result.max_score
        errors = result.errors
        if seen is not None and seen.first <= self.due:  # the grader had it by the due date
            late = replace(self.late(raw, top, seen.first), at=seen.first, source=FIRST_SEEN)
        elif result.timestamp is not None:
            at = min(result.timestamp, seen.first) if seen is not None else result.timestamp
            late = replace(self.late(raw, top, at), at=at, source=time.source if time else "")
        else:
            why = (time.problem if time else "") or "no submission time was found"
            at = seen.first if seen is not None else None
            late = replace(self.late(raw, top, at), at=at, source=FIRST_SEEN if at else "", review=why)
            errors = (*errors, review_message(late))
        return replace(result, score=round(raw - late.penalty, 9), errors=errors, late=late)


def review_message(late: Late) -> str:
    """What a student whose submission time needs review reads (in errors, so in the feedback)."""
    if late.at is None:
        scored = "it is scored with the largest late penalty"
    else:
        scored = f"it is scored as if submitted when the grader first saw it, {late.at:%Y-%m-%d %H:%M} UTC"
        scored += f" ({duration(late.hours_late)} after the due date)" if late.hours_late else ""
    return (
        f"Your submission time needs review by your instructor: {late.review}. Until it is reviewed, {scored}. "
        f"If you submitted on time, tell your instructor when and how (the time your LMS or `nbgrader submit` showed)."
    )


TIME_SOURCES = (TIMES_FILE, FIRST_SEEN, TIMESTAMP_TXT)


def _late_of(raw: dict) -> Late | None:
    """The late keys of a ``--json`` entry read back (``public``), checked; None if it has none."""
    if "raw_score" not in raw and "late_penalty" not in raw:
        return None
    hours = raw.get("hours_late")
    if hours is not None and (_number(hours) < 0 or not math.isfinite(hours)):
        raise ValueError("hours_late is not a number of hours")
    at, source, review = raw.get("submitted_at"), raw.get("time_source"), raw.get("time_review")
    if source not in (None, *TIME_SOURCES) or not isinstance(review, (str, type(None))):
        raise ValueError("time_source or time_review is not one of the documented values")
    try:
        when = None if at is None else datetime.strptime(at, "%Y-%m-%dT%H:%M:%SZ")
    except (TypeError, ValueError):
        raise ValueError("submitted_at is not a time such as 2026-12-01T16:59:00Z") from None
    return Late(_number(raw.get("raw_score")), _number(raw.get("late_penalty")),
                None if hours is None else float(hours), at=when, source=source or "",
                review=clean(review or ""))  # fmt: skip


NEEDS_MANUAL = "needs manual grading"
FINAL = "final"


@dataclass(frozen=True)
class ManualResult:
    """One manually graded cell: ``max_score`` from the instructor's notebook, ``score`` from the
    gradebook (formgrader's manual score plus extra credit), None until it is graded."""

    max_score: float
    score: float | None = None
    kind: str = "answer"  # "answer" (a written answer) or "task" (nbgrader's manually graded task)

    def public(self) -> dict:
        return {"score": self.score, "max_score": self.max_score, "kind": self.kind}

    @classmethod
    def parse(cls, raw: object, grade_id: str) -> ManualResult:
        if not isinstance(raw, dict) or raw.get("kind", "answer") not in ("answer", "task"):
            raise ValueError(f"manual cell {grade_id!r} is not a manual score")
        score = raw.get("score")
        return cls(_number(raw.get("max_score")), None if score is None else _number(score), raw.get("kind", "answer"))


@dataclass(frozen=True)
class ManualGrades:
    """The assignment's manually graded cells and what the gradebook holds for them.

    ``cells``: grade_id -> (points, kind), from the instructor's notebook (as checked by
    ``Assignment.check_points``). ``scores``: student -> grade_id -> the score given in
    formgrader; a cell without one is still to be graded.
    """

    cells: Mapping[str, tuple[float, str]]
    scores: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def apply(self, result: StudentResult) -> StudentResult:
        """``result`` (autograded only) with every manual cell, its score if given, in the totals."""
        given = self.scores.get(result.student, {})
        manual = {gid: ManualResult(points, given.get(gid), kind) for gid, (points, kind) in self.cells.items()}
        scored = sum(m.score for m in manual.values() if m.score is not None)
        return replace(result, score=round(result.score + scored, 9),
                       max_score=round(result.max_score + sum(m.max_score for m in manual.values()), 9),
                       manual=manual)  # fmt: skip


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
    # When it was submitted (naive UTC), from a source the student can't write (times.resolve);
    # None without one. Set by the batch on every run and never saved: an identical notebook
    # submitted again keeps its saved grade but gets its new time.
    timestamp: datetime | None = None
    # Where that time came from, what timestamp.txt claims, when the grader first saw the
    # notebook, and why there is no trusted time (times.SubmissionTime). Never saved.
    time: SubmissionTime | None = None
    # What the late policy did (LatePolicy.apply, when results are finished); None without
    # a due date. Never saved either: results.json keeps the raw grade.
    late: Late | None = None
    # The manually graded cells (ManualGrades.apply, when results are finished), with the
    # instructor's scores from the gradebook; empty when the assignment has none. Never saved.
    manual: dict[str, ManualResult] = field(default_factory=dict)

    KNOWN = ("assignment", "student", "score", "max_score", "errors", "bad_input", "functions")
    LATE_KEYS = ("raw_score", "late_penalty", "hours_late", "submitted_at", "time_source", "time_review")  # public
    MANUAL_KEYS = ("status", "manual_pending", "manual")  # in --json output only, with manual cells

    @property
    def manual_pending(self) -> float:
        """Points of the manual cells not graded yet (that ``score`` may still gain)."""
        return round(sum(m.max_score for m in self.manual.values() if m.score is None), 9)

    @property
    def manual_score(self) -> float:
        """Points given so far to the manual cells (part of ``score``)."""
        return round(sum(m.score for m in self.manual.values() if m.score is not None), 9)

    @property
    def needs_manual_grading(self) -> bool:
        return any(m.score is None for m in self.manual.values())

    @property
    def status(self) -> str:
        """ "needs manual grading" while a manual cell has no score, else "final"."""
        return NEEDS_MANUAL if self.needs_manual_grading else FINAL

    def total(self) -> str:
        """The score as people read it: "104", or "100 + up to 5 manual" while manual grading is pending."""
        pending = f" + up to {self.manual_pending:g} manual" if self.needs_manual_grading else ""
        return f"{self.score:g}{pending}"

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
        known = (*cls.KNOWN, *cls.LATE_KEYS, *cls.MANUAL_KEYS)
        extra = {clean(k): clean_tree(v) for k, v in raw.items() if k not in known}  # timings and the like
        score = _number(raw.get("score"))
        manual = raw.get("manual", {})  # a --json entry read back (public); results.json has none
        if not isinstance(manual, dict):
            raise ValueError("manual is not an object")
        return cls(assignment, student, score, _number(raw.get("max_score")), functions,
                   tuple(clean_messages(errors)), raw.get("bad_input") is True, extra,
                   late=_late_of(raw),
                   manual={clean(g): ManualResult.parse(m, g) for g, m in manual.items()})  # fmt: skip

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
        """This student's entry of the documented ``--json`` output: exactly its keys.

        Under a late policy, ``score`` is the final score and ``raw_score``, ``late_penalty``,
        ``hours_late``, ``submitted_at``, ``time_source`` and ``time_review`` follow it; without
        one, none of them is there. With manually
        graded cells, ``status``, ``manual_pending`` and ``manual`` follow ``max_score``;
        without any, none of them is there.
        """
        manual = (
            {
                "status": self.status,
                "manual_pending": self.manual_pending,
                "manual": {gid: m.public() for gid, m in self.manual.items()},
            }
            if self.manual
            else {}
        )
        return {
            "score": self.score,
            **(self.late.record() if self.late else {}),
            "max_score": self.max_score,
            **manual,
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
