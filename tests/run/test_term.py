"""A term with nbgrader's exchange, end to end: release, fetch, submit, collect, grade,
hand feedback back, fetch it, then grade one late student on their own.

Everything runs in a temporary course folder with the course's own nbgrader_config.py
and a temporary exchange. The instructor's steps are the real `nbgrader` commands, run
as `.venv/bin/nbgrader` with the venv's bin *not* on PATH (no activated venv); the
students' steps drive nbgrader's exchange classes in this process (what `nbgrader
fetch_assignment`, `submit` and `fetch_feedback` run), each student with their own home
and cache, as nbgrader's own tests do. The tests share one term and run in file order,
each step after the one before it.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from nbgrader.api import Gradebook
from nbgrader.auth import Authenticator
from nbgrader.coursedir import CourseDirectory
from nbgrader.exchange import ExchangeFactory
from nbgrader.utils import parse_utc
from traitlets.config import Config

from autograder import cli
from autograder.course.assignments import Assignment
from autograder.course.notebook import write_notebook
from autograder.course.release import generate
from autograder.outputs.gradebook import default_url
from autograder.run import pipeline
from autograder.run.layout import Layout
from autograder.run.options import Options
from tests.support import REPO, build_submission, write_submission

pytestmark = pytest.mark.slow  # nbgrader's own commands, one after another, around class runs
A = Assignment("cnn_step_by_step")  # the quickest to grade (about 1 s a submission)
NAME = A.name
COURSE_ID = "cnn101"
NBGRADER = Path(sys.executable).parent / "nbgrader"
SCHEMA = json.loads((REPO / "docs" / "results.schema.json").read_text())


def nbgrader(course: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    """An instructor's `nbgrader` command, in the course folder, without the venv on PATH."""
    bin_dir = str(NBGRADER.parent)
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != bin_dir)
    env = {**os.environ, "PATH": path or "/usr/bin:/bin"}
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.run([NBGRADER, *args], cwd=course, env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def as_student(step: str, student: str, term: dict) -> None:
    """One student's exchange step (FetchAssignment, Submit, FetchFeedback), in their own home."""
    home = term["homes"] / student
    config = Config()
    config.CourseDirectory.course_id = COURSE_ID
    config.CourseDirectory.student_id = student  # who submits / fetches (instead of the login name)
    config.CourseDirectory.assignment_id = NAME
    config.Exchange.root = str(term["exchange"])
    config.Exchange.cache = str(home / ".cache")
    config.Exchange.assignment_dir = str(home)
    coursedir = CourseDirectory(config=config)
    exchange = getattr(ExchangeFactory(config=config), step)
    exchange(coursedir=coursedir, authenticator=Authenticator(config=config), config=config).start()


def work_on(student: str, term: dict, answers: dict | None = None, perfect: bool = True) -> None:
    """Fetch the assignment, fill it in and submit it, as a student does."""
    home = term["homes"] / student
    home.mkdir(parents=True, exist_ok=True)
    as_student("FetchAssignment", student, term)
    fetched = home / NAME / f"{NAME}.ipynb"
    assert fetched.exists()
    write_notebook(build_submission(A, answers, perfect=perfect), fetched)
    as_student("Submit", student, term)


@pytest.fixture(scope="module")
def term(tmp_path_factory) -> dict:
    """Three students through release, submit, collect and `autograder grade`."""
    base = tmp_path_factory.mktemp("term")
    course, exchange = base / "course", base / "exchange"
    course.mkdir()
    exchange.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", course)  # the course's config: its folder is the course root
    term = {"course": course, "exchange": exchange, "homes": base / "homes"}
    generate(A, out_dir=course / "release" / NAME)  # what `autograder release` does, into this course
    ex = [f"--course={COURSE_ID}", f"--Exchange.root={exchange}"]
    nbgrader(course, "release_assignment", NAME, *ex)
    work_on("ada", term)
    work_on("ben", term, perfect=False)
    work_on("cy", term, {"zero_pad": "def zero_pad(X, pad):\n    return X\n"})
    term["collect"] = nbgrader(course, "collect", NAME, *ex)  # (it creates gradebook.db: alembic, no venv)
    term["ex"] = ex
    term["outcome"] = pipeline.grade(
        A, Layout.beside(course / "submitted"), Options(workers=2), json=course / "grades" / f"{NAME}.json"
    )
    return term


def test_collect_gives_the_submitted_layout_with_nbgrader_files(term):
    """Does `nbgrader collect` (no venv on PATH) give submitted/<student>/<assignment>/, timestamp included?"""
    for student in ("ada", "ben", "cy"):
        folder = term["course"] / "submitted" / student / NAME
        assert {p.name for p in folder.iterdir()} >= {f"{NAME}.ipynb", "timestamp.txt", "submission_secret.txt"}


def test_grading_what_collect_gave(term):
    report = term["outcome"].report
    scores = {s: r.score for s, r in report.results.items()}
    assert scores["ada"] == 100 and scores["ben"] == 0 and 0 < scores["cy"] < 100  # cy's zero_pad pads nothing
    assert report.unstamped == [] and report.failed == {}


def test_feedback_has_nbgrader_files_beside_it(term):
    """Is each feedback page next to copies of timestamp.txt and submission_secret.txt, as generate_feedback makes?"""
    for student in ("ada", "ben", "cy"):
        submitted = term["course"] / "submitted" / student / NAME
        for folder in (term["course"] / "feedback" / student / NAME, term["course"] / "autograded" / student / NAME):
            for name in ("timestamp.txt", "submission_secret.txt"):
                assert (folder / name).read_text() == (submitted / name).read_text()


def test_submission_times_are_in_the_gradebook_and_nbgrader_export(term):
    """Is timestamp.txt the submission's timestamp, so `nbgrader export` fills its timestamp column?"""
    course = term["course"]
    times = {
        s: parse_utc((course / "submitted" / s / NAME / "timestamp.txt").read_text()) for s in ("ada", "ben", "cy")
    }
    with Gradebook(default_url(course)) as gb:
        assert {s.student_id: s.timestamp for s in gb.find_assignment(NAME).submissions} == times
    nbgrader(course, "export", f"--to={course / 'export.csv'}")
    with (course / "export.csv").open() as f:
        rows = {row["student_id"]: row for row in csv.DictReader(f)}
    assert {s: parse_utc(rows[s]["timestamp"]) for s in times} == times
    assert {s: float(rows[s]["score"]) for s in times} == {
        s: r.score for s, r in term["outcome"].report.results.items()
    }


def test_release_feedback_and_fetch_feedback_hand_the_page_back(term):
    """Does `nbgrader release_feedback` work on what `autograder grade` wrote, and does each student get their page?"""
    course = term["course"]
    nbgrader(course, "release_feedback", NAME, *term["ex"])
    for student in ("ada", "ben", "cy"):
        as_student("FetchFeedback", student, term)
        timestamp = (course / "submitted" / student / NAME / "timestamp.txt").read_text()
        fetched = term["homes"] / student / NAME / "feedback" / timestamp / f"{NAME}.html"
        ours = (course / "feedback" / student / NAME / f"{NAME}.html").read_text()
        assert fetched.read_text() == ours
        assert f"— {student}" in ours and "Submitted " in ours


def test_a_late_student_graded_alone_is_merged_into_the_class(term, capsys):
    """One late submission, collected and graded with --student, joins the CSV and JSON; nobody is lost."""
    course = term["course"]
    before = json.loads((course / "grades" / f"{NAME}.json").read_text())["students"]
    work_on("late", term)
    nbgrader(course, "collect", NAME, *term["ex"])
    out = course / "grades" / f"{NAME}.json"
    code = cli.main(["grade", NAME, str(course / "submitted"), "--student", "late", "--json", str(out)])
    assert code == 0
    printed = " ".join(capsys.readouterr().out.split())  # (rich wraps lines)
    assert "late" in printed and f"(and the rows of {len(before)} students graded before, kept)" in printed
    students = json.loads(out.read_text())
    jsonschema.validate(students, SCHEMA)
    assert set(students["students"]) == {"ada", "ben", "cy", "late"}
    assert {s: students["students"][s] for s in before} == before  # the others untouched
    assert students["students"]["late"]["score"] == 100
    with (course / "grades" / f"{NAME}.csv").open() as f:
        rows = {row["student"]: row["score"] for row in csv.DictReader(f)}
    assert rows == {**{s: f"{r['score']:g}" for s, r in before.items()}, "late": "100"}
    # and the late student's feedback goes back the same way, on its own
    nbgrader(course, "release_feedback", NAME, *term["ex"], "--student=late")
    as_student("FetchFeedback", "late", term)
    timestamp = (course / "submitted" / "late" / NAME / "timestamp.txt").read_text()
    assert (term["homes"] / "late" / NAME / "feedback" / timestamp / f"{NAME}.html").exists()


def test_a_notebook_copied_in_by_hand_is_named_with_the_release_feedback_that_skips_it(term, capsys):
    """No timestamp.txt: release_feedback stops at it; the command printed releases everyone else's."""
    course = term["course"]
    write_submission(build_submission(A), course / "submitted", "byhand", NAME)  # emailed, copied in
    code = cli.main(["grade", NAME, str(course / "submitted"), "--student", "byhand", "--student", "ada"])
    assert code == 0
    printed = " ".join(capsys.readouterr().out.split())
    command = f"nbgrader release_feedback {NAME} --CourseDirectory.student_id_exclude=byhand"
    assert command in printed
    failed = nbgrader(course, "release_feedback", NAME, *term["ex"], check=False)
    assert "timestamp.txt" in failed.stderr  # nbgrader's own limitation (its issue #1897)
    nbgrader(course, *command.split()[1:], *term["ex"])
    assert (course / "feedback" / "byhand" / NAME / f"{NAME}.html").exists()


def test_nbgrader_commands_need_no_activated_venv(tmp_path):
    """Does `nbgrader collect` create a gradebook (it runs `alembic`) with the venv's bin not on PATH?"""
    exchange = tmp_path / "exchange"
    (exchange / COURSE_ID / "inbound").mkdir(parents=True)
    args = ("collect", NAME, f"--course={COURSE_ID}", f"--Exchange.root={exchange}")
    bare = tmp_path / "without_config"
    bare.mkdir()
    failed = nbgrader(bare, *args, check=False)  # what an instructor met before: nbgrader can't find alembic
    assert failed.returncode != 0 and "alembic" in failed.stderr
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(REPO / "nbgrader_config.py", course)  # the course's config puts .venv/bin on PATH
    nbgrader(course, *args)
    assert (course / "gradebook.db").stat().st_size > 0
