"""``autograder new NAME``: a new assignment in the four files an assignment is made of.

    source/NAME/NAME.ipynb                 the notebook, in the house skeleton (Setup,
                                           Prepare the data, Build, Check, Train,
                                           Evaluate, Exercises), with one example function
    autograder/graders/NAME/assignment.toml  its declaration (points, limits, stand-ins,
                                           helpers, tolerances, fidelity minimums)
    autograder/graders/NAME/test_relu.py   one grader
    autograder/graders/NAME/catalogue.py   one mutant and one correct variant

Right after it, ``autograder release NAME`` generates the student version, the
reference earns full marks and the untouched release zero (tests/authoring/test_scaffold.py).
Replace the example with the assignment's own functions; docs/authoring.md walks
through it.
"""

from __future__ import annotations

import keyword
import re
from pathlib import Path
from textwrap import dedent

from autograder.course.assignments import Assignment, AssignmentError
from autograder.course.notebook import write_notebook
from autograder.course.release import write_source_points

NAME_RULE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


def _cell(kind: str, source: str, grade_id: str | None = None, **nbgrader: object) -> dict:
    cell: dict = {"cell_type": kind, "metadata": {}, "source": dedent(source).strip() + "\n"}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    if grade_id:
        meta = {"grade": False, "grade_id": grade_id, "locked": True, "schema_version": 3, "solution": False}
        cell["metadata"]["nbgrader"] = {**meta, **nbgrader}
    return cell


def notebook(name: str) -> dict:
    title = name.replace("_", " ").capitalize()
    cells = [
        _cell(
            "markdown",
            f"""
            # {title}

            One paragraph on what students build here and why it matters.

            **You will write one function**, in its answer cell:

            | Part | Functions | Points |
            |---|---|---|
            | Build | `relu` | |

            **How it is graded.** Write each function's body in place of `# YOUR CODE HERE` /
            `raise NotImplementedError()`, keeping its name and arguments. The cell after each
            answer runs visible checks on one small example; hidden tests check other inputs.
        """,
        ),
        _cell("markdown", "## 1 Setup"),
        _cell(
            "code",
            """
            import os

            import numpy as np

            # Quick mode (CNN_COURSE_QUICK=1, set by the course's tests): train on less, every check still runs.
            QUICK = os.environ.get("CNN_COURSE_QUICK") == "1"
        """,
            "setup_imports",
        ),
        _cell("markdown", "## 2 Prepare the data"),
        _cell(
            "code",
            """
            rng = np.random.default_rng(0)
            x = rng.standard_normal((4, 3))
            print("x =", x.round(2), sep="\\n")
        """,
            "demo_data",
        ),
        _cell(
            "markdown",
            """
            ## 3 Build: the ReLU

            `relu(x)` returns `max(0, x)` at every entry of an array of any shape, in the array's dtype.
        """,
        ),
        _cell(
            "code",
            '''
            def relu(x):
                """
                The rectified linear unit, elementwise.

                Arguments:
                x -- a NumPy array of any shape

                Returns:
                out -- max(0, x) at every entry, with the shape and dtype of x
                """
                ### BEGIN SOLUTION
                out = np.maximum(x, 0).astype(x.dtype)
                ### END SOLUTION
                return out
        ''',
            "relu",
            locked=False,
            solution=True,
        ),
        _cell("markdown", "## 4 Check"),
        _cell(
            "code",
            """
            out = relu(np.array([[-1.0, 0.0, 2.5]]))
            assert isinstance(out, np.ndarray), f"relu should return a NumPy array, not a {type(out).__name__}"
            assert out.shape == (1, 3), f"relu(x) has shape {out.shape}; it should keep x's shape (1, 3)"
            assert np.array_equal(out, [[0.0, 0.0, 2.5]]), "relu should zero the negative entries and keep the rest"
            print("✅ relu: visible checks passed. The hidden checks grade more cases, so this is not the final grade.")
        """,
            "test_relu",
            grade=True,  # (its points: written from assignment.toml, as `autograder release` does)
        ),
        _cell("markdown", "## 5 Train"),
        _cell(
            "code",
            """
            steps = 10 if QUICK else 100
            print(f"training for {steps} steps would go here")
        """,
            "demo_train",
        ),
        _cell("markdown", "## 6 Evaluate"),
        _cell(
            "code",
            """
            print("fraction of units active on x:", float(np.mean(relu(x) > 0)))
        """,
            "demo_evaluate",
        ),
        _cell(
            "markdown",
            """
            ## 7 Exercises

            1. Why does a ReLU network need a non-zero initialisation of its biases, or does it?
        """,
        ),
    ]
    for i, cell in enumerate(cells):
        cell["id"] = f"{i:02d}-" + (cell["metadata"].get("nbgrader", {}).get("grade_id") or cell["cell_type"])
    return {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }


