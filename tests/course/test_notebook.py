"""Which cells does grading run, and is every kind of broken notebook named clearly?"""

from __future__ import annotations

import ast
import copy
import json
import types

import pytest

from autograder.authoring.submissions import build_submission, write_submission
from autograder.course import notebook
from autograder.course.assignments import Assignment
from autograder.course.notebook import NotebookError, cell_role, nbgrader_meta, plan_submission, read_notebook

A = Assignment("cnn_step_by_step")


@pytest.fixture(scope="module")
def release_nb():
    return read_notebook(A.release_notebook)


def answer_index(nb, grade_id):
    return next(i for i, c in enumerate(nb["cells"]) if nbgrader_meta(c).get("grade_id") == grade_id)


def test_runs_answers_setup_and_student_cells_but_not_checks_or_demos(release_nb):
    """Answer, set-up and student cells run, in order; visible checks and figures don't."""
    nb = build_submission(A, extra_cells=["helper = 42"])
    plan = plan_submission(nb, release_nb)
    roles = [c.role for c in plan.cells]
    assert roles.count("answer") == len(A.graded_ids()) and roles.count("setup") >= 1 and roles[-1] == "extra"
    ran = {c.grade_id for c in plan.cells}
    assert not any(str(g).startswith(("test_", "demo_")) for g in ran)
    assert plan.problems == []


def test_edited_setup_cell_is_restored_from_the_release(release_nb):
    """A student who edits a read-only set-up cell changes nothing."""
    nb = build_submission(A)
    setup = next(c for c in nb["cells"] if cell_role(c) == "setup")
    original = setup["source"]
    setup["source"] = "import numpy as np\nnp.allclose = lambda *a, **k: True"
    plan = plan_submission(nb, release_nb)
    assert [c.source for c in plan.cells if c.role == "setup"][0] == original


def test_deleted_setup_cell_still_runs_first(release_nb):
    nb = build_submission(A)
    nb["cells"] = [c for c in nb["cells"] if cell_role(c) != "setup"]
    plan = plan_submission(nb, release_nb)
    assert plan.cells[0].role == "setup" and plan.problems == []


def test_deleted_answer_cell_is_reported(release_nb):
    """Is a missing answer cell named, with what to do about it?"""
    nb = build_submission(A)
    del nb["cells"][answer_index(nb, "pool_forward")]
    plan = plan_submission(nb, release_nb)
    assert len(plan.problems) == 1 and "`pool_forward` is missing" in plan.problems[0]


def test_duplicated_answer_cell_is_reported_and_the_last_one_counts(release_nb):
    nb = build_submission(A)
    i = answer_index(nb, "zero_pad")
    copy_cell = copy.deepcopy(nb["cells"][i])
    copy_cell["source"] = "def zero_pad(X, pad):\n    return X\n"
    nb["cells"].insert(i + 1, copy_cell)
    plan = plan_submission(nb, release_nb)
    assert any("2 answer cells for `zero_pad`" in p for p in plan.problems)
    assert plan.answers["zero_pad"] == copy_cell["source"]


def test_renamed_function_is_reported(release_nb):
    nb = build_submission(A, {"conv_forward": "def conv_fwd(A_prev, W, b, hparameters):\n    pass\n"})
    plan = plan_submission(nb, release_nb)
    assert plan.problems == [
        "The answer cell for `conv_forward` defines `conv_fwd` but not `conv_forward`. Keep the original name."
    ]


def test_an_answer_cell_too_deep_or_too_large_to_parse_is_planned_without_parsing(release_nb, monkeypatch):
    """An expression nested too deep for the parser, and a cell over the bytes read: planned (and run)
    as given, no crash and no renamed-function note (the class report plans every notebook again)."""
    deep = "x = " + "+".join(["a"] * 100_000)
    large = "def conv_fwd(A_prev, W, b, hparameters):\n    pass\n" + "# padding\n" * 30_000
    nb = build_submission(A, {"zero_pad": deep, "conv_forward": large})
    plan = plan_submission(nb, release_nb)
    assert plan.answers["zero_pad"] == deep and plan.answers["conv_forward"] == large
    assert plan.problems == []
    parsed = []
    seen = types.SimpleNamespace(FunctionDef=ast.FunctionDef, ClassDef=ast.ClassDef,
                                 parse=lambda source: parsed.append(len(source)) or ast.parse(source))  # fmt: skip
    monkeypatch.setattr(notebook, "ast", seen)
    plan_submission(nb, release_nb)
    assert len(deep) in parsed and max(parsed) < 256 * 1024  # (the large cell was never handed to the parser)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("{not json", "not valid JSON"),
        ("", "not valid JSON"),
        ('{"a": 1}', "not a Jupyter notebook"),
        ('{"nbformat": 3, "cells": []}', "expected version 4"),
        ('{"nbformat": 4, "cells": [{"cell_type": "code", "source": 5}]}', "cell 1 is broken"),
        ('{"nbformat": 4, "cells": ["x"]}', "cell 1 is broken"),
    ],
)
def test_broken_notebooks_get_one_line_errors(tmp_path, text, expected):
    path = tmp_path / "nb.ipynb"
    path.write_text(text)
    with pytest.raises(NotebookError) as info:
        read_notebook(path)
    assert expected in str(info.value) and "\n" not in str(info.value) and str(path) in str(info.value)


def test_binary_and_missing_files(tmp_path):
    (tmp_path / "bin.ipynb").write_bytes(b"\xff\xfe\x00\x81")
    for name, expected in [("bin.ipynb", "not a text file"), ("missing.ipynb", "no such notebook")]:
        with pytest.raises(NotebookError, match=expected):
            read_notebook(tmp_path / name)


def test_written_notebooks_read_back_the_same(tmp_path):
    """Our notebook writer round-trips (and writes nbformat's layout)."""
    nb = build_submission(A)
    path = write_submission(nb, tmp_path, "s", A.name)
    again = read_notebook(path)
    assert again["cells"] == nb["cells"]
    assert json.loads(path.read_text())["cells"][0]["source"][0].endswith("\n")
