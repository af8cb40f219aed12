"""LMS exports (autograder/outputs/exports.py): a Canvas gradebook CSV and Gradescope's results.json,
made from what a grading run wrote (the class CSV, the saved results, the gradebook's names).

One small class of cnn_step_by_step is graded once, under a late policy: ada on time,
ben 2 h 10 min late, cy with a bug in zero_pad, and eve whose notebook is a folder
(refused: 0 points, no saved results). The gradebook then gets names and emails for
some of them, one of them hostile.
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import datetime
from pathlib import Path

import jsonschema
import pytest
from nbgrader.api import Gradebook

from autograder import cli
from autograder.course.assignments import Assignment
from autograder.course.notebook import write_notebook
from autograder.outputs import exports
from autograder.outputs.gradebook import default_url
from autograder.outputs.results import FunctionResult, StudentResult, TestResult
from autograder.run import pipeline
from autograder.run.layout import Layout
from autograder.run.options import Options
from autograder.run.times import Sources
from tests.support import build_submission, write_submission

A = Assignment("cnn_step_by_step")
NAME = A.name
HOSTILE = '=HYPERLINK("http://evil.example","x")\x1b[31m'

# Gradescope's results.json, as its autograder specification describes it (the keys we write).
# Every output and name is declared plain text: Gradescope renders "html" and "md" as markup.
TEXT = {"const": "text"}
TEST_KEYS = ["name", "score", "max_score", "status", "output", "visibility"]
GRADESCOPE = {
    "type": "object",
    "required": ["score", "output", "tests", "output_format", "test_output_format", "test_name_format"],
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "integer"},
        "output": {"type": "string"},
        "output_format": TEXT,
        "test_output_format": TEXT,
        "test_name_format": TEXT,
        "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "stdout_visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
        "extra_data": {"type": "object"},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [*TEST_KEYS, "output_format", "name_format"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "score": {"type": "number"},
                    "max_score": {"type": "number"},
                    "status": {"enum": ["passed", "failed"]},
                    "output": {"type": "string"},
                    "output_format": TEXT,
                    "name_format": TEXT,
                    "visibility": {"enum": ["hidden", "after_due_date", "after_published", "visible"]},
                },
            },
        },
    },
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("exports")
    sub = root / "submitted"
    for s in ("ada", "ben"):
        write_submission(build_submission(A), sub, s, NAME)
    write_submission(build_submission(A, {"zero_pad": "def zero_pad(X, pad):\n    return X\n"}), sub, "cy", NAME)
    (sub / "eve" / NAME / f"{NAME}.ipynb").mkdir(parents=True)  # refused: not a file
    (sub / "ada" / NAME / "timestamp.txt").write_text("2026-12-01 16:59:00.000000 UTC")
    (sub / "ben" / NAME / "timestamp.txt").write_text("2026-12-01 19:10:00.000000 UTC")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Assignment, "late", lambda self: {"penalty_per_hour": 0.05})
        trusted = Sources(trust_timestamps=True)  # (the times in timestamp.txt are the test's own)
        pipeline.grade(A, Layout.beside(sub), Options(workers=2, times=trusted), due=datetime(2026, 12, 1, 17, 0))
    with Gradebook(default_url(root)) as gb:
        gb.update_or_create_student("ada", first_name="Ada", last_name="Lovelace", email="ada@uni.example",
                                    lms_user_id="4711")  # fmt: skip
        gb.update_or_create_student("ben", email="ben@uni.example")
        gb.update_or_create_student("cy", first_name=HOSTILE, last_name="Young")
    return root


def class_csv(course: Path) -> dict[str, dict[str, str]]:
    with (course / "grades" / f"{NAME}.csv").open() as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def saved(course: Path, student: str) -> dict:
    return json.loads((course / "autograded" / student / NAME / "results.json").read_text())["result"]


def test_the_class_is_graded_as_the_exports_expect(course):
    """Is ben's final score below his raw one, and eve refused with nothing saved?"""
    rows = class_csv(course)
    assert float(rows["ben"]["score"]) < float(rows["ben"]["raw_score"]) == float(rows["ada"]["score"])
    assert float(rows["eve"]["score"]) == 0 and not (course / "autograded" / "eve" / NAME / "results.json").exists()


def test_canvas_csv_has_canvas_columns_points_and_final_scores(course, capsys):
    """Canvas's columns, a Points Possible row, the CSV's final scores, names from the gradebook, no formulas."""
    out = course / "canvas.csv"
    assert cli.main(["export", NAME, str(course / "submitted"), "--canvas", str(out), "--canvas-id", "123"]) == 0
    assert str(out) in " ".join(capsys.readouterr().out.split())
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", f"{NAME} (123)"]
    assert rows[1][:5] == ["Points Possible", "", "", "", ""]
    assert float(rows[1][5]) == float(class_csv(course)["ada"]["max_score"]) > 0
    by_login = {r[3]: r for r in rows[2:]}
    final = {s: float(r["score"]) for s, r in class_csv(course).items()}
    assert {s: float(r[5]) for s, r in by_login.items()} == final  # late policy applied: ben's final score
    assert by_login["ada"][:3] == ["Lovelace, Ada", "4711", ""]
    assert by_login["ben"][:2] == ["ben", ""] and by_login["eve"][0] == "eve"  # no name in the gradebook: the id
    cy = by_login["cy"][0]
    assert cy.startswith("Young, =HYPERLINK") and "\x1b" not in cy  # cleaned; not a formula: it starts "Young"
    assert not any(cell[:1] in "=+-@" for r in rows for cell in r if cell)  # a spreadsheet runs none of it
    plain = course / "plain.csv"
    assert cli.main(["export", NAME, str(course / "submitted"), "--canvas", str(plain)]) == 0
    assert next(csv.reader(plain.open()))[5] == NAME


