"""Where an assignment's pieces live, what it declares, and how to load its reference.

    source/<name>/<name>.ipynb          the instructor's notebook, with solutions
    release/<name>/<name>.ipynb         the student version (generated; never edit)
    autograder/graders/<name>/          hidden graders: one test_<grade_id>.py per
                                        graded function, plus assignment.toml (the
                                        declaration) and catalogue.py (for the tests)

The course is a folder with that layout: the one you run ``autograder`` in (or above
it, found the way git finds its root), or ``--course DIR``. Never the folder the
package happens to be installed from, unless that is where you are.

The reference solution is the source notebook itself: its set-up and answer cells,
run in the grader's process. There is no second copy to drift out of date.
"""

from __future__ import annotations

import math
import re
import sys
import tomllib
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from types import SimpleNamespace

from autograder.course.notebook import ManualCell, cell_role, manual_cells, nbgrader_meta, read_notebook
from autograder.kit.tolerances import KEYS, Tolerances
from autograder.sandbox.process import GiB, Limits

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # autograder/
GRADERS = Path("autograder") / "graders"  # inside a course folder
_MAGIC = re.compile(r"^\s*[%!]")


class AssignmentError(Exception):
    """An assignment name that doesn't exist, or a course folder that is incomplete."""


def find_course(start: Path | None = None) -> Path:
    """The course folder: ``start`` (default: the current folder) or the nearest parent with
    ``autograder/graders/`` in it, the way git finds a repository's root."""
    start = Path(start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / GRADERS).is_dir():
            return folder
    raise AssignmentError(
        f"{start} is not in a course folder (none of it or its parents has {GRADERS.as_posix()}/); "
        "run autograder in your course folder, or pass --course DIR"
    )


def course_root(course: Path | str | None = None) -> Path:
    """``course`` if given (it must be a course folder), else the one found from here."""
    if course is None:
        return find_course()
    root = Path(course).resolve()
    if not (root / GRADERS).is_dir():
        raise AssignmentError(f"--course {course}: {root / GRADERS} does not exist; give the course's top folder")
    return root


