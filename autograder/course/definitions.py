"""Where each graded function's code was when the graders called it (``Located``), and what to note about it.

The graders call a graded function by name from the sandbox's namespace once every cell
has run, in notebook order (``session.py``). So the code graded is the last binding of
that name in the cells the sandbox ran, wherever it is: a function pasted into a cell of
the student's own, or rebound after its answer cell (``conv_forward = my_conv``), is the
code graded, not the answer cell. ``similarity.py`` compares that code; a graded name
bound outside its answer cell is noted in the student's feedback (``plugin.py``) and in
the class report (``report_similarity.py``).

    ran      how each planned cell ran (``cells_run.py``)
    read     the cells that ran, in that order, and each one's statements, keeping every
             name's candidate definitions (``bindings.py``: what binds a name, and what
             may bind one unseen)
    locate   per graded name: the definitions that may be in force at the end, the student's
             own functions they read (helpers), and what could not be known (``Located``)

Helpers: the names a definition reads that are bound, at the end, to the student's own
definitions (not graded names, which are compared on their own; not the release's set-up
cells; not imports), followed transitively up to ``Bounds.helpers``. So a one-line answer
that calls a pasted copy compares the copy. They are resolved as bound at the end rather
than when a statement ran (``f = wrap(g)`` then ``g`` redefined: the later ``g`` is followed).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from autograder.course.assignments import Assignment
from autograder.course.bindings import Bindings, Definition, Unknown, read_cells, where
from autograder.course.notebook import Cell
from autograder.outputs.bounds import BOUNDS, Bounds


@dataclass(frozen=True)
class Located:
    """Where the graded function ``name`` was defined when the graders called it."""

    name: str
    answer_cell: Cell | None  # its answer cell (the last one with its grade_id), None without one
    definitions: tuple[Definition, ...]  # the definitions that may be in force, in the order bound
    helpers: tuple[Definition, ...] = ()  # the student's own functions they read
    unknown: tuple[str, ...] = ()  # why another definition may be in force

    @property
    def outside(self) -> tuple[Definition, ...]:
        """The definitions in force that are not in the function's answer cell (imports aside)."""
        return tuple(d for d in self.definitions if d.kind != "import" and d.cell is not self.answer_cell)

    def code(self) -> str:
        """The code to compare: the definitions in force, then the helpers they read."""
        return "\n\n".join(d.source() for d in (*self.definitions, *self.helpers) if d.kind != "import")

    def notes(self) -> list[str]:
        """What the instructor should know: a definition outside the answer cell, an import, what is unknown."""
        out = []
        if self.outside:
            cells = " or ".join(dict.fromkeys(d.where for d in self.outside))
            home = f"its answer cell is {where(self.answer_cell)}" if self.answer_cell else "it has no answer cell"
            if len(self.definitions) > 1:  # (a cell that ran only partly, or a definition in an if/try)
                out.append(f"may have been graded as defined in {cells}, outside its answer cell ({home}); "
                           f"every candidate is compared")  # fmt: skip
            else:
                out.append(f"graded as defined in {cells}, outside its answer cell ({home}); that code is compared")
        for d in self.definitions:
            if d.kind == "import":
                out.append(f"bound in {d.where} by an import from `{d.module}`: its code is not in the notebook")
        if self.unknown:
            lead = "could not be located" if not self.code() else "could not be located with certainty"
            out += [f"{lead}: {why}" for why in self.unknown[:3]]
            if len(self.unknown) > 3:
                out.append(f"… and {len(self.unknown) - 3} more reasons")
        return out

    def student_note(self) -> str | None:
        """For the student's feedback: only a definition outside the answer cell (what they can fix)."""
        if not self.outside:
            return None
        cells = " or ".join(dict.fromkeys(d.where for d in self.outside))
        was = "may have been" if len(self.definitions) > 1 else "was"  # (a cell that ran only partly)
        return (
            f"`{self.name}` {was} graded as defined in {cells}, not in its answer cell: the graders use the "
            f"last definition that ran. Keep each graded function in its own answer cell, and don't define "
            f"it again elsewhere."
        )


def locate(
    cells: Sequence[Cell],
    ran: Mapping[int, str] | None,
    graded: Collection[str],
    bounds: Bounds = BOUNDS,
    safe_modules: Collection[str] = (),
) -> dict[str, Located]:
    """For each graded name, the code it was bound to once the cells that ran had run.

    ``cells``: the plan (``notebook.plan_submission``), in the order the sandbox ran them;
    ``ran``: ``cells_run.parse_ran(...)``, or None when not known (every planned cell ran);
    ``safe_modules``: modules whose star import binds no graded name (the release's helpers).
    """
    state = read_cells(cells, ran, bounds, safe_modules)
    answer_cells = {c.grade_id: c for c in cells if c.role == "answer"}
    located = {}
    for name in graded:
        found = state.candidates(name)
        definitions = tuple(c for c in found if isinstance(c, Definition))
        unknown = tuple(c.why for c in found if isinstance(c, Unknown))
        helpers = _helpers(state, definitions, set(graded), bounds.helpers)
        located[name] = Located(name, answer_cells.get(name), definitions, helpers, unknown)
    return located


def _helpers(state: Bindings, definitions: tuple[Definition, ...], graded: set[str], limit: int) -> tuple:
    """The student's own definitions that ``definitions`` read, transitively (at most ``limit``)."""
    found: list[Definition] = []
    seen = set(graded)
    todo = deque(name for d in definitions for name in sorted(d.reads()))
    while todo and len(found) < limit:
        name = todo.popleft()
        if name in seen:
            continue
        seen.add(name)
        for c in state.bound.get(name, {}):
            if isinstance(c, Definition) and c.kind != "import" and c.cell.role != "setup" and len(found) < limit:
                found.append(c)
                todo.extend(sorted(c.reads()))
    return tuple(found)


def safe_modules(assignment: Assignment) -> frozenset[str]:
    """The release's helper modules (``[helpers] modules``): a star import of one binds no graded name."""
    return frozenset(p.stem if p.suffix == ".py" else p.name for p in assignment.helper_modules())
