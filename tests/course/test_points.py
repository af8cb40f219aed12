"""Points declared once: does assignment.toml's [points] reach every place that shows or uses them?
(autograder/course/points.py, release.py, and the plugin's shares)

The first tests write points into small notebooks; the last ones edit [points] in a copy of
cnn_step_by_step (the quickest to grade), run `autograder release` and grade one submission.
"""

from __future__ import annotations

import csv
import filecmp
import json

import pytest

from autograder import cli
from autograder.course.assignments import Assignment, AssignmentError
from autograder.course.notebook import nbgrader_meta, read_notebook
from autograder.course.points import disagreements, notebook_points, scaled, table_points, write_points
from autograder.course.release import generate
from tests.support import REPO, build_submission, copy_parts, write_submission

INTRO = """# Toy

| Part | Functions | Points |
|---|---|---|
| First |  `f`, `g`  |  1 + 2  |
| Second | `h` (with `k` in the same cell) | 3 |
| Written | `essay` | 4 |
"""


def cell(kind: str, source: str, **nbgrader: object) -> dict:
    out = {"cell_type": kind, "metadata": {"nbgrader": nbgrader} if nbgrader else {}, "source": source}
    return {**out, "execution_count": None, "outputs": []} if kind == "code" else out


def toy() -> dict:
    """A notebook with a points table, a test cell for f, g and h, and a written answer."""
    tests = [
        cell("code", f"assert {f}", grade=True, grade_id=f"test_{f}", points=p)
        for f, p in zip("fgh", (1, 2, 3), strict=True)
    ]
    essay = cell("markdown", "An answer.", grade=True, solution=True, grade_id="essay", points=4)
    return {"cells": [cell("markdown", INTRO), *tests, essay], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def test_write_points_writes_the_metadata_and_the_rows_that_changed():
    """Are the test cells', the written answer's and the table's points the declared ones, and the rest untouched?"""
    before = toy()
    after = write_points(before, {"f": 4, "g": 2.5, "h": 3}, {"essay": 6}, "toy.ipynb")
    assert notebook_points(after) == {"f": 4, "g": 2.5, "h": 3} and nbgrader_meta(after["cells"][-1])["points"] == 6
    assert isinstance(nbgrader_meta(after["cells"][1])["points"], int)  # 4, as a notebook writes it, not 4.0
    lines = after["cells"][0]["source"].splitlines()
    assert lines[4] == "| First |  `f`, `g`  |  4 + 2.5  |"  # the cell's spacing kept
    assert lines[5] == INTRO.splitlines()[5]  # right already: as written
    assert lines[6] == "| Written | `essay` | 6 |"
    assert table_points(after) == {"f": 4, "g": 2.5, "h": 3, "essay": 6}
    assert before == toy()  # a copy: the notebook given is left alone


@pytest.mark.parametrize(
    "points, message",
    [
        ({"f": 1, "g": 2, "h": 3, "z": 1}, "z has no visible test cell to carry its points"),
        ({"f": 1, "g": 2}, "the points table names `h`, which assignment.toml gives no points"),
    ],
)
def test_write_points_refuses_what_it_cannot_show(points, message):
    """Is a function without a test cell, or a table row naming something undeclared, refused by name?"""
    with pytest.raises(AssignmentError, match=message) as e:
        write_points(toy(), points, {"essay": 4}, "toy.ipynb")
    assert str(e.value).startswith("toy.ipynb: ")


def test_a_function_missing_from_the_table_is_refused():
    """Is a graded function that the points table has no row for named, with what to add?"""
    nb = toy()
    nb["cells"][0]["source"] = INTRO.replace("| Second | `h` (with `k` in the same cell) | 3 |\n", "")
    del nb["cells"][3]  # (h's test cell; then i has one, but no row)
    nb["cells"].insert(1, cell("code", "assert i", grade=True, grade_id="test_i", points=3))
    with pytest.raises(AssignmentError, match="the points table in the introduction has no row for i"):
        write_points(nb, {"f": 1, "g": 2, "i": 3}, {"essay": 4}, "toy.ipynb")


def test_disagreements_name_each_place_and_both_numbers():
    """Is every place showing other points than the declaration named: metadata, table, written answer?"""
    found = disagreements(toy(), {"f": 1, "g": 5, "h": 3}, {"essay": 7}, "a.toml")
    assert found == [
        "g is worth 5 points in a.toml, but 2 in nbgrader's metadata (its test cell)",
        "g is worth 5 points in a.toml, but 2 in the points table in the notebook's introduction",
        "the manually graded cell essay is worth 7 points in a.toml's [manual], but 4 in nbgrader's metadata",
        "the manually graded cell essay is worth 7 points in a.toml's [manual], but 4 in the points table",
    ]
    assert disagreements(toy(), {"f": 1, "g": 2, "h": 3}, {"essay": 4}, "a.toml") == []


def test_shares_that_add_up_to_the_points_give_them_exactly():
    """Are shares equal to today's points scaled to themselves exactly (multiplied first), and thirds to the whole?"""
    for points in (5, 8, 10, 12, 15, 20, 30, 0.5):
        for share in (0.5, 1, 1.5, 2, 3, 4):
            assert scaled(points, share, points) == share
    assert scaled(10, 3, 3) == 10 and scaled(10, 0, 3) == 0


# --- a changed [points] value, through `autograder release` and a grading -----------------------------

NAME = "cnn_step_by_step"
CHANGED = {"zero_pad": (5, 7), "pool_backward": (20, 18.5)}  # before, after (100 points in all -> 100.5)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> dict:
    """A copy of cnn_step_by_step with two points changed in assignment.toml: the release generated
    before `autograder release`, then released and one reference submission graded."""
    root = copy_parts(
        tmp_path_factory.mktemp("points"), [f"source/{NAME}", f"release/{NAME}", f"autograder/graders/{NAME}"]
    )
    a = Assignment(NAME, root=root)
    toml = a.declaration.read_text()
    for function, (old, new) in CHANGED.items():
        assert f"\n{function} = {old}\n" in toml
        toml = toml.replace(f"\n{function} = {old}\n", f"\n{function} = {new}\n")
    a.declaration.write_text(toml)
    out: dict = {"root": root, "assignment": a}
    with pytest.raises(AssignmentError) as out["unreleased"]:
        a.check()
    out["stale"] = generate(a, out_dir=root / "fresh" / NAME)  # what the sync test generates
    out["release_code"] = cli.main(["--course", str(root), "release", NAME])
    write_submission(build_submission(a), root / "submitted", "ada", NAME)
    out["grade_code"] = cli.main(["--course", str(root), "grade", NAME, str(root / "submitted"), "--workers", "1",
                                  "--json", str(root / "out.json")])  # fmt: skip
    return out


def test_before_release_grading_refuses_and_the_sync_test_fails(course):
    """Until `autograder release`, is grading refused, naming the command, and does the sync test see the edit?"""
    message = str(course["unreleased"].value)
    assert "zero_pad is worth 7 points in" in message and f"run `autograder release {NAME}`" in message
    committed = REPO / "release" / NAME / f"{NAME}.ipynb"
    assert not filecmp.cmp(course["stale"] / f"{NAME}.ipynb", committed, shallow=False)
    assert notebook_points(read_notebook(course["stale"] / f"{NAME}.ipynb"))["zero_pad"] == 7


def test_release_writes_the_points_into_source_and_release(course):
    """After `autograder release`, do nbgrader's metadata and the points table show the new points, in both notebooks?"""
    a = course["assignment"]
    assert course["release_code"] == 0
    declared = a.points()
    assert declared["zero_pad"] == 7 and declared["pool_backward"] == 18.5
    for path in (a.source_notebook, a.release_notebook):
        nb = read_notebook(path)
        assert notebook_points(nb) == declared and table_points(nb) == declared, path
        intro = nb["cells"][0]["source"]
        assert "| `zero_pad`, `conv_single_step`, `conv_forward` | 7 + 10 + 20 |" in intro
        assert "| `create_mask_from_window`, `distribute_value`, `pool_backward` | 5 + 5 + 18.5 |" in intro
    assert a.check() is a
    # what was generated before the source showed them: the release depends on assignment.toml, not on that
    assert filecmp.cmp(course["stale"] / f"{NAME}.ipynb", a.release_notebook, shallow=False)


def test_the_grading_scores_out_of_the_new_points(course):
    """Does a grading's max score, per function and in all, and the CSV's max, follow [points]?"""
    assert course["grade_code"] == 0
    root = course["root"]
    ada = json.loads((root / "out.json").read_text())["students"]["ada"]
    for function, (_, new) in CHANGED.items():
        graded = ada["functions"][function]
        assert graded["score"] == graded["max_score"] == new
        assert sum(t["points"] for t in graded["tests"]) == pytest.approx(new)
    assert ada["score"] == ada["max_score"] == 100.5
    rows = list(csv.DictReader((root / "grades" / f"{NAME}.csv").open()))
    assert [(r["student"], float(r["score"]), float(r["max_score"])) for r in rows] == [("ada", 100.5, 100.5)]
