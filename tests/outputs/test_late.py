"""The late policy: a due date (--due or the gradebook's) and assignment.toml's [late]
turn each raw score into the final one, shown beside the raw one in the feedback, the CSV
and the JSON; the saved results and the gradebook stay raw, so nothing is re-graded.

Submission times come from sources the student can't write (autograder/run/times.py): the
instructor's --submission-times file, the grader's own record of when it first saw each
notebook, and timestamp.txt only with --trust-student-timestamps. A time that is missing,
garbled or implausible needs review and is scored as late, never silently on time."""

from __future__ import annotations

import argparse
import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from nbgrader.api import Gradebook
from rich.console import Console

from autograder import cli, console
from autograder.cli import due_arg
from autograder.course.assignments import Assignment, AssignmentError
from autograder.course.declaration import validate_declaration
from autograder.outputs import feedback, tables
from autograder.outputs.late import LatePolicy, describe
from autograder.outputs.results import FunctionResult, StudentResult, TestResult, public_json
from autograder.run import class_run, times
from autograder.run.times import Seen, SubmissionTime
from autograder.text import uncell
from tests.support import REPO, build_submission, write_submission

A = Assignment("cnn_step_by_step")
NAME = A.name
SCHEMA = json.loads((REPO / "docs" / "results.schema.json").read_text())
DUE = datetime(2026, 12, 1, 17, 0)


def result(raw: float = 80.0, late_by: timedelta | None = None, seen_by: timedelta | None = None) -> StudentResult:
    """A student with ``raw`` of 100 points, submitted ``late_by`` after DUE (None: no trusted time),
    first seen by the grader ``seen_by`` after DUE (None: never seen)."""
    tests = (TestResult("t1", True, raw, "ok"), TestResult("t2", False, 100 - raw, "wrong"))
    when = None if late_by is None else DUE + late_by
    seen = None if seen_by is None else Seen(DUE + seen_by)
    time = SubmissionTime(when, times.TIMES_FILE if when else "", seen, problem="" if when else "no time given")
    return StudentResult(NAME, "ada", raw, 100.0, {"f": FunctionResult(raw, 100.0, tests)},
                         timestamp=when, time=time)  # fmt: skip


def policy(**table: float) -> LatePolicy:
    return LatePolicy.of(table, DUE)


# --- the policy ------------------------------------------------------------------------


def test_on_time_keeps_the_score():
    """Is a submission before the due date untouched (but the late keys say so)?"""
    r = policy(penalty_per_hour=0.1).apply(result(late_by=timedelta(minutes=-5)))
    assert (r.score, r.late.raw_score, r.late.penalty, r.late.hours_late) == (80, 80, 0, 0)
    assert r.errors == () and describe(r.late) == ""


def test_late_within_grace_costs_nothing():
    """Is a submission 9 minutes late, with 10 minutes' grace, on time for the score?"""
    r = policy(penalty_per_hour=0.1, grace_minutes=10).apply(result(late_by=timedelta(minutes=9)))
    assert r.score == 80 and r.late.penalty == 0 and r.late.grace
    assert describe(r.late) == "submitted 9 min late, within the grace period: no penalty"
    r = policy(penalty_per_hour=0.1, grace_minutes=10).apply(result(late_by=timedelta(minutes=11)))
    assert r.score == 70  # past the grace: lateness counts from the due date, one started hour


def test_per_hour_penalty_per_started_hour_with_cap():
    """Is each started hour a penalty of the max score, capped by max_penalty?"""
    p = policy(penalty_per_hour=0.05, max_penalty=0.08)
    r = p.apply(result(late_by=timedelta(hours=2, minutes=10)))
    assert (r.score, r.late.penalty) == (72, 8)  # 3 started hours: 15%, capped at 8%
    assert describe(r.late) == "raw 80, submitted 2 h 10 min late: −8"
    r = policy(penalty_per_hour=0.05).apply(result(late_by=timedelta(minutes=30)))
    assert (r.score, r.late.penalty) == (75, 5)


