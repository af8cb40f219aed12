"""assignment.toml, typed: the pydantic model of an assignment's declaration, and its error messages.

Each table is a model and each key a field whose description says what the key allows, so a
mistake is reported from the model itself: ``<file>: <table>.<key> must be <what it allows>,
not <what was given>``, and an unknown key with every key its table allows. Types are strict,
as TOML's are (no "5" for 5, no true for 1) and numbers finite. The tables:

    [points]      graded function = its points: the only place they are written by hand
                  (``autograder release`` writes them into the notebook; docs/authoring.md)
    [manual]      manually graded cell = its points, the same way
    [limits]      the sandbox's limits: a field of ``Limits`` each (memory also in GiB), and [limits.env]
    [stand_ins]   function = [the graded functions the grader answers for while it runs]
    [helpers]     modules shipped to students beside the notebook
    [tolerances]  name = {rtol = ..., atol = ...}
    [fidelity]    what the fidelity suite asks of the catalogue
    [grader]      what the warm grader preloads, and who answers stand-in calls
    [late]        the late policy
    [report]      the class report's similarity threshold

What needs the notebook too (``[points]`` naming every graded function, ``[stand_ins]`` naming
graded functions) is checked by ``Assignment``, which reads it.
"""

from __future__ import annotations

import tomllib
import typing
from dataclasses import fields
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    create_model,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from autograder.course.errors import AssignmentError
from autograder.sandbox.limits import GIB_KEYS, Limits

# A message written in full by a validator below (not "<key> must be <what it allows>").
WRITTEN = "declaration"


def entry(what: str) -> dict[str, str]:
    """A map table's field extra: what each of its entries must be ({key} is the entry's key)."""
    return {"entry": what}