def test_gradescope_results_per_student_are_public_and_final(course):
    """One results.json per student in Gradescope's format: the final score, every test with its public
    message, nothing of the grader's own (timings but the time, isolation, hidden values)."""
    out = course / "gradescope"
    assert cli.main(["export", NAME, str(course / "submitted"), "--gradescope", str(out)]) == 0
    rows = class_csv(course)
    assert {p.parent.name for p in out.glob("*/results.json")} == set(rows)
    for student in ("ada", "ben", "cy"):
        gs = json.loads((out / student / "results.json").read_text())
        jsonschema.validate(gs, GRADESCOPE)
        raw = saved(course, student)
        assert gs["score"] == float(rows[student]["score"])
        assert sum(t["score"] for t in gs["tests"]) == pytest.approx(raw["score"])  # the tests add up to the raw
        assert sum(t["max_score"] for t in gs["tests"]) == pytest.approx(raw["max_score"])
        messages = {t["message"] for f in raw["functions"].values() for t in f["tests"]}
        assert {t["output"] for t in gs["tests"]} <= messages
        assert [t["status"] == "passed" for t in gs["tests"]] == [
            t["passed"] for f in raw["functions"].values() for t in f["tests"]
        ]
        text = json.dumps(gs)
        for key in ("isolation", "student_seconds", "fingerprint", "description"):
            assert key not in text
    ben = json.loads((out / "ben" / "results.json").read_text())
    assert "late penalty" in ben["output"] and ben["score"] < sum(t["score"] for t in ben["tests"])
    cy = json.loads((out / "cy" / "results.json").read_text())
    assert any(t["status"] == "failed" and t["name"].startswith("zero_pad") for t in cy["tests"])
    ada = json.loads((out / "ada" / "results.json").read_text())
    assert ada["extra_data"] == {"student": "ada", "name": "Lovelace, Ada", "email": "ada@uni.example"}
    eve = json.loads((out / "eve" / "results.json").read_text())
    assert eve["score"] == 0 and eve["tests"] == [] and exports.NOT_DETAILED in eve["output"]


def test_one_students_results_for_a_gradescope_autograder(course, capsys, tmp_path):
    """--gradescope-results writes one file, for one student; with a class it says how to choose."""
    one = tmp_path / "results" / "results.json"
    assert cli.main(["export", NAME, str(course / "submitted"), "--gradescope-results", str(one)]) == 1
    err = capsys.readouterr().err
    assert "--student" in err and len(err.strip().splitlines()) <= 2
    assert cli.main(["export", NAME, str(course / "submitted"), "--gradescope-results", str(one),
                     "--student", "cy"]) == 0  # fmt: skip
    assert cli.main(["export", NAME, str(course / "submitted"), "--gradescope", str(tmp_path / "all")]) == 0
    assert json.loads(one.read_text()) == json.loads((tmp_path / "all" / "cy" / "results.json").read_text())


def test_the_run_autograder_recipe(tmp_path, capsys):
    """The documented run_autograder steps on Gradescope's layout: a flat /autograder/submission, graded as
    one student, converted to /autograder/results/results.json."""
    submission, results = tmp_path / "autograder" / "submission", tmp_path / "autograder" / "results"
    submission.mkdir(parents=True)
    write_notebook(build_submission(A), submission / f"{NAME} (1).ipynb")  # as a browser renames it
    work = tmp_path / "work" / "submitted" / "student" / NAME
    shutil.copytree(submission, work)  # cp -r /autograder/submission/. "$WORK/"
    assert cli.main(["grade", NAME, str(work.parents[1]), "--workers", "1"]) == 0
    assert cli.main(["export", NAME, str(work.parents[1]), "--gradescope-results", str(results / "results.json")]) == 0
    gs = json.loads((results / "results.json").read_text())
    jsonschema.validate(gs, GRADESCOPE)
    assert gs["score"] == sum(t["max_score"] for t in gs["tests"]) > 0  # the reference earns every point
    assert all(t["status"] == "passed" for t in gs["tests"]) and gs["extra_data"]["student"] == "student"


def test_export_without_grades_says_what_to_do(tmp_path, capsys):
    (tmp_path / "submitted").mkdir()
    assert cli.main(["export", NAME, str(tmp_path / "submitted"), "--canvas", str(tmp_path / "c.csv")]) == 1
    err = " ".join(capsys.readouterr().err.split())
    assert "no grades at" in err and "autograder grade" in err and not (tmp_path / "c.csv").exists()
    assert cli.main(["export", NAME, str(tmp_path / "submitted")]) == 1
    assert "nothing to export" in capsys.readouterr().err


def test_gradescope_shows_student_markup_as_plain_text():
    """A message or problem holding HTML and Markdown: declared text at every level, kept as written
    (Gradescope escapes text; an "html" or "md" output would run or load it)."""
    markup = '<img src=x onerror="alert(1)"> [x](javascript:alert(1)) <script>alert(2)</script>'
    result = StudentResult(NAME, "mal", 0.0, 1.0, {"zero_pad": FunctionResult(0.0, 1.0, (
        TestResult("t", False, 1.0, markup, markup),))}, errors=(markup,))  # fmt: skip
    gs = exports.gradescope_results(exports.Grade("mal", 0.0, 1.0, 0.0, 0.0), result, exports.Person("mal"))
    jsonschema.validate(gs, GRADESCOPE)
    assert (gs["output_format"], gs["test_output_format"], gs["test_name_format"]) == ("text", "text", "text")
    [test] = gs["tests"]
    assert (test["output_format"], test["name_format"]) == ("text", "text")
    assert test["output"] == markup and markup in test["name"] and markup in gs["output"]
