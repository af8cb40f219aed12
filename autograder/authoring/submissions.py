"""Build submission notebooks from the source: a perfect student, with answers swapped.

Used by the fidelity tests (mutants, alternative solutions, hostile code), by the
example class in examples/, and by instructors checking a new grader.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

from autograder.course.assignments import Assignment
from autograder.course.notebook import Notebook, cell_role, nbgrader_meta, read_notebook, write_notebook

_MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")


@dataclass(frozen=True)
class Variant:
    """One answer cell replaced in an otherwise perfect submission."""

    name: str
    function: str  # grade_id of the answer cell it replaces
    source: str  # the whole new cell
    why: str = ""  # what the bug is (mutants) or how it differs (correct variants)


def reference_answers(assignment: Assignment) -> dict[str, str]:
    """Each answer cell of the source notebook, with the solution markers removed."""
    nb = read_notebook(assignment.source_notebook)
    return {
        nbgrader_meta(c)["grade_id"]: "\n".join(line for line in c["source"].splitlines() if not _MARKER.match(line))
        for c in nb["cells"]
        if cell_role(c) == "answer"
    }


def build_submission(
    assignment: Assignment,
    answers: dict[str, str] | None = None,
    perfect: bool = True,
    extra_cells: list[str] | None = None,
) -> Notebook:
    """The release notebook with answer cells filled in (reference, then ``answers``).

    ``extra_cells`` are appended as the student's own code cells (no nbgrader metadata).
    """
    nb = copy.deepcopy(read_notebook(assignment.release_notebook))
    fill = dict(reference_answers(assignment)) if perfect else {}
    fill.update(answers or {})
    for cell in nb["cells"]:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if cell_role(cell) == "answer" and grade_id in fill:
            cell["source"] = fill[grade_id]
    for i, source in enumerate(extra_cells or []):
        nb["cells"].append(
            {
                "cell_type": "code",
                "execution_count": None,
                "id": f"student-{i}",
                "metadata": {},
                "outputs": [],
                "source": source,
            }
        )
    return nb


def write_submission(nb: Notebook, submitted: Path, student: str, assignment: str) -> Path:
    """Save under nbgrader's submitted/<student>/<assignment>/<assignment>.ipynb layout."""
    path = Path(submitted) / student / assignment / f"{assignment}.ipynb"
    write_notebook(nb, path)
    return path