class Table(BaseModel):
    """One table of assignment.toml: strict TOML types, finite numbers, no unknown keys."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)
    # every key the table allows, as an unknown key's message lists them; "" for its description
    allows: ClassVar[str] = ""


# --- [limits]: every field of the sandbox's Limits (env is [limits.env]), memory also in GiB --------------

LIMIT_TYPES: dict[str, type] = {
    f.name: typing.get_type_hints(Limits)[f.name] for f in fields(Limits) if f.name != "env"
}
GIB_LIMITS = GIB_KEYS  # given in GiB, converted to bytes (Limits.declared)
LIMIT_TYPES.update(dict.fromkeys(GIB_LIMITS, float))


def limit_kind(key: str) -> str:
    """What a [limits] key takes, as an instructor reads it: 'seconds, a number'."""
    unit = next((u for end, u in (("_timeout", "seconds"), ("_seconds", "seconds"), ("_bytes", "bytes"),
                                  ("_gib", "GiB")) if key.endswith(end)), "")  # fmt: skip
    kind = "a whole number" if LIMIT_TYPES[key] is int else "a number"
    return f"{unit}, {kind}" if unit else kind


class LimitsBase(Table):
    """The [limits] table without its limits (added from Limits below): [limits.env] and the memory rule."""

    env: dict[str, str] = Field(
        default_factory=dict,
        description="the table [limits.env]",
        json_schema_extra=entry('text (an environment variable: {key} = "...")'),
    )

    @model_validator(mode="after")
    def one_unit_of_memory(self) -> LimitsBase:
        for gib, in_bytes in GIB_LIMITS.items():
            if {gib, in_bytes} <= self.model_fields_set:  # which one would win?
                raise PydanticCustomError(WRITTEN, f"give limits.{gib} or limits.{in_bytes}, not both")
        return self


LimitsTable = create_model(
    "LimitsTable",
    __base__=LimitsBase,
    __doc__="The [limits] table: a key per field of the sandbox's Limits.",
    **{
        key: (Annotated[kind, Field(gt=0)] | None, Field(None, description=f"{limit_kind(key)} above 0"))
        for key, kind in LIMIT_TYPES.items()
    },
)
LimitsTable.allows = ", ".join(f"{key} ({limit_kind(key)})" for key in LIMIT_TYPES) + (
    ', and the table [limits.env] (NAME = "text")'
)


# --- the other tables --------------------------------------------------------------------------------


class Helpers(Table):
    modules: list[str] = Field(
        default_factory=list, description='a list of names in source/<assignment>/, such as ["cnn_utils.py"]'
    )

    @field_validator("modules")
    @classmethod
    def names_in_the_folder(cls, modules: list[str], info: ValidationInfo) -> list[str]:
        if not all(m and "/" not in m.strip("/") and m != ".." for m in modules):
            raise ValueError("not a name in the folder")  # (reported with the field's description)
        folder = (info.context or {}).get("source")
        missing = [m for m in modules if folder is not None and not (folder / m).exists()]
        if missing:
            raise PydanticCustomError(
                WRITTEN, f"helpers.modules names {', '.join(missing)}, which is not in source/{folder.name}/"
            )
        return modules


class Tolerance(Table):
    rtol: float | None = Field(None, ge=0)
    atol: float | None = Field(None, ge=0)

    @model_validator(mode="after")
    def not_empty(self) -> Tolerance:
        if not self.model_fields_set:
            raise ValueError("no rtol and no atol")
        return self


VISIBLE_CHECKS_MINIMUM = 0.8  # the share of the catalogue's mutants the visible checks must catch, at least


class Fidelity(Table):
    """What the fidelity suite (tests/authoring/test_fidelity.py) asks of the catalogue."""

    min_mutants: int = Field(1, ge=0, description="a whole number (0 or more)")  # realistic wrong answers
    min_correct: int = Field(1, ge=0, description="a whole number (0 or more)")  # differently written right ones
    min_tests: int = Field(3, ge=0, description="a whole number (0 or more)")  # per graded function: partial credit
    # "dependents": a mutant is graded on its own function and its callers only
    mutants_graded_on: Literal["all", "dependents"] = Field("all", description="one of 'all', 'dependents'")
    # the share of the catalogue's mutants the notebook's visible checks catch (tests/course/test_visible_checks.py):
    # the figure measured when it was last raised
    visible_checks: float = Field(
        VISIBLE_CHECKS_MINIMUM,
        ge=VISIBLE_CHECKS_MINIMUM,
        le=1,
        description=f"a fraction from {VISIBLE_CHECKS_MINIMUM} to 1 (the share of the catalogue's mutants the "
        "visible checks catch)",
    )


FIDELITY_DEFAULTS: dict[str, object] = Fidelity().model_dump()


class Grader(Table):
    preload: list[Annotated[str, Field(pattern=r"^[A-Za-z_][\w.]*$")]] = Field(
        default_factory=list, description='a list of module names, such as ["keras"]'
    )
    answers: Literal["reference", "per test"] = Field("reference", description='"reference" or "per test"')


FRACTION_OF_MAX = "a fraction of the max score, from 0 to 1 (0.1 is 10%)"


class Late(Table):
    """The late policy (``late.LatePolicy``), applied once a due date is known."""

    penalty_per_hour: float | None = Field(None, ge=0, le=1, description=FRACTION_OF_MAX)
    penalty_per_day: float | None = Field(None, ge=0, le=1, description=FRACTION_OF_MAX)
    max_penalty: float | None = Field(None, ge=0, le=1, description=FRACTION_OF_MAX)
    cutoff_hours: float | None = Field(None, ge=0, description="a number (0 or more)")
    grace_minutes: float | None = Field(None, ge=0, description="a number (0 or more)")

    @model_validator(mode="after")
    def one_rate(self) -> Late:
        if {"penalty_per_hour", "penalty_per_day"} <= self.model_fields_set:
            raise PydanticCustomError(WRITTEN, "give late.penalty_per_hour or late.penalty_per_day, not both")
        return self


class Report(Table):
    similarity: float | None = Field(
        None, gt=0, le=1, description="a fraction above 0 and at most 1 (0.8 flags pairs sharing 80% of their code)"
    )


Points = Annotated[float, Field(ge=0)]


class Declaration(Table):
    """assignment.toml: what grading an assignment needs, declared once. A table's field
    description is what the table holds, as the message for an unknown table lists it."""

    limits: LimitsTable = Field(default_factory=LimitsTable, description="the sandbox's limits")  # type: ignore[valid-type]
    points: dict[str, Points] | None = Field(
        None, description="graded function = its points", json_schema_extra=entry("a number of points (0 or more)")
    )
    stand_ins: dict[str, list[str]] = Field(
        default_factory=dict,
        description="function = [graded functions it may call]",
        json_schema_extra=entry("a list of graded function names"),
    )
    helpers: Helpers = Field(default_factory=Helpers, description='modules = ["helper.py", ...], shipped to students')
    tolerances: dict[str, Tolerance] = Field(
        default_factory=dict,
        description="name = {rtol = ..., atol = ...}",
        json_schema_extra=entry(
            "a table of rtol and atol (numbers, 0 or more), such as {key} = {{rtol = 1e-6, atol = 1e-8}}"
        ),
    )
    fidelity: Fidelity = Field(
        default_factory=Fidelity,
        description="min_mutants, min_correct, min_tests (whole numbers), mutants_graded_on ('all' or "
        "'dependents') and visible_checks (a fraction from 0.8 to 1)",
    )
    grader: Grader = Field(
        default_factory=Grader,
        description='preload = ["keras", ...] (modules the warm grader imports once) and answers = "reference" '
        'or "per test" (who answers stand-in calls)',
    )
    late: Late = Field(
        default_factory=Late,
        description="penalty_per_hour or penalty_per_day and max_penalty (fractions of the max score, 0 to 1), "
        "cutoff_hours and grace_minutes (numbers, 0 or more)",
    )
    manual: dict[str, Points] | None = Field(
        None,
        description="manually graded cell (grade_id) = its points (written answers and tasks, graded in formgrader)",
        json_schema_extra=entry("a number of points (0 or more), such as {key} = 5"),
    )
    report: Report = Field(
        default_factory=Report,
        description="similarity (the class report's threshold for similar answer cells: a fraction above 0, at most 1)",
    )


# --- reading and messages ----------------------------------------------------------------------------


def read_declaration(path: Path) -> Declaration:
    """The declaration at ``path`` (``<course>/autograder/graders/<name>/assignment.toml``), checked;
    the empty declaration if there is no such file. AssignmentError on any mistake."""
    if not path.exists():
        return Declaration()
    try:
        conf = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise AssignmentError(f"{path} is not valid TOML: {e}; fix that line and grade again") from None
    return validate_declaration(conf, path, source=path.parents[3] / "source" / path.parent.name)


def validate_declaration(conf: dict, path: Path, source: Path | None = None) -> Declaration:
    """``conf`` (assignment.toml's tables) as a Declaration, or an AssignmentError naming ``path``, the
    key and what it allows, for every mistake. ``source``: the assignment's source folder, where
    [helpers] modules must be (None: not checked)."""
    try:
        return Declaration.model_validate(conf, context={"source": source})
    except ValidationError as e:
        problems = list(dict.fromkeys(problem(error, conf) for error in e.errors()))
    if len(problems) == 1:
        raise AssignmentError(f"{path}: {problems[0]}")
    raise AssignmentError(f"{path}: {len(problems)} mistakes:\n" + "\n".join(f"  {p}" for p in problems))


def problem(error: Any, conf: dict) -> str:
    """One of pydantic's errors as the instructor reads it: the key, what it allows, and what it is."""
    if error["type"] == WRITTEN:
        return error["msg"]
    model: type[BaseModel] = Declaration
    names: list[str] = []
    loc = error["loc"]
    for depth, key in enumerate(loc):
        field = model.model_fields.get(str(key))
        if field is None:  # an unknown key (extra_forbidden) where a table's keys are fixed
            if not names:
                tables = "; ".join(f"[{t}] ({f.description})" for t, f in Declaration.model_fields.items())
                return f"unknown table or key {key!r}; assignment.toml may contain {tables}"
            allows = getattr(model, "allows", "") or Declaration.model_fields[names[0]].description
            return f"unknown key {'.'.join([*names, str(key)])}; [{'.'.join(names)}] allows {allows}"
        names.append(str(key))
        extra = field.json_schema_extra
        if isinstance(extra, dict) and "entry" in extra and depth + 1 < len(loc):  # an entry of a map table
            where = [*names, str(loc[depth + 1])]
            what = str(extra["entry"]).format(key=where[-1])
            return f"{'.'.join(where)} must be {what}, not {shown(value_at(conf, where))}"
        inner = field.annotation
        if depth + 1 < len(loc) and isinstance(inner, type) and issubclass(inner, BaseModel):
            model = inner  # a table: the error is about one of its keys
            continue
        if len(names) == 1:
            return f"{key} must be a table [{key}], not {shown(value_at(conf, names))}"
        return f"{'.'.join(names)} must be {field.description}, not {shown(value_at(conf, names))}"
    return error["msg"]  # (not reached: every error is about a key)


def value_at(conf: dict, names: list[str]) -> object:
    value: object = conf
    for name in names:
        value = value.get(name) if isinstance(value, dict) else None
    return value


def shown(value: object) -> str:
    """A TOML value as the error message names it."""
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return f"the list {value!r}" if isinstance(value, list) else repr(value)