def test_per_day_penalty_with_cap_never_below_zero():
    """Per started day; never more than the cap, and never below 0 points."""
    p = policy(penalty_per_day=0.1, max_penalty=0.25)
    assert p.apply(result(late_by=timedelta(hours=1))).score == 70
    assert p.apply(result(late_by=timedelta(days=1, hours=1))).score == 60
    assert p.apply(result(late_by=timedelta(days=9))).score == 55  # capped at 25
    assert policy(penalty_per_day=1).apply(result(raw=30, late_by=timedelta(hours=3))).score == 0


def test_after_the_cutoff_scores_zero():
    """Is a submission past cutoff_hours worth 0, with the raw score kept beside it?"""
    p = policy(penalty_per_hour=0.01, cutoff_hours=48)
    assert p.apply(result(late_by=timedelta(hours=47))).score == 80 - 47
    r = p.apply(result(late_by=timedelta(hours=48, seconds=1)))
    assert (r.score, r.late.raw_score, r.late.penalty, r.late.cutoff) == (0, 80, 80, True)
    assert "after the cutoff" in describe(r.late)


def test_no_trusted_time_needs_review_and_is_late_as_first_seen():
    """Without a trusted time: needs review, scored as if submitted when the grader first saw it
    (never on time), a note for the student, and not bad input."""
    r = policy(penalty_per_day=0.2, max_penalty=0.4).apply(result(raw=100, late_by=None, seen_by=timedelta(days=6)))
    assert (r.score, r.late.penalty, r.late.hours_late, r.late.at) == (60, 40, 144, DUE + timedelta(days=6))
    assert r.late.review == "no time given" and r.late.source == "first seen" and not r.bad_input
    assert len(r.errors) == 1 and "needs review by your instructor: no time given" in r.errors[0]
    assert "2026-12-07 17:00 UTC (6 d after the due date)" in r.errors[0]
    assert describe(r.late) == "raw 100, submission time needs review, scored as 6 d late: −40"


@pytest.mark.parametrize(
    "table, score",
    [({"cutoff_hours": 72, "penalty_per_hour": 0.01}, 0), ({"penalty_per_hour": 0.05, "max_penalty": 0.3}, 50),
     ({"penalty_per_day": 0.5}, 0), ({}, 80)],
)  # fmt: skip
def test_no_time_at_all_gets_the_largest_penalty(table, score):
    """Never seen and no trusted time (a refused file): the largest penalty the policy can give, flagged."""
    r = policy(**table).apply(result(late_by=None))
    assert r.score == score and r.late.hours_late is None and r.late.review and r.late.at is None
    assert "scored with the largest late penalty" in r.errors[0]


def test_first_seen_by_the_due_date_is_on_time_whatever_the_claim():
    """A notebook the grader already had at the due date was submitted on time: no review needed."""
    r = policy(penalty_per_hour=0.5).apply(result(late_by=None, seen_by=timedelta(hours=-1)))
    assert (r.score, r.late.hours_late, r.late.source, r.late.review, r.errors) == (80, 0, "first seen", "", ())
    r = policy(penalty_per_hour=0.5).apply(result(late_by=timedelta(hours=30), seen_by=timedelta(minutes=-1)))
    assert r.score == 80 and r.late.source == "first seen"  # (a later time elsewhere is another event)


def test_a_trusted_time_is_never_later_than_first_seen():
    r = policy(penalty_per_hour=0.1).apply(result(late_by=timedelta(hours=5), seen_by=timedelta(minutes=30)))
    assert (r.score, r.late.hours_late, r.late.source, r.late.review) == (70, 0.5, "times file", "")


