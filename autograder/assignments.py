"""Where an assignment's pieces live, and how to load its reference solution.

    source/<name>/<name>.ipynb          the instructor's notebook, with solutions
    release/<name>/<name>.ipynb         the student version (generated; never edit)
    autograder/graders/<name>/          hidden graders: one test_<grade_id>.py per
                                        graded function, plus assignment.toml

The reference solution is the source notebook itself: its set-up and answer cells,
run in the grader's process. There is no second copy to drift out of date.
"""

from __future__ import annotations

import math
import os
import re
import sys
import tomllib
import typing
from dataclasses import dataclass, fields
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
        """assignment.toml, checked (``check_config``); {} if there is none."""
        path = self.graders_dir / "assignment.toml"
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
            if key == "memory_gib":
                limits.memory_bytes = int(value * GiB)
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
        not a function that isn't declared as its dependency (``autograder/stand_ins.py``
        enforces this, call by call).
        """
        path = self.graders_dir / "assignment.toml"
        table = self.config().get("stand_ins", {})
        graded = set(self.graded_ids())
        out = {}
        for function, names in table.items():
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


# --- assignment.toml: what it may contain ----------------------------------------------

# [limits] keys: every field of Limits (env is the [limits.env] table), plus memory_gib.
LIMIT_TYPES: dict[str, type] = {
    f.name: typing.get_type_hints(Limits)[f.name] for f in fields(Limits) if f.name != "env"
}
LIMIT_TYPES["memory_gib"] = float  # converted to memory_bytes


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


def check_config(conf: dict, path: Path) -> None:
    """Stop with an AssignmentError naming the file, the key and what is allowed, on any mistake.

    Allowed: ``[limits]`` (``LIMIT_TYPES``: positive numbers, whole where the limit is
    whole), ``[limits.env]`` (text = text) and ``[stand_ins]`` (function = [functions]).
    """
    tables = {"limits": "the sandbox's limits", "stand_ins": "function = [graded functions it may call]"}
    for table, value in conf.items():
        if table not in tables:
            allowed = "; ".join(f"[{t}] ({what})" for t, what in tables.items())
            raise AssignmentError(f"{path}: unknown table or key {table!r}; assignment.toml may contain {allowed}")
        if not isinstance(value, dict):
            raise AssignmentError(f"{path}: {table} must be a table [{table}], not {_shown(value)}")
    for key, value in conf.get("limits", {}).items():
        if key == "env":
            if not isinstance(value, dict):
                raise AssignmentError(f"{path}: limits.env must be the table [limits.env], not {_shown(value)}")
            for name, text in value.items():
                if not isinstance(text, str):
                    raise AssignmentError(
                        f'{path}: limits.env.{name} must be text (an environment variable: {name} = "..."), '
                        f"not {_shown(text)}"
                    )
        elif key not in LIMIT_TYPES:
            raise AssignmentError(f"{path}: unknown key limits.{key}; [limits] allows {_allowed_limits()}")
        else:
            allowed = (int,) if LIMIT_TYPES[key] is int else (int, float)
            if isinstance(value, bool) or not isinstance(value, allowed) or not (math.isfinite(value) and value > 0):
                raise AssignmentError(f"{path}: limits.{key} must be {_limit_kind(key)} above 0, not {_shown(value)}")
    if "memory_gib" in conf.get("limits", {}) and "memory_bytes" in conf.get("limits", {}):
        raise AssignmentError(f"{path}: give limits.memory_gib or limits.memory_bytes, not both")
    for function, names in conf.get("stand_ins", {}).items():
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise AssignmentError(f"{path}: stand_ins.{function} must be a list of graded function names")


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
