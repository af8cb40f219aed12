"""Write scores into nbgrader's gradebook, so `nbgrader export` and formgrader see them.

Mapping: the points of graded function ``f`` live in the notebook's visible test cell
``test_f`` (an nbgrader "autograder tests" cell), so each function's score becomes the
``auto_score`` of grade cell ``test_f``. Writing is idempotent: re-grading a student
updates the same rows; it never adds a second submission. The submission's ``timestamp``
is its trusted time (``times.resolve``: the instructor's times file, or timestamp.txt when
the instructor chose to trust it), else the time in nbgrader's timestamp.txt, as ``nbgrader
autograde`` records it (so ``nbgrader export`` and formgrader show it; that claim is the
student's, and the late policy never uses it untrusted: use the CSV or JSON for final scores).
Manually graded cells (written answers, tasks) get their Grade rows as ``nbgrader
autograde`` leaves them (no auto score, ``needs_manual_grade``), and a ``manual_score``
given in formgrader is never overwritten; ``manual_scores`` reads those scores back for
the totals (manual.ManualGrades).

A shared PostgreSQL gradebook (``postgresql://USER@HOST:PORT/DBNAME``) may be written by
several runs at once (two assignments, or two halves of a class). nbgrader's
``update_or_create_*`` look a row up, then insert it, so two runs adding the same student,
or creating the tables and the assignment's cells at once, would collide. Hence, on
PostgreSQL, runs take turns under advisory locks (``AdvisoryLock``, on a connection of their
own: nbgrader commits several times per student): one while setting up (tables, course,
the assignment's cells), one while writing a student's rows (a few milliseconds each). A
unique-key collision that still happens (another program writing) is rolled back and
retried. SQLite (the default) serialises writers itself.

A URL without a driver (``postgresql://``) means psycopg 3 to SQLAlchemy 2.1, which is not
installed; it is read as ``postgresql+psycopg2://`` (``resolve_url``). nbgrader itself
takes the URL as given, so give it the ``+psycopg2`` form.
"""

from __future__ import annotations

import contextlib
import importlib.util
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path

from nbgrader.api import Course, Grade, Gradebook, InvalidEntry, MissingEntry
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, SAWarning

from autograder.course.assignments import Assignment
from autograder.course.release import generate, use_venv_tools
from autograder.outputs.results import StudentResult
from autograder.run.intake import MARKUP_IN_IDS
from autograder.text import clean


def default_url(course_dir: Path) -> str:
    return f"sqlite:///{Path(course_dir).resolve() / 'gradebook.db'}"


class GradebookError(Exception):
    """A gradebook URL that can't work; the message says what to do."""


# Advisory lock keys (any two 32-bit numbers, the same in every run): set-up, and writing rows.
SETUP_LOCK = {"a": 0x6E626772, "b": 1}
WRITE_LOCK = {"a": 0x6E626772, "b": 2}
RETRIES = 3  # attempts at one student's rows when a unique key collides


def resolve_url(db_url: str) -> str:
    """``db_url`` with a PostgreSQL driver SQLAlchemy can load: ``postgresql://`` -> ``postgresql+psycopg2://``."""
    try:
        url = make_url(db_url)
    except ArgumentError:
        return db_url  # check_url says what is wrong with it
    if url.drivername == "postgresql" and importlib.util.find_spec("psycopg") is None:
        return url.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    return db_url


def is_postgres(db_url: str) -> bool:
    try:
        return make_url(db_url).get_backend_name() == "postgresql"
    except ArgumentError:
        return False


def shown(db_url: str) -> str:
    """The URL for a message: never its password."""
    try:
        return make_url(db_url).render_as_string(hide_password=True)
    except ArgumentError:
        return db_url


def check_server(db_url: str) -> None:
    """Connect once to a database server's gradebook, to refuse in one line a server that isn't there."""
    url = resolve_url(db_url)
    engine = create_engine(url, connect_args={"connect_timeout": 10} if is_postgres(url) else {})
    try:
        with engine.connect():
            pass
    except ModuleNotFoundError as e:
        raise GradebookError(
            f"the gradebook {shown(db_url)} needs the database driver {e.name}, which is not installed. Install "
            f"it into the venv (.venv/bin/pip install {e.name}) or name an installed one, e.g. postgresql+psycopg2://."
        ) from None
    except Exception as e:  # the drivers' errors share no base class but SQLAlchemy's DBAPIError
        reason = clean((str(getattr(e, "orig", None) or e).strip().splitlines() or [type(e).__name__])[0], 300)
        raise GradebookError(
            f"the gradebook {shown(db_url)} could not be reached ({reason}). Check that the server is running and "
            f"that the URL's host, port, user, password and database are right (create the database first: "
            f"createdb DBNAME), then run again; or leave out --gradebook to use the SQLite gradebook.db beside "
            f"SUBMISSIONS."
        ) from None
    finally:
        engine.dispose()


class AdvisoryLock:
    """A PostgreSQL advisory lock on a connection of its own; on other databases, nothing."""

    def __init__(self, db_url: str, key: dict[str, int]):
        self.key = key
        self.engine = create_engine(resolve_url(db_url), isolation_level="AUTOCOMMIT") if is_postgres(db_url) else None
        self.connection = self.engine.connect() if self.engine else None

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        if self.connection is None:
            yield
            return
        self.connection.execute(text("SELECT pg_advisory_lock(:a, :b)"), self.key)
        try:
            yield
        finally:
            self.connection.execute(text("SELECT pg_advisory_unlock(:a, :b)"), self.key)

    def close(self) -> None:
        if self.engine:
            self.connection.close()
            self.engine.dispose()