def test_due_date_without_late_table_records_lateness_only():
    """A due date and no [late]: hours_late is recorded, nothing is taken off."""
    r = policy().apply(result(late_by=timedelta(hours=3)))
    assert (r.score, r.late.penalty, r.late.hours_late) == (80, 0, 3)
    assert describe(r.late) == "submitted 3 h late: no penalty"


def test_no_due_date_is_no_policy():
    assert LatePolicy.of({"penalty_per_hour": 0.1}, None) is None


def test_due_date_with_a_time_zone_is_utc():
    p = LatePolicy.of({}, datetime.fromisoformat("2026-12-01T18:00+01:00"))
    assert p.due == DUE


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-12-01 17:00", DUE),
        ("2026-12-01T17:00:00", DUE),
        ("2026-12-01T18:30+01:30", DUE),
        ("2026-12-01 17:00Z", DUE),
        ("2026-12-02", datetime(2026, 12, 2)),
    ],
)
def test_due_on_the_command_line(text, expected):
    """Is --due ISO-like, naive meaning UTC, and given back as naive UTC?"""
    assert due_arg(text) == expected


@pytest.mark.parametrize("text", ["tomorrow", "2026-13-01", "2026-12-01 17:00 Europe/Paris", "1/12/2026", ""])
def test_bad_due_is_refused(text):
    with pytest.raises(argparse.ArgumentTypeError, match="is not a due date"):
        due_arg(text)


# --- [late] in assignment.toml ---------------------------------------------------------


@pytest.mark.parametrize(
    "table, message",
    [
        ({"penalty_per_hour": 1.5}, "late.penalty_per_hour must be a fraction of the max score, from 0 to 1"),
        ({"penalty_per_day": -0.1}, "late.penalty_per_day must be a fraction"),
        ({"max_penalty": "half"}, "late.max_penalty must be a fraction .* not the text 'half'"),
        ({"cutoff_hours": -1}, r"late.cutoff_hours must be a number \(0 or more\), not -1"),
        ({"grace_minutes": True}, "late.grace_minutes must be a number .* not the boolean true"),
        ({"grace_minutes": float("inf")}, "late.grace_minutes must be a number"),
        ({"penalty_per_hour": 0.1, "penalty_per_day": 0.1}, "late.penalty_per_hour or late.penalty_per_day, not both"),
        ({"penalty": 0.1}, "unknown key late.penalty; .late. allows penalty_per_hour or penalty_per_day"),
    ],
)
def test_late_table_is_checked(table, message):
    """Does each mistake in [late] name the file, the key and what is allowed?"""
    path = Path("/course/autograder/graders/x/assignment.toml")
    with pytest.raises(AssignmentError, match=message) as e:
        validate_declaration({"late": table}, path)
    assert str(e.value).startswith(f"{path}: ")


def test_late_must_be_a_table():
    with pytest.raises(AssignmentError, match=r"late must be a table \[late\]"):
        validate_declaration({"late": 0.1}, Path("assignment.toml"))


def test_a_full_late_table_is_accepted():
    late = {"penalty_per_day": 0.1, "max_penalty": 0.5, "cutoff_hours": 72, "grace_minutes": 15}
    assert validate_declaration({"late": late}, Path("assignment.toml")).late.model_dump(exclude_unset=True) == late


# --- outputs ---------------------------------------------------------------------------


