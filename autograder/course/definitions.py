"""The code each graded name was bound to when the graders called it: read (``ast``), never run.

The graders call a graded function by name from the sandbox's namespace once every cell
has run, in notebook order (``session.py``). So the code graded is the last binding of
that name in the cells the sandbox ran, wherever it is: a function pasted into a cell of
the student's own, or rebound after its answer cell (``conv_forward = my_conv``), is the
code graded, not the answer cell. ``similarity.py`` compares that code; a graded name
bound outside its answer cell is noted in the student's feedback (``plugin.py``) and in
the class report (``class_report.py``).

    ran      how each planned cell ran (``record``): the grader process keeps every load of
             the notebook (a worker that served calls) and writes into results, as
             ``cells_run``, which cells ran *completely* in every load, which *partly*
             (it raised or called exit() in some load, or ran in one load and not in
             another: its statements ran up to a point we don't know) and, by leaving
             them out, which *not at all* (timed out or ended the worker and so was
             skipped, came after the budget ran out, or is not valid Python)
    walk     the cells that ran, in that order, and each one's statements in order, keeping
             every name's candidate definitions (``_State``)
    locate   per graded name: the definitions that may be in force at the end, the student's
             own functions they read (helpers), and what could not be known (``Located``)

What binds a name. A statement at the top of a cell that ran completely replaces what the
name was bound to; one in a cell that ran partly, or nested in if/for/while/try/with/match,
*may* have run, so it adds a candidate instead (all candidates are compared):

    def / async def / class NAME    this definition, decorators included
    NAME = other                    whatever ``other`` was bound to at that point (an alias)
    NAME = anything else            the statement (a lambda, ``np.vectorize(f)``), with the
      (also NAME: T = ..., +=, a, NAME = ..., for NAME in, with ... as NAME, NAME := ...)
    import m as NAME, from m import NAME   code outside the notebook: noted, nothing compared
    del NAME                        unbound

Helpers: the names a definition reads that are bound, at the end, to the student's own
definitions (not graded names, which are compared on their own; not the release's set-up
cells; not imports), followed transitively up to ``Bounds.helpers``. So a one-line answer
that calls a pasted copy compares the copy.

What could bind a name unseen, so its definition "could not be located" with certainty:
noted, never guessed silently (the definitions found are still compared):

    exec eval globals vars locals __import__ importlib __main__ sys.modules __dict__
    __globals__ f_globals f_locals, setattr() on anything but self or cls, and
    ``from m import *`` of a module other than the release's helpers
        at the top of a cell: from that point (a later definition replaces it);
        inside a function: whenever it is called, so to the end
    ``global NAME`` inside a function: NAME, to the end
    a cell that ran but was not read: larger than ``Bounds.cell_bytes``, past
        ``Bounds.notebook_bytes`` or ``Bounds.parse_seconds``, or not parsable here
        (the autograded copy has control characters made visible: ``text.clean``)

Release set-up cells are the release's code: read for their bindings, never flagged.
Not covered: rebinding through the interpreter's internals (gc, ctypes, frame objects
reached some other way), and helpers resolved at the end rather than when a statement
ran (``f = wrap(g)`` then ``g`` redefined: the later ``g`` is followed).
"""

from __future__ import annotations

import ast
import time
from collections import deque
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from autograder.course.assignments import Assignment, strip_magics
from autograder.course.notebook import Cell
from autograder.outputs.bounds import BOUNDS, Bounds

COMPLETE, PARTIAL = "complete", "partial"
_SAFE_SETATTR = ("self", "cls")  # setattr on these binds attributes, never a notebook name
_DYNAMIC_NAMES = frozenset({"exec", "eval", "globals", "vars", "__import__", "importlib", "__main__", "setattr"})
_DYNAMIC_ATTRS = frozenset({"__dict__", "__globals__", "f_globals", "f_locals"})
_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.TryStar, ast.With, ast.AsyncWith, ast.Match)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


# --- how the cells ran ------------------------------------------------------------------


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


