"""The late policy: a due date (--due or the gradebook's) and assignment.toml's [late]
turn each raw score into the final one, shown beside the raw one in the feedback, the CSV
and the JSON; the saved results and the gradebook stay raw, so nothing is re-graded."""

from __future__ import annotations

import argparse
import csv
import json
from datetime import datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
from nbgrader.api import Gradebook

from autograder import pipeline, reports
from autograder.assignments import Assignment, AssignmentError, check_config
from autograder.batch import Layout, Options
from autograder.cli import due_arg
from autograder.results import NO_TIME, FunctionResult, LatePolicy, StudentResult, TestResult, public_json
from tests.support import REPO, build_submission, write_submission

A = Assignment("cnn_step_by_step")
NAME = A.name
SCHEMA = json.loads((REPO / "docs" / "results.schema.json").read_text())
DUE = datetime(2026, 12, 1, 17, 0)


def result(raw: float = 80.0, late_by: timedelta | None = None) -> StudentResult:
    """A student with ``raw`` of 100 points, submitted ``late_by`` after DUE (None: no timestamp)."""
    tests = (TestResult("t1", True, raw, "ok"), TestResult("t2", False, 100 - raw, "wrong"))
    return StudentResult(NAME, "ada", raw, 100.0, {"f": FunctionResult(raw, 100.0, tests)},
                         timestamp=None if late_by is None else DUE + late_by)  # fmt: skip


def policy(**table: float) -> LatePolicy:
    return LatePolicy.of(table, DUE)


# --- the policy ------------------------------------------------------------------------


def test_on_time_keeps_the_score():
    """Is a submission before the due date untouched (but the late keys say so)?"""
    r = policy(penalty_per_hour=0.1).apply(result(late_by=timedelta(minutes=-5)))
    assert (r.score, r.late.raw_score, r.late.penalty, r.late.hours_late) == (80, 80, 0, 0)
    assert r.errors == () and r.late.describe() == ""


def test_late_within_grace_costs_nothing():
    """Is a submission 9 minutes late, with 10 minutes' grace, on time for the score?"""
    r = policy(penalty_per_hour=0.1, grace_minutes=10).apply(result(late_by=timedelta(minutes=9)))
    assert r.score == 80 and r.late.penalty == 0 and r.late.grace
    assert r.late.describe() == "submitted 9 min late, within the grace period: no penalty"
    r = policy(penalty_per_hour=0.1, grace_minutes=10).apply(result(late_by=timedelta(minutes=11)))
    assert r.score == 70  # past the grace: lateness counts from the due date, one started hour


def test_per_hour_penalty_per_started_hour_with_cap():
    """Is each started hour a penalty of the max score, capped by max_penalty?"""
    p = policy(penalty_per_hour=0.05, max_penalty=0.08)
    r = p.apply(result(late_by=timedelta(hours=2, minutes=10)))
    assert (r.score, r.late.penalty) == (72, 8)  # 3 started hours: 15%, capped at 8%
    assert r.late.describe() == "raw 80, submitted 2 h 10 min late: −8"
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
    assert "after the cutoff" in r.late.describe()


def test_no_timestamp_is_not_late_and_says_so():
    """Without a submission time, a policy in force: not late, a note, and not bad input."""
    r = policy(penalty_per_hour=0.5).apply(result(late_by=None))
    assert r.score == 80 and r.late.hours_late is None and r.errors == (NO_TIME,) and not r.bad_input


def test_due_date_without_late_table_records_lateness_only():
    """A due date and no [late]: hours_late is recorded, nothing is taken off."""
    r = policy().apply(result(late_by=timedelta(hours=3)))
    assert (r.score, r.late.penalty, r.late.hours_late) == (80, 0, 3)
    assert r.late.describe() == "submitted 3 h late: no penalty"


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
        check_config({"late": table}, path)
    assert str(e.value).startswith(f"{path}: ")