def test_json_with_late_keys_matches_the_schema_and_reads_back():
    """Are raw_score, late_penalty and hours_late optional keys of the schema, kept when merging?"""
    p = policy(penalty_per_hour=0.05, max_penalty=0.08)
    results = {"ada": p.apply(result(late_by=timedelta(hours=2))), "ben": p.apply(result(late_by=None)),
               "cy": result(), "dee": p.apply(result(late_by=None, seen_by=timedelta(hours=1)))}  # fmt: skip
    out = public_json(NAME, results)
    jsonschema.validate(out, SCHEMA)
    ada, ben, dee = (out["students"][s] for s in ("ada", "ben", "dee"))
    assert ada["score"] == 72 and ada["raw_score"] == 80 and ada["late_penalty"] == 8 and ada["hours_late"] == 2
    assert (ada["submitted_at"], ada["time_source"], ada["time_review"]) == ("2026-12-01T19:00:00Z", "times file", None)
    assert ben["hours_late"] is None and ben["score"] == 72 and ben["time_review"] == "no time given"
    assert (dee["submitted_at"], dee["time_source"], dee["time_review"]) == ("2026-12-01T18:00:00Z", "first seen",
                                                                              "no time given")  # fmt: skip
    assert set(out["students"]["cy"]) == {"score", "max_score", "errors", "functions"}
    back = StudentResult.from_public(dee, "dee", NAME)
    assert (back.late.at, back.late.source, back.late.review) == (
        DUE + timedelta(hours=1),
        "first seen",
        "no time given",
    )
    for bad in ({"late_penalty": -1}, {"time_source": "the student"}, {"submitted_at": "yesterday"}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**out, "students": {"x": {**ada, **bad}}}, SCHEMA)


def test_json_merge_keeps_late_keys(tmp_path):
    p = policy(penalty_per_hour=0.05, max_penalty=0.08)
    path = tmp_path / "out.json"
    tables.write_json(path, NAME, {"ada": p.apply(result(late_by=timedelta(hours=2)))})
    tables.write_json(path, NAME, {"ben": result()}, tables.read_json(path, NAME))
    students = json.loads(path.read_text())["students"]
    assert students["ada"]["raw_score"] == 80 and students["ada"]["score"] == 72
    assert "raw_score" not in students["ben"]


def test_csv_without_policy_is_as_before_and_with_one_appends_columns(tmp_path):
    """No policy: the same header and rows as before; a policy: raw_score, late_penalty last."""
    path = tmp_path / "g.csv"
    tables.write_csv(path, {"ada": result()}, ["f"])
    assert path.read_bytes() == b"student,score,max_score,f,errors\r\nada,80,100,80,0\r\n"
    p = policy(penalty_per_hour=0.05, max_penalty=0.08)
    tables.write_csv(path, {"ada": p.apply(result(late_by=timedelta(hours=2)))}, ["f"])
    rows = list(csv.reader(path.open()))
    assert rows == [["student", "score", "max_score", "f", "errors", "raw_score", "late_penalty", "submitted_at",
                     "time_source", "time_review"],
                    ["ada", "72", "100", "80", "0", "80", "8", "2026-12-01 19:00:00 UTC", "times file", ""]]  # fmt: skip


def test_feedback_shows_raw_and_final():
    p = policy(penalty_per_hour=0.05, max_penalty=0.08)
    page = feedback.feedback_html(p.apply(result(late_by=timedelta(hours=2, minutes=10))), None)
    assert "Score: 72 / 100 (raw 80, submitted 2 h 10 min late: −8)</p>" in page
    assert "Score: 80 / 100</p>" in feedback.feedback_html(result(), None)


# --- a class graded through the CLI, under a late policy ------------------------------------
#
# Due 2026-12-01 17:00; 20% off per started day, at most 40%: two days late is 60 of 100.
# Two students were seen by grading runs before the due date (early, resub); resub was seen
# again the morning after, then changed the notebook and forged an on-time timestamp.txt.
# Everyone else was first seen a week later, each with a full-score notebook.

