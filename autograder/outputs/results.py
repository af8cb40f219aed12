# After changing a published shape (the *Entry models), regenerate the schema (a test checks it is current):
#     .venv/bin/python -m autograder.outputs.schema > docs/results.schema.json
"""The typed results of grading one student's notebook, and the two JSON forms they take.

``StudentResult`` holds one submission's ``FunctionResult``s and their ``TestResult``s, the
problems found, what the grader process noted (``GradingFacts``) and, never saved, what
finishing it added: its submission time, the late policy's effect (``Late``, late.py) and the
manual cells (``ManualResult``, manual.py). Each JSON form is defined here once; reading either
checks it (pydantic) and cleans every string (``text.clean``): a wrong layout is a ValueError.

- saved: ``record()`` / ``parse``, what the grader process writes (grader/plugin.py) and
  results.json keeps under its fingerprint (saved.py), the raw grade;
- published: ``public()`` / ``from_public``, one student's entry of ``autograder grade --json``,
  exactly the keys of the ``*Entry`` models, which docs/results.schema.json is generated from
  (schema.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict  # (pydantic reads typing's only from Python 3.12)

from autograder.run.times import FIRST_SEEN, TIMES_FILE, TIMESTAMP_TXT, SubmissionTime
from autograder.text import clean, clean_messages, clean_tree

NOT_GRADED = "Not graded: see the problem with your notebook above."
NEEDS_MANUAL = "needs manual grading"
FINAL = "final"
SUBMITTED_AT = "%Y-%m-%dT%H:%M:%SZ"  # the published submission time: UTC, to the second

# What each saved value is; checked, and strings cleaned, when a result is read.
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]  # a score or points: no bool, no NaN
Flag = Annotated[bool, Strict()]
Text = Annotated[str, Strict(), AfterValidator(clean)]
Messages = Annotated[tuple[Annotated[str, Strict()], ...], AfterValidator(lambda m: tuple(clean_messages(list(m))))]
NEVER_SAVED = Field(exclude=True)  # set when results are finished, from the run or the gradebook


def fmt(x: float) -> str:
    """A score as people read it: 5.0 -> "5", 2.5 -> "2.5"."""
    return f"{x:g}"


@dataclass(frozen=True)
class TestResult:
    """One hidden test's verdict, written for the student."""

    name: Text
    passed: Flag
    points: Number
    message: Text
    description: Text = ""  # the test's first docstring line (saved, not published)

    __test__ = False  # (not a pytest test class)


@dataclass(frozen=True)
class FunctionResult:
    """One graded function's score and its tests."""

    score: Number
    max_score: Number
    tests: tuple[TestResult, ...] = ()

    @property
    def lost(self) -> bool:
        return self.score < self.max_score

    def unscored(self, message: str) -> FunctionResult:
        return FunctionResult(0.0, self.max_score, tuple(replace(t, passed=False, message=message) for t in self.tests))


@dataclass(frozen=True)
class ManualResult:
    """One manually graded cell: ``max_score`` from the instructor's notebook, ``score`` from the
    gradebook (formgrader's manual score plus extra credit), None until it is graded."""

    max_score: float
    score: float | None = None
    kind: str = "answer"  # "answer" (a written answer) or "task" (nbgrader's manually graded task)


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


@with_config(ConfigDict(extra="allow"))  # (a key an older version saved is kept)
class GradingFacts(TypedDict, total=False):
    """What the grader process noted while grading: saved beside the scores, never published."""

    isolation: str  # "namespaces" (the full sandbox) or "process" (limits only)
    seconds: float  # the grader process's wall time
    student_seconds: float  # of which waiting on the student's code (the budget it used)
    sandbox_starts: dict[str, int]  # sandboxes started: forked from a warm grader's template, or cold
    cells_run: dict[str, list[int]]  # which cells ran, completely or partly (cells_run.record)


