"""An assignment's catalogue: the answers that prove its graders right.

``autograder/graders/<name>/catalogue.py`` lists, in one format for every assignment:

    MUTANTS   realistic wrong answers, each wrong in exactly the function it names:
              it must lose points there and nowhere else
    CORRECT   answers written differently from the reference: each earns full marks
    ATTACKS   hostile answers (optional): each gains nothing, and its feedback says why

Each entry replaces one answer cell (``function``) of an otherwise perfect submission,
or, for an attack with ``function=None``, adds a cell after the answers. The fidelity
suite (``tests/authoring/test_fidelity.py``) grades them all for every assignment; a new
assignment gets it by writing its catalogue. The catalogue is never shipped to
students, and is not part of a grade's fingerprint (it only tests the graders).

Placeholders an attack's source may contain, replaced when the suite builds it:
``LOOPBACK_PORT`` (a server on the host's loopback, which must never hear from the
sandbox), ``GRADER_FILE`` (the path of one of the assignment's hidden grader files)
and ``REFERENCE_<FUNCTION>`` (an honest copy of that function, under that name).
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from textwrap import dedent

from autograder.authoring.submissions import Variant
from autograder.course.assignments import Assignment, AssignmentError

FILE = "catalogue.py"
# Hostile child processes carry this in their command line, so the suite can look for
# survivors in the host's /proc after grading.
SURVIVOR_TOKEN = "autograder-hostile-survivor-4f1c"
LOOPBACK_PORT = "LOOPBACK_PORT"
GRADER_FILE = "GRADER_FILE"

__all__ = ["Attack", "Catalogue", "Variant", "cell", "load"]


def cell(source: str) -> str:
    """A whole answer cell, written indented inside a triple-quoted string."""
    return dedent(source).strip() + "\n"


@dataclass(frozen=True)
class Attack:
    """A perfect student plus one attack: in ``function`` (it must score 0 there, and
    nothing may raise the total), or at import in an extra cell (``function=None``:
    it must cost nothing at all). One of ``reasons`` must appear in the feedback for
    that function (or in the notebook's errors); for an attack on time, any honest account
    of running out of time will do, since which one it gets depends on the machine's load
    (``TIME_EXPLANATIONS`` in tests/fidelity.py)."""

    name: str
    function: str | None
    source: str
    reasons: tuple[str, ...] | str
    spares_others: bool = True  # False if it also sabotages the student's other functions

    def __post_init__(self) -> None:
        if isinstance(self.reasons, str):
            object.__setattr__(self, "reasons", (self.reasons,))


@dataclass(frozen=True)
class Catalogue:
    mutants: list[Variant] = field(default_factory=list)
    correct: list[Variant] = field(default_factory=list)
    attacks: list[Attack] = field(default_factory=list)


def load(assignment: Assignment) -> Catalogue:
    """The assignment's catalogue.py, imported from its graders folder."""
    path = assignment.graders_dir / FILE
    if not path.exists():
        raise AssignmentError(f"{assignment.name} has no catalogue: write {path} (see docs/authoring.md)")
    spec = importlib.util.spec_from_file_location(f"catalogue_{assignment.name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Catalogue(
        list(getattr(module, "MUTANTS", [])), list(getattr(module, "CORRECT", [])), list(getattr(module, "ATTACKS", []))
    )


class ReferenceCells(dict):
    """grade_id -> the reference's answer cell, with ``edit`` to write a mutant as one edit of it."""

    def edit(self, function: str, *edits: tuple[str, str] | str, first: bool = False) -> str:
        """The reference answer of ``function`` with each ``(old, new)`` edit applied (or one
        edit given as ``old, new``). Each ``old`` must occur exactly once, so a mutant can't
        silently stop being one when the reference changes; with ``first=True`` it must
        occur, and only its first occurrence is edited (one of five identical lines)."""
        pairs = [tuple(edits)] if len(edits) == 2 and all(isinstance(e, str) for e in edits) else list(edits)
        source = self[function]
        for old, new in pairs:
            found = source.count(old)
            if found == 0 or (found > 1 and not first):
                raise ValueError(f"an edit of {function} matches its reference {found} times, not once: {old!r}")
            source = source.replace(old, new, 1)
        return source


def reference_cells(catalogue_file: str) -> ReferenceCells:
    """The reference's answer cells of the assignment whose catalogue is ``catalogue_file``
    (``__file__``): mutants written as edits of the reference stay in step with it."""
    from pathlib import Path

    from autograder.authoring.submissions import reference_answers

    graders = Path(catalogue_file).resolve().parent
    return ReferenceCells(reference_answers(Assignment(graders.name, root=graders.parents[2])))
