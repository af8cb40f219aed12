"""Which cells of a notebook ran, as results' ``cells_run``: recorded from the session's loads, and read back.

The grader process keeps every load of the notebook (a worker that served calls,
``StudentSession.loads``) and writes into results, as ``cells_run``, which cells ran
*completely* in every load, which *partly* (it raised or called exit() in some load, or ran
in one load and not in another: its statements ran up to a point we don't know) and, by
leaving them out, which *not at all* (timed out or ended the worker and so was skipped,
came after the budget ran out, or is not valid Python). ``bindings.py`` reads only the
cells that ran.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping, Sequence

from autograder.course.assignments import strip_magics
from autograder.course.notebook import Cell
from autograder.outputs.bounds import BOUNDS, Bounds

COMPLETE, PARTIAL = "complete", "partial"


def record(cells: Sequence[Cell], loads: Sequence[Mapping[int, str]], bounds: Bounds = BOUNDS) -> dict | None:
    """``cells_run`` for results: ``{"complete": [...], "partial": [...]}``, notebook indexes.

    ``loads``: one per load of the notebook that served calls (``StudentSession.loads``),
    position in ``cells`` -> "ok" or "raised". A cell left out of both lists did not run.
    A cell that raised in every load it ran in and is not valid Python (checked here, on
    the exact source the sandbox got) did not run either: compiling it failed. None without
    any load (the sandbox never ran the notebook): then nothing is known.
    """
    if not loads:
        return None
    out: dict[str, list[int]] = {COMPLETE: [], PARTIAL: []}
    for position, cell in enumerate(cells):
        if cell.index < 0:
            continue  # a release set-up cell the notebook lacks: run from the release, first
        seen = [load.get(position) for load in loads]
        if all(s == "ok" for s in seen):
            out[COMPLETE].append(cell.index)
        elif any(s == "ok" for s in seen) or ("raised" in seen and not _invalid(cell.source, bounds)):
            out[PARTIAL].append(cell.index)
    return out


def _invalid(source: str, bounds: Bounds) -> bool:
    """Whether ``source`` is not valid Python (so compiling it failed and nothing of it ran)."""
    if len(source.encode("utf-8", "surrogatepass")) > bounds.cell_bytes:
        return False  # not read: unknown, so not known to be invalid
    try:
        ast.parse(strip_magics(source))
    except (SyntaxError, ValueError):
        return True
    except (RecursionError, MemoryError):
        return False
    return False


def parse_ran(raw: object) -> dict[int, str] | None:
    """``cells_run`` read back from results (``record``'s shape): notebook index -> how it ran;
    None if missing or malformed (results saved before it existed): every planned cell ran."""
    if not isinstance(raw, dict):
        return None
    ran: dict[int, str] = {}
    for how in (COMPLETE, PARTIAL):
        indexes = raw.get(how, [])
        if not isinstance(indexes, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in indexes):
            return None
        ran.update((i, how) for i in indexes)
    return ran
