"""The usual mistakes of a term, each with a message that says what was found, what was
expected (an example path) and what to do; and grading part of a class.

Layout mistakes of the whole folder stop the run before any grading; a mistake in one
student's folder is that student's result, and the rest of the class is graded.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from nbgrader.api import Gradebook

from autograder.course.assignments import Assignment
from autograder.course.notebook import write_notebook
from autograder.outputs.gradebook import default_url
from autograder.run import pipeline
from autograder.run.layout import Layout
from autograder.run.options import BatchError, Options
from tests.support import REPO, build_submission, write_submission

A = Assignment("cnn_step_by_step")
NAME = A.name
NB = f"{NAME}.ipynb"
SCHEMA = json.loads((REPO / "docs" / "results.schema.json").read_text())


def grade(submitted: Path, **kwargs) -> pipeline.Outcome:
    return pipeline.grade(A, Layout.beside(submitted), Options(workers=2), **kwargs)


def run_error(submitted: Path, **kwargs) -> str:
    """The message of a run that stops before grading (and grades nobody)."""
    with pytest.raises(BatchError) as info:
        grade(submitted, **kwargs)
    assert not (submitted.parent / "autograded").exists()
    return " ".join(str(info.value).split())


# --- a submissions folder in the wrong layout: stops the run, says how to fix it -------------------------


def test_a_flat_folder_of_notebooks(tmp_path):
    sub = tmp_path / "submitted"
    for student in ("ada", "ben"):
        write_notebook(build_submission(A), sub / f"{student}.ipynb")
    message = run_error(sub)
    assert "found 2 notebooks directly in" in message and "ada.ipynb, ben.ipynb" in message
    assert f"e.g. {sub}/ada/{NAME}/{NB}" in message  # the example is their own first student
    assert "Put each notebook in its student's folder" in message and "docs/instructors.md" in message


def test_swapped_levels(tmp_path):
    sub = tmp_path / "submitted"
    for student in ("ada", "ben"):
        write_notebook(build_submission(A), sub / NAME / student / NB)
    message = run_error(sub)
    assert "levels of" in message and "are swapped" in message and f"found {NAME}/ada/" in message
    assert f"e.g. {sub}/ada/{NAME}/{NB}" in message and f"Move each {NAME}/<student>/ to <student>/{NAME}/" in message


def test_one_students_folder_instead_of_the_class(tmp_path):
    sub = tmp_path / "submitted"
    write_submission(build_submission(A), sub, "ada", NAME)
    message = run_error(sub / "ada")
    assert "looks like one student's folder" in message and f"autograder grade {NAME} {sub}" in message


def test_the_course_folder_instead_of_submitted(tmp_path):
    write_submission(build_submission(A), tmp_path / "submitted", "ada", NAME)
    (tmp_path / "release").mkdir()
    message = run_error(tmp_path)
    assert "looks like the course folder" in message and f"grade {tmp_path / 'submitted'}" in message


def test_folders_without_the_assignment(tmp_path):
    sub = tmp_path / "submitted"
    (sub / "ada" / "conv_net").mkdir(parents=True)
    message = run_error(sub)
    assert f"none of its 1 folders (ada) has a {NAME}/ folder" in message
    assert f"e.g. {sub}/ada/{NAME}/{NB}" in message and f"nbgrader collect {NAME}" in message


def test_the_layout_error_is_one_line_from_the_command(tmp_path):
    (tmp_path / "submitted").mkdir()
    write_notebook(build_submission(A), tmp_path / "submitted" / "ada.ipynb")
    proc = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", NAME, str(tmp_path / "submitted")],
        capture_output=True, text=True, env={**os.environ, "COLUMNS": "400"}, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "found 1 notebooks directly in" in proc.stderr


# --- one student's mistake: that student's result, with the reason; the rest are graded ----------------


@pytest.fixture(scope="module")
def mistakes(tmp_path_factory):
    """A class where ada did it right and everyone else made one usual mistake; graded once."""
    root = tmp_path_factory.mktemp("mistakes")
    sub = root / "submitted"
    write_submission(build_submission(A), sub, "ada", NAME)
    renamed = write_submission(build_submission(A), sub, "renamed", NAME)
    renamed.rename(renamed.with_name(f"{NAME} (1).ipynb"))  # a browser's second download
    two = write_submission(build_submission(A), sub, "two", NAME)
    write_notebook(build_submission(A, perfect=False), two.with_name("draft.ipynb"))
    two.rename(two.with_name("final.ipynb"))
    write_submission(build_submission(Assignment("conv_net")), sub, "other", NAME)  # conv_net's notebook
    flat = write_submission(build_submission(A), sub, "nolevel", NAME)
    flat.rename(sub / "nolevel" / NB)  # ada/cnn_step_by_step.ipynb, no assignment folder
    flat.parent.rmdir()
    write_submission(build_submission(A), sub, "badtime", NAME)
    (sub / "badtime" / NAME / "timestamp.txt").write_text("last Tuesday\x1b[31m")
    outcome = grade(sub, json=root / "out.json")
    return root, outcome, json.loads((root / "out.json").read_text())["students"]


def test_every_student_has_a_result_and_the_honest_one_full_marks(mistakes):
    _, outcome, out = mistakes
    assert set(out) == {"ada", "renamed", "two", "other", "nolevel", "badtime"}
    assert out["ada"]["score"] == 100 and out["ada"]["errors"] == []
    jsonschema.validate({"assignment": NAME, "students": out}, SCHEMA)


def test_a_renamed_notebook_is_graded_with_a_note(mistakes):
    """Decision: a single notebook in the student's assignment folder is graded, and the student is told."""
    _, outcome, out = mistakes
    assert out["renamed"]["score"] == 100
    (note,) = out["renamed"]["errors"]
    assert f"renamed/{NAME}/{NB} was not found" in note and f"graded {NAME} (1).ipynb" in note
    assert f"Name it {NB}" in note
    assert not outcome.report.results["renamed"].bad_input  # graded as it stands: not bad input


