"""Written answers and manual grading: nbgrader's "manually graded answer" and "manually
graded task" cells are kept in the autograded notebook, shown (escaped) in the feedback with
"needs manual grading", counted in max_score, and their points join the total once an
instructor grades them in formgrader (``Grade.manual_score`` in nbgrader's gradebook), on
the next run, without re-grading anyone."""

from __future__ import annotations

import csv
import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import jsonschema
import nbformat
import pytest
from nbgrader.api import Gradebook
from rich.console import Console

from autograder import cli, console
from autograder.course.assignments import Assignment, AssignmentError
from autograder.course.declaration import validate_declaration
from autograder.course.notebook import manual_cells, read_notebook
from autograder.outputs import tables
from autograder.outputs.late import LatePolicy
from autograder.outputs.manual import ManualGrades
from autograder.outputs.results import FunctionResult, StudentResult, TestResult, public_json
from autograder.run import pipeline
from autograder.run.layout import Layout
from autograder.run.options import Options
from tests.support import REPO, build_submission, write_submission

NAME = "first_steps"  # the scaffold's assignment: relu, 10 points
SCHEMA = json.loads((REPO / "docs" / "results.schema.json").read_text())
WRITTEN = {"grade": True, "solution": True, "locked": False, "points": 5, "grade_id": "written_1", "schema_version": 3}
TASK = {"grade": False, "solution": False, "task": True, "locked": True, "points": 2, "grade_id": "task_1",
        "schema_version": 3}  # fmt: skip
ADA = "ReLU keeps positive inputs & zeroes the rest, so its gradient is 1 or 0."
HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)> & </pre><b>bold</b>'
MANUAL_TOML = "\n[manual]\nwritten_1 = 5\ntask_1 = 2\n"


def add_manual_cells(source: Path) -> None:
    """A written question (5 points) and a task (2 points) after the notebook's answer cell, via nbformat."""
    nb = nbformat.read(source, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "relu") + 1
    written = nbformat.v4.new_markdown_cell("Because ReLU is piecewise linear.", metadata={"nbgrader": WRITTEN})
    task = nbformat.v4.new_markdown_cell("**Task.** Plot relu on [-2, 2] below.", metadata={"nbgrader": TASK})
    question = nbformat.v4.new_markdown_cell("**Written question (5 points).** Why does ReLU train fast?")
    nb.cells[at:at] = [question, written, task]
    nbformat.write(nb, source)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A scaffolded course with a written answer and a task, released; ada answers, ben writes HTML, cy nothing."""
    root = tmp_path_factory.mktemp("manual")
    (root / "autograder" / "graders").mkdir(parents=True)
    assert cli.main(["--course", str(root), "new", NAME]) == 0
    a = Assignment(NAME, root=root)
    add_manual_cells(a.source_notebook)
    with a.declaration.open("a") as f:
        f.write(MANUAL_TOML)
    assert cli.main(["--course", str(root), "release", NAME]) == 0
    for student, text in (("ada", ADA), ("ben", HOSTILE), ("cy", None)):
        nb = build_submission(a)
        for cell in nb["cells"]:
            if cell["metadata"].get("nbgrader", {}).get("grade_id") == "written_1" and text is not None:
                cell["source"] = text
        write_submission(nb, root / "submitted", student, NAME)
    return root


def grade(root: Path) -> pipeline.Outcome:
    return pipeline.grade(Assignment(NAME, root=root), Layout.beside(root / "submitted"), Options(workers=2),
                          json=root / "out.json")  # fmt: skip


def outputs(root: Path) -> tuple[dict, dict[str, dict[str, str]]]:
    out = json.loads((root / "out.json").read_text())
    jsonschema.validate(out, SCHEMA)
    rows = {r["student"]: r for r in csv.DictReader((root / "grades" / f"{NAME}.csv").open())}
    return out["students"], rows


def page(root: Path, student: str) -> str:
    return (root / "feedback" / student / NAME / f"{NAME}.html").read_text()


def test_manual_points_are_declared_and_checked(course):
    """Are the manual cells read from the notebook, and must [manual] match them once [points] is declared?"""
    a = Assignment(NAME, root=course)
    assert {g: (c.points, c.kind) for g, c in a.manual_cells().items()} == {"written_1": (5, "answer"),
                                                                           "task_1": (2, "task")}  # fmt: skip
    assert a.check_points() == {"relu": 10.0} and a.manual_points() == {"written_1": 5, "task_1": 2}
    toml = a.declaration.read_text()
    try:
        a.declaration.write_text(toml.replace(MANUAL_TOML, ""))
        with pytest.raises(
            AssignmentError, match=r"(?s)\[manual\] must list .* missing: task_1, written_1.*written_1 = 5"
        ):
            a.check_points()
        a.declaration.write_text(toml.replace("written_1 = 5", "written_1 = 4"))
        with pytest.raises(AssignmentError, match=r"written_1 is worth 4 points in .*\[manual\], but 5 in nbgrader's"):
            a.check_points()
        a.declaration.write_text(toml + "essay = 3\n")
        with pytest.raises(AssignmentError, match="not a manually graded cell there: essay"):
            a.check_points()
    finally:
        a.declaration.write_text(toml)
    with pytest.raises(AssignmentError, match=r"manual.written_1 must be a number of points"):
        validate_declaration({"manual": {"written_1": "five"}}, Path("assignment.toml"))


def test_release_has_the_written_cell_without_the_answer(course):
    """Does the release keep the manual cells (metadata, points) but not the instructor's answer?"""
    nb = read_notebook(course / "release" / NAME / f"{NAME}.ipynb")
    assert set(manual_cells(nb)) == {"written_1", "task_1"}
    assert "piecewise linear" not in json.dumps(nb)


