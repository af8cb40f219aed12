"""Read a submitted notebook and decide which cells the sandbox runs.

Cell roles come from nbgrader's cell metadata, so instructors author notebooks the
usual nbgrader way:

    answer  autograded-answer cell (solution, not graded); grade_id = function name.
            Runs, with the student's code.
    setup   locked (read-only) cell whose grade_id starts with "setup". Runs, with the
            release's code, so an edited import cell can't change grading.
    locked  any other locked cell: visible self-checks, figures, demos. Never runs:
            grading doesn't need it and it may be slow.
    extra   a code cell without nbgrader metadata (a student's own cell). Runs, so
            helpers a student defined are there; if it fails it is skipped.

Nothing here runs code: it only parses JSON and Python syntax. Notebooks are plain
dicts (nbformat v4 layout, ``source`` joined into one string). We don't import nbformat
here: its JSON-schema validator takes ~4 s to import, once per graded submission.
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Notebook = dict[str, Any]
CELL_TYPES = ("code", "markdown", "raw")


class NotebookError(Exception):
    """A notebook that can't be graded at all (not JSON, not a notebook)."""


@dataclass
class Cell:
    index: int  # position among the notebook's cells, for messages
    role: str  # answer | setup | extra
    source: str
    grade_id: str | None = None


@dataclass
class Submission:
    """What the sandbox should run for one notebook, and what is wrong with it."""

    cells: list[Cell]
    answers: dict[str, str]  # grade_id -> the student's answer-cell source (last one)
    problems: list[str] = field(default_factory=list)  # bad input, in student words


def read_notebook(path: Path) -> Notebook:
    """Parse and check a notebook file, with a one-line error if it's broken."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotebookError(f"{path}: no such notebook") from None
    except UnicodeDecodeError:
        raise NotebookError(f"{path}: not a text file (is it really a .ipynb?)") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise NotebookError(f"{path}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise NotebookError(f"{path}: JSON, but not a Jupyter notebook (no list of cells)")
    if raw.get("nbformat") != 4:
        raise NotebookError(f"{path}: notebook format {raw.get('nbformat')!r}; expected version 4")
    for i, cell in enumerate(raw["cells"]):
        problem = _cell_problem(cell)
        if problem:
            raise NotebookError(f"{path}: cell {i + 1} is broken ({problem})")
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
    return raw


def _cell_problem(cell: Any) -> str | None:
    if not isinstance(cell, dict):
        return "not an object"
    if cell.get("cell_type") not in CELL_TYPES:
        return f"unknown cell type {cell.get('cell_type')!r}"
    source = cell.get("source")
    if not (isinstance(source, str) or (isinstance(source, list) and all(isinstance(s, str) for s in source))):
        return "source is not text"
    if not isinstance(cell.get("metadata", {}), dict):
        return "metadata is not an object"
    return None


def write_notebook(nb: Notebook, path: Path) -> None:
    """Write in nbformat's own on-disk layout (sorted keys, one-space indent, lines)."""
    out = json.loads(json.dumps(nb))
    for cell in out.get("cells", []):
        cell["source"] = _lines(cell.get("source", ""))
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = _lines(output["text"])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _lines(text: str | list) -> list[str]:
    text = "".join(text) if isinstance(text, list) else text
    return text.splitlines(keepends=True)


def nbgrader_meta(cell: dict) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def cell_role(cell: dict) -> str | None:
    """answer / setup / locked / extra for a code cell; None for other cells."""
    if cell.get("cell_type") != "code":
        return None
    meta = nbgrader_meta(cell)
    if not meta:
        return "extra"
    if meta.get("solution") and not meta.get("grade"):
        return "answer"
    if meta.get("locked") and str(meta.get("grade_id", "")).startswith("setup"):
        return "setup"
    if meta.get("locked") or meta.get("grade"):
        return "locked"
    return "extra"


def template_cells(release_nb: Notebook) -> tuple[dict[str, str], list[str]]:
    """From the release notebook: setup sources by grade_id, and the answer ids in order."""
    setup, answers = {}, []
    for cell in release_nb["cells"]:
        role = cell_role(cell)
        grade_id = nbgrader_meta(cell).get("grade_id")
        if role == "setup":
            setup[grade_id] = cell["source"]
        elif role == "answer":
            answers.append(grade_id)
    return setup, answers


def defined_names(source: str) -> list[str]:
    """Top-level functions and classes a cell defines (empty if it doesn't parse)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]


def plan_submission(nb: Notebook, release_nb: Notebook) -> Submission:
    """Choose the cells to run, in order, and note missing or duplicated answer cells."""
    setup, expected = template_cells(release_nb)
    cells: list[Cell] = []
    answers: dict[str, str] = {}
    seen: Counter = Counter()
    setup_seen = set()
    for index, cell in enumerate(nb["cells"]):
        role = cell_role(cell)
        grade_id = nbgrader_meta(cell).get("grade_id")
        source = cell["source"]
        if role == "answer" and grade_id in expected:
            seen[grade_id] += 1
            answers[grade_id] = source
            cells.append(Cell(index, "answer", source, grade_id))
        elif role == "setup" and grade_id in setup and grade_id not in setup_seen:
            setup_seen.add(grade_id)
            cells.append(Cell(index, "setup", setup[grade_id], grade_id))
        elif role in ("extra", "answer"):  # an unknown answer id behaves like a student cell
            cells.append(Cell(index, "extra", source))
    # setup cells the student deleted still run, first, as in the release
    missing_setup = [Cell(-1, "setup", src, gid) for gid, src in setup.items() if gid not in setup_seen]
    problems = []
    for grade_id in expected:
        if seen[grade_id] == 0:
            problems.append(
                f"The answer cell for `{grade_id}` is missing (deleted, or its cell metadata was lost). "
                f"Copy the cell back from the release notebook and put your code in it."
            )
        elif seen[grade_id] > 1:
            problems.append(
                f"There are {seen[grade_id]} answer cells for `{grade_id}`; only the last one counts. "
                f"Delete the copies."
            )
    for grade_id, source in answers.items():
        names = defined_names(source)
        if names and grade_id not in names:  # a renamed function
            problems.append(
                f"The answer cell for `{grade_id}` defines {', '.join(f'`{n}`' for n in names)} "
                f"but not `{grade_id}`. Keep the original name."
            )
    return Submission(cells=missing_setup + cells, answers=answers, problems=problems)
