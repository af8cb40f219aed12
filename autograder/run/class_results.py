"""The whole class's results, for the class report: this run's, else each saved one, finished as a run finishes it.

The report covers every student with saved results or a submission, not only those graded
by this run: the students of ``submitted/`` and of ``autograded/`` (a run on a folder with
only some students keeps the others' results there). Saved results are taken as saved,
without re-checking their fingerprint (that needs the run's command-line limits); each is
finished by ``class_run.finish``, with the submission time from the exchange files beside
the submission (else the copy beside the autograded notebook) and the grader's ledger, so
the report's scores are the CSV's.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course.assignments import Assignment
from autograder.outputs import saved
from autograder.outputs.results import StudentResult
from autograder.run import intake, times
from autograder.run.class_run import finish, skeleton_of
from autograder.run.discover import wrong_assignment
from autograder.run.layout import Layout
from autograder.run.options import Options
from autograder.text import clean_id

NO_RESULTS = "no saved results: not graded yet, or its grader process failed; run autograder grade"


@dataclass
class ClassResults:
    """Every student's finished result, and the students with a submission but no results."""

    results: dict[str, StudentResult] = field(default_factory=dict)  # student -> final result (late policy applied)
    missing: dict[str, str] = field(default_factory=dict)  # student with a submission but no results -> why


def saved_students(layout: Layout, assignment: str) -> list[str]:
    """Students with a saved results.json for ``assignment`` under autograded/ (folders we wrote)."""
    if not layout.autograded.is_dir():
        return []
    found = []
    with os.scandir(layout.autograded) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False) and clean_id(entry.name) == entry.name:
                path = layout.results_file(entry.name, assignment)
                if path.is_file() and not path.is_symlink():
                    found.append(entry.name)
    return sorted(found)


def why_missing(assignment: Assignment, layout: Layout, student: str, folder: str, graded: list[str]) -> str:
    """For a submission without saved results: intake's refusal if it refuses it, else ""."""
    with tempfile.TemporaryDirectory(prefix="autograder-report-") as private:
        try:
            taken = intake.take(layout.submitted, folder, assignment.name, Path(private))
        except intake.Refused as e:
            return str(e)
        problem = wrong_assignment(assignment, graded, student, taken)
    return problem or ""


def gather(
    assignment: Assignment,
    layout: Layout,
    submitted: Mapping[str, str],
    options: Options,
    current: Mapping[str, StudentResult] | None = None,
) -> ClassResults:
    """Every student's result: ``current`` (this run's, finished) first, else the saved one, finished here.

    ``submitted``: the class's submissions (``discover.discover``: student id -> folder); ``options``: the
    run's late policy, manual grades and time sources, as for grading.
    """
    name = assignment.name
    current = dict(current or {})
    students = sorted(set(current) | set(submitted) | set(saved_students(layout, name)))
    out = ClassResults()
    refused: dict[str, str] = {}
    graded = assignment.graded_ids()
    for student in students:
        if student in current:
            out.results[student] = current[student]
            continue
        found = saved.load(layout.results_file(student, name), student, name)  # whatever its fingerprint
        result = found.result if found is not None else None
        if result is None:
            why = why_missing(assignment, layout, student, submitted[student], graded) if student in submitted else ""
            if why:
                refused[student] = why
            else:
                out.missing[student] = NO_RESULTS
            continue
        if student in submitted:
            stamp = intake.exchange_files(layout.submitted, submitted[student], name)
        else:
            stamp = intake.exchange_files(layout.autograded, student, name)  # the copy beside the autograded notebook
        seen = times.latest_sighting(layout.autograded / student / name / times.LEDGER)
        out.results[student] = finish(student, result, stamp, seen, options)
    if refused:
        skeleton = skeleton_of(assignment, out.results)
        for student, why in refused.items():
            out.results[student] = StudentResult.unscored(skeleton, student, name, why)
    return out
