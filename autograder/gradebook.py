"""Write scores into nbgrader's gradebook, so `nbgrader export` and formgrader see them.

Mapping: the points of graded function ``f`` live in the notebook's visible test cell
``test_f`` (an nbgrader "autograder tests" cell), so each function's score becomes the
``auto_score`` of grade cell ``test_f``. Writing is idempotent: re-grading a student
updates the same rows; it never adds a second submission. The submission's ``timestamp``
is the time in nbgrader's timestamp.txt, as ``nbgrader autograde`` records it (so
``nbgrader export`` and formgrader show it, and nbgrader's late-work rules can use it).
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SAWarning

from .assignments import Assignment
from .release import generate, use_venv_tools
from .results import StudentResult
from .text import clean


def default_url(course_dir: Path) -> str:
    return f"sqlite:///{Path(course_dir).resolve() / 'gradebook.db'}"


class GradebookError(Exception):
    """A gradebook URL that can't work; the message says what to do."""


def check_url(db_url: str, course_dir: Path) -> None:
    """Refuse, in words, a gradebook URL SQLAlchemy could only fail on deep inside:
    one that isn't a URL, or a SQLite file in a folder that does not exist."""
    example = default_url(course_dir)
    try:
        url = make_url(db_url)
    except ArgumentError:
        raise GradebookError(
            f"the gradebook {db_url} is not a database URL. Expected one such as {example} (SQLite: three "
            f"slashes, then the absolute path), or postgresql://user@host/dbname. Fix --gradebook."
        ) from None
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        folder = Path(url.database).parent
        if not folder.is_dir():
            raise GradebookError(
                f"the gradebook {db_url} could not be opened: its folder {folder} does not exist. Expected a "
                f"file in an existing folder, e.g. {example} (the default, beside SUBMISSIONS). Create the "
                f"folder (mkdir -p {folder}) or fix --gradebook."
            )


def ensure_assignment(db_url: str, assignment: Assignment) -> None:
    """Make sure the gradebook knows the assignment's notebook and grade cells.

    nbgrader records them when it generates a release, so we let it do exactly that
    (into a scratch folder; the committed release/ is left alone).
    """
    use_venv_tools()
    with Gradebook(db_url) as gb:
        try:
            notebook = gb.find_notebook(assignment.name, assignment.name)
            if {c.name for c in notebook.grade_cells} == {f"test_{g}" for g in assignment.graded_ids()}:
                return
        except MissingEntry:
            pass
    with tempfile.TemporaryDirectory() as tmp:
        generate(assignment, out_dir=Path(tmp) / assignment.name, db_url=db_url)


class GradebookWriter:
    """One open gradebook for a whole batch (written from one thread only)."""

    def __init__(self, db_url: str, assignment: Assignment):
        ensure_assignment(db_url, assignment)
        self.gb = Gradebook(db_url)
        self.assignment = assignment

    def record(self, student: str, result: StudentResult) -> None:
        with warnings.catch_warnings():  # nbgrader's add_submission trips SQLAlchemy 2 warnings
            warnings.simplefilter("ignore", SAWarning)
            self._record(student, result)

    def _record(self, student: str, result: StudentResult) -> None:
        name = self.assignment.name
        student = clean(student, None)  # (already clean: the batch's ids are; this keeps it so)
        self.gb.update_or_create_student(student)
        if result.timestamp is not None:  # as nbgrader autograde does: the time from timestamp.txt
            self.gb.update_or_create_submission(name, student, timestamp=result.timestamp)
        else:
            self.gb.update_or_create_submission(name, student)
        for grade_id, function in result.functions.items():
            try:
                grade = self.gb.find_grade(f"test_{grade_id}", name, name, student)
            except MissingEntry:
                continue  # a function the gradebook doesn't know (stale gradebook)
            grade.auto_score = function.score
            grade.needs_manual_grade = False  # as nbgrader's own autograde does for test cells
        self.gb.db.commit()

    def close(self) -> None:
        self.gb.close()
