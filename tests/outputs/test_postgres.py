"""A real PostgreSQL gradebook (tests/postgres.py starts the server): ``--gradebook postgresql://``
works, runs writing at the same time lose and duplicate nothing, ``nbgrader export`` reads
what they wrote, and a server that isn't there is one clear line, not a traceback."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from autograder import cli
from autograder.course.assignments import Assignment
from autograder.outputs.gradebook import GradebookError, GradebookWriter, check_url, resolve_url
from autograder.outputs.results import FunctionResult, StudentResult
from tests.postgres import free_port, postgres  # noqa: F401 (the session's server)
from tests.support import REPO, build_submission, write_submission

A = Assignment("cnn_step_by_step")
NAME = A.name
HALVES = (["ada", "ben"], ["cy"])


def autograder(*args: str) -> subprocess.Popen:
    """`autograder` in a process of its own, as an instructor starts two in two terminals."""
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.Popen([sys.executable, "-m", "autograder", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip


@pytest.mark.slow  # two class runs at once
def test_two_runs_grade_halves_of_a_class_into_one_gradebook_at_once(postgres, tmp_path):  # noqa: F811
    """Two processes grade two halves of a class into one new PostgreSQL gradebook at the same time
    (both create its tables and the assignment's cells); every student is there once, with the
    scores of their half's CSV, and `nbgrader export` against the same server shows them."""
    url = postgres.database("halves")
    sub = tmp_path / "submitted"
    answers = {"ada": None, "ben": {"zero_pad": "def zero_pad(X, pad):\n    return X\n"}, "cy": None}
    for student, answer in answers.items():
        write_submission(build_submission(A, answer, perfect=student != "cy"), sub, student, NAME)
    runs = [
        autograder(
            "grade",
            NAME,
            str(sub),
            "--workers",
            "1",
            "--gradebook",
            url,
            "--csv",
            str(tmp_path / f"{i}.csv"),
            *[a for s in half for a in ("--student", s)],
        )  # fmt: skip
        for i, half in enumerate(HALVES)
    ]
    outputs = [run.communicate(timeout=600)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    scores = {}
    for i in range(len(HALVES)):
        with (tmp_path / f"{i}.csv").open() as f:
            scores |= {row["student"]: float(row["score"]) for row in csv.DictReader(f)}
    assert set(scores) == set(answers) and scores["ada"] > scores["ben"] > scores["cy"]
    with Gradebook(resolve_url(url)) as gb:
        assert sorted(s.id for s in gb.students) == sorted(answers)  # each once
        submissions = gb.find_assignment(NAME).submissions
        assert sorted(s.student_id for s in submissions) == sorted(answers)
        assert {s.student_id: s.score for s in submissions} == scores
        assert len(gb.find_notebook(NAME, NAME).grade_cells) == len(A.graded_ids())  # set up once, not twice

    course = tmp_path  # nbgrader export, run as an instructor does, with nbgrader's own spelling of the URL
    (course / "nbgrader_config.py").write_text((REPO / "nbgrader_config.py").read_text())
    nbgrader = Path(sys.executable).parent / "nbgrader"
    export = subprocess.run([nbgrader, "export", f"--db={resolve_url(url)}", f"--to={course / 'export.csv'}"],
                            cwd=course, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert export.returncode == 0, export.stdout + export.stderr
    with (course / "export.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["student_id"] for r in rows) == sorted(answers)
    assert {r["student_id"]: float(r["score"]) for r in rows} == scores


def test_writers_adding_the_same_students_at_once_collide_on_nothing(postgres):  # noqa: F811
    """Two writers set up one new gradebook and add the same 12 students at the same moment (the
    check-then-insert race of nbgrader's update_or_create_*): no error, every row once, right scores."""
    url = postgres.database("same_students")
    graded = A.graded_ids()
    students = [f"s{i:02d}" for i in range(12)]

    def result(i: int, student: str) -> StudentResult:
        functions = {gid: FunctionResult(float((i + j) % 3), 2.0) for j, gid in enumerate(graded)}
        return StudentResult(NAME, student, sum(f.score for f in functions.values()), 2.0 * len(graded), functions)

    start, errors = threading.Barrier(2), []

    def run() -> None:
        try:
            start.wait()
            writer = GradebookWriter(url, A)
            try:
                for i, student in enumerate(students):
                    start.wait(timeout=60)  # both look the student up, then both insert: the race
                    writer.record(student, result(i, student))
            finally:
                writer.close()
        except Exception as e:  # the assertion below shows it
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    with Gradebook(resolve_url(url)) as gb:
        assert sorted(s.id for s in gb.students) == students
        assert sorted(s.student_id for s in gb.find_assignment(NAME).submissions) == students
        for i, student in enumerate(students):
            assert gb.find_submission(NAME, student).score == result(i, student).score


def test_check_url_takes_a_reachable_server_and_refuses_others_in_one_line(postgres, tmp_path, capsys):  # noqa: F811
    """check_url connects once: a server that's up passes; one that isn't, or a database that doesn't
    exist, is a one-line error saying what to check, with no password and no traceback."""
    check_url(postgres.database("reachable"), tmp_path)
    down = f"postgresql://teacher:sekret@127.0.0.1:{free_port()}/gradebook"
    with pytest.raises(GradebookError) as e:
        check_url(down, tmp_path)
    message = str(e.value)
    assert "could not be reached" in message and "server is running" in message and "--gradebook" in message
    assert "sekret" not in message and "\n" not in message
    with pytest.raises(GradebookError, match="does not exist.*createdb"):
        check_url(postgres.url("no_such_db"), tmp_path)

    write_submission(build_submission(A), tmp_path / "submitted", "ada", NAME)
    assert cli.main(["grade", NAME, str(tmp_path / "submitted"), "--gradebook", down]) == 1
    err = " ".join(capsys.readouterr().err.split())  # (rich wraps lines)
    assert "could not be reached" in err and "Traceback" not in err and "sekret" not in err
    assert not (tmp_path / "feedback").exists()  # refused before any grading