# --- what binds a name ------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Definition:
    """One statement that binds ``name``: where it is, and its source."""

    name: str
    cell: Cell
    node: ast.AST  # the def, class, assignment or import
    lines: list[str]  # the cell's source as parsed (magics blanked), line by line; shared by its definitions
    kind: str  # def | class | assign | import
    module: str = ""  # for an import: the module

    @property
    def where(self) -> str:
        return where(self.cell)

    def source(self) -> str:
        """The statement's code, decorators included (each on its own ``@`` line), at column 0."""
        parts = [f"@{_segment(self.lines, d)}\n" for d in getattr(self.node, "decorator_list", ())]
        return "".join(parts) + _segment(self.lines, self.node)

    def reads(self) -> set[str]:
        """Every name this statement's code loads (the body of a def, the value of an assignment)."""
        node = self.node
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            node = node.value
        if self.kind == "import" or node is None:
            return set()
        return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


@dataclass(frozen=True)
class Unknown:
    """Something that may have bound a name without our seeing it; ``why`` says what."""

    why: str


def where(cell: Cell) -> str:
    """A cell as the student's notebook numbers it (from 1), or the release set-up cell."""
    if cell.index < 0:
        return f"the release's set-up cell `{cell.grade_id}`"
    return f"cell {cell.index + 1}"


def _segment(lines: list[str], node: ast.AST) -> str:
    """``node``'s source (as ``ast.get_source_segment``, in time linear in the node, not the cell),
    its lines after the first unindented by the node's own column (a statement nested in an if)."""
    first, last = node.lineno - 1, node.end_lineno - 1
    if first == last:
        return lines[first].encode()[node.col_offset : node.end_col_offset].decode("utf-8", "replace")
    indent = len(lines[first].encode()[: node.col_offset].decode("utf-8", "replace"))
    end = lines[last].encode()[: node.end_col_offset].decode("utf-8", "replace")
    body = [*lines[first + 1 : last], end]
    body = [x[min(indent, len(x) - len(x.lstrip(" \t"))) :] for x in body]  # (a string's lines may be less indented)
    return "\n".join([lines[first].encode()[node.col_offset :].decode("utf-8", "replace"), *body])


@dataclass
class _State:
    """Every name's candidate definitions so far, and what may have bound names unseen.

    ``bound[name]``: the candidates since the name was last surely bound (a sure binding
    replaces them, a maybe adds one). ``anywhere``: (step, Unknown) for what may have bound
    any name at that step; it applies to a name unless the name was surely bound after it
    (``since``). ``always``: what may bind names whenever called, so to the end (None: any).
    """

    # (dicts as ordered sets: a name bound 10,000 times in one cell costs 10,000 steps, not 10,000²)
    bound: dict[str, dict] = field(default_factory=dict)
    since: dict[str, int] = field(default_factory=dict)
    anywhere: dict[Unknown, int] = field(default_factory=dict)  # -> the last step it happened at
    always: dict[str | None, dict[Unknown, None]] = field(default_factory=dict)
    step: int = 0

    def bind(self, name: str, candidates: list, sure: bool) -> None:
        self.step += 1
        if sure:
            self.bound[name] = dict.fromkeys(candidates)
            self.since[name] = self.step
        else:
            self.bound.setdefault(name, {}).update(dict.fromkeys(candidates))

    def unbind(self, name: str, sure: bool) -> None:
        if sure:
            self.bind(name, [], True)

    def dynamic(self, why: str, name: str | None = None, deferred: bool = False) -> None:
        self.step += 1
        unknown = Unknown(why)
        if deferred:
            self.always.setdefault(name, {})[unknown] = None
        elif name is None:
            self.anywhere.pop(unknown, None)  # (re-inserted: the order is the order of the last steps)
            self.anywhere[unknown] = self.step
        else:
            self.bind(name, [unknown], False)

    def candidates(self, name: str) -> list:
        """What ``name`` may be bound to now: Definitions and Unknowns, in the order found."""
        since = self.since.get(name, 0)
        found = list(self.bound.get(name, {}))
        found += [u for u, step in self.anywhere.items() if step > since]
        found += [*self.always.get(None, {}), *self.always.get(name, {})]
        return list(dict.fromkeys(found))  # (in order, each once)


# --- reading the cells --------------------------------------------------------------------


