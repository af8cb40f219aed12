"""The grading pipeline: what ``autograder grade``, ``autograder demo`` and the tests call.

    discover the submissions (or the ``students`` asked for) -> read the class's CSV and
    JSON -> open the gradebook -> the due date (``due``, else the gradebook's) and the late
    policy (assignment.toml's ``[late]``) -> the manual scores given in formgrader (written
    answers: read before grading, added to each result, never fingerprinted) -> grade
    (batch.grade_class: intake, sandboxed grading, saved results, feedback) -> merge into the CSV and JSON
    -> the class report (class_report.py)

Everything that can make the run fail (the layout, unknown students, files that can't be
merged into, the gradebook) is checked before any grading starts.

It prints nothing: the CLI presents (``cli.py``), this module does the work and hands
back an ``Outcome`` (typed results: ``results.py``).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from autograder.course.assignments import Assignment
from autograder.outputs import class_report, reports
from autograder.outputs.gradebook import GradebookError, GradebookWriter, check_url, default_url
from autograder.outputs.results import LatePolicy, ManualGrades, StudentResult
from autograder.run import batch


@dataclass
class Outcome:
    report: batch.Report  # every student's StudentResult, and who failed, was reused or refused
    csv: Path
    json: Path | None
    gradebook: str  # the gradebook's URL
    kept: int = 0  # students graded before, not now, kept in the CSV
    late: LatePolicy | None = None  # the late policy applied, with its due date; None without a due date
    due_from: str = ""  # where the due date came from: "--due", "the gradebook" or ""
    class_report: Path | None = None  # the class report (class_report.py); None if it failed (logged)


def grade(
    assignment: Assignment,
    layout: batch.Layout,
    options: batch.Options,
    *,
    gradebook: str | None = None,
    csv: Path | None = None,
    json: Path | None = None,
    students: list[str] | None = None,
    due: datetime | None = None,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[str, StudentResult], None] | None = None,
) -> Outcome:
    """Grade the submissions of ``assignment`` in ``layout`` and record the grades everywhere.

    ``students`` (ids, i.e. folder names): grade only those. Defaults, nbgrader-style
    beside ``submitted/``: the gradebook ``gradebook.db``, the CSV ``grades/<assignment>.csv``.
    The CSV and JSON keep the rows of students not graded now. ``due`` (naive: UTC) is the
    due date, else the gradebook's ``duedate`` for the assignment, if it has one; with a due
    date, assignment.toml's ``[late]`` turns each raw score into the final one (the saved
    results and the gradebook stay raw). ``on_start(n)`` is told
    how many students there are, ``on_progress(student, result)`` each time one is done.
    """
    found = batch.discover(layout.submitted, assignment.name)
    if not found:
        raise batch.BatchError(batch.layout_problem(layout.submitted, assignment.name))
    if students is not None:
        found = batch.select(found, students, layout.submitted, assignment.name)
    course = layout.submitted.parent
    csv_path = csv or course / "grades" / f"{assignment.name}.csv"
    try:
        previous_csv = reports.read_csv(csv_path)
        previous_json = reports.read_json(json, assignment.name) if json else {}
    except reports.OutputError as e:
        raise batch.BatchError(str(e)) from None
    db_url = gradebook or default_url(course)
    try:
        check_url(db_url, course)
        writer = GradebookWriter(db_url, assignment)
    except GradebookError as e:
        raise batch.BatchError(str(e)) from None
    except Exception as e:  # SQLAlchemy's and nbgrader's errors share no base class
        reason = (str(e).strip().splitlines() or [""])[0][:300]
        raise batch.BatchError(f"the gradebook {db_url} could not be opened ({type(e).__name__}: {reason})") from e
    due_from = "--due" if due is not None else ""
    try:
        if due is None and (due := writer.gb.find_assignment(assignment.name).duedate) is not None:
            due_from = "the gradebook"
        late = LatePolicy.of(assignment.late(), due)
        if late is not None:  # for batch.grade_class's finish; not in the fingerprint, so no re-grading
            options = dataclasses.replace(options, late=late)
        manual = assignment.manual_cells()
        if manual:  # written answers: the scores given in formgrader so far, read once, before grading
            points = assignment.manual_points()
            cells = {gid: (points.get(gid, c.points), c.kind) for gid, c in manual.items()}
            options = dataclasses.replace(options, manual=ManualGrades(cells, writer.manual_scores()))
        if on_start:
            on_start(len(found))
        report = batch.grade_class(
            assignment, layout, options, on_result=writer.record, on_progress=on_progress, students=list(found)
        )
    finally:
        writer.close()
    kept = reports.write_csv(csv_path, report.results, assignment.graded_ids(), previous_csv)
    if json:
        reports.write_json(json, assignment.name, report.results, previous_json)
    try:  # last, for the whole class; every grade is written by now, so a failure here only loses the page
        page, _ = class_report.write(assignment, layout, late=late, manual=options.manual, current=report.results,
                                     sources=options.times)  # fmt: skip
    except Exception as e:
        logging.getLogger(__name__).warning("the class report was not written: %s: %s", type(e).__name__, e)
        page = None
    return Outcome(report, csv_path, json, db_url, kept, late, due_from, class_report=page)