def test_before_and_after_manual_grading(course, monkeypatch):
    """Before grading: 10 + up to 7 manual of 17, "needs manual grading" everywhere, the gradebook's
    rows waiting for formgrader. After manual scores in the gradebook: final totals with them,
    from the saved results (nothing re-graded), the manual scores untouched."""
    first = grade(course)
    assert not first.report.failed and sorted(first.report.results) == ["ada", "ben", "cy"]
    students, rows = outputs(course)
    for s in ("ada", "ben", "cy"):
        entry = students[s]
        assert (entry["score"], entry["max_score"], entry["status"], entry["manual_pending"]) == (
            10, 17, "needs manual grading", 7)  # fmt: skip
        assert entry["manual"] == {"written_1": {"score": None, "max_score": 5, "kind": "answer"},
                                   "task_1": {"score": None, "max_score": 2, "kind": "task"}}  # fmt: skip
        row = rows[s]
        assert (row["score"], row["max_score"], row["manual_score"], row["manual_pending"], row["status"]) == (
            "10", "17", "0", "7", "needs manual grading")  # fmt: skip
    assert list(rows["ada"])[-3:] == ["manual_score", "manual_pending", "status"]
    summary = Console(record=True, width=200)  # the table autograder grade prints says it too
    monkeypatch.setattr(console, "out", summary)
    console.print_summary(Assignment(NAME, root=course), first.report)
    assert "10 + up to 7 manual / 17" in summary.export_text()

    # the autograded notebook keeps the student's written answer; the feedback shows it, escaped
    autograded = read_notebook(course / "autograded" / "ada" / NAME / f"{NAME}.ipynb")
    assert [c["source"] for c in autograded["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id")
            == "written_1"] == [ADA]  # fmt: skip
    html = page(course, "ada")
    assert "Score: 10 + up to 7 manual / 17</p>" in html and "Needs manual grading" in html
    assert "needs manual grading (5 points)" in html and "needs manual grading (2 points)" in html
    assert "ReLU keeps positive inputs &amp; zeroes the rest" in html

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for s in ("ada", "ben"):
            grade_ = gb.find_grade("written_1", NAME, NAME, s)
            assert grade_.needs_manual_grade and grade_.manual_score is None and grade_.auto_score is None
            assert gb.find_grade("task_1", NAME, NAME, s).needs_manual_grade
        assert gb.find_grade("test_relu", NAME, NAME, "ada").auto_score == 10
        # the instructor grades in formgrader: what its API does to a grade (manual score, no longer needed)
        for s, cell, points in (("ada", "written_1", 4), ("ada", "task_1", 2), ("ben", "written_1", 1)):
            grade_ = gb.find_grade(cell, NAME, NAME, s)
            grade_.manual_score = points
            grade_.needs_manual_grade = False
        gb.db.commit()

    second = grade(course)
    assert sorted(second.report.reused) == ["ada", "ben", "cy"]  # manual scores are not in the fingerprint
    students, rows = outputs(course)
    ada, ben = students["ada"], students["ben"]
    assert (ada["score"], ada["max_score"], ada["status"], ada["manual_pending"]) == (16, 17, "final", 0)
    assert ada["manual"]["written_1"]["score"] == 4 and ada["manual"]["task_1"]["score"] == 2
    assert (ben["score"], ben["status"], ben["manual_pending"]) == (11, "needs manual grading", 2)
    assert students["cy"]["status"] == "needs manual grading"
    assert (rows["ada"]["score"], rows["ada"]["manual_score"], rows["ada"]["status"]) == ("16", "6", "final")
    html = page(course, "ada")
    assert "Score: 16 / 17</p>" in html and "Needs manual grading" not in html
    assert "4 / 5" in html and "2 / 2" in html
    assert "Score: 11 + up to 2 manual / 17</p>" in page(course, "ben")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        written = gb.find_grade("written_1", NAME, NAME, "ada")
        assert written.manual_score == 4 and not written.needs_manual_grade  # never overwritten
        assert gb.find_submission(NAME, "ada").score == 16  # nbgrader export agrees
    saved = json.loads((course / "autograded" / "ada" / NAME / "results.json").read_text())
    assert saved["result"]["score"] == 10 and "manual" not in saved["result"]  # the saved grade stays autograded

    # a submission without the cell's row (made before the cell was added) gets one; grading one
    # student merges: the others keep their manual keys in the JSON
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        gb.db.delete(gb.find_grade("task_1", NAME, NAME, "cy"))
        gb.db.commit()
    pipeline.grade(Assignment(NAME, root=course), Layout.beside(course / "submitted"), Options(workers=1),
                   json=course / "out.json", students=["cy"])  # fmt: skip
    students, rows = outputs(course)
    assert students["ada"]["status"] == "final" and students["ada"]["manual"]["written_1"]["score"] == 4
    assert rows["ada"]["status"] == "final" and rows["ben"]["status"] == "needs manual grading"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        remade = gb.find_grade("task_1", NAME, NAME, "cy")
        assert remade.needs_manual_grade and remade.manual_score is None