LATE = {"penalty_per_day": 0.2, "max_penalty": 0.4}
DUE_TEXT = "2026-12-01 17:00"
TWO_DAYS_LATE = "2026-12-03 17:00:00.000000 UTC"
CLASS = {  # student -> their timestamp.txt (None: deleted)
    "ada": "2026-12-01 16:59:00.000000 UTC",  # honest, on time: the neighbour
    "ben": TWO_DAYS_LATE,  # honest, two days late: 60
    "forged": "2026-12-01 16:00:00.000000 UTC",  # two days late (the LMS says so), claims on time
    "garbled": "2026-12-01 16:00\x1b[31m; rm -rf /",
    "deleted": None,
    "year1": "0001-01-01 00:00:00.000000 UTC",
    "future": "2099-01-01 00:00:00.000000 UTC",
}
CHEATS = ("forged", "garbled", "deleted", "year1", "future", "resub")
LMS = "student,timestamp\nada,2026-12-01 16:59 UTC\n" + "".join(
    f"{s},2026-12-03 17:00 UTC\n" for s in ("ben", "forged", "garbled", "deleted", "year1")
)  # (future and resub: no row; early: none needed)
BEFORE_DUE, MORNING_AFTER, WEEK_AFTER = datetime(2026, 12, 1, 12), datetime(2026, 12, 2, 9), datetime(2026, 12, 8, 9)


def stamp(submitted: Path, student: str, when: str) -> None:
    (submitted / student / NAME / "timestamp.txt").write_text(when)


@dataclass
class Run:
    code: int
    out: str  # what the command printed
    students: dict  # the --json output's students
    rows: dict[str, dict[str, str]]  # the CSV's rows by raw student id
    report: str  # the class report's page


SHARED: dict[str, str] = {}  # the fingerprint's shared part, taken once (see cli_run)


def cli_run(root: Path, clock: datetime, *extra: str) -> Run:
    """``autograder grade`` in this process, with the grader's clock at ``clock``. The package's part of
    the fingerprint is taken once, so that editing the checkout while the module runs re-grades no one
    (no time option is in the fingerprint; tests/run/test_resume.py tests what is)."""
    printed = io.StringIO()
    real = class_run.shared_digest
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(class_run, "shared_digest", lambda a, o: SHARED.setdefault(a.name, real(a, o)))
        mp.setattr(times, "now", lambda: clock)
        mp.setattr(console, "out", Console(file=printed, width=300))
        mp.setattr(console, "err", Console(file=printed, width=300))
        mp.setattr(Assignment, "late", lambda self: dict(LATE))
        code = cli.main(["grade", NAME, str(root / "submitted"), "--workers", "2", "--json", str(root / "out.json"),
                         *extra])  # fmt: skip
    out = json.loads((root / "out.json").read_text())
    jsonschema.validate(out, SCHEMA)
    with (root / "grades" / f"{NAME}.csv").open(newline="", encoding="utf-8") as f:
        rows = {uncell(row["student"]): row for row in csv.DictReader(f)}
    page = (root / "reports" / f"{NAME}.html").read_text()
    return Run(code, printed.getvalue(), out["students"], rows, page)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> tuple[Path, dict[str, Run]]:
    root = tmp_path_factory.mktemp("late")
    sub = root / "submitted"
    for s in ("early", "resub"):
        write_submission(build_submission(A), sub, s, NAME)
    r = {"early": cli_run(root, BEFORE_DUE, "--student=early", "--student=resub")}
    r["morning after"] = cli_run(root, MORNING_AFTER, "--student=resub")
    write_submission(build_submission(A, extra_cells=["resubmitted = True"]), sub, "resub", NAME)
    stamp(sub, "resub", "2026-12-01 16:00:00.000000 UTC")
    for s, text in CLASS.items():
        write_submission(build_submission(A), sub, s, NAME)
        if text is not None:
            stamp(sub, s, text)
    r["no policy"] = cli_run(root, WEEK_AFTER)
    r["default"] = cli_run(root, WEEK_AFTER, "--due", DUE_TEXT)
    r["trusted"] = cli_run(root, WEEK_AFTER, "--due", DUE_TEXT, "--trust-student-timestamps")
    (root / "lms.csv").write_text(LMS)
    r["times file"] = cli_run(root, WEEK_AFTER, "--due", DUE_TEXT, "--submission-times", str(root / "lms.csv"))
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        gb.update_or_create_assignment(NAME, duedate="2026-12-01 17:00:00 UTC")
    r["gradebook due"] = cli_run(root, WEEK_AFTER, "--trust-student-timestamps")
    r["later due"] = cli_run(root, WEEK_AFTER, "--due", "2026-12-03 18:00", "--trust-student-timestamps")
    return root, r