DECLARATION = """\
# What grading {name} needs, declared once (checked when read; docs/authoring.md).

# Points of each graded function, written here only: `autograder release` writes them
# into the notebook (nbgrader's metadata and its points table). A grader test's
# @pytest.mark.share(n) is its share of its function's points (1 if absent).
[points]
relu = 10

# The sandbox's limits for one submission (see docs/sandbox.md).
[limits]
call_timeout = 5      # seconds per call into student code
cell_timeout = 30     # seconds per notebook cell (the set-up cell imports NumPy)
budget_seconds = 30   # seconds for all of one submission's code together

# While a function is graded, the grader answers its calls to these graded functions
# with the reference, and nothing else. relu calls none: conv_forward = ["zero_pad"]
# would let conv_forward's calls to zero_pad be answered.
[stand_ins]

# Files or folders in source/{name}/ shipped to students beside the notebook.
[helpers]
modules = []

# Named tolerances for checks.close(..., **tolerances.NAME); tight, numeric and float32
# exist with defaults (autograder/kit/tolerances.py).
[tolerances]
tight = {{rtol = 1e-6, atol = 1e-8}}

# What the fidelity suite (tests/authoring/test_fidelity.py) asks of catalogue.py, and the share of
# its mutants the visible checks must catch (tests/course/test_visible_checks.py; at least 0.8).
[fidelity]
min_mutants = 1
min_correct = 1
min_tests = 3
visible_checks = 0.8
"""

GRADER = '''\
"""relu(x) -> max(0, x) elementwise, in x's shape and dtype."""

import numpy as np
import pytest

from autograder.kit import checks


# relu's 10 points ([points] in assignment.toml) are shared 5 : 3 : 2 by its tests.
@pytest.mark.share(5)
def test_values(student, reference, tolerances, rng):
    """relu(x) is max(0, x) at every entry of a 3-d batch."""
    x = rng.standard_normal((3, 4, 5))
    checks.close(student.call("relu", x).value, reference.relu(x), "relu(x)", **tolerances.tight,
                 hint="keep the positive entries and replace the negative ones by 0.")  # fmt: skip


@pytest.mark.share(3)
def test_keeps_shape_and_dtype(student, reference, tolerances, rng):
    """For float32 input of another shape, the output is float32 of the same shape."""
    x = rng.standard_normal((2, 7)).astype(np.float32)
    out = checks.floating(student.call("relu", x).value, "relu(x) for float32 x", dtype=np.float32)
    checks.close(out, reference.relu(x), "relu(x) for float32 x", **tolerances.float32)


@pytest.mark.share(2)
def test_does_not_modify_its_input(student, reference, rng):
    """Leaves x unchanged."""
    x = rng.standard_normal((4, 4))
    result = student.call("relu", x.copy(), return_args=True)
    checks.close(result.value, reference.relu(x), "relu(x)")
    checks.unchanged(x, result.args[0], "x")
'''

CATALOGUE = '''\
"""The catalogue of {name}: answers the fidelity suite grades (autograder/authoring/catalogue.py)."""

from autograder.authoring.catalogue import Variant, cell

MUTANTS = [
    Variant(
        "relu_absolute_value",
        "relu",
        cell("""
            def relu(x):
                return np.abs(x)
        """),
        "returns |x| instead of clipping the negative entries at 0",
    ),
]

CORRECT = [
    Variant(
        "relu_where",
        "relu",
        cell("""
            def relu(x):
                return np.where(x > 0, x, 0).astype(x.dtype)
        """),
        "np.where instead of np.maximum",
    ),
]
'''


def new(root: Path, name: str) -> list[Path]:
    """Write the four files of a new assignment ``name`` in the course ``root``; return them."""
    if not NAME_RULE.match(name) or keyword.iskeyword(name):
        raise AssignmentError(
            f"{name!r} can't name an assignment: use lower-case letters, digits and underscores, "
            "starting with a letter (it names folders, the notebook and a Python module), e.g. batch_norm"
        )
    assignment = Assignment(name, root=root)
    taken = [p for p in (assignment.source_notebook.parent, assignment.graders_dir) if p.exists()]
    if taken:
        raise AssignmentError(f"assignment {name} already exists ({taken[0]}); choose another name or edit it")
    files = {
        assignment.declaration: DECLARATION.format(name=name),
        assignment.graders_dir / "test_relu.py": GRADER,
        assignment.graders_dir / "catalogue.py": CATALOGUE.format(name=name),
    }
    write_notebook(notebook(name), assignment.source_notebook)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    write_source_points(assignment)  # the notebook shows the declared points, as after a release
    assignment.check_points()
    return [assignment.source_notebook, *files]
