"""What a grading run shows on the terminal: the sandbox and workers in use, progress, the summary table,
and where everything went.

``grade_and_report`` is a whole ``autograder grade`` as the instructor sees it (``autograder demo``
calls it too); ``cli.py`` parses the command line and calls it. Student text reaches the terminal only
through ``text.terminal`` or a rich ``Text`` (cleaned, never read as markup).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from autograder.course.assignments import Assignment
from autograder.grader.spec import GradingSpec
from autograder.outputs.gradebook import shown
from autograder.outputs.late import review_message
from autograder.outputs.results import StudentResult, fmt
from autograder.run import pipeline, times
from autograder.run.layout import Layout, Report
from autograder.run.options import Options
from autograder.run.pipeline import check_cluster
from autograder.run.pools import auto_workers
from autograder.text import clean, terminal

if TYPE_CHECKING:
    from autograder.outputs.exports import Exported  # (imported by ``autograder export`` only)

out = Console(highlight=False)  # stdout
err = Console(stderr=True, highlight=False)  # stderr: errors and warnings


def time_tally(results: dict[str, StudentResult]) -> str:
    """Where this run's submission times came from, and how many need review, in one line."""
    kinds = Counter()
    for r in results.values():
        if r.late is not None:
            kinds[r.late.source if not r.late.review else (r.time.kind if r.time else "missing")] += 1
    used = [f"{kinds[k]} {what}" for k, what in [(times.TIMES_FILE, "from --submission-times"),
            (times.FIRST_SEEN, "first seen by the grader by the due date"),
            (times.TIMESTAMP_TXT, "from timestamp.txt (trusted)")] if kinds[k]]  # fmt: skip
    review = [f"{kinds[k]} {what}" for k, what in [
        ("untrusted", "without a trusted time (--trust-student-timestamps would use their own timestamp.txt)"),
        ("missing", "without a time (no timestamp.txt, not a time, or no row in --submission-times)"),
        ("implausible", "with an implausible time (in the future, before the release, or after the grader saw it)"),
    ] if kinds[k]]  # fmt: skip
    needs = sum(kinds[k] for k in ("untrusted", "missing", "implausible"))
    line = ", ".join(used) or "none from a trusted source"
    if needs:
        line += f"; {needs} need review, scored as late when the grader first saw them: " + ", ".join(review)
    return line


def announce_isolation(requested: str, spec: GradingSpec) -> None:
    """Say how student code is isolated (``spec.isolation``, decided from ``requested``) and its memory bounded."""
    from autograder.sandbox.isolation import WARNING, memory_mechanism, probe

    mode = spec.isolation
    if mode == "namespaces":
        out.print("sandbox: user, mount, pid and network namespaces (no network, no grader files visible)")
    else:
        ok, reason = probe() if requested == "auto" else (False, "--isolation process was requested")
        err.print(f"[bold red]{WARNING.format(reason=reason)}[/]")
    out.print(memory_mechanism(mode, spec.limits), markup=False, highlight=False)