def test_several_other_notebooks_are_refused_with_their_names(mistakes):
    _, outcome, out = mistakes
    (message,) = out["two"]["errors"]
    assert out["two"]["score"] == 0 and "two" in outcome.report.refused
    assert "no such notebook" in message and "draft.ipynb, final.ipynb" in message
    assert f"Keep one, named {NB}" in message


def test_a_notebook_of_another_assignment_says_which(mistakes):
    _, outcome, out = mistakes
    (message,) = out["other"]["errors"]
    assert out["other"]["score"] == 0 and "other" in outcome.report.refused
    assert "looks like the conv_net notebook" in message and "conv_forward_naive" in message
    assert f"none of {NAME}'s (such as zero_pad)" in message and f"release/{NAME}/{NB}" in message


def test_a_notebook_beside_its_assignment_folder(mistakes):
    _, _, out = mistakes
    (message,) = out["nolevel"]["errors"]
    assert out["nolevel"]["score"] == 0
    assert f"Found nolevel/{NB}" in message and f"nolevel/{NAME}/{NB}" in message and "mv " in message


def test_an_unreadable_timestamp_is_a_note_not_a_refusal(mistakes):
    root, outcome, out = mistakes
    assert out["badtime"]["score"] == 100
    (note,) = out["badtime"]["errors"]
    assert "timestamp.txt holds 'last Tuesday" in note and "\x1b" not in note and "2024-03-02" in note
    copied = (root / "feedback" / "badtime" / NAME / "timestamp.txt").read_text()
    assert copied.startswith("last Tuesday") and "\x1b" not in copied  # cleaned, as every student string
    with Gradebook(default_url(root)) as gb:
        assert gb.find_submission(NAME, "badtime").timestamp is None


def test_without_timestamp_nothing_is_invented(mistakes):
    """Decision: no timestamp.txt, no submission time (as nbgrader autograde) and none beside the feedback."""
    root, outcome, _ = mistakes
    assert not (root / "feedback" / "ada" / NAME / "timestamp.txt").exists()
    with Gradebook(default_url(root)) as gb:
        assert gb.find_submission(NAME, "ada").timestamp is None
    assert "ada" in outcome.report.unstamped


# --- a gradebook URL that can't work --------------------------------------------------------------------