EVERYONE = {"early", "resub", *CLASS}


def scores(run: Run) -> dict[str, float]:
    return {s: e["score"] for s, e in run.students.items()}


@pytest.mark.slow  # reads the class graded through the CLI (``runs``: minutes of the quick loop)
def test_without_a_due_date_nothing_changes(runs):
    """No due date: the same outputs as before the late policy existed, and no time is flagged."""
    _, r = runs
    run = r["no policy"]
    assert run.code == 0 and set(run.students) == EVERYONE
    assert all(set(e) == {"score", "max_score", "errors", "functions"} for e in run.students.values())
    assert set(scores(run).values()) == {100}
    assert "raw_score" not in next(iter(run.rows.values())) and "times:" not in run.out


@pytest.mark.slow  # reads the class graded through the CLI (``runs``: minutes of the quick loop)
def test_by_default_no_students_timestamp_counts(runs):
    """No trusted source given: only the grader's own sighting counts. early (seen before the due
    date) is on time; everyone else, the honest too, needs review and is scored as late as when the
    grader first saw them, so no timestamp.txt, forged, garbled, deleted, year 1 or future, gains."""
    root, r = runs
    run = r["default"]
    assert run.code == 0 and set(run.students) == EVERYONE
    early = run.students["early"]
    assert (early["score"], early["time_source"], early["time_review"], early["hours_late"]) == (100, "first seen",
                                                                                                 None, 0)  # fmt: skip
    for s in EVERYONE - {"early"}:
        e = run.students[s]
        assert e["score"] == 60 and e["time_review"] and e["time_source"] == "first seen", s
        assert e["submitted_at"] == "2026-12-08T09:00:00Z" and run.rows[s]["time_review"] == e["time_review"]
        assert any("needs review by your instructor" in x for x in e["errors"])
    assert "timestamp.txt is the student's own file" in run.students["ada"]["time_review"]
    assert run.out.count("submission time needs review") == len(EVERYONE) - 1  # each flagged in the table
    assert "times: 1 first seen by the grader by the due date; 8 need review" in " ".join(run.out.split())
    page = (root / "feedback" / "garbled" / NAME / f"{NAME}.html").read_text()
    assert "submission time needs review" in page and "Your submission time needs review" in page
    assert "\x1b" not in page and f"({len(EVERYONE)} unchanged since the last run" in run.out


@pytest.mark.slow  # reads the class graded through the CLI (``runs``: minutes of the quick loop)
def test_trusting_timestamps_is_the_instructors_choice(runs):
    """--trust-student-timestamps uses a plausible timestamp.txt: the honest keep their marks (and a
    plausible forgery passes: that is what trusting means). Missing, garbled, year 1, future, or
    earlier than a version the grader saw after the due date: review, scored as late."""
    _, r = runs
    run = r["trusted"]
    s = scores(run)
    assert (s["ada"], s["early"], s["ben"], s["forged"]) == (100, 100, 60, 100)
    assert run.students["ada"]["time_source"] == "timestamp.txt" and run.students["ada"]["errors"] == []
    assert run.students["ben"]["submitted_at"] == "2026-12-03T17:00:00Z" and run.students["ben"]["time_review"] is None
    reasons = {c: run.students[c]["time_review"] or "" for c in CHEATS if c != "forged"}
    assert all(s[c] == 60 for c in reasons), s
    assert "does not hold a time" in reasons["garbled"] and "there is no timestamp.txt" in reasons["deleted"]
    assert "before the assignment was released" in reasons["year1"] and "in the future" in reasons["future"]
    assert "when the grader still saw an earlier version" in reasons["resub"]
    assert "3 from timestamp.txt (trusted)" in " ".join(run.out.split())