@dataclass(frozen=True)
class Assignment:
    name: str
    root: Path = None  # type: ignore[assignment]  # None: the course found from the current folder

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", find_course() if self.root is None else Path(self.root).resolve())

    @property
    def source_notebook(self) -> Path:
        return self.root / "source" / self.name / f"{self.name}.ipynb"

    @property
    def release_dir(self) -> Path:
        return self.root / "release" / self.name

    @property
    def release_notebook(self) -> Path:
        return self.release_dir / f"{self.name}.ipynb"

    @property
    def graders_dir(self) -> Path:
        return self.root / GRADERS / self.name

    @property
    def declaration(self) -> Path:
        return self.graders_dir / "assignment.toml"

    def check(self) -> Assignment:
        """The assignment's files exist, its declaration reads, and its points agree everywhere."""
        for path in (self.source_notebook, self.release_notebook, self.graders_dir):
            if not path.exists():
                known = ", ".join(available(self.root)) or "none"
                raise AssignmentError(
                    f"assignment {self.name!r} is incomplete: {path} does not exist (assignments: {known})"
                )
        self.check_points()
        return self

    def config(self) -> dict:
        """assignment.toml, checked (``check_config``); {} if there is none."""
        path = self.declaration
        if not path.exists():
            return {}
        try:
            conf = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise AssignmentError(f"{path} is not valid TOML: {e}; fix that line and grade again") from None
        check_config(conf, path)
        return conf

    def limits(self, **overrides: float | None) -> Limits:
        """The assignment's limits (assignment.toml), with command-line overrides."""
        limits = Limits()
        for key, value in self.config().get("limits", {}).items():
            if key in GIB_LIMITS:
                setattr(limits, GIB_LIMITS[key], int(value * GiB))
            elif key == "env":
                limits.env = dict(value)
            else:
                setattr(limits, key, LIMIT_TYPES[key](value))
        for key, value in overrides.items():
            if value is not None:
                setattr(limits, key, value)
        return limits

    def stand_ins(self) -> dict[str, tuple[str, ...]]:
        """function -> the graded functions the grader answers for while it is graded.

        Declared in assignment.toml's ``[stand_ins]`` table (its layout is checked by
        ``check_config``). Nothing else is ever answered: not the function under test,
        not a function that isn't declared as its dependency (``autograder/grader/stand_ins.py``
        enforces this, call by call).
        """
        table = self.config().get("stand_ins", {})
        graded = set(self.graded_ids())
        out = {}
        for function, names in table.items():
            unknown = sorted(set(names) - graded)
            if unknown or function in names:
                raise AssignmentError(
                    f"{self.declaration}: stand_ins.{function} may name only graded functions other than itself "
                    f"(got {', '.join(unknown) or function}; graded: {', '.join(sorted(graded))})"
                )
            out[function] = tuple(names)
        return out

    def dependents(self, function: str) -> list[str]:
        """The graded functions that may call ``function`` through the grader, directly or not."""
        callers: dict[str, set[str]] = {}
        for caller, names in self.stand_ins().items():
            for name in names:
                callers.setdefault(name, set()).add(caller)
        found: list[str] = []
        todo = sorted(callers.get(function, ()))
        while todo:
            f = todo.pop(0)
            if f not in found:
                found.append(f)
                todo.extend(sorted(callers.get(f, ())))
        return found

    def helper_modules(self) -> list[Path]:
        """The helper modules shipped to students (``[helpers] modules``), in source/<name>/."""
        return [self.source_notebook.parent / m for m in self.config().get("helpers", {}).get("modules", [])]

    def tolerances(self) -> Tolerances:
        return Tolerances.declared(self.config().get("tolerances", {}))

    def grader_answers(self) -> str:
        """Who answers stand-in calls: "reference" (default) or "per test" (``[grader] answers``)."""
        return str(self.config().get("grader", {}).get("answers", "reference"))

    def grader_preload(self) -> list[str]:
        """Modules the warm grader imports once per worker (``[grader] preload``, e.g. keras)."""
        return list(self.config().get("grader", {}).get("preload", []))

    def late(self) -> dict[str, float]:
        """The late policy (``[late]``, checked by ``check_config``); {} if there is none."""
        return dict(self.config().get("late", {}))

    def report(self) -> dict[str, float]:
        """The class report's settings (``[report]``, checked by ``check_config``); {} if there is none."""
        return dict(self.config().get("report", {}))

    def fidelity(self) -> dict:
        """The fidelity suite's minimums for this assignment, with their defaults."""
        return {**FIDELITY_DEFAULTS, **self.config().get("fidelity", {})}

    def graded_ids(self) -> list[str]:
        """The answer cells' grade_ids, in notebook order."""
        nb = read_notebook(self.source_notebook)
        return [nbgrader_meta(c)["grade_id"] for c in nb["cells"] if cell_role(c) == "answer"]

    def points(self) -> dict[str, float]:
        """Points of each graded function, as declared once in assignment.toml's ``[points]``.

        An assignment without ``[points]`` takes them from its visible test cells
        (``notebook_points``). ``check_points`` holds the three places to one another.
        """
        declared = self.config().get("points")
        return {k: float(v) for k, v in declared.items()} if declared else self.notebook_points()

    def notebook_points(self) -> dict[str, float]:
        """Points in nbgrader's metadata: the visible test cell ``test_<grade_id>`` of each answer."""
        nb = read_notebook(self.source_notebook)
        out = {}
        for cell in nb["cells"]:
            meta = nbgrader_meta(cell)
            if meta.get("grade") and str(meta.get("grade_id", "")).startswith("test_"):
                out[meta["grade_id"][len("test_") :]] = float(meta.get("points", 0))
        return out

    def manual_cells(self) -> dict[str, ManualCell]:
        """The manually graded cells (written answers, tasks) of the instructor's notebook, in order."""
        return manual_cells(read_notebook(self.source_notebook))

    def manual_points(self) -> dict[str, float]:
        """Points of each manually graded cell: assignment.toml's ``[manual]``, else the notebook's
        metadata (``check_points`` holds them to each other)."""
        declared = self.config().get("manual")
        if declared is not None:
            return {k: float(v) for k, v in declared.items()}
        return {gid: c.points for gid, c in self.manual_cells().items()}

    def points_table(self) -> dict[str, float] | None:
        """The points table students read in the notebook's introduction, or None if it has none.

        A markdown table whose header has a "Points" column: the backticked names of a
        row (outside parentheses) get the row's numbers, in order ("5 + 10 + 20").
        """
        nb = read_notebook(self.source_notebook)
        for cell in nb["cells"]:
            if cell["cell_type"] != "markdown":
                continue
            rows = [line.strip().strip("|").split("|") for line in cell["source"].splitlines()
                    if line.strip().startswith("|")]  # fmt: skip
            if not rows or "points" not in [c.strip().lower() for c in rows[0]]:
                continue
            column = [c.strip().lower() for c in rows[0]].index("points")
            table: dict[str, float] = {}
            for row in rows[2:]:
                if len(row) <= column:
                    continue
                names = re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", "|".join(row[:column])))
                numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", row[column])]
                table.update(zip(names, numbers, strict=False))
            return table
        return None

    def check_points(self) -> dict[str, float]:
        """The points, once they agree everywhere: assignment.toml, nbgrader's metadata and the
        notebook's points table, for every graded function. Otherwise an AssignmentError."""
        declared, meta, table = self.points(), self.notebook_points(), self.points_table()
        graded = self.graded_ids()
        places = {"nbgrader's metadata (test cells test_<name>)": meta}
        if table is not None:
            places["the points table in the notebook's introduction"] = table
        if set(declared) != set(graded):
            missing, extra = sorted(set(graded) - set(declared)), sorted(set(declared) - set(graded))
            raise AssignmentError(
                f"{self.declaration}: [points] must list every graded function once"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; not graded: {', '.join(extra)}" if extra else "")
            )
        for where, found in places.items():
            for function in graded:
                if found.get(function) != declared[function]:
                    shown = "nothing" if function not in found else f"{found[function]:g}"
                    raise AssignmentError(
                        f"{self.source_notebook}: {function} is worth {declared[function]:g} points in "
                        f"{self.declaration}, but {shown} in {where}; make them agree"
                    )
        self._check_manual_points(table)
        return declared

    def _check_manual_points(self, table: dict[str, float] | None) -> None:
        """Manually graded cells' points agree: the notebook's metadata, ``[manual]`` (required
        once the assignment declares ``[points]``) and the points table if it lists them."""
        cells = {gid: c.points for gid, c in self.manual_cells().items()}
        for gid in cells:  # test_ and setup ids mean autograder cells; a function's id is its answer cell
            if gid.startswith(("test_", "setup")) or gid in self.graded_ids():
                raise AssignmentError(
                    f"{self.source_notebook}: the manually graded cell {gid} has a grade_id that autograding "
                    f"uses (test_..., setup... or a graded function's name); rename it, e.g. written_{gid}"
                )
        conf = self.config()
        declared = conf.get("manual")
        if declared is None and not (cells and "points" in conf):
            return  # no manual cells, or an assignment that declares no points: the notebook's metadata
        example = "\n".join(["[manual]", *(f"{g} = {p:g}" for g, p in cells.items())])
        if set(declared or {}) != set(cells):
            missing, extra = sorted(set(cells) - set(declared or {})), sorted(set(declared or {}) - set(cells))
            raise AssignmentError(
                f"{self.declaration}: [manual] must list every manually graded cell (written answer or task) "
                f"of {self.source_notebook} once, with its points"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; not a manually graded cell there: {', '.join(extra)}" if extra else "")
                + (f". For this notebook:\n{example}" if cells else "; remove the [manual] table")
            )
        for gid, points in cells.items():
            for where, found in (("assignment.toml's [manual]", declared), ("the notebook's points table", table)):
                if found is not None and gid in found and float(found[gid]) != points:
                    raise AssignmentError(
                        f"{self.source_notebook}: the manually graded cell {gid} is worth {points:g} points in "
                        f"nbgrader's metadata, but {float(found[gid]):g} in {where}; make them agree"
                    )