def _statements(body: list[ast.stmt], sure: bool) -> Iterator[tuple[ast.stmt, bool]]:
    """Each statement, and those nested in compound statements (which may or may not run)."""
    for stmt in body:
        yield stmt, sure and not isinstance(stmt, _COMPOUND)
        if isinstance(stmt, _COMPOUND):
            nested = [getattr(stmt, f, []) for f in ("body", "orelse", "finalbody")]
            nested += [h.body for h in getattr(stmt, "handlers", [])] + [c.body for c in getattr(stmt, "cases", [])]
            for block in nested:
                yield from _statements(block, False)


def _targets(node: ast.AST) -> Iterator[str]:
    """The plain names an assignment target binds (inside tuples, lists and starred)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Name):
            yield n.id
        elif isinstance(n, (ast.Tuple, ast.List)):
            stack.extend(reversed(n.elts))
        elif isinstance(n, ast.Starred):
            stack.append(n.value)


def _bind_statement(state: _State, stmt: ast.stmt, sure: bool, cell: Cell, lines: list[str]) -> None:
    def definition(name: str, kind: str, node: ast.AST = stmt, module: str = "") -> Definition:
        return Definition(name, cell, node, lines, kind, module)

    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        state.bind(stmt.name, [definition(stmt.name, "def")], sure)
    elif isinstance(stmt, ast.ClassDef):
        state.bind(stmt.name, [definition(stmt.name, "class")], sure)
    elif isinstance(stmt, ast.Assign):
        alias = stmt.value.id if isinstance(stmt.value, ast.Name) else None
        for target in stmt.targets:
            single = isinstance(target, ast.Name)
            for name in _targets(target):
                if single and alias is not None and state.candidates(alias):
                    state.bind(name, state.candidates(alias), sure)  # what ``alias`` is bound to now
                else:
                    state.bind(name, [definition(name, "assign")], sure)
    elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
        if isinstance(stmt, ast.AugAssign) or stmt.value is not None:
            for name in _targets(stmt.target):
                state.bind(name, [definition(name, "assign")], sure)
    elif isinstance(stmt, (ast.For, ast.AsyncFor)):
        for name in _targets(stmt.target):
            state.bind(name, [definition(name, "assign")], False)
    elif isinstance(stmt, (ast.With, ast.AsyncWith)):
        for item in stmt.items:
            for name in _targets(item.optional_vars) if item.optional_vars is not None else ():
                state.bind(name, [definition(name, "assign")], False)
    elif isinstance(stmt, ast.Import):
        for alias in stmt.names:
            name = alias.asname or alias.name.split(".")[0]
            state.bind(name, [definition(name, "import", module=alias.name)], sure)
    elif isinstance(stmt, ast.ImportFrom):
        for alias in stmt.names:
            if alias.name != "*":  # (a star import: _scan)
                name = alias.asname or alias.name
                state.bind(name, [definition(name, "import", module=stmt.module or ".")], sure)
    elif isinstance(stmt, ast.Delete):
        for target in stmt.targets:
            for name in _targets(target):
                state.unbind(name, sure)


def _scan(state: _State, stmt: ast.stmt, cell: Cell, lines: list[str], safe_modules: Collection[str]) -> None:
    """Walrus bindings, and everything in ``stmt`` that may bind names unseen (see the module's docstring)."""
    label = where(cell)
    stack: list[tuple[ast.AST, bool]] = [(stmt, False)]  # (node, inside a function: runs when called)
    while stack:
        node, deferred = stack.pop()
        what = None
        if isinstance(node, ast.Name) and node.id in _DYNAMIC_NAMES:
            what = f"{node.id}()" if node.id not in ("importlib", "__main__") else node.id
        elif isinstance(node, ast.Name) and node.id == "locals" and not deferred:
            what = "locals()"
        elif isinstance(node, ast.Attribute) and node.attr in _DYNAMIC_ATTRS:
            what = f".{node.attr}"
        elif isinstance(node, ast.Attribute) and node.attr == "modules" and _is_name(node.value, "sys"):
            what = "sys.modules"
        elif isinstance(node, ast.ImportFrom):
            if any(a.name == "*" for a in node.names) and (node.module or "") not in safe_modules:
                what = f"from {node.module or '.'} import *"
            elif node.module in ("sys", "importlib", "__main__") or (node.module or "").startswith("importlib."):
                what = f"from {node.module} import"
        elif isinstance(node, ast.Import) and any(
            a.name.split(".")[0] in ("importlib", "__main__") for a in node.names
        ):
            what = "import " + ", ".join(a.name for a in node.names)
        elif isinstance(node, ast.Global) and deferred:
            for name in node.names:
                state.dynamic(f"{label} defines a function that can rebind it when called (global {name})", name, True)
        elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name) and not deferred:
            state.bind(node.target.id, [Definition(node.target.id, cell, node, lines, "assign")], False)
        if what is not None:
            if deferred:
                state.dynamic(f"{label} defines a function that uses {what}, which can bind any name when called",
                              deferred=True)  # fmt: skip
            else:
                state.dynamic(f"{label} uses {what}, which can bind any name")
        if isinstance(node, ast.Call) and _is_name(node.func, "setattr") and node.args:
            if _is_name(node.args[0], *_SAFE_SETATTR):
                stack.extend((a, deferred) for a in node.args[1:])  # (setattr itself is harmless here)
                stack.extend((k, deferred) for k in node.keywords)
                continue
        inner = deferred or isinstance(node, _SCOPES)
        stack.extend((child, inner) for child in ast.iter_child_nodes(node))