def duration(seconds: float) -> str:
    """A span of time as people say it: "45 s", "12 min", "2 h 05 min"."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds // 3600:.0f} h {seconds % 3600 / 60:02.0f} min"


def pace(elapsed: float, done: int, total: int | None) -> str:
    """The rate so far and what the rest would take at it: "1.4 s/submission, about 10 s left"."""
    if not done:
        return ""
    per = elapsed / done
    left = f", about {duration(per * (total - done))} left" if total and done < total else ""
    return f"{per:.1f} s/submission{left}"


class GradingProgress:
    """A rich bar (count, rate, time left) on a terminal; otherwise one plain line per graded
    student, so CI logs and batch jobs show progress. Student ids go through ``terminal``."""

    def __init__(self, console: Console, name: str):
        self.console, self.total, self.done, self.started = console, None, 0, time.monotonic()
        self.bar = None
        if console.is_terminal:
            self.bar = Progress(
                TextColumn("grading [bold]{task.fields[current]}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[pace]}"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self.task = self.bar.add_task("grading", total=None, current=name, pace="")

    def start(self, total: int) -> None:
        self.total, self.started = total, time.monotonic()
        if self.bar:
            self.bar.update(self.task, total=total)

    def step(self, student: str, result: StudentResult, reused: bool = False) -> None:
        """One more student done: graded now, or ``reused`` (unchanged since a saved grading: kept)."""
        self.done += 1
        now = pace(time.monotonic() - self.started, self.done, self.total)
        if self.bar:
            self.bar.update(self.task, advance=1, current=terminal(student, 80), pace=now)
            return
        score = f"{fmt(result.score)}/{fmt(result.max_score)}"
        self.console.print(
            f"{'unchanged' if reused else 'graded'} {self.done}/{self.total or '?'} {terminal(student, 80)} {score}"
            + (f" ({now})" if now else ""),
            soft_wrap=True,  # one line each, however narrow the log
        )

    def __enter__(self) -> GradingProgress:
        if self.bar:
            self.bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.bar:
            self.bar.stop()


def grade_and_report(
    assignment: Assignment,
    layout: Layout,
    options: Options,
    *,
    isolation: str = "auto",
    gradebook: str | None = None,
    csv: Path | None = None,
    json: Path | None = None,
    students: list[str] | None = None,
    due: datetime | None = None,
) -> int:
    """Grade through the pipeline (``pipeline.grade``, with the same keywords), with a progress bar; then the
    table and where everything went; the exit code (0, or 2 if some submission was bad input).

    ``isolation``: the sandbox asked for (``--isolation``), announced as decided in ``options.spec``.
    """
    if options.spec is None:  # (a caller that leaves it to the declaration)
        options = dataclasses.replace(options, spec=GradingSpec.of(assignment, isolation))
    spec = options.spec
    announce_isolation(isolation, spec)
    warning = check_cluster(options)  # refused or loaded before any submission is read
    if warning:  # tcp:// only with the explicit opt-in, loudly
        err.print(f"[bold red]{terminal(warning, 2000)}[/]")
    if options.dask:
        where = options.dask.removeprefix("local:")
        where = f"a LocalCluster of {where} worker processes" if options.dask.startswith("local:") else where
        out.print(Text(f"workers: the Dask cluster's ({where}); each checked to have the same course"))
    elif options.workers == "auto":
        workers, why = auto_workers(spec.limits.memory_bytes)
        options = dataclasses.replace(options, workers=workers)
        out.print(Text(f"workers: {options.workers} (auto: {why}; --workers N to choose)"))
    with GradingProgress(out, assignment.name) as progress:
        outcome = pipeline.grade(
            assignment,
            layout,
            options,
            gradebook=gradebook,
            csv=csv,
            json=json,
            students=students,
            due=due,
            on_start=progress.start,
            on_progress=progress.step,
        )
    report = outcome.report
    print_summary(assignment, report)
    json_note = f" and {outcome.json}" if outcome.json else ""
    kept_note = f" (and the rows of {outcome.kept} students graded before, kept)" if outcome.kept else ""
    out.print(Text(f"feedback:   {layout.feedback}/<student>/{assignment.name}/{assignment.name}.html"))
    out.print(Text(f"grades:     {outcome.csv}{kept_note}{json_note}"))
    out.print(Text(f"gradebook:  {shown(outcome.gradebook)}"))  # (never its password)
    out.print(Text(f"report:     {outcome.class_report or 'not written (see the warning above)'}"))
    if outcome.late is not None:
        late = sum(1 for r in report.results.values() if r.late is not None and (r.late.hours_late or 0) > 0)
        out.print(Text(f"due:        {outcome.late.due:%Y-%m-%d %H:%M} UTC (from {outcome.due_from}); "
                       f"{late} submitted late"))  # fmt: skip
        out.print(Text(f"times:      {time_tally(report.results)}"))
    if report.unstamped and len(report.unstamped) < len(report.results):
        # Some came through nbgrader's exchange and some didn't: release_feedback stops at the latter.
        names = ",".join(clean(s, 100) for s in sorted(report.unstamped))
        out.print(
            Text(
                f"note: {len(report.unstamped)} submissions lack nbgrader's timestamp.txt or submission_secret.txt "
                f"(not collected with nbgrader collect), so nbgrader release_feedback stops at them. Release the others "
                f"with: nbgrader release_feedback {assignment.name} --CourseDirectory.student_id_exclude={names}; "
                f"send these pages yourself."
            )
        )
    for student, error in sorted(report.failed.items()):  # the student's result says so too (0 points)
        err.print(
            f"[yellow]warning:[/] {terminal(error.splitlines()[0] if error else '', 500)}; "
            f"{terminal(student)} scored 0 and will be graded again on the next run (-v for details)"
        )
        logging.getLogger(__name__).info("%s", clean(error))
    return 2 if any(r.bad_input for r in report.results.values()) else 0


def print_summary(assignment: Assignment, report: Report) -> None:
    """The run's table: each student's score, percentage and first note (student text never read as markup)."""
    table = Table(title=f"{assignment.name}: {len(report.results)} graded", title_justify="left")
    table.add_column("Student")
    table.add_column("Score", justify="right")
    table.add_column("%", justify="right")
    table.add_column("Notes", overflow="fold", max_width=70)
    for student, r in sorted(report.results.items()):
        pct = 100 * r.score / r.max_score if r.max_score else 0.0
        errors = list(r.errors)
        if r.late is not None and r.late.review:  # flagged first: the score stands only until reviewed
            errors = [f"submission time needs review ({r.late.review})"] + [
                e for e in errors if e != review_message(r.late)
            ]  # fmt: skip
        note = clean(errors[0], 300) if errors else ""
        if len(errors) > 1:
            note += f" (+{len(errors) - 1} more)"
        pending = f" + up to {fmt(r.manual_pending)} manual" if r.needs_manual_grading else ""
        score = f"{fmt(r.score)}{pending} / {fmt(r.max_score)}"
        table.add_row(Text(clean(student, 200)), score, f"{pct:.0f}", Text(note))  # Text: never markup
    out.print(table)
    if report.reused:
        out.print(f"({len(report.reused)} unchanged since the last run, not graded again; --force re-grades)")


def print_export(done: Exported, gradescope: Path | None, gradescope_results: Path | None) -> None:
    """Where ``autograder export`` wrote what, and the students it could not export in full."""
    if done.canvas:
        out.print(Text(f"canvas:     {done.canvas} ({done.students} students)"))
    if gradescope:
        out.print(Text(f"gradescope: {gradescope}/<student>/results.json ({done.students} students)"))
    if gradescope_results:
        out.print(Text(f"gradescope: {gradescope_results}"))
    if done.without_detail and (gradescope or gradescope_results):
        names = ", ".join(clean(s, 100) for s in done.without_detail)
        out.print(Text(f"note: no saved results match the CSV for {names} (refused, or graded differently "
                       f"since): their results.json has the score only"))  # fmt: skip
    if done.without_score:
        names = ", ".join(clean(s, 100) for s in done.without_score)
        out.print(Text(f"note: no numeric score in the CSV for {names}: left blank"))
    if done.quoted:
        names = ", ".join(clean(s, 100) for s in done.quoted)
        out.print(Text(f"note: the ids {names} start with = + - @ or ', so their SIS Login ID cells have a "
                       f"leading ' (a spreadsheet would run them); Canvas won't match those rows by it"))  # fmt: skip