# --- assignment.toml: what it may contain ----------------------------------------------

# [limits] keys: every field of Limits (env is the [limits.env] table), plus memory_gib.
LIMIT_TYPES: dict[str, type] = {
    f.name: typing.get_type_hints(Limits)[f.name] for f in fields(Limits) if f.name != "env"
}
GIB_LIMITS = {"memory_gib": "memory_bytes", "grader_memory_gib": "grader_memory_bytes"}  # converted to bytes
LIMIT_TYPES.update(dict.fromkeys(GIB_LIMITS, float))

# [fidelity]: what the fidelity suite (tests/test_fidelity.py) asks of the catalogue.
FIDELITY_DEFAULTS: dict[str, object] = {
    "min_mutants": 1,  # realistic wrong answers; every graded function needs at least one
    "min_correct": 1,  # differently written correct answers
    "min_tests": 3,  # tests per graded function, for partial credit
    "mutants_graded_on": "all",  # or "dependents": only the mutant's function and its callers
    # the share of the catalogue's mutants the notebook's visible checks must catch
    # (tests/test_visible_checks.py): the figure measured when it was last raised, never below 0.8
    "visible_checks": 0.8,
}
VISIBLE_CHECKS_MINIMUM = 0.8
FIDELITY_TYPES = {"min_mutants": int, "min_correct": int, "min_tests": int, "mutants_graded_on": ("all", "dependents"),
                  "visible_checks": float}  # fmt: skip