@pytest.mark.slow  # reads the class graded through the CLI (``runs``: minutes of the quick loop)
def test_a_times_file_from_the_lms_decides(runs):
    """--submission-times: the instructor's times win over every timestamp.txt; a student without a
    row needs review. The honest neighbour keeps full marks, no cheat gains a point."""
    _, r = runs
    run = r["times file"]
    s = scores(run)
    assert run.code == 0 and set(run.students) == EVERYONE
    assert s["ada"] == 100 and run.students["ada"]["errors"] == [] and s["early"] == 100
    assert all(s[c] == 60 for c in (*CHEATS, "ben")), s
    for c in ("ben", "forged", "garbled", "deleted", "year1"):
        assert run.students[c]["time_source"] == "times file" and run.students[c]["time_review"] is None
    for c in ("future", "resub"):
        assert run.students[c]["time_review"] == "no time for this student in lms.csv"
    assert run.rows["forged"]["time_source"] == "times file" and run.rows["forged"]["late_penalty"] == "40"
    assert 'id="time-review"' in run.report and "future, resub" in run.report


@pytest.mark.slow  # reads the class graded through the CLI (``runs``: minutes of the quick loop)
def test_the_due_date_from_the_gradebook_and_the_command_line(runs):
    """The gradebook's due date is used without --due; --due wins over it; neither re-grades."""
    _, r = runs
    assert "(from the gradebook)" in r["gradebook due"].out and scores(r["gradebook due"]) == scores(r["trusted"])
    later = scores(r["later due"])
    assert later["ben"] == 100 and later["forged"] == 100 and later["garbled"] == 60
    assert f"({len(EVERYONE)} unchanged since the last run" in r["later due"].out


@pytest.mark.slow  # reads the class graded through the CLI (``runs``: minutes of the quick loop)
def test_saved_results_stay_raw_and_the_gradebook_gets_the_trusted_time(runs):
    root, r = runs
    saved = json.loads((root / "autograded" / "ben" / NAME / "results.json").read_text())
    assert saved["result"]["score"] == 100 and "raw_score" not in saved["result"]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        assert gb.find_submission(NAME, "ben").score == 100  # raw auto scores, as nbgrader autograde writes them
        assert gb.find_submission(NAME, "ben").timestamp == datetime(2026, 12, 3, 17, 0)
    ledger = json.loads((root / "autograded" / "resub" / NAME / times.LEDGER).read_text())["seen"]
    assert sorted(first for first, _ in ledger.values()) == [BEFORE_DUE.isoformat(), WEEK_AFTER.isoformat()]


def test_a_bad_times_file_stops_the_run_before_grading(tmp_path, capsys):
    (tmp_path / "submitted" / "ada" / NAME).mkdir(parents=True)
    (tmp_path / "lms.csv").write_text("student,timestamp\nada,soon\n")
    assert cli.main(["grade", NAME, str(tmp_path / "submitted"), "--submission-times", str(tmp_path / "lms.csv")]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "lms.csv, line 2: 'soon' for 'ada' is not a student and a time" in err
    assert not (tmp_path / "grades").exists()


@pytest.mark.slow  # reads the class graded through the CLI (``runs``: minutes of the quick loop)
def test_exports_say_when_a_time_needs_review(runs, tmp_path):
    """The Gradescope output of a student whose time needs review says so beside the penalty."""
    root, _ = runs  # (the CSV of the last run: --due 2026-12-03 18:00, timestamps trusted)
    for student, flagged in (("future", True), ("ben", False)):
        path = tmp_path / f"{student}.json"
        args = ["export", NAME, str(root / "submitted"), "--gradescope-results", str(path), f"--student={student}"]
        assert cli.main(args) == 0
        output = json.loads(path.read_text())["output"]
        assert ("the submission time needs review: timestamp.txt's time 2099-01-01" in output) == flagged, output
