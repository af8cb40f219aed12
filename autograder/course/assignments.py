"""Where an assignment's pieces live, what it declares, and how to load its reference.

    source/<name>/<name>.ipynb          the instructor's notebook, with solutions
    release/<name>/<name>.ipynb         the student version (generated; never edit)
    autograder/graders/<name>/          hidden graders: one test_<grade_id>.py per
                                        graded function, plus assignment.toml (the
                                        declaration: declaration.py) and catalogue.py
                                        (for the tests)

The course is a folder with that layout: the one you run ``autograder`` in (or above
it, found the way git finds its root), or ``--course DIR``. Never the folder the
package happens to be installed from, unless that is where you are.

The reference solution is the source notebook itself: its set-up and answer cells,
run in the grader's process. There is no second copy to drift out of date.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from autograder.course import points as shown_points
from autograder.course.declaration import Declaration, read_declaration
from autograder.course.errors import AssignmentError
from autograder.course.notebook import ManualCell, cell_role, manual_cells, nbgrader_meta, read_notebook
from autograder.kit.tolerances import Tolerances
from autograder.sandbox.limits import Limits

PACKAGE_DIR = Path(__file__).resolve().parents[1]  # autograder/
GRADERS = Path("autograder") / "graders"  # inside a course folder
_MAGIC = re.compile(r"^\s*[%!]")


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
    """One assignment of a course: where its files are, and what its declaration says."""

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
        """The assignment's files exist, its declaration reads, and its notebooks show its points."""
        for path in (self.source_notebook, self.release_notebook, self.graders_dir):
            if not path.exists():
                known = ", ".join(available(self.root)) or "none"
                raise AssignmentError(
                    f"assignment {self.name!r} is incomplete: {path} does not exist (assignments: {known})"
                )
        self.check_points()
        return self

    # --- what assignment.toml declares (declaration.py) ------------------------------------

    def declared(self) -> Declaration:
        """assignment.toml, checked; the empty declaration if there is none."""
        return read_declaration(self.declaration)

    def config(self) -> dict:
        """assignment.toml's tables, checked and typed (5 is 5.0 where a number is meant), without defaults."""
        return self.declared().model_dump(exclude_unset=True)

    def limits(self, **overrides: float | None) -> Limits:
        """The assignment's limits (assignment.toml's ``[limits]``), with command-line ``overrides`` over
        them, by the same keys (None: not given); see ``Limits.declared``."""
        return Limits.declared(self.declared().limits.model_dump(exclude_unset=True), overrides)

    def stand_ins(self) -> dict[str, tuple[str, ...]]:
        """function -> the graded functions the grader answers for while it is graded.

        Declared in assignment.toml's ``[stand_ins]`` table. Nothing else is ever answered: not
        the function under test, not a function that isn't declared as its dependency
        (``autograder/grader/stand_ins.py`` enforces this, call by call).
        """
        table = self.declared().stand_ins
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
        return [self.source_notebook.parent / m for m in self.declared().helpers.modules]

    def tolerances(self) -> Tolerances:
        """The named tolerances: ``[tolerances]`` over the defaults (``kit/tolerances.py``)."""
        table = self.declared().tolerances
        return Tolerances.declared({name: t.model_dump(exclude_unset=True) for name, t in table.items()})

    def grader_answers(self) -> str:
        """Who answers stand-in calls: "reference" (default) or "per test" (``[grader] answers``)."""
        return self.declared().grader.answers

    def grader_preload(self) -> list[str]:
        """Modules the warm grader imports once per worker (``[grader] preload``, e.g. keras)."""
        return list(self.declared().grader.preload)

    def late(self) -> dict[str, float]:
        """The late policy (``[late]``): the keys it gives; {} if there is none."""
        return self.declared().late.model_dump(exclude_unset=True)

    def report(self) -> dict[str, float]:
        """The class report's settings (``[report]``): the keys it gives; {} if there is none."""
        return self.declared().report.model_dump(exclude_unset=True)

    def fidelity(self) -> dict:
        """The fidelity suite's minimums for this assignment, with their defaults."""
        return self.declared().fidelity.model_dump()

    # --- the notebook, and the points declared once ----------------------------------------

    def graded_ids(self) -> list[str]:
        """The answer cells' grade_ids, in notebook order."""
        nb = read_notebook(self.source_notebook)
        return [nbgrader_meta(c)["grade_id"] for c in nb["cells"] if cell_role(c) == "answer"]

    def manual_cells(self) -> dict[str, ManualCell]:
        """The manually graded cells (written answers, tasks) of the instructor's notebook, in order."""
        return manual_cells(read_notebook(self.source_notebook))

    def points(self) -> dict[str, float]:
        """Points of each graded function: assignment.toml's ``[points]``, the one place they are
        written (``autograder release`` writes them into the notebooks). It lists every graded
        function once; otherwise an AssignmentError says what to add or remove."""
        declared, graded = self.declared().points, self.graded_ids()
        if declared is None:
            shown = shown_points.notebook_points(read_notebook(self.source_notebook))
            example = "\n".join(["[points]", *(f"{f} = {shown_points.as_written(shown.get(f, 0))}" for f in graded)])
            raise AssignmentError(
                f"{self.declaration}: no [points] table; declare each graded function's points there, once "
                f"(the notebook's test cells now say):\n{example}"
            )
        if set(declared) != set(graded):
            missing, extra = sorted(set(graded) - set(declared)), sorted(set(declared) - set(graded))
            raise AssignmentError(
                f"{self.declaration}: [points] must list every graded function once"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; not graded: {', '.join(extra)}" if extra else "")
            )
        return dict(declared)

    def manual_points(self) -> dict[str, float]:
        """Points of each manually graded cell (written answers and tasks): assignment.toml's
        ``[manual]``, which lists every one once (none: no table needed)."""
        cells = self.manual_cells()
        for gid in cells:  # test_ and setup ids mean autograder cells; a function's id is its answer cell
            if gid.startswith(("test_", "setup")) or gid in self.graded_ids():
                raise AssignmentError(
                    f"{self.source_notebook}: the manually graded cell {gid} has a grade_id that autograding "
                    f"uses (test_..., setup... or a graded function's name); rename it, e.g. written_{gid}"
                )
        declared = self.declared().manual or {}
        if set(declared) != set(cells):
            missing, extra = sorted(set(cells) - set(declared)), sorted(set(declared) - set(cells))
            example = "\n".join(["[manual]", *(f"{g} = {shown_points.as_written(c.points)}" for g, c in cells.items())])
            raise AssignmentError(
                f"{self.declaration}: [manual] must list every manually graded cell (written answer or task) "
                f"of {self.source_notebook} once, with its points"
                + (f"; missing: {', '.join(missing)}" if missing else "")
                + (f"; not a manually graded cell there: {', '.join(extra)}" if extra else "")
                + (f". For this notebook:\n{example}" if cells else "; remove the [manual] table")
            )
        return dict(declared)

    def check_points(self) -> dict[str, float]:
        """The declared points, once ``[points]`` and ``[manual]`` list every graded function and manually
        graded cell, and the source and release notebooks show them (``points.py``); otherwise an
        AssignmentError (for a notebook showing others: run ``autograder release``)."""
        points, manual = self.points(), self.manual_points()
        for notebook in (self.source_notebook, self.release_notebook):
            if not notebook.exists():
                continue
            found = shown_points.disagreements(read_notebook(notebook), points, manual, str(self.declaration))
            if found:
                raise AssignmentError(
                    f"{notebook}: {found[0]}; run `autograder release {self.name}`, which writes the points of "
                    f"{self.declaration.name} into the notebooks"
                )
        return points


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
