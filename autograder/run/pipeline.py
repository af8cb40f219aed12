"""The grading pipeline: the steps of one grading run, listed in ``grade`` (and ``report``'s), in order.

``grade`` (what ``autograder grade``, ``autograder demo`` and the tests call):

    1. find_submissions   discover the class's submissions, once, and select the ``students`` asked for
    2. read_previous      the grades CSV and JSON this run merges into
    3. open_gradebook     nbgrader's gradebook
    4. late_policy        the due date (``due``, else the gradebook's) and assignment.toml's ``[late]``
    5. manual_grades      the scores given in formgrader to written answers (never fingerprinted)
    6. grade_class        (class_run.py) intake, sandboxed grading, saved results, feedback
    7. merge_grades       this run's rows into the CSV and JSON, beside everyone else's
    8. gather             (class_results.py) the whole class's finished results
    9. write_class_report the class report (outputs/class_report.py) from them

Steps 1 to 3 are everything that can make the run fail (the layout, unknown students, files
that can't be merged into, the gradebook): all of it is checked before any grading starts.
``report`` (``autograder report``) is steps 8 and 9 on the saved results.

It prints nothing: the console presents (``console.py``), this module does the work and hands
back an ``Outcome`` (typed results: ``results.py``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from autograder.course.assignments import Assignment
from autograder.outputs import class_report, tables
from autograder.outputs.gradebook import GradebookError, GradebookWriter, check_url, default_url
from autograder.outputs.late import LatePolicy
from autograder.outputs.manual import ManualGrades
from autograder.outputs.report_data import ClassReport
from autograder.outputs.results import StudentResult
from autograder.run import class_results, times
from autograder.run.class_run import grade_class
from autograder.run.discover import discover, layout_problem, select
from autograder.run.layout import Layout, Report
from autograder.run.options import BatchError, Options

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    report: Report  # every student's StudentResult, and who failed, was reused or refused
    csv: Path
    json: Path | None
    gradebook: str  # the gradebook's URL
    kept: int = 0  # students graded before, not now, kept in the CSV
    late: LatePolicy | None = None  # the late policy applied, with its due date; None without a due date
    due_from: str = ""  # where the due date came from: "--due", "the gradebook" or ""
    class_report: Path | None = None  # the class report (class_report.py); None if it failed (logged)


@dataclass(frozen=True)
class Submissions:
    """The class's submissions (student id -> folder name), and those this run grades."""

    everyone: dict[str, str]
    chosen: dict[str, str]


@dataclass(frozen=True)
class Previous:
    """The grades this run merges into: the CSV's rows and the JSON's results (none if no such file)."""

    csv: list[dict[str, str]] = field(default_factory=list)
    json: dict[str, StudentResult] = field(default_factory=dict)


def check_cluster(options: Options) -> str | None:
    """Before anything else: the Dask options (``options.dask``) refused or their credentials loaded, so a
    mistake stops the run before any submission is read. The warning to show for an unencrypted scheduler
    the instructor opted into (``--insecure-scheduler``), else None; BatchError for the rest."""
    if options.dask and not options.dask.startswith("local:"):
        from autograder.run.dask_security import INSECURE_WARNING, client_security  # (imports dask)

        security = client_security(
            options.dask, options.tls_ca_file, options.tls_cert, options.tls_key, options.insecure_scheduler
        )
        return INSECURE_WARNING.format(address=options.dask) if security is None else None
    if options.tls_ca_file or options.tls_cert or options.tls_key or options.insecure_scheduler:
        raise BatchError(
            "--tls-ca-file, --tls-cert, --tls-key and --insecure-scheduler go with --scheduler ADDRESS "
            "(--dask-local makes credentials of its own); drop them or add --scheduler"
        )
    return None


def find_submissions(assignment: Assignment, layout: Layout, students: list[str] | None) -> Submissions:
    """Step 1: ``discover`` (once per run), then ``select`` the ``students`` asked for (None: everyone).

    BatchError if there is none (``layout_problem`` says why) or a student asked for has none.
    """
    everyone = discover(layout.submitted, assignment.name)
    if not everyone:
        raise BatchError(layout_problem(layout.submitted, assignment.name))
    chosen = everyone if students is None else select(everyone, students, layout.submitted, assignment.name)
    return Submissions(everyone, chosen)


def read_previous(assignment: Assignment, csv: Path, json: Path | None) -> Previous:
    """Step 2: the CSV's and the JSON's grades, to merge into; BatchError if either can't be."""
    try:
        return Previous(tables.read_csv(csv), tables.read_json(json, assignment.name) if json else {})
    except tables.OutputError as e:
        raise BatchError(str(e)) from None


def open_gradebook(assignment: Assignment, url: str, course: Path) -> GradebookWriter:
    """Step 3: the gradebook at ``url``, ready to record this run's grades; BatchError if it can't be opened."""
    try:
        check_url(url, course)
        return GradebookWriter(url, assignment)
    except GradebookError as e:
        raise BatchError(str(e)) from None
    except Exception as e:  # SQLAlchemy's and nbgrader's errors share no base class
        reason = (str(e).strip().splitlines() or [""])[0][:300]
        raise BatchError(f"the gradebook {url} could not be opened ({type(e).__name__}: {reason})") from e


