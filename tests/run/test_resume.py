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
from autograder.grader.spec import GradingSpec
from autograder.run import fingerprint
from autograder.run.class_run import grade_class
from autograder.run.layout import Layout, Report
from autograder.run.options import Options
from tests.support import build_submission, copy_parts, write_submission

NAME = "cnn_step_by_step"
COPIED = [f"autograder/graders/{NAME}", f"source/{NAME}", f"release/{NAME}", "requirements.txt"]


def copy_course(root: Path) -> Assignment:
    """The parts of the course that grading cnn_step_by_step reads, copied under ``root``."""
    copy_parts(root, COPIED)
    # a data file beside the graders, as an assignment with stored cases would have
    (root / "autograder" / "graders" / NAME / "cases.json").write_text('{"seed": 1}\n')
    return Assignment(NAME, root=root)


def grade(root: Path, options: Options | None = None) -> Report:
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


def given(course: Path, **limits: float) -> Options:
    """One worker, and these limits given on the command line (assignment.toml's keys) in the run's spec."""
    return Options(workers=1, spec=GradingSpec.of(Assignment(NAME, root=course), limits=limits))


def test_changing_a_command_line_limit_grades_again(course):
    """Is a grade made with other --timeout/--budget/--memory-gib values never reused, and one made with
    another number of workers reused?"""
    assert grade(course).reused == ["ada"]
    assert grade(course, Options(workers=2)).reused == ["ada"]
    assert grade(course, given(course, call_timeout=4.0)).reused == []
    assert grade(course, given(course, budget_seconds=25.0)).reused == []
    assert grade(course, given(course, budget_seconds=25.0)).reused == ["ada"]
    assert grade(course, given(course, budget_seconds=25.0, memory_gib=1.5)).reused == []


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
        fingerprint.PACKAGE_DIR, copy, ignore=lambda d, names: [n for n in names if n == "__pycache__" or
                                                          (Path(d).name == "graders" and (Path(d) / n).is_dir())]
    )  # fmt: skip
    monkeypatch.setattr(fingerprint, "PACKAGE_DIR", copy)
    return copy


@pytest.mark.parametrize(
    "rel",
    [
        "kit/checks.py",
        "grader/session.py",
        "grader/plugin.py",
        "grader/stand_ins.py",
        "sandbox/process.py",
        "sandbox/limits.py",
        "grader/spec.py",
        "sandbox/harness/worker.py",
        "sandbox/harness/wire.py",
        "sandbox/harness/template.py",
        "sandbox/harness/confine.py",
        "sandbox/warm.py",
        "outputs/templates/feedback.html.j2",
        "run/class_run.py",
        "graders/pytest.ini",
    ],
)
def test_the_grading_package_is_in_the_fingerprint(tmp_path, package, rel):
    """Does editing any file of the grading package change every student's fingerprint?"""
    assignment = copy_course(tmp_path / "course")
    spec = GradingSpec.of(assignment, "process")
    before = fingerprint.fingerprint(assignment, "0" * 64, spec)
    assert fingerprint.fingerprint(assignment, "0" * 64, spec) == before
    append(rel, "\n# edited\n")(package)
    assert fingerprint.fingerprint(assignment, "0" * 64, spec) != before


def test_what_the_package_fingerprint_leaves_out(tmp_path, package):
    """Are Python's caches and other assignments' graders left out, and new modules counted?"""
    assignment = copy_course(tmp_path / "course")
    spec = GradingSpec.of(assignment, "process")
    before = fingerprint.fingerprint(assignment, "0" * 64, spec)
    (package / "sandbox" / "__pycache__").mkdir()
    (package / "sandbox" / "__pycache__" / "process.cpython-311.pyc").write_bytes(b"cache")
    (package / "graders" / "another_assignment").mkdir()
    (package / "graders" / "another_assignment" / "test_f.py").write_text("def test_f(): pass\n")
    assert fingerprint.fingerprint(assignment, "0" * 64, spec) == before
    (package / "new_module.py").write_text("X = 1\n")
    assert fingerprint.fingerprint(assignment, "0" * 64, spec) != before


@pytest.mark.parametrize("rel", fingerprint.READS_RESULTS_ONLY)
def test_modules_that_only_read_results_are_not_in_the_fingerprint(tmp_path, package, rel):
    """Does editing the class report or the exports (which only read finished results) re-grade no one?"""
    assignment = copy_course(tmp_path / "course")
    spec = GradingSpec.of(assignment, "process")
    before = fingerprint.fingerprint(assignment, "0" * 64, spec)
    assert (package / rel).is_file(), f"{rel} is listed in READS_RESULTS_ONLY but does not exist"
    append(rel, "\n# edited\n")(package)
    assert fingerprint.fingerprint(assignment, "0" * 64, spec) == before


def test_the_fingerprint_is_deterministic_and_shared_once(tmp_path):
    """Same inputs in another folder: the same fingerprint; and the shared part is reusable."""
    a, b = copy_course(tmp_path / "a"), copy_course(tmp_path / "b")
    spec = GradingSpec.of(a, "process")
    shared = fingerprint.shared_digest(a, spec)
    assert fingerprint.shared_digest(b, spec) == shared
    assert fingerprint.fingerprint(a, "1" * 64, spec) == fingerprint.fingerprint(b, "1" * 64, spec, shared)
    assert fingerprint.fingerprint(a, "1" * 64, spec, shared) != fingerprint.fingerprint(a, "2" * 64, spec, shared)


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