TABLES = {
    "limits": "the sandbox's limits",
    "points": "graded function = its points",
    "stand_ins": "function = [graded functions it may call]",
    "helpers": 'modules = ["helper.py", ...], shipped to students',
    "tolerances": "name = {rtol = ..., atol = ...}",
    "fidelity": "min_mutants, min_correct, min_tests (whole numbers), mutants_graded_on ('all' or 'dependents') "
    "and visible_checks (a fraction from 0.8 to 1)",
    "grader": 'preload = ["keras", ...] (modules the warm grader imports once) and answers = "reference" or '
    '"per test" (who answers stand-in calls)',
    "late": "penalty_per_hour or penalty_per_day and max_penalty (fractions of the max score, 0 to 1), "
    "cutoff_hours and grace_minutes (numbers, 0 or more)",
    "manual": "manually graded cell (grade_id) = its points (written answers and tasks, graded in formgrader)",
    "report": "similarity (the class report's threshold for similar answer cells: a fraction above 0, at most 1)",
}

# [late]: the late policy (results.LatePolicy), applied once a due date is known.
LATE_FRACTIONS = ("penalty_per_hour", "penalty_per_day", "max_penalty")  # of the max score: 0 to 1
LATE_KEYS = (*LATE_FRACTIONS, "cutoff_hours", "grace_minutes")


def _limit_kind(key: str) -> str:
    """What a [limits] key takes, as an instructor reads it: 'seconds, a number'."""
    unit = next((u for end, u in (("_timeout", "seconds"), ("_seconds", "seconds"), ("_bytes", "bytes"),
                                  ("_gib", "GiB")) if key.endswith(end)), "")  # fmt: skip
    kind = "a whole number" if LIMIT_TYPES[key] is int else "a number"
    return f"{unit}, {kind}" if unit else kind


def _allowed_limits() -> str:
    keys = ", ".join(f"{key} ({_limit_kind(key)})" for key in LIMIT_TYPES)
    return f'{keys}, and the table [limits.env] (NAME = "text")'


