"""``autograder new NAME``: right after it, the assignment releases, grades and passes the fidelity suite."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from autograder import cli
from autograder.authoring.scaffold import new
from autograder.course.assignments import Assignment, AssignmentError, available
from tests.fidelity import grade_catalogue

NAME = "first_steps"


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """An empty course (just autograder/graders/) with one scaffolded and released assignment."""
    root = tmp_path_factory.mktemp("course")
    (root / "autograder" / "graders").mkdir(parents=True)
    assert cli.main(["--course", str(root), "new", NAME]) == 0
    assert cli.main(["--course", str(root), "release", NAME]) == 0
    return root


def test_new_writes_the_four_files_and_nothing_else(course):
    """Is the assignment exactly a notebook, a declaration, one grader and a catalogue (plus its release)?"""
    files = sorted(str(p.relative_to(course)) for p in course.rglob("*") if p.is_file() and "release" not in p.parts)
    assert files == [
        f"autograder/graders/{NAME}/assignment.toml",
        f"autograder/graders/{NAME}/catalogue.py",
        f"autograder/graders/{NAME}/test_relu.py",
        f"source/{NAME}/{NAME}.ipynb",
    ]
    assert (course / "release" / NAME / f"{NAME}.ipynb").exists()
    assert available(course) == [NAME]


def test_the_declaration_and_points_agree(course):
    """Do the declared points match the notebook's metadata and its points table?"""
    assert Assignment(NAME, root=course).check_points() == {"relu": 10.0}


def test_reference_full_release_zero_mutant_caught_variant_accepted(course, listener):
    """Grading the scaffold's reference gives full marks, the release zero; its catalogue behaves."""
    graded = grade_catalogue(Assignment(NAME, root=course), course / "class", listener)
    assert graded.results["perfect"].score == graded.results["perfect"].max_score == 10
    release = graded.results["release"]
    assert release.score == 0 and release.max_score == 10
    assert all("not implemented yet" in t.message for t in release.functions["relu"].tests)
    assert graded.results["mutant-relu_absolute_value"].functions["relu"].lost
    assert graded.results["correct-relu_where"].score == 10


def test_the_source_notebook_runs_with_its_visible_check_passing(course):
    """Does the scaffold's notebook run top to bottom in Jupyter, printing its ✅ line?"""
    nb = nbformat.read(Assignment(NAME, root=course).source_notebook, as_version=4)
    os.environ["CNN_COURSE_QUICK"] = "1"
    NotebookClient(nb, timeout=120, kernel_name="python3").execute()
    printed = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert (
        "✅ relu: visible checks passed. The hidden checks grade more cases, so this is not the final grade." in printed
    )


@pytest.mark.parametrize("name", ["Bad-Name", "1st", "class", "a/b", "", "x" * 65])
def test_a_name_that_cannot_be_a_folder_and_module_is_refused(tmp_path, name):
    """Is a name that can't name a folder, a notebook and a module refused, with an example?"""
    (tmp_path / "autograder" / "graders").mkdir(parents=True)
    with pytest.raises(AssignmentError, match="lower-case letters"):
        new(tmp_path, name)
    assert not (tmp_path / "source").exists()


def test_an_existing_assignment_is_never_overwritten(course):
    """Does `new` refuse a name that exists, leaving its files as they were?"""
    before = (course / "source" / NAME / f"{NAME}.ipynb").read_bytes()
    with pytest.raises(AssignmentError, match="already exists"):
        new(course, NAME)
    assert (course / "source" / NAME / f"{NAME}.ipynb").read_bytes() == before


def test_outside_a_course_the_command_says_what_to_do(tmp_path, monkeypatch, capsys):
    """Run outside any course folder, does autograder stop with where it looked and --course?"""
    monkeypatch.chdir(tmp_path)
    assert cli.main(["release"]) == 1
    err = " ".join(capsys.readouterr().err.split())  # (rich wraps long lines)
    assert "not in a course folder" in err and "--course" in err


def test_the_course_is_found_from_a_subfolder(course, monkeypatch, capsys):
    """From a folder inside the course, is that course used (and named, as it isn't the package's)?"""
    monkeypatch.chdir(course / "source" / NAME)
    assert cli.main(["release", NAME]) == 0
    assert str(course).replace(" ", "") in "".join(capsys.readouterr().out.split())