def test_late_must_be_a_table():
    with pytest.raises(AssignmentError, match=r"late must be a table \[late\]"):
        check_config({"late": 0.1}, Path("assignment.toml"))


def test_a_full_late_table_is_accepted():
    check_config({"late": {"penalty_per_day": 0.1, "max_penalty": 0.5, "cutoff_hours": 72, "grace_minutes": 15}},
                 Path("assignment.toml"))  # fmt: skip


# --- outputs ---------------------------------------------------------------------------


def test_json_with_late_keys_matches_the_schema_and_reads_back():
    """Are raw_score, late_penalty and hours_late optional keys of the schema, kept when merging?"""
    p = policy(penalty_per_hour=0.05, max_penalty=0.08)
    results = {"ada": p.apply(result(late_by=timedelta(hours=2))), "ben": p.apply(result(late_by=None)),
               "cy": result()}  # fmt: skip
    out = public_json(NAME, results)
    jsonschema.validate(out, SCHEMA)
    assert out["students"]["ada"]["score"] == 72 and out["students"]["ada"]["raw_score"] == 80
    assert out["students"]["ada"]["late_penalty"] == 8 and out["students"]["ada"]["hours_late"] == 2
    assert out["students"]["ben"]["hours_late"] is None
    assert set(out["students"]["cy"]) == {"score", "max_score", "errors", "functions"}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**out, "students": {"x": {**out["students"]["ada"], "late_penalty": -1}}}, SCHEMA)


def test_json_merge_keeps_late_keys(tmp_path):
    p = policy(penalty_per_hour=0.05, max_penalty=0.08)
    path = tmp_path / "out.json"
    reports.write_json(path, NAME, {"ada": p.apply(result(late_by=timedelta(hours=2)))})
    reports.write_json(path, NAME, {"ben": result()}, reports.read_json(path, NAME))
    students = json.loads(path.read_text())["students"]
    assert students["ada"]["raw_score"] == 80 and students["ada"]["score"] == 72
    assert "raw_score" not in students["ben"]


def test_csv_without_policy_is_as_before_and_with_one_appends_columns(tmp_path):
    """No policy: the same header and rows as before; a policy: raw_score, late_penalty last."""
    path = tmp_path / "g.csv"
    reports.write_csv(path, {"ada": result()}, ["f"])
    assert path.read_bytes() == b"student,score,max_score,f,errors\r\nada,80,100,80,0\r\n"
    p = policy(penalty_per_hour=0.05, max_penalty=0.08)
    reports.write_csv(path, {"ada": p.apply(result(late_by=timedelta(hours=2)))}, ["f"])
    rows = list(csv.reader(path.open()))
    assert rows == [["student", "score", "max_score", "f", "errors", "raw_score", "late_penalty"],
                    ["ada", "72", "100", "80", "0", "80", "8"]]  # fmt: skip


def test_feedback_shows_raw_and_final():
    p = policy(penalty_per_hour=0.05, max_penalty=0.08)
    page = reports.feedback_html(p.apply(result(late_by=timedelta(hours=2, minutes=10))), None)
    assert "Score: 72 / 100 (raw 80, submitted 2 h 10 min late: −8)</p>" in page
    assert "Score: 80 / 100</p>" in reports.feedback_html(result(), None)


# --- a class graded through the pipeline ------------------------------------------------


def stamp(submitted: Path, student: str, when: str) -> None:
    (submitted / student / NAME / "timestamp.txt").write_text(when)


def read(course: Path) -> tuple[dict, list[list[str]]]:
    out = json.loads((course / "out.json").read_text())
    rows = list(csv.reader((course / "grades" / f"{NAME}.csv").open()))
    return out, rows


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """ada on time, ben 2 h 10 min late, cy with no timestamp.txt, dee with a hostile one."""
    root = tmp_path_factory.mktemp("late")
    sub = root / "submitted"
    for s in ("ada", "ben", "cy", "dee"):
        write_submission(build_submission(A), sub, s, NAME)
    stamp(sub, "ada", "2026-12-01 16:59:00.000000 UTC")
    stamp(sub, "ben", "2026-12-01 19:10:00.000000 UTC")
    stamp(sub, "dee", "2026-12-01 19:10:00\x1b[31m UTC; rm -rf /")
    return root