def late_policy(assignment: Assignment, writer: GradebookWriter, due: datetime | None) -> tuple[LatePolicy | None, str]:
    """Step 4: the late policy (None without a due date), and where its due date came from ("--due",
    "the gradebook" or "")."""
    due_from = "--due" if due is not None else ""
    if due is None and (due := writer.gb.find_assignment(assignment.name).duedate) is not None:
        due_from = "the gradebook"
    return LatePolicy.of(assignment.late(), due), due_from


def manual_grades(assignment: Assignment, writer: GradebookWriter) -> ManualGrades | None:
    """Step 5: the manually graded cells with the scores given so far (read once, before grading); None
    if the assignment has none."""
    manual = assignment.manual_cells()
    if not manual:
        return None
    points = assignment.manual_points()
    cells = {gid: (points.get(gid, c.points), c.kind) for gid, c in manual.items()}
    return ManualGrades(cells, writer.manual_scores())


def merge_grades(assignment: Assignment, report: Report, csv: Path, json: Path | None, previous: Previous) -> int:
    """Step 7: this run's grades into the CSV (and the JSON), keeping everyone else's; how many rows were kept."""
    kept = tables.write_csv(csv, report.results, assignment.graded_ids(), previous.csv)
    if json:
        tables.write_json(json, assignment.name, report.results, previous.json)
    return kept


def write_class_report(
    assignment: Assignment,
    layout: Layout,
    results: class_results.ClassResults,
    late: LatePolicy | None,
    out: Path | None = None,
    threshold: float | None = None,
) -> tuple[Path, ClassReport]:
    """Step 9: the class report of ``results``, written to ``out`` (default: reports/<assignment>.html)."""
    return class_report.write(assignment, layout, results.results, results.missing, out, late=late, threshold=threshold)


def grade(
    assignment: Assignment,
    layout: Layout,
    options: Options,
    *,
    gradebook: str | None = None,
    csv: Path | None = None,
    json: Path | None = None,
    students: list[str] | None = None,
    due: datetime | None = None,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[str, StudentResult, bool], None] | None = None,
) -> Outcome:
    """Grade the submissions of ``assignment`` in ``layout`` and record the grades everywhere.

    ``students`` (ids, i.e. folder names): grade only those. Defaults, nbgrader-style
    beside ``submitted/``: the gradebook ``gradebook.db``, the CSV ``grades/<assignment>.csv``.
    The CSV and JSON keep the rows of students not graded now. ``due`` (naive: UTC) is the
    due date, else the gradebook's ``duedate`` for the assignment, if it has one; with a due
    date, assignment.toml's ``[late]`` turns each raw score into the final one (the saved
    results and the gradebook stay raw). ``on_start(n)`` is told
    how many students there are, ``on_progress(student, result, reused)`` each time one is done
    (reused: its saved result was kept).
    """
    course = layout.submitted.parent
    csv_path = csv or course / "grades" / f"{assignment.name}.csv"
    db_url = gradebook or default_url(course)
    # 1-3 first: each can stop the run, and must do so before anything is graded
    submissions = find_submissions(assignment, layout, students)
    previous = read_previous(assignment, csv_path, json)
    writer = open_gradebook(assignment, db_url, course)
    try:
        late, due_from = late_policy(assignment, writer, due)  # (after 3: the due date may be the gradebook's)
        manual = manual_grades(assignment, writer)
        # both are applied to finished results only: never in the fingerprint, so changing them re-grades no one
        if late is not None:
            options = dataclasses.replace(options, late=late)
        if manual is not None:
            options = dataclasses.replace(options, manual=manual)
        if on_start:
            on_start(len(submissions.chosen))
        report = grade_class(
            assignment, layout, options, submissions.chosen, on_result=writer.record, on_progress=on_progress
        )
    finally:
        writer.close()
    kept = merge_grades(assignment, report, csv_path, json, previous)
    try:  # last, for the whole class; every grade is written by now, so a failure here only loses the page
        finishing = dataclasses.replace(options, late=late)  # (the late policy found now, as for the CSV)
        results = class_results.gather(assignment, layout, submissions.everyone, finishing, report.results)
        page, _ = write_class_report(assignment, layout, results, late)
    except Exception as e:
        log.warning("the class report was not written: %s: %s", type(e).__name__, e)
        page = None
    return Outcome(report, csv_path, json, db_url, kept, late, due_from, class_report=page)


def report(
    assignment: Assignment,
    layout: Layout,
    late: LatePolicy | None,
    sources: times.Sources,
    *,
    out: Path | None = None,
    threshold: float | None = None,
) -> tuple[Path, ClassReport]:
    """``autograder report``: steps 8 and 9 on the saved results, each finished as a grading run finishes it
    (``late``: the late policy; ``sources``: where submission times come from)."""
    submitted = discover(layout.submitted, assignment.name) if layout.submitted.is_dir() else {}
    results = class_results.gather(assignment, layout, submitted, Options(late=late, times=sources))
    return write_class_report(assignment, layout, results, late, out, threshold)
