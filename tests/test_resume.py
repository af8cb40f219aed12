"""Resuming: a saved grade is reused only while everything that decided it is unchanged.

Each test works on a copy of the course (graders, source, release, requirements.txt)
whose one student was graded once; the grader processes read that copy too
(``--course``, from the assignment's root). It checks that re-running reuses the grade, then changes one
input and checks that the student is graded again.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from autograder.course.assignments import Assignment
from autograder.run import batch
from autograder.run.batch import Layout, Options, grade_class
from tests.support import build_submission, copy_parts, write_submission

NAME = "cnn_step_by_step"
COPIED = [f"autograder/graders/{NAME}", f"source/{NAME}", f"release/{NAME}", "requirements.txt"]


def copy_course(root: Path) -> Assignment:
    """The parts of the course that grading cnn_step_by_step reads, copied under ``root``."""
    copy_parts(root, COPIED)
    # a data file beside the graders, as an assignment with stored cases would have
    (root / "autograder" / "graders" / NAME / "cases.json").write_text('{"seed": 1}\n')
    return Assignment(NAME, root=root)


def grade(root: Path, options: Options | None = None) -> batch.Report:
    report = grade_class(Assignment(NAME, root=root), Layout.beside(root / "submitted"), options or Options(workers=1))
    assert report.failed == {} and set(report.results) == {"ada"}, report.failed
    return report


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory) -> Path:
    """A course copy with one perfect student, graded once (the grade every test starts from)."""
    root = tmp_path_factory.mktemp("graded") / "course"
    assignment = copy_course(root)
    write_submission(build_submission(assignment), root / "submitted", "ada", NAME)
    report = grade(root)
    assert report.reused == [] and report.results["ada"].score == 100
    return root


@pytest.fixture
def course(graded_course, tmp_path) -> Path:
    """A fresh copy of the graded course, saved grade included; its grader processes read it."""
    root = tmp_path / "course"
    shutil.copytree(graded_course, root)
    return root


def append(rel: str, text: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        path = root / rel
        path.write_text(path.read_text() + text)

    return change


def touch_notebook(rel: str) -> Callable[[Path], None]:
    """Change a notebook's bytes without changing what it does (a metadata entry)."""

    def change(root: Path) -> None:
        path = root / rel
        nb = json.loads(path.read_text())
        nb["metadata"]["touched"] = True
        path.write_text(json.dumps(nb, indent=1))

    return change