def test_a_gradebook_in_a_missing_folder(tmp_path):
    write_submission(build_submission(A), tmp_path / "submitted", "ada", NAME)
    url = f"sqlite:///{tmp_path / 'no' / 'such' / 'gradebook.db'}"
    message = run_error(tmp_path / "submitted", gradebook=url)
    assert f"its folder {tmp_path / 'no' / 'such'} does not exist" in message
    assert f"e.g. {default_url(tmp_path)}" in message and f"mkdir -p {tmp_path / 'no' / 'such'}" in message


def test_a_gradebook_that_is_not_a_url(tmp_path):
    write_submission(build_submission(A), tmp_path / "submitted", "ada", NAME)
    message = run_error(tmp_path / "submitted", gradebook="gradebook.db")
    assert "is not a database URL" in message and "sqlite:///" in message and "postgresql://" in message


# --- grading part of a class ----------------------------------------------------------------------------


def test_an_unknown_student_is_refused_with_near_matches(tmp_path):
    for student in ("ada", "ben", "cy"):
        write_submission(build_submission(A), tmp_path / "submitted", student, NAME)
    message = run_error(tmp_path / "submitted", students=["ada", "bem"])
    assert "--student bem: no submission" in message and "Did you mean ben?" in message
    assert f"{tmp_path / 'submitted'}/bem/{NAME}/{NB}" in message
    message = run_error(tmp_path / "submitted", students=["zzz"])
    assert "Students with a submission: ada, ben, cy." in message


def test_a_folder_with_only_some_students_merges_into_the_class(tmp_path):
    """Grade a class of 3, then a folder with one late student: 4 rows in the CSV and the JSON."""
    sub, late, out = tmp_path / "submitted", tmp_path / "late", tmp_path / "grades" / f"{NAME}.json"
    for student, perfect in (("ada", True), ("ben", False), ("cy", True)):
        write_submission(build_submission(A, perfect=perfect), sub, student, NAME)
    write_submission(build_submission(A), late, "dan", NAME)
    first = grade(sub, json=out)
    assert first.kept == 0
    before = json.loads(out.read_text())["students"]
    second = grade(late, json=out)  # beside submitted/: the same course, so the same CSV and gradebook
    assert set(second.report.results) == {"dan"} and second.kept == 3
    merged = json.loads(out.read_text())
    jsonschema.validate(merged, SCHEMA)
    assert set(merged["students"]) == {"ada", "ben", "cy", "dan"}
    assert {s: merged["students"][s] for s in before} == before
    with (tmp_path / "grades" / f"{NAME}.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [(r["student"], r["score"]) for r in rows] == [("ada", "100"), ("ben", "0"), ("cy", "100"), ("dan", "100")]
    assert list(rows[0])[:4] == ["student", "score", "max_score", "zero_pad"]
    # regrading one of them replaces their row, once
    write_notebook(build_submission(A, perfect=False), sub / "cy" / NAME / NB)
    grade(sub, json=out, students=["cy"])
    with (tmp_path / "grades" / f"{NAME}.csv").open() as f:
        assert [(r["student"], r["score"]) for r in csv.DictReader(f)] == [
            ("ada", "100"), ("ben", "0"), ("cy", "0"), ("dan", "100"),
        ]  # fmt: skip
    assert json.loads(out.read_text())["students"]["cy"]["score"] == 0
    with Gradebook(default_url(tmp_path)) as gb:
        assert len(gb.find_assignment(NAME).submissions) == 4


@pytest.mark.parametrize(
    "name, content, message",
    [
        ("grades.csv", "name,points\nada,3\n", "is not a grades CSV written by autograder"),
        ("out.json", "{not json", "could not be read as JSON"),
        ("out.json", json.dumps({"assignment": "conv_net", "students": {}}), "holds the results of 'conv_net'"),
    ],
)
def test_a_file_that_cannot_be_merged_into_stops_the_run_first(tmp_path, name, content, message):
    write_submission(build_submission(A), tmp_path / "submitted", "ada", NAME)
    (tmp_path / name).write_text(content)
    paths = {"csv": tmp_path / name} if name.endswith(".csv") else {"json": tmp_path / name}
    text = run_error(tmp_path / "submitted", **paths)
    assert message in text and "Move it away or choose another" in text
    assert (tmp_path / name).read_text() == content  # left as it was