@contextlib.contextmanager
def setup_lock(db_url: str) -> Iterator[None]:
    """Hold the set-up lock: concurrent runs create tables, course and cells one at a time."""
    lock = AdvisoryLock(db_url, SETUP_LOCK)
    try:
        with lock.held():
            yield
    finally:
        lock.close()


def check_url(db_url: str, course_dir: Path) -> None:
    """Refuse, in words, a gradebook URL SQLAlchemy could only fail on deep inside:
    one that isn't a URL, a SQLite file in a folder that does not exist, or a database server
    (PostgreSQL) that can't be reached or lacks the database: one connection, before any grading."""
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
    elif url.get_backend_name() != "sqlite":
        check_server(db_url)


def ensure_assignment(db_url: str, assignment: Assignment) -> None:
    """Make sure the gradebook knows the assignment's notebook and grade cells.

    nbgrader records them when it generates a release, so we let it do exactly that
    (into a scratch folder; the committed release/ is left alone). Under ``setup_lock``:
    two runs must not create the tables or the cells at once.
    """
    use_venv_tools()
    db_url = resolve_url(db_url)
    with setup_lock(db_url):
        _ensure_assignment(db_url, assignment)


def _ensure_assignment(db_url: str, assignment: Assignment) -> None:
    with Gradebook(db_url) as gb:
        # nbgrader's generate_assignment files the assignment under its default course id "",
        # for which it makes no course row: SQLite doesn't mind, PostgreSQL's foreign key does.
        if gb.db.get(Course, "") is None:
            gb.db.add(Course(id=""))
            gb.db.commit()
        try:
            notebook = gb.find_notebook(assignment.name, assignment.name)
            cells = {c.name for c in notebook.grade_cells} | {c.name for c in notebook.task_cells}
            if cells == {f"test_{g}" for g in assignment.graded_ids()} | set(assignment.manual_cells()):
                return
        except MissingEntry:
            pass
    with tempfile.TemporaryDirectory() as tmp:
        generate(assignment, out_dir=Path(tmp) / assignment.name, db_url=db_url)


class GradebookWriter:
    """One open gradebook for a whole batch (written from one thread only)."""

    def __init__(self, db_url: str, assignment: Assignment):
        db_url = resolve_url(db_url)
        ensure_assignment(db_url, assignment)
        self.gb = Gradebook(db_url)
        self.assignment = assignment
        self.lock = AdvisoryLock(db_url, WRITE_LOCK)

    def record(self, student: str, result: StudentResult) -> None:
        if MARKUP_IN_IDS & set(student):  # refused at intake; formgrader would render the id as HTML
            return
        with warnings.catch_warnings():  # nbgrader's add_submission trips SQLAlchemy 2 warnings
            warnings.simplefilter("ignore", SAWarning)
            for attempt in range(RETRIES):
                try:
                    with self.lock.held():
                        return self._record(student, result)
                except (IntegrityError, InvalidEntry):  # another program inserted the row first: it is there now
                    self.gb.db.rollback()
                    if attempt == RETRIES - 1:
                        raise

    def _record(self, student: str, result: StudentResult) -> None:
        name = self.assignment.name
        student = clean(student, None)  # (already clean: the batch's ids are; this keeps it so)
        self.gb.update_or_create_student(student)
        # the trusted time (times.resolve); without one, timestamp.txt's claim, as nbgrader autograde records it
        timestamp = result.timestamp or (result.time.claimed if result.time else None)
        if timestamp is not None:
            self.gb.update_or_create_submission(name, student, timestamp=timestamp)
        else:
            self.gb.update_or_create_submission(name, student)
        for grade_id, function in result.functions.items():
            try:
                grade = self.gb.find_grade(f"test_{grade_id}", name, name, student)
            except MissingEntry:
                continue  # a function the gradebook doesn't know (stale gradebook)
            grade.auto_score = function.score
            grade.needs_manual_grade = False  # as nbgrader's own autograde does for test cells
        for grade_id in result.manual:  # written answers and tasks: formgrader's to grade
            grade = self._manual_grade(grade_id, student)
            if grade is not None and grade.manual_score is None:  # a score given in formgrader is never touched
                grade.needs_manual_grade = True  # as nbgrader's autograde leaves a cell without an auto score
        self.gb.db.commit()

    def _manual_grade(self, grade_id: str, student: str) -> Grade | None:
        """The Grade row of a manually graded cell, made if the submission predates the cell
        (nbgrader makes a submission's rows only when it adds the submission); None if the
        gradebook doesn't know the cell."""
        name = self.assignment.name
        try:
            return self.gb.find_grade(grade_id, name, name, student)
        except MissingEntry:
            pass
        try:
            cell = self.gb.find_graded_cell(grade_id, name, name)
            submitted = self.gb.find_submission_notebook(name, name, student)
        except MissingEntry:
            return None
        grade = Grade(cell_id=cell.id, notebook=submitted)
        self.gb.db.add(grade)
        return grade

    def manual_scores(self) -> dict[str, dict[str, float]]:
        """student -> manually graded cell -> its score from formgrader (manual score plus extra
        credit, as nbgrader's total counts it); cells not graded yet are left out."""
        ids = set(self.assignment.manual_cells())
        out: dict[str, dict[str, float]] = {}
        if not ids:
            return out
        for submission in self.gb.assignment_submissions(self.assignment.name):
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    if grade.name in ids and grade.manual_score is not None:
                        score = grade.manual_score + (grade.extra_credit or 0.0)
                        out.setdefault(submission.student_id, {})[grade.name] = score
        return out

    def close(self) -> None:
        self.gb.close()
        self.lock.close()