def _shown(value: object) -> str:
    """A TOML value as the error message names it."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"the list {value!r}" if isinstance(value, list) else repr(value)


def _number(value: object, whole: bool = False) -> bool:
    allowed = (int,) if whole else (int, float)
    return not isinstance(value, bool) and isinstance(value, allowed) and math.isfinite(value)


def check_config(conf: dict, path: Path) -> None:
    """Stop with an AssignmentError naming the file, the key and what is allowed, on any mistake.

    The tables allowed are ``TABLES``; each is checked below, key by key.
    """

    def fail(message: str) -> typing.NoReturn:
        raise AssignmentError(f"{path}: {message}")

    for table, value in conf.items():
        if table not in TABLES:
            allowed = "; ".join(f"[{t}] ({what})" for t, what in TABLES.items())
            fail(f"unknown table or key {table!r}; assignment.toml may contain {allowed}")
        if not isinstance(value, dict):
            fail(f"{table} must be a table [{table}], not {_shown(value)}")
    for key, value in conf.get("limits", {}).items():
        if key == "env":
            if not isinstance(value, dict):
                fail(f"limits.env must be the table [limits.env], not {_shown(value)}")
            for name, text in value.items():
                if not isinstance(text, str):
                    fail(f'limits.env.{name} must be text (an environment variable: {name} = "..."), '
                         f"not {_shown(text)}")  # fmt: skip
        elif key not in LIMIT_TYPES:
            fail(f"unknown key limits.{key}; [limits] allows {_allowed_limits()}")
        elif not (_number(value, LIMIT_TYPES[key] is int) and value > 0):
            fail(f"limits.{key} must be {_limit_kind(key)} above 0, not {_shown(value)}")
    for gib, in_bytes in GIB_LIMITS.items():
        if gib in conf.get("limits", {}) and in_bytes in conf.get("limits", {}):
            fail(f"give limits.{gib} or limits.{in_bytes}, not both")
    for function, names in conf.get("stand_ins", {}).items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            fail(f"stand_ins.{function} must be a list of graded function names")
    for function, value in conf.get("points", {}).items():
        if not (_number(value) and value >= 0):
            fail(f"points.{function} must be a number of points (0 or more), not {_shown(value)}")
    for cell, value in conf.get("manual", {}).items():
        if not (_number(value) and value >= 0):
            fail(f"manual.{cell} must be a number of points (0 or more), such as {cell} = 5, not {_shown(value)}")
    for key, value in conf.get("helpers", {}).items():
        if key != "modules":
            fail(f"unknown key helpers.{key}; [helpers] allows modules (a list of file or folder names)")
        if not isinstance(value, list) or not all(isinstance(m, str) and m and "/" not in m.strip("/") and m != ".."
                                                  for m in value):  # fmt: skip
            fail('helpers.modules must be a list of names in source/<assignment>/, such as ["cnn_utils.py"]')
        missing = [m for m in value if not (path.parents[3] / "source" / path.parent.name / m).exists()]
        if missing:
            fail(f"helpers.modules names {', '.join(missing)}, which is not in source/{path.parent.name}/")
    for name, tol in conf.get("tolerances", {}).items():
        if not isinstance(tol, dict) or not tol or set(tol) - set(KEYS) or not all(
                _number(v) and v >= 0 for v in tol.values()):  # fmt: skip
            fail(f"tolerances.{name} must be a table of rtol and atol (numbers, 0 or more), "
                 f"such as {name} = {{rtol = 1e-6, atol = 1e-8}}, not {_shown(tol)}")  # fmt: skip
    for key, value in conf.get("grader", {}).items():
        if key not in ("preload", "answers"):
            fail(f"unknown key grader.{key}; [grader] allows {TABLES['grader']}")
        if key == "answers":
            if value not in ("reference", "per test"):
                fail(f'grader.answers must be "reference" or "per test", not {_shown(value)}')
        elif not isinstance(value, list) or not all(isinstance(m, str) and re.fullmatch(r"[A-Za-z_][\w.]*", m)
                                                  for m in value):  # fmt: skip
            fail(f'grader.preload must be a list of module names, such as ["keras"], not {_shown(value)}')
    for key, value in conf.get("fidelity", {}).items():
        kind = FIDELITY_TYPES.get(key)
        if kind is None:
            fail(f"unknown key fidelity.{key}; [fidelity] allows {TABLES['fidelity']}")
        if isinstance(kind, tuple) and value not in kind:
            fail(f"fidelity.{key} must be one of {', '.join(repr(k) for k in kind)}, not {_shown(value)}")
        if kind is int and not (_number(value, whole=True) and value >= 0):
            fail(f"fidelity.{key} must be a whole number (0 or more), not {_shown(value)}")
        if kind is float and not (_number(value) and VISIBLE_CHECKS_MINIMUM <= value <= 1):
            fail(f"fidelity.{key} must be a fraction from {VISIBLE_CHECKS_MINIMUM} to 1 (the share of the "
                 f"catalogue's mutants the visible checks catch), not {_shown(value)}")  # fmt: skip
    for key, value in conf.get("late", {}).items():
        if key not in LATE_KEYS:
            fail(f"unknown key late.{key}; [late] allows {TABLES['late']}")
        if key in LATE_FRACTIONS and not (_number(value) and 0 <= value <= 1):
            fail(f"late.{key} must be a fraction of the max score, from 0 to 1 (0.1 is 10%), not {_shown(value)}")
        if not (_number(value) and value >= 0):
            fail(f"late.{key} must be a number (0 or more), not {_shown(value)}")
    if "penalty_per_hour" in conf.get("late", {}) and "penalty_per_day" in conf.get("late", {}):
        fail("give late.penalty_per_hour or late.penalty_per_day, not both")
    for key, value in conf.get("report", {}).items():
        if key != "similarity":
            fail(f"unknown key report.{key}; [report] allows {TABLES['report']}")
        if not (_number(value) and 0 < value <= 1):
            fail(f"report.similarity must be a fraction above 0 and at most 1 (0.8 flags pairs sharing 80% of "
                 f"their code), not {_shown(value)}")  # fmt: skip


def available(root: Path | None = None) -> list[str]:
    graders = (root or find_course()) / GRADERS
    return (
        sorted(p.name for p in graders.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
        if graders.exists()
        else []
    )


def strip_magics(source: str) -> str:
    return "\n".join("pass" if _MAGIC.match(line) else line for line in source.splitlines())


def load_reference(assignment: Assignment) -> SimpleNamespace:
    """Run the source notebook's set-up and answer cells here; return the namespace."""
    nb = read_notebook(assignment.source_notebook)
    namespace: dict = {"__name__": f"reference_{assignment.name}"}
    folder = str(assignment.source_notebook.parent)
    sys.path.insert(0, folder)  # the assignment's helper modules, as in the notebook
    try:
        for index, cell in enumerate(nb["cells"]):
            if cell_role(cell) in ("setup", "answer"):
                code = compile(strip_magics(cell["source"]), f"<source cell {index}>", "exec")
                exec(code, namespace)  # noqa: S102 - the instructor's own notebook
    finally:
        sys.path.remove(folder)
    return SimpleNamespace(**{k: v for k, v in namespace.items() if not k.startswith("__")})
