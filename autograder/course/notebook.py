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

Manually graded cells (``manual_cells``) are nbgrader's "manually graded answer"
(solution and grade, markdown or code: a written answer) and "manually graded task"
(task, with points). They never run (a code one is "locked" above): they are kept in
the autograded notebook and shown in the feedback, and the instructor grades them in
formgrader.

Nothing here runs code: it only parses JSON and Python syntax. Notebooks are plain
dicts (nbformat v4 layout, ``source`` joined into one string). We don't import nbformat
here: its JSON-schema validator takes ~4 s to import, once per graded submission.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.outputs.bounds import BOUNDS
from autograder.text import SURROGATES

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
    """Parse and check a notebook file, with a one-line error if it's broken.

    For our own files (source, release, the grader's private copy of a submission);
    a student's file is read through ``intake``, which refuses it by type first.
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise NotebookError(f"{path}: no such notebook") from None
    except IsADirectoryError:
        raise NotebookError(f"{path}: a folder, not a notebook file") from None
    return loads_notebook(data, str(path))


def loads_notebook(data: bytes, where: str, max_depth: int | None = None, max_cells: int | None = None) -> Notebook:
    """Parse a notebook's bytes and check its layout; ``where`` names it in errors.

    Lone surrogates (JSON "\\ud800" escapes) become U+FFFD, so every string encodes;
    nesting deeper than ``max_depth`` and non-text grade ids are refused.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise NotebookError(f"{where}: not a text file (is it really a .ipynb?): byte {e.start} is not UTF-8") from None
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise NotebookError(f"{where}: not valid JSON ({e.msg} at line {e.lineno}, column {e.colno})") from None
    except ValueError as e:  # e.g. an integer literal thousands of digits long
        raise NotebookError(f"{where}: not valid JSON ({str(e)[:100]})") from None
    except RecursionError:
        raise NotebookError(f"{where}: {_too_deep(max_depth)}") from None
    if max_depth is not None and _depth_exceeds(raw, max_depth):
        raise NotebookError(f"{where}: {_too_deep(max_depth)}")
    if _MAYBE_SURROGATE.search(text):
        raw = _scrub_surrogates(raw)
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise NotebookError(f"{where}: JSON, but not a Jupyter notebook (no list of cells)")
    if raw.get("nbformat") != 4:
        raise NotebookError(f"{where}: notebook format {_shown(raw.get('nbformat'))}; expected version 4")
    if max_cells is not None and len(raw["cells"]) > max_cells:
        raise NotebookError(
            f"{where}: {len(raw['cells']):,} cells; the limit is {max_cells:,}. Delete the cells you added in bulk."
        )
    for i, cell in enumerate(raw["cells"]):
        problem = _cell_problem(cell)
        if problem:
            raise NotebookError(f"{where}: cell {i + 1} is broken ({problem})")
        if isinstance(cell["source"], list):
            cell["source"] = "".join(cell["source"])
    return raw


_MAYBE_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")


def _too_deep(max_depth: int | None) -> str:
    limit = f"{max_depth}" if max_depth is not None else "a few hundred"
    return (
        f"nested more than {limit} levels deep (lists and objects inside each other), which no "
        f"notebook is. Re-save it from Jupyter (File > Save), or start again from the release notebook."
    )


def _depth_exceeds(value: Any, max_depth: int) -> bool:
    """Whether JSON data nests more than ``max_depth`` lists/objects (iterative: no recursion)."""
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


def _scrub_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return SURROGATES.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_scrub_surrogates(k): _scrub_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_surrogates(v) for v in value]
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "…"


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
    meta = nbgrader_meta(cell)
    if "grade_id" in meta and not isinstance(meta["grade_id"], str):
        kind = _json_kind(meta["grade_id"])
        return f"its nbgrader grade_id is {kind}, not text; copy the cell back from the release notebook"
    return None


def _json_kind(value: Any) -> str:
    kinds = {bool: "true/false", int: "a number", float: "a number", list: "a list", dict: "an object"}
    return "null" if value is None else kinds.get(type(value), type(value).__name__)


def write_notebook(nb: Notebook, path: Path) -> None:
    """Write in nbformat's own on-disk layout (sorted keys, one-space indent, lines)."""
    out = json.loads(json.dumps(nb))
    for cell in out.get("cells", []):
        if not isinstance(cell, dict):
            continue
        cell["source"] = _lines(cell.get("source", ""))
        outputs = cell.get("outputs")
        for output in outputs if isinstance(outputs, list) else []:
            if isinstance(output, dict) and isinstance(output.get("text"), (str, list)):
                output["text"] = _lines(output["text"])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _lines(text: str | list) -> list[str]:
    text = "".join(map(str, text)) if isinstance(text, list) else str(text)
    return text.splitlines(keepends=True)


