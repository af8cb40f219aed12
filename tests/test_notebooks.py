"""Do the notebooks run for real, top to bottom, in a Jupyter kernel?"""

from __future__ import annotations

import copy
import json
import os

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from autograder.course.assignments import Assignment, available
from autograder.course.notebook import nbgrader_meta

# The notebooks that train (Keras, or conv_net's Solver) take minutes in a kernel: slow. The
# others run in seconds and stay in ``pytest -m "not slow"``.
TRAINING = ("classic_cnns", "conv_net", "keras_resnet")
ASSIGNMENTS = [pytest.param(n, marks=pytest.mark.slow) if n in TRAINING else n for n in available()]
CELL_SECONDS = 1800  # a hang guard only: a quick-mode cell needs at most a minute or two on an idle machine


def execute(path, cwd, **kwargs):
    nb = nbformat.read(path, as_version=4)
    os.environ.setdefault("MPLBACKEND", "Agg")
    # documented quick mode: fewer epochs and samples, but every cell still runs
    os.environ["CNN_COURSE_QUICK"] = "1"
    NotebookClient(
        nb, timeout=CELL_SECONDS, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}, **kwargs
    ).execute()
    return nb


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_source_notebook_runs_and_every_check_passes(name):
    """Does the reference notebook execute top to bottom with all visible checks passing?"""
    a = Assignment(name)
    nb = execute(a.source_notebook, a.source_notebook.parent)
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
    checks = [c for c in nb.cells if str(nbgrader_meta(c).get("grade_id", "")).startswith("test_")]
    assert checks and all(any("text" in o and "✅" in o["text"] for o in c.outputs) for c in checks)
    assert "Traceback" not in outputs


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_notebook_runs_until_the_first_stub(name):
    """A student's first run fails at the first unimplemented function, not before."""
    a = Assignment(name)
    nb = nbformat.read(a.release_notebook, as_version=4)
    first_answer = next(i for i, c in enumerate(nb.cells) if nbgrader_meta(c).get("solution"))
    with pytest.raises(CellExecutionError) as info:
        execute(a.release_notebook, a.release_dir)
    assert "NotImplementedError" in str(info.value)
    # the cells before the first answer (set-up, pictures) ran cleanly
    client_nb = copy.deepcopy(nb)
    client_nb.cells = client_nb.cells[: first_answer + 1]
    NotebookClient(
        client_nb, timeout=CELL_SECONDS, kernel_name="python3", resources={"metadata": {"path": str(a.release_dir)}}
    ).execute()
