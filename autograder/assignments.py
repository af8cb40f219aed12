"""Where an assignment's pieces live, and how to load its reference solution.

    source/<name>/<name>.ipynb          the instructor's notebook, with solutions
    release/<name>/<name>.ipynb         the student version (generated; never edit)
    autograder/graders/<name>/          hidden graders: one test_<grade_id>.py per
                                        graded function, plus assignment.toml

The reference solution is the source notebook itself: its set-up and answer cells,
run in the grader's process. There is no second copy to drift out of date.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from .notebook import cell_role, nbgrader_meta, read_notebook
from .sandbox.process import GiB, Limits

PACKAGE_DIR = Path(__file__).resolve().parent
COURSE_ROOT = Path(os.environ.get("AUTOGRADER_COURSE", PACKAGE_DIR.parent)).resolve()
_MAGIC = re.compile(r"^\s*[%!]")


class AssignmentError(Exception):
    """An assignment name that doesn't exist, or a course folder that is incomplete."""


@dataclass(frozen=True)
class Assignment:
    name: str
    root: Path = COURSE_ROOT

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
        return self.root / "autograder" / "graders" / self.name

    def check(self) -> Assignment:
        for path in (self.source_notebook, self.release_notebook, self.graders_dir):
            if not path.exists():
                known = ", ".join(available(self.root)) or "none"
                raise AssignmentError(
                    f"assignment {self.name!r} is incomplete: {path} does not exist (assignments: {known})"
                )
        return self

    def config(self) -> dict:
        path = self.graders_dir / "assignment.toml"
        return tomllib.loads(path.read_text()) if path.exists() else {}

    def limits(self, **overrides: float | None) -> Limits:
        """The assignment's limits (assignment.toml), with command-line overrides."""
        conf = self.config().get("limits", {})
        limits = Limits()
        for key, value in conf.items():
            if key == "memory_gib":
                limits.memory_bytes = int(value * GiB)
            elif key == "env":
                limits.env = dict(value)
            else:
                setattr(limits, key, value)
        for key, value in overrides.items():
            if value is not None:
                setattr(limits, key, value)
        return limits

    def stand_ins(self) -> dict[str, tuple[str, ...]]:
        """function -> the graded functions the grader answers for while it is graded.

        Declared in assignment.toml's ``[stand_ins]`` table. Nothing else is ever
        answered: not the function under test, not a function that isn't declared as
        its dependency (``autograder/stand_ins.py`` enforces this, call by call).
        """
        path = self.graders_dir / "assignment.toml"
        table = self.config().get("stand_ins", {})
        graded = set(self.graded_ids())
        if not isinstance(table, dict):
            raise AssignmentError(f"{path}: [stand_ins] must be a table of function = [graded functions]")
        out = {}
        for function, names in table.items():
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise AssignmentError(f"{path}: stand_ins.{function} must be a list of graded function names")
            unknown = sorted(set(names) - graded)
            if unknown or function in names:
                raise AssignmentError(
                    f"{path}: stand_ins.{function} may name only graded functions other than itself "
                    f"(got {', '.join(unknown) or function}; graded: {', '.join(sorted(graded))})"
                )
            out[function] = tuple(names)
        return out

    def graded_ids(self) -> list[str]:
        """The answer cells' grade_ids, in notebook order."""
        nb = read_notebook(self.source_notebook)
        return [nbgrader_meta(c)["grade_id"] for c in nb["cells"] if cell_role(c) == "answer"]

    def points(self) -> dict[str, float]:
        """Points of each graded function: the visible test cell ``test_<grade_id>``."""
        nb = read_notebook(self.source_notebook)
        out = {}
        for cell in nb["cells"]:
            meta = nbgrader_meta(cell)
            if meta.get("grade") and str(meta.get("grade_id", "")).startswith("test_"):
                out[meta["grade_id"][len("test_") :]] = float(meta.get("points", 0))
        return out


def available(root: Path = COURSE_ROOT) -> list[str]:
    graders = root / "autograder" / "graders"
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