def grade(course: Path, monkeypatch, table: dict | None, due: datetime | None = None) -> pipeline.Outcome:
    if table is not None:
        monkeypatch.setattr(Assignment, "late", lambda self: dict(table))
    return pipeline.grade(A, Layout.beside(course / "submitted"), Options(workers=2), json=course / "out.json",
                          due=due)  # fmt: skip


def test_pipeline_no_policy_no_change_then_gradebook_due_then_command_line(course, monkeypatch):
    """No due date: the same outputs as before. The gradebook's due date, then --due over it,
    change the final scores without re-grading; results.json and the gradebook stay raw."""
    first = grade(course, monkeypatch, {"penalty_per_hour": 0.05, "max_penalty": 0.3})  # no due date anywhere
    assert first.late is None and first.due_from == ""
    out, rows = read(course)
    jsonschema.validate(out, SCHEMA)
    assert all(set(s) == {"score", "max_score", "errors", "functions"} for s in out["students"].values())
    assert rows[0] == ["student", "score", "max_score", *A.graded_ids(), "errors"]
    assert [r[1] for r in rows[1:]] == ["100", "100", "100", "100"]
    page = (course / "feedback" / "ben" / NAME / f"{NAME}.html").read_text()
    assert "Score: 100 / 100</p>" in page

    url = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(url) as gb:
        gb.update_or_create_assignment(NAME, duedate="2026-12-01 17:00:00 UTC")
    second = grade(course, monkeypatch, None)  # [late] as set above
    assert second.due_from == "the gradebook" and second.late.due == DUE
    assert sorted(second.report.reused) == ["ada", "ben", "cy", "dee"]  # a due date needs no re-grading
    out, rows = read(course)
    jsonschema.validate(out, SCHEMA)
    s = out["students"]
    assert (s["ada"]["score"], s["ada"]["late_penalty"], s["ada"]["hours_late"]) == (100, 0, 0)
    assert (s["ben"]["score"], s["ben"]["raw_score"], s["ben"]["late_penalty"]) == (85, 100, 15)
    assert s["ben"]["hours_late"] == pytest.approx(2 + 10 / 60, abs=1e-3)
    for hostile in ("cy", "dee"):  # no usable timestamp: not late, a note, not bad input
        assert s[hostile]["score"] == 100 and s[hostile]["hours_late"] is None and NO_TIME in s[hostile]["errors"]
    assert rows[0][-2:] == ["raw_score", "late_penalty"]
    assert {r[0]: (r[1], r[-2], r[-1]) for r in rows[1:]}["ben"] == ("85", "100", "15")
    page = (course / "feedback" / "ben" / NAME / f"{NAME}.html").read_text()
    assert "Score: 85 / 100 (raw 100, submitted 2 h 10 min late: −15)</p>" in page
    assert "\x1b" not in (course / "feedback" / "dee" / NAME / f"{NAME}.html").read_text()
    saved = json.loads((course / "autograded" / "ben" / NAME / "results.json").read_text())
    assert saved["result"]["score"] == 100 and "raw_score" not in saved["result"]
    with Gradebook(url) as gb:
        assert gb.find_submission(NAME, "ben").score == 100  # raw auto scores, as nbgrader autograde writes them

    third = grade(course, monkeypatch, None, due=datetime(2026, 12, 1, 19, 0))  # --due wins over the gradebook
    assert third.due_from == "--due" and sorted(third.report.reused) == ["ada", "ben", "cy", "dee"]
    out, _ = read(course)
    assert out["students"]["ben"]["score"] == 95 and out["students"]["ada"]["late_penalty"] == 0
