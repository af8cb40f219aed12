"""Reading the cells that ran with ``ast``, never running them: what binds each name, and what may bind one unseen.

The cells that ran are read in that order, and each one's statements in order, keeping
every name's candidate definitions (``Bindings``). A statement at the top of a cell that
ran completely replaces what the name was bound to; one in a cell that ran partly, or
nested in if/for/while/try/with/match, *may* have run, so it adds a candidate instead (all
candidates are compared):

    def / async def / class NAME    this definition, decorators included
    NAME = other                    whatever ``other`` was bound to at that point (an alias)
    NAME = anything else            the statement (a lambda, ``np.vectorize(f)``), with the
      (also NAME: T = ..., +=, a, NAME = ..., for NAME in, with ... as NAME, NAME := ...)
    import m as NAME, from m import NAME   code outside the notebook: noted, nothing compared
    del NAME                        unbound

What could bind a name unseen, so its definition "could not be located" with certainty:
noted (an ``Unknown``), never guessed silently (the definitions found are still compared):

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
reached some other way).
"""

from __future__ import annotations

import ast
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from autograder.course.assignments import strip_magics
from autograder.course.cells_run import COMPLETE
from autograder.course.notebook import Cell
from autograder.outputs.bounds import BOUNDS, Bounds

_SAFE_SETATTR = ("self", "cls")  # setattr on these binds attributes, never a notebook name
_DYNAMIC_NAMES = frozenset({"exec", "eval", "globals", "vars", "__import__", "importlib", "__main__", "setattr"})
_DYNAMIC_ATTRS = frozenset({"__dict__", "__globals__", "f_globals", "f_locals"})
_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.Try, ast.TryStar, ast.With, ast.AsyncWith, ast.Match)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


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
class Bindings:
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


def _bind_statement(state: Bindings, stmt: ast.stmt, sure: bool, cell: Cell, lines: list[str]) -> None:
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


def _scan(state: Bindings, stmt: ast.stmt, cell: Cell, lines: list[str], safe_modules: Collection[str]) -> None:
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


def read_cells(
    cells: Sequence[Cell],
    ran: Mapping[int, str] | None,
    bounds: Bounds = BOUNDS,
    safe_modules: Collection[str] = (),
) -> Bindings:
    """Every binding in the cells that ran, in the order they ran, within ``bounds`` (what a cell
    past a bound could have bound is an ``Unknown`` from there on).

    ``cells``: the plan (``notebook.plan_submission``), in the order the sandbox ran them;
    ``ran``: ``cells_run.parse_ran(...)``, or None when not known (every planned cell ran);
    ``safe_modules``: modules whose star import binds no graded name (the release's helpers).
    """
    state = Bindings()
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
    return state


def _read_cell(state: Bindings, tree: ast.Module, cell: Cell, lines: list[str], complete: bool,
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
