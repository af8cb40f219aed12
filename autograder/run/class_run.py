"""Grade a whole class: take each submission in, grade it in a pool, keep every grade, finish each result.

The order of work for each student, and why:

    0. take the notebook in                      (intake.py; refused by type before read by value,
                                                  and refused if it is another assignment's), and
                                                  note when the grader first saw it (times.py's ledger)
    1. grade its private copy in a fresh grader process (grading.py; sandboxed student code,
                                                  in a pool: pools.py)
    2. save results.json atomically             (before anything else: this is the grade)
    3. write the gradebook rows                  (idempotent: update, never add twice; with the
                                                  submission time: times.resolve, from sources the
                                                  student can't write, else timestamp.txt's claim)
    4. write feedback and the autograded notebook (with nbgrader's timestamp.txt and
                                                  submission_secret.txt beside them, for release_feedback)

A student whose saved results have the same fingerprint (fingerprint.py: everything that
decides a grade) is not graded again, so re-running after an interruption resumes where it
stopped and never double-counts. ``force=True`` re-grades everyone.

Whatever a student's submission does, it ends as that student's result: a refused file
or a grader process that failed scores 0 with the reason in ``errors`` (bad input), is
not saved (the next run looks again), and never stops the rest of the class.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from autograder.course.assignments import Assignment
from autograder.grader.spec import GradingSpec
from autograder.outputs.feedback import write_student_outputs
from autograder.outputs.results import FunctionResult, StudentResult
from autograder.outputs.saved import save
from autograder.run import intake, times
from autograder.run.discover import discover, wrong_assignment
from autograder.run.fingerprint import fingerprint, load_saved, shared_digest
from autograder.run.grading import NOT_SAVED, GradingError, collect_tests
from autograder.run.layout import Layout, Report
from autograder.run.options import Options
from autograder.run.pools import grading_pool
from autograder.text import clean

log = logging.getLogger(__name__)


def finish(
    student: str,
    result: StudentResult,
    stamp: intake.ExchangeFiles,
    seen: times.Seen | None,
    options: Options,
    notes: tuple[str, ...] = (),
) -> StudentResult:
    """A raw result (graded now, saved, or unscored) as the class sees it: with intake's ``notes`` and the
    exchange files' notes, its submission time (``times.resolve``), the manual points, then the late policy.

    The raw grade is what is saved; this runs on every result a run hands on (and on each saved result
    the class report shows), never on what is saved.
    """
    due = options.late.due if options.late is not None else None
    time = times.resolve(student, stamp.timestamp, stamp.timestamp_problem, seen, options.times, due)
    result = replace(result, errors=(*result.errors, *notes, *stamp.notes), timestamp=time.when, time=time)
    if options.manual is not None:  # written answers: the points given in formgrader, or pending
        result = options.manual.apply(result)
    if options.late is not None:  # the late policy turns the raw grade into the final one
        result = options.late.apply(result)
    return result


def skeleton_of(assignment: Assignment, results: dict[str, StudentResult]) -> dict[str, FunctionResult]:
    """Every function and test with its points: from any result, or by collecting the tests."""
    for r in results.values():
        if r.functions and all(f.tests for f in r.functions.values()):
            return dict(r.functions)
    try:
        return StudentResult.parse(collect_tests(assignment), "", assignment.name).functions
    except (GradingError, ValueError) as e:
        log.warning("could not list the tests of %s (%s); refused submissions get 0 of 0", assignment.name, clean(e))
        return {gid: FunctionResult(0.0, 0.0) for gid in assignment.graded_ids()}


def grade_class(
    assignment: Assignment,
    layout: Layout,
    options: Options,
    found: Mapping[str, str] | None = None,
    *,
    on_result: Callable[[str, StudentResult], None] | None = None,
    on_progress: Callable[[str, StudentResult, bool], None] | None = None,
) -> Report:
    """Grade the submissions ``found`` (student id -> folder, from ``discover.discover``; None: every
    submission in ``layout.submitted``); ``on_result`` and then ``on_progress`` run in this thread once
    per student, after the save (``on_progress(student, result, reused)``: reused, a saved result kept)."""
    name = assignment.name
    found = discover(layout.submitted, name) if found is None else found
    graded = assignment.graded_ids()
    report = Report()
    unscored: dict[str, str] = {}  # student -> why (refused, or the grader process failed)
    todo: dict[str, tuple[Path, str]] = {}
    stamps: dict[str, intake.ExchangeFiles] = {}
    notes: dict[str, tuple[str, ...]] = {}  # student -> notes from intake (never saved: they are this run's)

    seen: dict[str, times.Seen] = {}  # student -> when the grader first saw this notebook (its ledger)

    def done(student: str, raw: StudentResult, notebook: Path | None, reused: bool = False) -> None:
        result = finish(student, raw, stamps[student], seen.get(student), options, notes.get(student, ()))
        report.results[student] = result
        try:
            write_student_outputs(result, notebook, layout.autograded, layout.feedback, stamps[student].files)
        except Exception as e:  # a bug of ours; the rest of the class still gets graded
            report.failed[student] = f"writing the feedback of {student} failed: {type(e).__name__}: {e}"
        if notebook is not None:
            notebook.unlink(missing_ok=True)  # the private copy has served; keep the scratch folder small
        if on_result:
            on_result(student, result)
        if on_progress:
            on_progress(student, result, reused)

    # How every submission is graded, made once for the run (the caller's, else the declaration's with the
    # best sandbox here: a probe starts a whole sandbox, so never in each grader process)
    spec = options.spec or GradingSpec.of(assignment)
    shared = shared_digest(assignment, spec)  # once: the same for every student
    with tempfile.TemporaryDirectory(prefix="autograder-intake-") as private:
        for i, (student, folder) in enumerate(found.items()):
            stamps[student] = stamp = intake.exchange_files(layout.submitted, folder, name)
            if not set(intake.EXCHANGE_FILES) <= set(stamp.files):
                report.unstamped.append(student)
            try:
                taken = intake.take(layout.submitted, folder, name, Path(private) / str(i))
            except intake.Refused as e:
                unscored[student] = str(e)
                report.refused.append(student)
                continue
            notes[student] = taken.notes
            # the grader's own record of when it first saw this notebook: a time the student can't write
            ledger = layout.autograded / student / name / times.LEDGER
            seen[student] = times.record_sighting(ledger, taken.digest, times.now())
            problem = wrong_assignment(assignment, graded, student, taken)
            if problem:
                unscored[student] = problem
                report.refused.append(student)
                taken.notebook.unlink(missing_ok=True)
                continue
            fp = fingerprint(assignment, taken.digest, spec, shared)
            saved = None if options.force else load_saved(layout.results_file(student, name), fp, student, name)
            if saved is not None:
                report.reused.append(student)
                done(student, saved, taken.notebook, reused=True)
            else:
                todo[student] = (taken.notebook, fp)

        with grading_pool(assignment, options, spec) as pool:
            futures = {pool.submit(s, todo[s][0]): s for s in todo}
            for future in pool.as_completed(futures):
                student = futures[future]
                notebook, fp = todo[student]
                try:
                    result = StudentResult.parse(future.result(), student, name)
                except GradingError as e:
                    report.failed[student] = clean(str(e))
                    unscored[student] = e.student_message
                    continue
                except ValueError as e:
                    report.failed[student] = clean(f"the graders wrote malformed results for {student} ({e})")
                    unscored[student] = (
                        f"The grader process reported unreadable scores for your notebook, so it earned no "
                        f"points. {NOT_SAVED}"
                    )
                    continue
                except Exception as e:  # anything else going wrong for one student stays theirs
                    report.failed[student] = clean(f"grading {student} failed: {type(e).__name__}: {e}")
                    unscored[student] = f"The grader could not grade your notebook (an internal error). {NOT_SAVED}"
                    continue
                save(layout.results_file(student, name), fp, result)
                done(student, result, notebook)

        if unscored:
            skeleton = skeleton_of(assignment, report.results)
            for student, message in sorted(unscored.items()):
                notebook = todo[student][0] if student in todo else None
                done(student, StudentResult.unscored(skeleton, student, name, message), notebook)
    return report