@dataclass(frozen=True)
class StudentResult:
    """One submission's scores on one assignment."""

    assignment: str
    student: str
    score: Number
    max_score: Number
    functions: dict[Text, FunctionResult]
    errors: Messages = ()
    bad_input: Flag = False
    extra: Annotated[GradingFacts, AfterValidator(clean_tree)] = field(default_factory=dict)
    # When it was submitted (naive UTC), from a source the student can't write, and where that came from
    # (times.resolve; an identical notebook submitted again keeps its saved grade but gets its new time)
    timestamp: Annotated[datetime | None, NEVER_SAVED] = None
    time: Annotated[SubmissionTime | None, NEVER_SAVED] = None
    late: Annotated[Late | None, NEVER_SAVED] = None  # late.LatePolicy.apply; None without a due date
    manual: Annotated[dict[str, ManualResult], NEVER_SAVED] = field(default_factory=dict)  # manual.ManualGrades

    SAVED = ("assignment", "student", "score", "max_score", "errors", "bad_input", "functions")  # and ``extra``'s

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
    def unscored(cls, skeleton: Mapping[str, FunctionResult], student: str, assignment: str,
                 message: str) -> StudentResult:  # fmt: skip
        """0 points on every test, for a submission that could not be graded; ``message`` says why."""
        functions = {gid: f.unscored(NOT_GRADED) for gid, f in skeleton.items()}
        return cls(assignment, student, 0.0, sum(f.max_score for f in functions.values()), functions,
                   (clean(message),), True)  # fmt: skip

    def lost_points(self) -> dict[str, list[str]]:
        """graded function -> the messages of its failed tests, for every function that lost points."""
        return {gid: [t.message for t in f.tests if not t.passed] for gid, f in self.functions.items() if f.lost}

    # --- the saved form ----------------------------------------------------------------

    def record(self) -> dict:
        """The saved form: every saved field, ``extra``'s keys beside them (``parse`` reads it back)."""
        saved = _SAVED.dump_python(self, mode="json", include=set(self.SAVED))
        return {**self.extra, **{key: saved[key] for key in self.SAVED}}

    @classmethod
    def parse(cls, raw: object, student: str, assignment: str) -> StudentResult:
        """The saved form (``record``), from a grader process or a results.json, checked and cleaned.

        The student and assignment are ours, not the file's: they name the folders the outputs
        are written to.
        """
        if not isinstance(raw, dict):
            raise ValueError("not a results object")
        fields = {key: raw[key] for key in cls.SAVED[2:] if key in raw}
        extra = {key: value for key, value in raw.items() if key not in cls.SAVED}
        return checked(_SAVED, {**fields, "assignment": assignment, "student": student, "extra": extra})

    # --- the published form ------------------------------------------------------------

    def public(self) -> dict:
        """This student's entry of the documented ``--json`` output: exactly its keys (``StudentEntry``)."""
        return StudentEntry.of(self).model_dump(exclude_unset=True)

    @classmethod
    def from_public(cls, raw: object, student: str, assignment: str) -> StudentResult:
        """One student's entry of a ``--json`` file, read back: checked against ``StudentEntry`` and cleaned."""
        return checked(_ENTRY, raw).result(student, assignment)


_SAVED = TypeAdapter(StudentResult)


def checked(adapter: TypeAdapter, raw: object) -> Any:
    """``raw`` read as ``adapter``'s type; ValueError naming where and what is wrong."""
    try:
        return adapter.validate_python(raw)
    except ValidationError as e:
        found = [
            # (``extra``'s keys are at the top of the saved form; JSON has lists, not tuples)
            f"{'.'.join(clean(str(part), 100) for part in where(err['loc'])) or 'the whole'}: "
            f"{err['msg'].replace('valid tuple', 'valid list')}"
            for err in e.errors(include_url=False, include_input=False)
        ]
        more = f"; and {len(found) - 3} more" if len(found) > 3 else ""
        raise ValueError("; ".join(found[:3]) + more) from None


def where(loc: tuple) -> tuple:
    return loc[1:] if loc[:1] == ("extra",) else loc


# --- the published form: ``autograder grade --json`` -------------------------------------
# One model per JSON object, its fields in the order they are written. Their docstrings and
# descriptions are the schema's (schema.py). Writing builds them unchecked from our own
# results (``of``); reading a file back checks it (``from_public``).

Points = Annotated[float, Field(ge=0)]


class Entry(BaseModel):
    # strict: a number is a number (not a string or a bool); a key not documented is refused
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    @classmethod
    def like(cls, value: Any, **fields: Any) -> Any:
        """The entry of one of our own results, unchecked: ``fields``, and ``value``'s attributes of the same names."""
        return cls.model_construct(**{name: getattr(value, name) for name in cls.model_fields if name not in fields},
                                   **fields)  # fmt: skip


class TestEntry(Entry):
    """One hidden test's verdict."""

    __test__ = False  # (not a pytest test class)

    name: Text
    passed: bool
    points: Points
    message: Text = Field(description="what the check found, written for the student")


class FunctionEntry(Entry):
    """One graded function's score and its tests."""

    score: Points
    max_score: Points
    tests: list[TestEntry]

    def result(self) -> FunctionResult:
        return FunctionResult(self.score, self.max_score, tuple(TestResult(**t.model_dump()) for t in self.tests))


class ManualEntry(Entry):
    """One manually graded cell's score."""

    score: Points | None = Field(
        description="the score given in formgrader (manual score plus extra credit); null until graded"
    )
    max_score: Points
    kind: Literal["answer", "task"] = Field(
        description='nbgrader\'s "manually graded answer" (the student writes in the cell) or "manually graded task"'
    )


