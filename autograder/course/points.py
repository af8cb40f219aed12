"""Points declared once (assignment.toml): written into a notebook, checked there, shared by a function's tests.

The points are ``[points]`` (graded functions) and ``[manual]`` (manually graded cells). A notebook
shows them in two places, both written by ``autograder release`` (never by hand):

    nbgrader's metadata   ``points`` of each visible test cell ``test_<function>`` and of each
                          manually graded cell (what nbgrader and formgrader add up)
    the points table      the markdown table in the introduction with a "Points" column: a row's
                          backticked names (outside parentheses) get its numbers, in order ("5 + 10")

A grader test's ``@pytest.mark.share(n)`` is its share of its function's points (``scaled``).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping

from autograder.course.errors import AssignmentError
from autograder.course.notebook import Notebook, grade_id_of, manual_cells, manual_kind, nbgrader_meta


def scaled(points: float, part: float, whole: float) -> float:
    """``points * part / whole``, multiplied first: shares that add up to the points give them exactly."""
    return points * part / whole


def as_written(points: float) -> int | float:
    """A number of points as a notebook shows it: 8, not 8.0."""
    return int(points) if float(points).is_integer() else float(points)


def test_cells(nb: Notebook) -> dict[str, list[dict]]:
    """function -> its visible test cells (nbgrader grade cells whose grade_id is ``test_<function>``)."""
    out: dict[str, list[dict]] = {}
    for cell in nb["cells"]:
        grade_id = grade_id_of(cell) or ""
        if nbgrader_meta(cell).get("grade") and grade_id.startswith("test_"):
            out.setdefault(grade_id.removeprefix("test_"), []).append(cell)
    return out


def notebook_points(nb: Notebook) -> dict[str, float]:
    """nbgrader's points on each function's visible test cell."""
    return {function: float(nbgrader_meta(cells[-1]).get("points", 0)) for function, cells in test_cells(nb).items()}


# --- the points table ----------------------------------------------------------------------------------


def _table(nb: Notebook) -> tuple[dict, int] | None:
    """The markdown cell with the points table, and the index of its "Points" column."""
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        rows = [_cells(line) for line in cell["source"].splitlines() if line.strip().startswith("|")]
        header = [c.strip().lower() for c in rows[0]] if rows else []
        if "points" in header:
            return cell, header.index("points")
    return None


def _cells(line: str) -> list[str]:
    return line.strip().strip("|").split("|")


def _names(cells: list[str], column: int) -> list[str]:
    """The backticked names of a row before its points column, but those in parentheses (notes)."""
    return re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", "|".join(cells[:column])))


def _numbers(cells: list[str], column: int) -> list[float]:
    return [float(n) for n in re.findall(r"\d+(?:\.\d+)?", cells[column])] if len(cells) > column else []


def _rows(cell: dict) -> list[tuple[int, list[str]]]:
    """(line index, cells) of each row of the table's body (after its header and separator lines)."""
    lines = cell["source"].splitlines()
    return [(i, _cells(line)) for i, line in enumerate(lines) if line.strip().startswith("|")][2:]


def table_points(nb: Notebook) -> dict[str, float] | None:
    """The points table students read in the notebook's introduction, or None if it has none."""
    found = _table(nb)
    if found is None:
        return None
    cell, column = found
    table: dict[str, float] = {}
    for _, cells in _rows(cell):
        table.update(zip(_names(cells, column), _numbers(cells, column), strict=False))
    return table


def _write_table(cell: dict, column: int, points: Mapping[str, float], where: str) -> None:
    lines = cell["source"].splitlines(keepends=True)
    for i, cells in _rows(cell):
        names = _names(cells, column)
        unknown = [n for n in names if n not in points]
        if unknown:
            raise AssignmentError(
                f"{where}: the points table names `{unknown[0]}`, which assignment.toml gives no points "
                f"([points] or [manual]); declare it there, or put it in parentheses if it is a note"
            )
        if not names or _numbers(cells, column) == [points[n] for n in names]:
            continue  # (a row without names, or right already, stays as written)
        raw = lines[i].split("|")  # raw[column + 1] is the points cell: raw[0] is what precedes the first "|"
        old = raw[column + 1]
        text = " + ".join(str(as_written(points[n])) for n in names)
        raw[column + 1] = old[: len(old) - len(old.lstrip())] + text + old[len(old.rstrip()) :]
        lines[i] = "|".join(raw)
    cell["source"] = "".join(lines)


# --- writing and checking -------------------------------------------------------------------------------


def write_points(nb: Notebook, points: Mapping[str, float], manual: Mapping[str, float], where: str) -> Notebook:
    """A copy of ``nb`` showing the declared points: on each function's visible test cell and each
    manually graded cell (nbgrader's metadata), and in the points table if it has one. ``where``
    names the notebook in errors (a function without a test cell, or missing from the table)."""
    nb = copy.deepcopy(nb)
    cells = test_cells(nb)
    for function, value in points.items():
        if function not in cells:
            raise AssignmentError(
                f"{where}: {function} has no visible test cell to carry its points (an nbgrader grade cell with "
                f"grade_id test_{function}); add one after its answer cell"
            )
        for cell in cells[function]:
            nbgrader_meta(cell)["points"] = as_written(value)
    for cell in nb["cells"]:
        if manual_kind(cell) and (grade_id := grade_id_of(cell)) in manual:
            nbgrader_meta(cell)["points"] = as_written(manual[grade_id])
    found = _table(nb)
    if found is not None:
        _write_table(*found, {**manual, **points}, where)
        missing = [f for f in points if f not in (table_points(nb) or {})]
        if missing:
            raise AssignmentError(
                f"{where}: the points table in the introduction has no row for {', '.join(missing)}; add it "
                f"(the name in backticks, before the Points column) and release again"
            )
    return nb


def disagreements(
    nb: Notebook, points: Mapping[str, float], manual: Mapping[str, float], declaration: str
) -> list[str]:
    """Where ``nb`` shows other points than ``declaration`` declares (empty: it shows them all)."""
    out = []
    places = {"nbgrader's metadata (its test cell)": notebook_points(nb)}
    table = table_points(nb)
    if table is not None:
        places["the points table in the notebook's introduction"] = table
    for where, found in places.items():
        for function, value in points.items():
            if found.get(function) != value:
                shown = "nothing" if function not in found else f"{found[function]:g}"
                out.append(f"{function} is worth {value:g} points in {declaration}, but {shown} in {where}")
    shown_manual = {gid: c.points for gid, c in manual_cells(nb).items()}
    for where, found in (("nbgrader's metadata", shown_manual), ("the points table", table or {})):
        for gid, value in manual.items():
            if gid in found and found[gid] != value:
                out.append(
                    f"the manually graded cell {gid} is worth {value:g} points in {declaration}'s [manual], but "
                    f"{found[gid]:g} in {where}"
                )
    return out
