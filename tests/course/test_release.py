"""Is release/ exactly what nbgrader generates from source/, and does it hide everything?"""

from __future__ import annotations

import filecmp
import re
from pathlib import Path

import pytest

from autograder.authoring.submissions import reference_answers
from autograder.course.assignments import Assignment, available
from autograder.course.notebook import cell_role, nbgrader_meta, read_notebook
from autograder.course.points import write_points
from autograder.course.release import generate
from tests.support import REPO

ASSIGNMENTS = available()


def files_under(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts}


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_is_in_sync_with_source(name, tmp_path):
    """Regenerating the release changes nothing (else: run `autograder release`). It is generated with the
    points of assignment.toml, so an edit of [points] not yet released fails here."""
    a = Assignment(name)
    fresh = generate(a, out_dir=tmp_path / name)
    assert files_under(fresh) == files_under(a.release_dir), "run `autograder release` and commit release/"
    for rel in files_under(fresh):
        assert filecmp.cmp(fresh / rel, a.release_dir / rel, shallow=False), f"release/{name}/{rel} is stale"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_source_and_release_show_the_declared_points(name):
    """Do both notebooks show assignment.toml's points, metadata and table (else: run `autograder release`)?"""
    a = Assignment(name)
    points, manual = a.check_points(), a.manual_points()
    for path in (a.source_notebook, a.release_notebook):
        assert write_points(read_notebook(path), points, manual, str(path)) == read_notebook(path), path


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_reveals_no_solution_and_no_hidden_test(name):
    """No solution region, no reference code line, no grader file in the student version."""
    a = Assignment(name)
    text = "\n".join(p.read_text(errors="replace") for p in a.release_dir.rglob("*") if p.is_file())
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "BEGIN MARK SCHEME"):
        assert marker not in text
    release_nb = read_notebook(a.release_notebook)
    stubs = {nbgrader_meta(c)["grade_id"]: c["source"] for c in release_nb["cells"] if cell_role(c) == "answer"}
    assert set(stubs) == set(a.graded_ids())
    for grade_id, stub in stubs.items():
        assert "raise NotImplementedError" in stub, grade_id
    # every substantive reference line that the stub doesn't already show is absent from
    # the released code (markdown may teach formulas on purpose; code must not solve)
    code_text = "\n".join(c["source"] for c in release_nb["cells"] if c["cell_type"] == "code")
    code_text += "\n".join(p.read_text() for p in a.release_dir.rglob("*.py"))
    for grade_id, solution in reference_answers(a).items():
        for line in solution.splitlines():
            line = line.strip()
            if len(line) > 12 and not line.startswith(("#", '"""', "def ", "class ")) and line not in stubs[grade_id]:
                assert line not in code_text, f"release shows reference line of {grade_id}: {line!r}"
    grader_names = {p.name for p in a.graders_dir.iterdir()} - {"__init__.py", "__pycache__"}
    assert not grader_names & {p.name for p in a.release_dir.rglob("*")}


def notebooks() -> list[Path]:
    return sorted(
        p
        for folder in ("source", "release", "examples/submitted")
        for p in (REPO / folder).rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and p.parent.name != "gus" and "gus" not in p.parts
    )


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: str(p.relative_to(REPO)))
def test_notebooks_are_committed_without_outputs(path):
    """Notebooks carry no outputs or execution counts (so diffs show only edits)."""
    nb = read_notebook(path)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [] and cell.get("execution_count") is None
    assert not re.search(r'"widgets"\s*:', path.read_text())