class StudentEntry(Entry):
    """One student's scores. The late keys are there only under a late policy (a due date), the
    manual keys only for an assignment with manually graded cells."""

    score: Points = Field(
        description="the final score: under a late policy, raw_score minus late_penalty; with manually graded "
        'cells it counts the manual points given so far, and is final only when status is "final"'
    )
    raw_score: Points = Field(None, description="optional, only under a late policy (a due date): the score as graded")
    late_penalty: Points = Field(
        None, description="optional, only under a late policy: points taken off raw_score (all of it after the cutoff)"
    )
    hours_late: Points | None = Field(
        None,
        description="optional, only under a late policy: hours after the due date of submitted_at (0 if on time); "
        "null without any time (then the largest penalty applies and time_review says why)",
    )
    submitted_at: Annotated[str, Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")] | None = Field(
        None,
        description="optional, only under a late policy: the submission time the policy used (UTC, e.g. "
        "2026-12-01T16:59:00Z); with time_review, an upper bound (when the grader first saw the notebook); "
        "null without any",
    )
    time_source: Literal[TIMES_FILE, FIRST_SEEN, TIMESTAMP_TXT] | None = Field(
        None,
        description="optional, only under a late policy: where submitted_at came from: the instructor's "
        "--submission-times file, the grader's own record of when it first saw the notebook, or the student's "
        "timestamp.txt (only with --trust-student-timestamps)",
    )
    time_review: Text | None = Field(
        None,
        description="optional, only under a late policy: null when the time came from a trusted source; otherwise "
        "why it needs review (no trusted time, or an implausible one), and the score is the one for submitted_at, "
        "or with the largest penalty",
    )
    max_score: Points = Field(description="every autograded test's points, plus every manually graded cell's")
    status: Literal[FINAL, NEEDS_MANUAL] = Field(
        None,
        description="optional, only for an assignment with manually graded cells (written answers, tasks): "
        '"needs manual grading" while any of them has no score in the gradebook (formgrader), so score may '
        "still rise by up to manual_pending",
    )
    manual_pending: Points = Field(
        None,
        description='optional, with status: points of the manually graded cells not graded yet (0 when status is "final")',
    )
    manual: dict[Text, ManualEntry] = Field(
        None, description="optional, with status: manually graded cell (grade_id) -> its score, in notebook order"
    )
    errors: Annotated[list[str], AfterValidator(clean_messages)] = Field(
        description="problems with the notebook itself (bad input, cells that failed), for the student"
    )
    functions: dict[Text, FunctionEntry] = Field(
        description="graded function (grade_id) -> its score, in notebook order"
    )

    @classmethod
    def of(cls, r: StudentResult) -> StudentEntry:
        keys: dict[str, Any] = {"score": r.score, "max_score": r.max_score, "errors": list(r.errors),
                                "functions": {gid: FunctionEntry.like(f, tests=[TestEntry.like(t) for t in f.tests])
                                              for gid, f in r.functions.items()}}  # fmt: skip
        if r.late is not None:
            late, hours = r.late, r.late.hours_late
            keys.update(raw_score=late.raw_score, late_penalty=late.penalty,
                        hours_late=None if hours is None else round(hours, 4),
                        submitted_at=None if late.at is None else late.at.strftime(SUBMITTED_AT),
                        time_source=late.source or None, time_review=late.review or None)  # fmt: skip
        if r.manual:
            manual = {gid: ManualEntry.like(m) for gid, m in r.manual.items()}
            keys.update(status=r.status, manual_pending=r.manual_pending, manual=manual)
        return cls.model_construct(**keys)

    def result(self, student: str, assignment: str) -> StudentResult:
        """The result this entry publishes (its late keys as ``late``, its manual cells as ``manual``)."""
        late = None
        if {"raw_score", "late_penalty"} & self.model_fields_set:
            if self.raw_score is None or self.late_penalty is None:
                raise ValueError("raw_score and late_penalty come together")
            try:
                at = None if self.submitted_at is None else datetime.strptime(self.submitted_at, SUBMITTED_AT)
            except ValueError:
                raise ValueError(
                    f"submitted_at is not a time such as 2026-12-01T16:59:00Z: {self.submitted_at}"
                ) from None
            late = Late(self.raw_score, self.late_penalty, self.hours_late, at=at, source=self.time_source or "",
                        review=self.time_review or "")  # fmt: skip
        manual = {gid: ManualResult(m.max_score, m.score, m.kind) for gid, m in (self.manual or {}).items()}
        functions = {gid: f.result() for gid, f in self.functions.items()}
        return StudentResult(assignment, student, self.score, self.max_score, functions, tuple(self.errors),
                             late=late, manual=manual)  # fmt: skip


class GradesJson(Entry):
    """Scores of one assignment for a class, as written by `autograder grade ... --json PATH`. Every string is
    student-facing text that has been sanitised (no control characters, no terminal escapes, at most 10 KB)."""

    model_config = ConfigDict(title="autograder grade --json")

    assignment: str = Field(description="the assignment's name, e.g. cnn_step_by_step")
    students: dict[Text, StudentEntry] = Field(description="student id -> that student's scores")


_ENTRY = TypeAdapter(StudentEntry)


def public_json(assignment: str, results: Mapping[str, StudentResult]) -> dict:
    """The documented ``--json`` output for a class (``GradesJson``; docs/results.schema.json)."""
    students = {clean(s): StudentEntry.of(r) for s, r in sorted(results.items())}
    return GradesJson.model_construct(assignment=assignment, students=students).model_dump(exclude_unset=True)
