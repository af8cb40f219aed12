"""The grading spec: how a run grades every submission of one assignment, as one frozen, typed object.

It is built once (``GradingSpec.of``) from the assignment's declaration (``assignment.toml``) and
the command line, and then travels unchanged:

    cli.py          GradingSpec.of(assignment, isolation, limits from --timeout, --budget, ...)
    run/            in the fingerprint (a changed limit grades again), to each grader process as one
                    file (grading.py: --spec=PATH; a warm grader's template reads the same file)
    grader/         plugin.py reads it back (GradingSpec.read), the fixtures take their tolerances
                    and stand-ins from it, and StudentSession gets ``spec.limits``
    sandbox/        WorkerProcess enforces ``spec.limits`` as given (rlimits, cgroup, time-outs)

A limit keeps its name all the way (``call_timeout`` is ``--timeout``'s value, assignment.toml's
``call_timeout`` and ``Limits.call_timeout``); the only conversion, GiB to bytes, is made once, in
``Limits.declared``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from autograder.course.assignments import Assignment
from autograder.sandbox.isolation import isolation_mode
from autograder.sandbox.limits import Limits

Tolerance = dict[Literal["rtol", "atol"], Annotated[float, Field(ge=0, allow_inf_nan=False)]]


class SpecError(ValueError):
    """A spec file that is not a valid grading spec (a bug of the caller's: the run writes them)."""


class GradingSpec(BaseModel):
    """Everything a run decides about how each submission is graded, but the graders' own code."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    # every limit on one submission's code: time-outs, its time budget, memory, processes, files,
    # and the worker's environment ([limits] and [limits.env], over them the command line's)
    limits: Limits
    # the sandbox in force, decided once on the host (``sandbox/isolation.py``): never "auto" here
    isolation: Literal["namespaces", "process"]
    # named tolerances with the defaults filled in ([tolerances]; ``kit/tolerances.py``)
    tolerances: dict[str, Tolerance]
    # graded function -> the graded functions the grader answers for while it runs ([stand_ins])
    stand_ins: dict[str, tuple[str, ...]]

    @classmethod
    def of(
        cls, assignment: Assignment, isolation: str = "auto", limits: Mapping[str, float | None] | None = None
    ) -> GradingSpec:
        """The spec for grading ``assignment``: its declaration, with ``limits`` over its ``[limits]``
        (assignment.toml's keys, such as ``call_timeout`` or ``memory_gib``; None: not given) and
        ``isolation`` as requested ("auto" is probed once per process; RuntimeError if "namespaces"
        is requested and unavailable)."""
        return cls(
            limits=assignment.limits(**(limits or {})),
            isolation=isolation_mode(isolation),  # type: ignore[arg-type]  # ("namespaces" or "process")
            tolerances=assignment.tolerances().named,
            stand_ins=assignment.stand_ins(),
        )

    def write(self, path: Path) -> Path:
        """Save as one JSON file (what ``--spec`` names); return its path."""
        Path(path).write_text(self.model_dump_json(), encoding="utf-8")
        return Path(path)

    @classmethod
    def read(cls, path: Path) -> GradingSpec:
        """The spec saved at ``path``, checked field by field; SpecError naming the file and the field."""
        try:
            return cls.model_validate_json(Path(path).read_bytes())
        except OSError as e:
            raise SpecError(f"the grading spec {path} could not be read ({e.strerror})") from None
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
            raise SpecError(f"{path} is not a valid grading spec ({problems})") from None

    def digest_text(self) -> str:
        """The spec as the fingerprint hashes it: every field, in a fixed order."""
        return self.model_dump_json()
