"""What a student is told when their code fails: ``StudentCodeError``, and the words made from a worker's replies.

Everything here is written for the student: the text a worker sends about an exception is
its student's own (cleaned and capped visibly), and nothing names grader code or expected
values.
"""

from __future__ import annotations

from typing import Any

from autograder.course.notebook import Submission
from autograder.text import clean


class StudentCodeError(Exception):
    """A call into student code failed; ``str(e)`` is the student-facing reason."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind  # not_implemented | exception | timeout | budget | refused | crashed | undefined | unavailable


def cell_label(cell: Any) -> str:
    """A planned cell as a sentence starts it: its answer cell, a set-up cell, or its number."""
    if cell.role == "answer":
        return f"The answer cell for `{cell.grade_id}`"
    if cell.role == "setup":
        return f"The set-up cell `{cell.grade_id}`"
    return f"Cell {cell.index + 1}"


def error_text(err: dict) -> str:
    """The worker's account of an exception, each part cleaned and capped visibly."""
    err = err if isinstance(err, dict) else {}
    kind = clean(err.get("type") or "an error", limit=200)
    where = f" ({clean(err['where'], limit=200)})" if err.get("where") else ""
    message = clean(err.get("message", ""), limit=2000)
    return f"{kind}: {message}{where}" if message else f"{kind}{where}"


def _error(reply: dict) -> dict:
    return reply.get("error") if isinstance(reply.get("error"), dict) else {}


def cell_note(label: str, reply: dict) -> str:
    """The note for a cell whose reply is not ok: it called exit(), or what it raised."""
    err = _error(reply)
    if err.get("exit"):
        return f"{label} called exit(); the rest of that cell was skipped."
    return f"{label} raised {error_text(err)}"


# How a call into a function the student hasn't written yet fails (the class report counts these apart).
NOT_IMPLEMENTED = "is not implemented yet (it raises NotImplementedError)"


def call_error(label: str, reply: dict) -> StudentCodeError:
    """The failure of a call whose reply is not ok: not implemented, exit(), or what it raised."""
    err = _error(reply)
    if err.get("not_implemented"):
        return StudentCodeError("not_implemented", f"`{label}` {NOT_IMPLEMENTED}")
    if err.get("exit"):
        return StudentCodeError("exception", f"`{label}` called exit() instead of returning")
    return StudentCodeError("exception", f"`{label}` raised {error_text(err)}")


def undefined(name: str, submission: Submission | None) -> StudentCodeError:
    """The failure of a call to a name the notebook does not define."""
    hint = ""
    if submission and name not in submission.answers:
        hint = " Its answer cell is missing from the notebook."
    return StudentCodeError("undefined", f"`{name}` is not defined by your notebook.{hint}")
