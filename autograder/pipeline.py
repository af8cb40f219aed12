"""The grading pipeline: what ``autograder grade``, ``autograder demo`` and the tests call.

    discover the submissions -> open the gradebook -> grade the class (batch.grade_class:
    intake, sandboxed grading, saved results, feedback) -> write the grades CSV and JSON

It prints nothing: the CLI presents (``cli.py``), this module does the work and hands
back an ``Outcome`` (typed results: ``results.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import batch, reports
from .assignments import Assignment
from .gradebook import GradebookWriter, default_url


@dataclass
class Outcome:
    report: batch.Report  # every student's StudentResult, and who failed, was reused or refused
    csv: Path
    json: Path | None
    gradebook: str  # the gradebook's URL


def grade(
    assignment: Assignment,
    layout: batch.Layout,
    options: batch.Options,
    *,
    gradebook: str | None = None,
    csv: Path | None = None,
    json: Path | None = None,
    on_start: Callable[[int], None] | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> Outcome:
    """Grade every submission of ``assignment`` in ``layout`` and record the grades everywhere.

    Defaults, nbgrader-style beside ``submitted/``: the gradebook ``gradebook.db``, the
    CSV ``grades/<assignment>.csv``. ``on_start(n)`` is told how many students there are,
    ``on_progress(student)`` each time one is done.
    """
    students = batch.discover(layout.submitted, assignment.name)
    if not students:
        raise batch.BatchError(
            f"no submissions for {assignment.name} in {layout.submitted} "
            f"(expected {layout.submitted}/<student>/{assignment.name}/{assignment.name}.ipynb)"
        )
    if on_start:
        on_start(len(students))
    course = layout.submitted.parent
    db_url = gradebook or default_url(course)
    try:
        writer = GradebookWriter(db_url, assignment)
    except Exception as e:  # SQLAlchemy's and nbgrader's errors share no base class
        reason = (str(e).strip().splitlines() or [""])[0][:300]
        raise batch.BatchError(f"the gradebook {db_url} could not be opened ({type(e).__name__}: {reason})") from e
    try:
        report = batch.grade_class(assignment, layout, options, on_result=writer.record, on_progress=on_progress)
    finally:
        writer.close()
    csv_path = csv or course / "grades" / f"{assignment.name}.csv"
    reports.write_csv(csv_path, report.results, assignment.graded_ids())
    if json:
        reports.write_json(json, assignment.name, report.results)
    return Outcome(report, csv_path, json, db_url)