def nbgrader_meta(cell: dict) -> dict:
    metadata = cell.get("metadata", {})
    meta = metadata.get("nbgrader", {}) if isinstance(metadata, dict) else {}
    return meta if isinstance(meta, dict) else {}


def grade_id_of(cell: dict) -> str | None:
    """The cell's nbgrader grade_id, or None (also when it isn't text)."""
    grade_id = nbgrader_meta(cell).get("grade_id")
    return grade_id if isinstance(grade_id, str) else None


def cell_role(cell: dict) -> str | None:
    """answer / setup / locked / extra for a code cell; None for other cells."""
    if cell.get("cell_type") != "code":
        return None
    meta = nbgrader_meta(cell)
    if not meta:
        return "extra"
    if meta.get("solution") and not meta.get("grade"):
        return "answer"
    if meta.get("locked") and (grade_id_of(cell) or "").startswith("setup"):
        return "setup"
    if meta.get("locked") or meta.get("grade"):
        return "locked"
    return "extra"


@dataclass(frozen=True)
class ManualCell:
    """A manually graded cell: its points (nbgrader metadata) and kind ("answer" or "task")."""

    grade_id: str
    points: float
    kind: str  # "answer": the student writes in it; "task": the instructor's task, answered elsewhere
    cell_type: str  # markdown or code


def manual_kind(cell: dict) -> str | None:
    """ "answer" (nbgrader's manually graded answer), "task" (manually graded task), or None."""
    meta = nbgrader_meta(cell)
    if meta.get("task"):
        return "task"
    if meta.get("grade") and meta.get("solution"):
        return "answer"
    return None


def manual_cells(nb: Notebook) -> dict[str, ManualCell]:
    """grade_id -> ManualCell, for every manually graded cell of ``nb``, in notebook order.

    Read the points from the instructor's notebook only: a student's copy of the
    metadata is the student's to edit.
    """
    out = {}
    for cell in nb["cells"]:
        kind, grade_id = manual_kind(cell), grade_id_of(cell)
        if kind and grade_id:
            points = nbgrader_meta(cell).get("points", 0)
            points = float(points) if isinstance(points, (int, float)) and not isinstance(points, bool) else 0.0
            out[grade_id] = ManualCell(grade_id, points, kind, str(cell.get("cell_type")))
    return out


def manual_sources(nb: Notebook) -> dict[str, str]:
    """grade_id -> the cell's source, for every manually graded cell (the last of an id wins)."""
    return {gid: cell["source"] for cell in nb["cells"] if manual_kind(cell) and (gid := grade_id_of(cell))}


def template_cells(release_nb: Notebook) -> tuple[dict[str, str], list[str]]:
    """From the release notebook: setup sources by grade_id, and the answer ids in order."""
    setup, answers = {}, []
    for cell in release_nb["cells"]:
        role = cell_role(cell)
        grade_id = grade_id_of(cell)
        if role == "setup":
            setup[grade_id] = cell["source"]
        elif role == "answer":
            answers.append(grade_id)
    return setup, answers


def defined_names(source: str, limit: int = BOUNDS.cell_bytes) -> list[str]:
    """Top-level functions and classes a cell defines (empty if it doesn't parse, or is larger than
    ``limit`` bytes: parsing is linear but slow, about 10 s for a 4 MiB cell, and this runs for every
    answer cell in the grader process and again for the class report)."""
    if len(source.encode("utf-8", "surrogatepass")) > limit:
        return []
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):  # (nested too deep: RecursionError)
        return []
    return [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]


def plan_submission(nb: Notebook, release_nb: Notebook) -> Submission:
    """Choose the cells to run, in order, and note missing or duplicated nbgrader cells.

    Only the release decides what set-up code runs: each of its set-up cells runs once,
    with the release's source, however often (or seldom) the student's notebook has it.
    """
    setup, expected = template_cells(release_nb)
    release_ids = {gid for c in release_nb["cells"] if (gid := grade_id_of(c))}
    cells: list[Cell] = []
    answers: dict[str, str] = {}
    seen: Counter = Counter()
    ids_seen: Counter = Counter(gid for c in nb["cells"] if (gid := grade_id_of(c)) in release_ids)
    setup_seen = set()
    for index, cell in enumerate(nb["cells"]):
        role = cell_role(cell)
        grade_id = grade_id_of(cell)
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
    for grade_id, count in ids_seen.items():
        if count > 1 and seen[grade_id] <= 1:  # (duplicated answer cells are reported above)
            problems.append(
                f"There are {count} cells with the nbgrader grade_id `{grade_id}`, which must be unique; "
                f"the grader used the release's version of it. Delete the copies."
            )
    for grade_id, source in answers.items():
        names = defined_names(source)
        if names and grade_id not in names:  # a renamed function
            problems.append(
                f"The answer cell for `{grade_id}` defines {', '.join(f'`{n}`' for n in names)} "
                f"but not `{grade_id}`. Keep the original name."
            )
    return Submission(cells=missing_setup + cells, answers=answers, problems=problems)
