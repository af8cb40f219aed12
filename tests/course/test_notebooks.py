"""Do the notebooks run for real, top to bottom, in a Jupyter kernel?

The reference of a notebook that trains (Keras, or conv_net's Solver: minutes in a kernel) is the
one `nbgrader autograde` executed in plain nbgrader's run of the course (tests/course/plain_nbgrader.py,
once per session): the released notebook with the reference's answers, run with the course's
nbgrader settings. Running it a second time here would test nothing more. The others run here,
in seconds, and stay in ``pytest -m "not slow"``.
"""

from __future__ import annotations

import json
import os

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from autograder.course.assignments import Assignment, available
from autograder.course.notebook import nbgrader_meta
from tests.course.plain_nbgrader import TRAINING

ASSIGNMENTS = [pytest.param(n, marks=pytest.mark.slow) if n in TRAINING else n for n in available()]
CELL_SECONDS = 1800  # a hang guard only: a quick-mode cell needs at most a minute or two on an idle machine


def execute(nb, cwd, **kwargs):
    """Run ``nb`` in a kernel, in place (its outputs are kept up to a failing cell)."""
    os.environ.setdefault("MPLBACKEND", "Agg")
    # documented quick mode: fewer epochs and samples, but every cell still runs
    os.environ["CNN_COURSE_QUICK"] = "1"
    NotebookClient(
        nb, timeout=CELL_SECONDS, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}, **kwargs
    ).execute()
    return nb


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_source_notebook_runs_and_every_check_passes(name, request):
    """Does the reference execute top to bottom with all visible checks passing?"""
    a = Assignment(name)
    if name in TRAINING:
        nb = nbformat.read(request.getfixturevalue("plain_nbgrader_run").autograded(name), as_version=4)
    else:
        nb = execute(nbformat.read(a.source_notebook, as_version=4), a.source_notebook.parent)
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
    checks = [c for c in nb.cells if str(nbgrader_meta(c).get("grade_id", "")).startswith("test_")]
    assert checks and all(any("text" in o and "✅" in o["text"] for o in c.outputs) for c in checks)
    assert "Traceback" not in outputs


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_notebook_runs_until_the_first_stub(name):
    """A student's first run fails at the first unimplemented function, not before: every cell up to
    the first answer ran cleanly, and the first error is that answer's NotImplementedError."""
    a = Assignment(name)
    nb = nbformat.read(a.release_notebook, as_version=4)
    first_answer = next(i for i, c in enumerate(nb.cells) if nbgrader_meta(c).get("solution"))
    with pytest.raises(CellExecutionError) as info:
        execute(nb, a.release_dir)
    assert "NotImplementedError" in str(info.value)
    errors = [i for i, c in enumerate(nb.cells) if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert len(errors) == 1 and errors[0] >= first_answer, (errors, first_answer)
    ran = [c for c in nb.cells[: first_answer + 1] if c.cell_type == "code"]
    assert ran and all(c.execution_count is not None for c in ran)  # (execution stops at the first error)