def add_file(rel: str, text: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        (root / rel).write_text(text)

    return change


GRADERS = f"autograder/graders/{NAME}"
CHANGES = {
    "the submission": touch_notebook(f"submitted/ada/{NAME}/{NAME}.ipynb"),
    "a grader module": append(f"{GRADERS}/test_zero_pad.py", "\n# one more comment\n"),
    "a new conftest.py in the graders": add_file(f"{GRADERS}/conftest.py", "# fixtures\n"),
    "a graders' data file": add_file(f"{GRADERS}/cases.json", '{"seed": 2}\n'),
    "a new graders' data file": add_file(f"{GRADERS}/more_cases.npy", "new"),
    "assignment.toml (the limits)": append(f"{GRADERS}/assignment.toml", "\n[limits.env]\nOMP_NUM_THREADS = '1'\n"),
    "the reference notebook": touch_notebook(f"source/{NAME}/{NAME}.ipynb"),
    "a helper module in source/": append(f"source/{NAME}/cnn_utils.py", "\n# one more comment\n"),
    "a new helper module in source/": add_file(f"source/{NAME}/extra.py", "X = 1\n"),
    "the release notebook": touch_notebook(f"release/{NAME}/{NAME}.ipynb"),
    "a helper module in release/": append(f"release/{NAME}/cnn_utils.py", "\n# one more comment\n"),
    "the pinned environment": append("requirements.txt", "# re-pinned\n"),
}


@pytest.mark.parametrize("what", list(CHANGES))
def test_changing_an_input_grades_again(course, what):
    """Is the saved grade reused on a re-run, and graded again once this input changes?"""
    assert grade(course).reused == ["ada"]
    CHANGES[what](course)
    again = grade(course)
    assert again.reused == [] and again.results["ada"].score == 100
    assert grade(course).reused == ["ada"]  # and the new grade is the one kept


def test_changing_a_command_line_limit_grades_again(course):
    """Is a grade made with other --timeout/--budget/--memory-gib values never reused?"""
    assert grade(course).reused == ["ada"]
    assert grade(course, Options(workers=1, call_timeout=4.0)).reused == []
    assert grade(course, Options(workers=1, budget=25.0)).reused == []
    assert grade(course, Options(workers=1, budget=25.0)).reused == ["ada"]


def test_python_caches_do_not_count(course):
    """Do __pycache__ folders and .pyc files (written by any run) leave the grade reused?"""
    for folder in (GRADERS, f"source/{NAME}", f"release/{NAME}"):
        (course / folder / "__pycache__").mkdir(exist_ok=True)
        (course / folder / "__pycache__" / "x.cpython-311.pyc").write_bytes(b"cache")
        (course / folder / "stray.pyc").write_bytes(b"cache")
    assert grade(course).reused == ["ada"]


# --- the grading package: its files can't be edited here, so a copy stands in -------------


@pytest.fixture
def package(tmp_path, monkeypatch) -> Path:
    """A copy of the autograder package (without the assignments' graders) that the fingerprint reads."""
    copy = tmp_path / "autograder"
    shutil.copytree(
        batch.PACKAGE_DIR, copy, ignore=lambda d, names: [n for n in names if n == "__pycache__" or
                                                          (Path(d).name == "graders" and (Path(d) / n).is_dir())]
    )  # fmt: skip
    monkeypatch.setattr(batch, "PACKAGE_DIR", copy)
    return copy


@pytest.mark.parametrize(
    "rel",
    [
        "kit/checks.py",
        "session.py",
        "plugin.py",
        "stand_ins.py",
        "sandbox/process.py",
        "sandbox/harness/worker.py",
        "sandbox/harness/wire.py",
        "sandbox/harness/template.py",
        "sandbox/harness/confine.py",
        "sandbox/warm.py",
        "templates/feedback.html.j2",
        "graders/pytest.ini",
    ],
)
def test_the_grading_package_is_in_the_fingerprint(tmp_path, package, rel):
    """Does editing any file of the grading package change every student's fingerprint?"""
    assignment, options = copy_course(tmp_path / "course"), Options()
    before = batch.fingerprint(assignment, "0" * 64, options)
    assert batch.fingerprint(assignment, "0" * 64, options) == before
    append(rel, "\n# edited\n")(package)
    assert batch.fingerprint(assignment, "0" * 64, options) != before


def test_what_the_package_fingerprint_leaves_out(tmp_path, package):
    """Are Python's caches and other assignments' graders left out, and new modules counted?"""
    assignment, options = copy_course(tmp_path / "course"), Options()
    before = batch.fingerprint(assignment, "0" * 64, options)
    (package / "sandbox" / "__pycache__").mkdir()
    (package / "sandbox" / "__pycache__" / "process.cpython-311.pyc").write_bytes(b"cache")
    (package / "graders" / "another_assignment").mkdir()
    (package / "graders" / "another_assignment" / "test_f.py").write_text("def test_f(): pass\n")
    assert batch.fingerprint(assignment, "0" * 64, options) == before
    (package / "new_module.py").write_text("X = 1\n")
    assert batch.fingerprint(assignment, "0" * 64, options) != before


@pytest.mark.parametrize("rel", batch.READS_RESULTS_ONLY)
def test_modules_that_only_read_results_are_not_in_the_fingerprint(tmp_path, package, rel):
    """Does editing the class report or the exports (which only read finished results) re-grade no one?"""
    assignment, options = copy_course(tmp_path / "course"), Options()
    before = batch.fingerprint(assignment, "0" * 64, options)
    assert (package / rel).is_file(), f"{rel} is listed in READS_RESULTS_ONLY but does not exist"
    append(rel, "\n# edited\n")(package)
    assert batch.fingerprint(assignment, "0" * 64, options) == before


def test_the_fingerprint_is_deterministic_and_shared_once(tmp_path):
    """Same inputs in another folder: the same fingerprint; and the shared part is reusable."""
    a, b = copy_course(tmp_path / "a"), copy_course(tmp_path / "b")
    options = Options()
    shared = batch.shared_digest(a, options)
    assert batch.shared_digest(b, options) == shared
    assert batch.fingerprint(a, "1" * 64, options) == batch.fingerprint(b, "1" * 64, options, shared)
    assert batch.fingerprint(a, "1" * 64, options, shared) != batch.fingerprint(a, "2" * 64, options, shared)


def test_the_late_policy_is_not_in_the_fingerprint(course):
    """Does adding or changing [late] (applied to saved grades when a run finishes) re-grade no one?"""
    assert grade(course).reused == ["ada"]
    append(f"{GRADERS}/assignment.toml", "\n[late]\npenalty_per_day = 0.1\n")(course)
    assert grade(course).reused == ["ada"]
    path = course / GRADERS / "assignment.toml"
    path.write_text(path.read_text().replace("penalty_per_day = 0.1", "penalty_per_day = 0.2\nmax_penalty = 0.5"))
    assert grade(course).reused == ["ada"]
    append(f"{GRADERS}/assignment.toml", "\n[limits.env]\nOMP_NUM_THREADS = '1'\n")(course)  # a limit still counts
    assert grade(course).reused == []