def test_html_in_a_written_answer_is_shown_as_text(course):
    """Does a student's HTML and script in a written answer stay text in the feedback?"""
    if not (course / "feedback" / "ben" / NAME / f"{NAME}.html").exists():
        grade(course)
    html = page(course, "ben")
    assert "<script" not in html and "<img" not in html and "<b>bold" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("</pre>") == len(re.findall(r"<pre\b", html))  # the student's </pre> closed nothing


def test_nbgrader_generate_feedback_renders_the_autograded_notebooks(course):
    """Does `nbgrader generate_feedback` take what we wrote (the autograded notebooks, made inert, and the
    gradebook's rows), and does ben's page from it show his HTML as nothing that runs?"""
    import os
    import subprocess
    import sys

    if not (course / "autograded" / "ben" / NAME / f"{NAME}.ipynb").exists():
        grade(course)
    nbgrader = Path(sys.executable).with_name("nbgrader")
    done = subprocess.run([str(nbgrader), "generate_feedback", NAME, "--force",
                           "--CourseDirectory.feedback_directory=nbgrader_feedback"],
                          cwd=course, capture_output=True, text=True, timeout=600, env={**os.environ})  # fmt: skip
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    for student in ("ada", "ben", "cy"):
        assert (course / "nbgrader_feedback" / student / NAME / f"{NAME}.html").is_file(), student
    page = (course / "nbgrader_feedback" / "ben" / NAME / f"{NAME}.html").read_text()
    assert "<b>bold</b>" in page  # his harmless markup is rendered
    assert "alert(" not in page and "onerror" not in page  # (Bootstrap's CSS has classes named alert)


# --- results, without a course -------------------------------------------------------


def autograded(score: float = 100.0, timestamp: datetime | None = None) -> StudentResult:
    tests = (TestResult("t", score == 100, 100.0, "ok"),)
    return StudentResult("a", "ada", score, 100.0, {"f": FunctionResult(score, 100.0, tests)}, timestamp=timestamp)


def test_a_pending_total_is_not_final_and_a_graded_one_is():
    """The issue's numbers: 100 of 105 with 5 pending, then 104 of 105, final, once 4 are given."""
    cells = {"written_1": (5.0, "answer")}
    pending = ManualGrades(cells).apply(autograded())
    assert (pending.score, pending.max_score, pending.manual_pending, pending.status) == (
        100, 105, 5, "needs manual grading")  # fmt: skip
    assert pending.total() == "100 + up to 5 manual"
    graded = ManualGrades(cells, {"ada": {"written_1": 4.0}}).apply(autograded())
    assert (graded.score, graded.max_score, graded.manual_pending, graded.status) == (104, 105, 0, "final")
    assert graded.total() == "104"
    out = public_json("a", {"ada": graded, "ben": autograded()})
    jsonschema.validate(out, SCHEMA)
    assert set(out["students"]["ben"]) == {"score", "max_score", "errors", "functions"}  # no manual cells: as before
    back = StudentResult.from_public(out["students"]["ada"], "ada", "a")
    assert back.manual == graded.manual and back.status == "final"


def test_the_late_penalty_applies_to_the_manual_points_too():
    """Decision: as nbgrader does, the penalty is on the whole submission (of 105, manual included)."""
    due = datetime(2026, 12, 1, 17, 0)
    late = LatePolicy.of({"penalty_per_hour": 0.1, "max_penalty": 1.0}, due)
    graded = ManualGrades({"written_1": (5.0, "answer")}, {"ada": {"written_1": 4.0}})
    r = late.apply(graded.apply(autograded(timestamp=due + timedelta(minutes=30))))
    assert (r.late.raw_score, r.late.penalty, r.score, r.max_score) == (104, 10.5, 93.5, 105)
    cutoff = LatePolicy.of({"cutoff_hours": 1}, due).apply(graded.apply(autograded(timestamp=due + timedelta(hours=2))))
    assert (cutoff.score, cutoff.late.penalty) == (0, 104)


def test_csv_without_manual_cells_is_as_before(tmp_path):
    path = tmp_path / "g.csv"
    tables.write_csv(path, {"ada": autograded()}, ["f"])
    assert path.read_bytes() == b"student,score,max_score,f,errors\r\nada,100,100,100,0\r\n"
