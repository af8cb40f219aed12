"""The fingerprint (run/fingerprint.py): everything that decides a grade, by path relative to its folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from autograder.course.assignments import Assignment
from autograder.grader.spec import GradingSpec
from autograder.run import fingerprint
from tests.support import REPO, copy_parts

NAME = "cnn_step_by_step"
PARTS = [f"autograder/graders/{NAME}", f"source/{NAME}", f"release/{NAME}", "requirements.txt"]


@pytest.fixture
def moved(tmp_path, monkeypatch):
    """A course and a copy of the grading package under ``tmp_path/before``; ``move()`` moves both."""
    before = tmp_path / "before"
    copy_parts(before / "course", PARTS)
    shutil.copytree(
        REPO / "autograder", before / "package",
        ignore=lambda d, names: [n for n in names if n == "__pycache__" or
                                 (Path(d).name == "graders" and (Path(d) / n).is_dir())],
    )  # fmt: skip
    monkeypatch.setattr(fingerprint, "PACKAGE_DIR", before / "package")

    def move() -> Path:
        after = tmp_path / "elsewhere" / "after"
        after.parent.mkdir()
        before.rename(after)
        monkeypatch.setattr(fingerprint, "PACKAGE_DIR", after / "package")
        return after / "course"

    return before / "course", move


def test_moving_the_course_and_the_package_keeps_every_fingerprint(moved):
    """Does a course (and its grading package) moved to another folder keep its fingerprint, so nobody is
    graded again? (The digest hashes paths relative to each folder, never where the folder is.)"""
    root, move = moved
    spec = GradingSpec.of(Assignment(NAME, root=root), "process")
    before = fingerprint.fingerprint(Assignment(NAME, root=root), "0" * 64, spec)
    files = fingerprint.manifest(Assignment(NAME, root=root))
    root = move()
    assert fingerprint.fingerprint(Assignment(NAME, root=root), "0" * 64, spec) == before
    assert fingerprint.manifest(Assignment(NAME, root=root)) == files
    assert not [k for k in files if str(root.parent) in k or str(REPO) in k]  # no folder's own path in a key


def test_a_moved_file_inside_the_course_changes_it(moved):
    """Moving a file within the graders (same bytes, another relative path) changes the fingerprint: the
    comparison above could fail."""
    root, _ = moved
    assignment = Assignment(NAME, root=root)
    spec = GradingSpec.of(assignment, "process")
    before = fingerprint.shared_digest(assignment, spec)
    graders = assignment.graders_dir
    (graders / "data").mkdir()
    shutil.move(graders / "test_zero_pad.py", graders / "data" / "test_zero_pad.py")
    assert fingerprint.shared_digest(assignment, spec) != before


def test_each_student_has_their_own_fingerprint_of_one_shared_digest(moved):
    """Is the fingerprint the notebook's digest and the class's shared digest, computed once and reused?"""
    root, _ = moved
    assignment = Assignment(NAME, root=root)
    spec = GradingSpec.of(assignment, "process")
    shared = fingerprint.shared_digest(assignment, spec)
    assert fingerprint.fingerprint(assignment, "1" * 64, spec, shared) == fingerprint.fingerprint(
        assignment, "1" * 64, spec
    )
    assert fingerprint.fingerprint(assignment, "1" * 64, spec, shared) != fingerprint.fingerprint(
        assignment, "2" * 64, spec, shared
    )
