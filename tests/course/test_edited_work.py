"""A regeneration of release/ never deletes work: edited files are moved aside, with a message that
says where (autograder/course/edited_work.py, used by release.generate: `autograder release`, `make demo`).

Each test works on a copy of cnn_step_by_step's source, release and graders, outside git unless it
makes a repository itself.
"""

from __future__ import annotations

import json
import logging
import subprocess
from pathlib import Path

import pytest

from autograder import cli
from autograder.course import edited_work
from autograder.course.assignments import Assignment
from autograder.course.notebook import read_notebook, write_notebook
from autograder.course.release import generate
from tests.support import copy_parts

NAME = "cnn_step_by_step"
PARTS = [f"source/{NAME}", f"release/{NAME}", f"autograder/graders/{NAME}"]


@pytest.fixture
def course(tmp_path: Path) -> Assignment:
    return Assignment(NAME, root=copy_parts(tmp_path / "course", PARTS))


def edit(path: Path, text: str) -> None:
    """A student's answer typed into the first code cell of the notebook."""
    nb = read_notebook(path)
    next(c for c in nb["cells"] if c["cell_type"] == "code")["source"] += f"\n{text}\n"
    write_notebook(nb, path)


def kept(a: Assignment) -> list[Path]:
    """Every file moved aside so far."""
    edits = a.root / edited_work.EDITS_DIR / NAME
    return sorted(p for p in edits.rglob("*") if p.is_file()) if edits.exists() else []


def test_an_edited_notebook_and_a_new_file_are_moved_aside_and_named(course, caplog):
    """Does a second release keep the student's edited notebook and notes, and say where they went?"""
    a = course
    generate(a)
    notebook = a.release_dir / f"{NAME}.ipynb"
    edit(notebook, "# my answer: ada was here")
    (a.release_dir / "notes.txt").write_text("my notes")
    with caplog.at_level(logging.WARNING):
        generate(a)
    moved = {p.name: p for p in kept(a)}
    assert sorted(moved) == [f"{NAME}.ipynb", "notes.txt"]
    assert "ada was here" in moved[f"{NAME}.ipynb"].read_text()
    assert moved["notes.txt"].read_text() == "my notes"
    assert "ada was here" not in notebook.read_text()  # the release is fresh again
    assert not (a.release_dir / "notes.txt").exists()
    message = caplog.text
    assert f"{NAME}.ipynb" in message and "notes.txt" in message and str(moved["notes.txt"].parent) in message
    assert "Work on a copy" in message


@pytest.mark.slow  # three releases
def test_moved_work_is_never_overwritten_by_a_later_release(course):
    """Two edits, two releases within the same second: is each kept, in its own folder?"""
    a = course
    generate(a)
    notebook = a.release_dir / f"{NAME}.ipynb"
    for text in ("first try", "second try"):
        edit(notebook, text)
        generate(a)
    texts = [p.read_text() for p in kept(a)]
    assert len(texts) == 2 and any("first try" in t for t in texts) and any("second try" in t for t in texts)


def test_a_changed_source_replaces_an_untouched_release_without_moving_anything(course):
    """After an instructor edits source/, is the release they did not touch simply replaced?"""
    a = course
    generate(a)
    edit(a.source_notebook, "# a new comment in the set-up")
    generate(a)
    assert kept(a) == []
    assert "a new comment in the set-up" in (a.release_dir / f"{NAME}.ipynb").read_text()


@pytest.mark.slow  # three releases
def test_before_any_release_git_says_what_was_released(course):
    """In a fresh clone (no manifest yet), is the committed release taken as the last one, so an
    instructor's new source replaces it, and an uncommitted edit is still kept?"""
    a = course
    git = ["git", "-C", str(a.root), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "course"], check=True)
    known = edited_work.committed(a.root, a.release_dir)
    assert known[f"{NAME}.ipynb"] == edited_work.digest(a.release_dir / f"{NAME}.ipynb")
    edit(a.source_notebook, "# a new comment in the set-up")
    generate(a)
    assert kept(a) == []  # the committed release differs from the new one, but nobody edited it
    edit(a.release_dir / f"{NAME}.ipynb", "ada's answer")  # after the release: the manifest knows it
    manifest = json.loads(edited_work.manifest_path(a.root, NAME).read_text())
    assert f"{NAME}.ipynb" in manifest
    generate(a)
    assert [p.name for p in kept(a)] == [f"{NAME}.ipynb"]


def test_without_a_manifest_or_git_anything_unlike_the_new_release_is_kept(course):
    """With nothing known about the last release, is every file that differs moved aside (the safe side)?"""
    a = course
    edit(a.release_dir / f"{NAME}.ipynb", "ada's answer")
    assert not edited_work.manifest_path(a.root, NAME).exists()
    generate(a)
    assert [p.name for p in kept(a)] == [f"{NAME}.ipynb"]


def test_autograder_release_keeps_an_edited_notebook_and_says_where(course, caplog):
    """`autograder release` (and `make demo`, through the same release_assignment): is a student's edit kept?"""
    a = course
    edit(a.release_dir / f"{NAME}.ipynb", "ada's answer")
    with caplog.at_level(logging.WARNING):
        assert cli.main(["--course", str(a.root), "release", NAME]) == 0
    moved = kept(a)
    assert [p.name for p in moved] == [f"{NAME}.ipynb"] and "ada's answer" in moved[0].read_text()
    assert str(moved[0].parent) in caplog.text