def _is_name(node: ast.AST, *names: str) -> bool:
    return isinstance(node, ast.Name) and node.id in names


# --- where each graded name was defined ---------------------------------------------------


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
    ``ran``: ``parse_ran(cells_run)``, or None when not known (every planned cell ran);
    ``safe_modules``: modules whose star import binds no graded name (the release's helpers).
    """
    state = _State()
    deadline, read = time.monotonic() + bounds.parse_seconds, 0
    for cell in cells:
        how = COMPLETE if ran is None or cell.index < 0 else ran.get(cell.index)
        if how is None:
            continue  # did not run
        size = len(cell.source.encode("utf-8", "surrogatepass"))
        label = where(cell)
        if size > bounds.cell_bytes:
            state.dynamic(f"{label} ran but is too large to read ({size:,} bytes; the limit is {bounds.cell_bytes:,})",
                          deferred=True)  # fmt: skip
            continue
        if read + size > bounds.notebook_bytes or time.monotonic() > deadline:
            state.dynamic(f"{label} and the cells after it were not read {_limits(bounds)}", deferred=True)
            break
        read += size
        text = strip_magics(cell.source)  # (as the sandbox's worker runs it: magics blanked, lines joined by \n)
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            if ran is not None and cell.role != "setup":  # (with ran known, it ran: the sandbox compiled it)
                state.dynamic(f"{label} ran but could not be read here", deferred=True)
            continue
        lines = text.split("\n")  # (the parser's lines: strip_magics left no other line break)
        if not _read_cell(state, tree, cell, lines, how == COMPLETE, safe_modules, deadline):
            state.dynamic(f"{label} was read only in part, and the cells after it not at all {_limits(bounds)}",
                          deferred=True)  # fmt: skip
            break
    answer_cells = {c.grade_id: c for c in cells if c.role == "answer"}
    located = {}
    for name in graded:
        found = state.candidates(name)
        definitions = tuple(c for c in found if isinstance(c, Definition))
        unknown = tuple(c.why for c in found if isinstance(c, Unknown))
        helpers = _helpers(state, definitions, set(graded), bounds.helpers)
        located[name] = Located(name, answer_cells.get(name), definitions, helpers, unknown)
    return located


def _read_cell(state: _State, tree: ast.Module, cell: Cell, lines: list[str], complete: bool,
               safe_modules: Collection[str], deadline: float) -> bool:  # fmt: skip
    """Every statement of one parsed cell, in order; False if the deadline came first."""
    for top in tree.body:
        if time.monotonic() > deadline:
            return False
        for stmt, sure in _statements([top], complete):
            _bind_statement(state, stmt, sure, cell, lines)
        if cell.role != "setup":
            _scan(state, top, cell, lines, safe_modules)
    return True


def _limits(bounds: Bounds) -> str:
    return f"(the limits are {bounds.notebook_bytes:,} bytes of code and {bounds.parse_seconds:g} s per notebook)"


def _helpers(state: _State, definitions: tuple[Definition, ...], graded: set[str], limit: int) -> tuple:
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
