"""Finding a class's submissions (run/discover.py): names only, nothing opened or followed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autograder.course.assignments import Assignment
from autograder.run import intake
from autograder.run.discover import discover, layout_problem, other_assignment, select, wrong_assignment
from autograder.run.options import BatchError

NAME = "cnn_step_by_step"
NB = f"{NAME}.ipynb"


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    return path


def test_every_student_folder_with_the_assignment_is_found_in_order(tmp_path):
    """Are <student>/<assignment> folders listed by name, and files, dot-folders and other students left out?"""
    for student in ("ben", "ada"):
        touch(tmp_path / student / NAME / NB)
    (tmp_path / "cy" / "other_assignment").mkdir(parents=True)  # no folder for this assignment
    touch(tmp_path / ".hidden" / NAME / NB)
    touch(tmp_path / "notes.txt")
    (tmp_path / "dee" / NAME).mkdir(parents=True)  # a folder without the notebook: intake says so
    assert discover(tmp_path, NAME) == {"ada": "ada", "ben": "ben", "dee": "dee"}


def test_unprintable_names_are_spelled_out_and_kept_apart(tmp_path):
    """Does a folder name with an escape become a printable id, unique even if another folder is named so?"""
    touch(tmp_path / "a\x1bb" / NAME / NB)
    touch(tmp_path / "a\\x1bb" / NAME / NB)  # literally the spelled-out form
    found = discover(tmp_path, NAME)
    assert sorted(found.values()) == sorted(["a\x1bb", "a\\x1bb"])
    assert all("\x1b" not in student for student in found) and len(found) == 2


def test_a_linked_student_folder_is_listed_not_followed(tmp_path):
    """Is a student folder that is a link listed (for intake to refuse), wherever it points?"""
    os.symlink("/nonexistent", tmp_path / "eve")
    assert discover(tmp_path, NAME) == {"eve": "eve"}


def test_a_missing_folder_stops_the_run(tmp_path):
    """Is a submissions folder that does not exist a BatchError naming it?"""
    with pytest.raises(BatchError, match="does not exist"):
        discover(tmp_path / "nowhere", NAME)


def test_select_keeps_the_names_asked_for_and_suggests_near_ones(tmp_path):
    """Does --student keep only those students, and refuse an unknown one with the closest names?"""
    found = {"ada": "ada", "ben": "ben"}
    assert select(found, ["ben"], tmp_path, NAME) == {"ben": "ben"}
    with pytest.raises(BatchError, match="Did you mean ada"):
        select(found, ["adda"], tmp_path, NAME)


@pytest.mark.parametrize(
    "make, expected",
    [
        (lambda root: touch(root / NAME / NB), "looks like one student's folder"),
        (lambda root: touch(root / NAME / "ada" / NB), "the levels of"),
        (lambda root: touch(root / NB), "notebooks directly in"),
        (lambda root: (root / "submitted").mkdir(), "looks like the course folder"),
        (lambda root: None, "it is empty"),
    ],
)
def test_the_usual_layout_mistakes_are_named(tmp_path, make, expected):
    """When nothing is found, does the message name the mistake (and where the notebooks belong)?"""
    make(tmp_path)
    assert discover(tmp_path, NAME) == {}
    problem = layout_problem(tmp_path, NAME)
    assert expected in problem and f"<student>/{NAME}/{NB}" in problem


def test_another_assignments_notebook_is_named_as_such():
    """Is a notebook with another assignment's answer cells (and none of this one's) refused, naming it?"""
    this, other = Assignment(NAME), Assignment("conv_net")
    graded, theirs = this.graded_ids(), other.graded_ids()
    taken = intake.Taken(Path("nb.ipynb"), "0" * 64, frozenset(theirs), ())
    assert other_assignment(this, set(theirs)) == ("conv_net", theirs)
    problem = wrong_assignment(this, graded, "ada", taken)
    assert problem is not None and "looks like the conv_net notebook" in problem
    own = intake.Taken(Path("nb.ipynb"), "0" * 64, frozenset(graded[:1]), ())
    assert wrong_assignment(this, graded, "ada", own) is None  # one of its own cells: graded, not refused
