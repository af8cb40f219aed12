"""The ``autograder`` command: new, release, grade, export, report, demo. Each verb parses its
arguments and calls the API (``scaffold``, ``release``, ``pipeline``, ``exports``,
``class_report``); this module only presents.

The course is the folder ``autograder`` runs in, or the nearest parent with
``autograder/graders/`` (the way git finds its root), or ``--course DIR``. When that is
not the folder the package is installed from, the command says which one it uses.

Exit codes: 0 all good; 1 the run itself failed (bad arguments, missing folder, unknown
assignment, a gradebook that can't be opened); 2 every student has a result but some
submissions were bad input (refused files, unreadable notebooks, missing or duplicated
answer cells, renamed functions, a grader process the submission brought down).

Student text reaches the terminal only through ``text.terminal`` or a rich ``Text``
(cleaned, never read as markup).
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from autograder.course import assignments
from autograder.course.assignments import Assignment, AssignmentError
from autograder.course.notebook import NotebookError
from autograder.course.release import ReleaseError
from autograder.outputs import gradebook, reports
from autograder.outputs.results import StudentResult, review_message
from autograder.run import batch, pipeline, times
from autograder.text import clean, terminal

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autograder",
        description="Release CNN course assignments and grade them in a sandbox.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="show more detail (and tracebacks)")
    parser.add_argument(
        "--course", type=Path, metavar="DIR", help="the course folder (default: this folder or the parent that has "
        "autograder/graders/)"
    )  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("new", help="scaffold a new assignment: notebook, declaration, one grader, catalogue")
    p.add_argument("name", metavar="NAME", help="the assignment's name, e.g. batch_norm")

    p = sub.add_parser("release", help="regenerate release/ from source/ with nbgrader")
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="assignments to release (default: all)")

    p = sub.add_parser("grade", help="grade every SUBMISSIONS/<student>/<ASSIGNMENT>/<ASSIGNMENT>.ipynb")
    p.add_argument("assignment", metavar="ASSIGNMENT", help="assignment name, e.g. cnn_step_by_step")
    p.add_argument(
        "submissions", metavar="SUBMISSIONS", type=Path, help="folder of student folders (nbgrader's submitted/)"
    )
    p.add_argument(
        "--student",
        action="append",
        metavar="NAME",
        help="grade only this student (repeatable; an id starting with - as --student=-x); the CSV and JSON keep "
        "everyone else's rows",
    )
    add_grading_options(p)

    p = sub.add_parser("export", help="export graded results for an LMS: a Canvas CSV, Gradescope results.json")
    p.add_argument("assignment", metavar="ASSIGNMENT", help="assignment name, e.g. cnn_step_by_step")
    p.add_argument("submissions", metavar="SUBMISSIONS", type=Path, help="the folder that was graded (submitted/)")
    p.add_argument("--canvas", type=Path, metavar="PATH", help="write a Canvas gradebook import CSV")
    p.add_argument("--canvas-id", metavar="ID", help="the Canvas assignment's id: the column is 'ASSIGNMENT (ID)'")
    p.add_argument("--gradescope", type=Path, metavar="DIR", help="write DIR/<student>/results.json (Gradescope)")
    p.add_argument("--gradescope-results", type=Path, metavar="PATH",
                   help="write one student's Gradescope results.json here (in a Gradescope autograder)")  # fmt: skip
    p.add_argument("--student", action="append", metavar="NAME", help="export only this student (repeatable)")
    p.add_argument("--csv", type=Path, metavar="PATH", help="the grades CSV (default: grades/ASSIGNMENT.csv)")
    p.add_argument("--gradebook", metavar="URL", help="gradebook for names and emails (default: gradebook.db)")

    p = sub.add_parser("report", help="write the class report: scores, checks, mistakes, time, errors, late work, "
                       "similar answers")  # fmt: skip
    p.add_argument("assignment", metavar="ASSIGNMENT", help="assignment name, e.g. cnn_step_by_step")
    p.add_argument("submissions", metavar="SUBMISSIONS", type=Path, help="the folder that was graded (submitted/)")
    p.add_argument("--out", type=Path, metavar="PATH", help="the page (default: reports/ASSIGNMENT.html beside "
                   "SUBMISSIONS)")  # fmt: skip
    p.add_argument("--similarity", type=similarity_arg, metavar="T", help="list answer cells sharing at least this "
                   "fraction of their code, 0 to 1 (default: [report] similarity in assignment.toml, "
                   "else 0.8)")  # fmt: skip
    p.add_argument("--due", type=due_arg, metavar="WHEN", help="due date for the late policy, as for grade "
                   "(default: the assignment's duedate in the gradebook)")  # fmt: skip
    p.add_argument("--gradebook", metavar="URL", help="gradebook to read the due date from (default: gradebook.db "
                   "beside SUBMISSIONS, if there is one)")  # fmt: skip
    add_time_options(p)

    p = sub.add_parser("demo", help="release and grade the bundled example class (examples/)")
    p.add_argument("--workers", type=workers_arg, default="auto", help="submissions graded in parallel: N or auto "
                   "(default: auto, from the cores and the memory)")  # fmt: skip
    p.add_argument("--force", action="store_true", help="re-grade even if saved results are up to date")
    return parser


def workers_arg(text: str) -> int | str:
    if text == "auto":
        return text
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers: give a whole number from 1, or auto")
    return n


# ISO-like, as --due takes it: "2026-12-01", "2026-12-01 17:00", "2026-12-01T17:00:00+01:00", "...Z"
_DUE = re.compile(r"\d{4}-\d\d-\d\d([ T]\d\d:\d\d(:\d\d)?)?(Z|[+-]\d\d:\d\d)?")


def due_arg(text: str) -> datetime:
    """``--due``: an ISO-like date and time, optionally with a UTC offset; naive means UTC. Naive UTC back."""
    try:
        if not _DUE.fullmatch(text.strip()):
            raise ValueError
        due = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f'{text!r} is not a due date: give one such as "2026-12-01 17:00" (UTC) or "2026-12-01T17:00+01:00"'
        ) from None
    return due.astimezone(UTC).replace(tzinfo=None) if due.tzinfo else due


def scheduler_arg(text: str) -> str:
    if "://" not in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not a Dask scheduler address: e.g. tls://HOST:8786")
    return text


def dask_local_arg(text: str) -> int:
    n = workers_arg(text)
    if n == "auto":
        raise argparse.ArgumentTypeError("--dask-local takes a number of worker processes, e.g. --dask-local 2")
    return n


def similarity_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a similarity threshold: give a fraction above 0, at most 1, e.g. 0.8"
        )
    return value


def add_grading_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=workers_arg, default="auto", help="submissions graded in parallel: N or auto "
                   "(default: auto, one per core as memory allows, printed)")  # fmt: skip
    dask = p.add_mutually_exclusive_group()
    dask.add_argument("--scheduler", type=scheduler_arg, metavar="ADDRESS", help="grade on this dask.distributed "
                      "cluster, e.g. tls://HOST:8786 with --tls-*; workers need the course at the same path "
                      "(docs/distributed.md)")  # fmt: skip
    dask.add_argument("--dask-local", type=dask_local_arg, metavar="N", help="grade on a Dask LocalCluster of N "
                      "worker processes started for this run (TLS with credentials made for the run, no dashboard)")  # fmt: skip
    p.add_argument("--tls-ca-file", type=Path, metavar="PEM", help="with --scheduler tls://: the course's CA "
                   "certificate, which signed the scheduler's and workers' (default: Dask's distributed.comm.tls.ca-file)")  # fmt: skip
    p.add_argument("--tls-cert", type=Path, metavar="PEM", help="with --scheduler tls://: this client's certificate, "
                   "signed by that CA (default: Dask's distributed.comm.tls.client.cert)")  # fmt: skip
    p.add_argument("--tls-key", type=Path, metavar="PEM", help="with --scheduler tls://: this client's private key, "
                   "mode 600 (default: in --tls-cert, or Dask's distributed.comm.tls.client.key)")  # fmt: skip
    p.add_argument("--insecure-scheduler", action="store_true", help="allow a --scheduler tcp:// without TLS: "
                   "anyone who can reach the cluster runs code as you and can change every grade; never on a shared "
                   "host or network")  # fmt: skip
    p.add_argument("--json", type=Path, metavar="PATH", help="also write all results as JSON (documented schema)")
    p.add_argument(
        "--feedback", type=Path, metavar="DIR", help="feedback folder (default: feedback/ beside SUBMISSIONS)"
    )
    p.add_argument(
        "--csv", type=Path, metavar="PATH", help="grades CSV (default: grades/ASSIGNMENT.csv beside SUBMISSIONS)"
    )
    p.add_argument(
        "--gradebook", metavar="URL", help="nbgrader gradebook URL (default: sqlite gradebook.db beside SUBMISSIONS)"
    )
    p.add_argument("--force", action="store_true", help="re-grade even if saved results are up to date")
    p.add_argument(
        "--due",
        type=due_arg,
        metavar="WHEN",
        help='due date for the late policy, e.g. "2026-12-01 17:00" (UTC unless it ends in +HH:MM or Z); '
        "default: the assignment's duedate in the gradebook. Changing it needs no re-grading",
    )
    add_time_options(p)
    p.add_argument("--timeout", type=float, metavar="S", help="seconds per call into student code (default: 5)")
    p.add_argument("--cell-timeout", type=float, metavar="S", help="seconds per notebook cell (default: 30)")
    p.add_argument("--memory-gib", type=float, metavar="G", help="memory limit per sandbox in GiB (default: 2)")
    p.add_argument(
        "--budget",
        type=float,
        metavar="S",
        help="seconds for all of one submission's code together (default: the assignment's budget_seconds)",
    )
    p.add_argument(
        "--isolation",
        choices=("auto", "namespaces", "process"),
        default="auto",
        help="namespaces: require the full sandbox; process: limits only; auto: best available (default)",
    )


def course_of(args: argparse.Namespace) -> Path:
    """The course this command works on; say so when it isn't the package's own folder."""
    root = assignments.course_root(args.course)
    installed = assignments.PACKAGE_DIR.parent
    if root != installed:
        console.print(Text(f"course: {root} (the autograder package is installed from {installed})"))
    return root


def cmd_new(args: argparse.Namespace) -> int:
    from autograder.authoring.scaffold import new

    root = course_of(args)
    for path in new(root, args.name):
        console.print(Text(f"wrote {path.relative_to(root)}"))
    console.print(f"next: autograder release {args.name}   (then see docs/authoring.md)")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from autograder.course.release import generate

    root = course_of(args)
    names = args.assignments or assignments.available(root)
    for name in names:
        out = generate(Assignment(name, root=root))
        console.print(Text(f"released {name} -> {out}"))
    return 0


def add_time_options(p: argparse.ArgumentParser) -> None:
    """Where submission times come from (times.py): the student's timestamp.txt is trusted only if asked."""
    p.add_argument("--submission-times", type=Path, metavar="CSV", help="the submission times to use: a CSV with "
                   "the columns student and timestamp (e.g. from your LMS); a student without a row needs review")  # fmt: skip
    p.add_argument("--trust-student-timestamps", action="store_true", help="use the time in each student's own "
                   "timestamp.txt (nbgrader submit writes it as the student, so they can change it) when it is "
                   "plausible; without this, only --submission-times and the grader's own record count")  # fmt: skip
    p.add_argument("--released", type=released_arg, metavar="WHEN", help="when the assignment was released: an earlier "
                   "submission time is implausible (default: a year before the due date)")  # fmt: skip


def released_arg(text: str) -> datetime:
    """``--released``: a time as ``--due`` takes it."""
    try:
        return due_arg(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f'{text!r} is not a release time: give one such as "2026-11-01 09:00" (UTC) or "2026-11-01T10:00+01:00"'
        ) from None


def time_sources(args: argparse.Namespace) -> times.Sources:
    """The time options as ``times.Sources``; the times file read now, before any grading (BatchError if bad)."""
    path = getattr(args, "submission_times", None)
    try:
        table = times.read_times_file(path) if path is not None else None
    except times.TimesError as e:
        raise batch.BatchError(str(e)) from None
    return times.Sources(table, str(path or ""), getattr(args, "trust_student_timestamps", False),
                         getattr(args, "released", None))  # fmt: skip


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


def cmd_grade(args: argparse.Namespace) -> int:
    assignment = Assignment(args.assignment, root=course_of(args)).check()
    options = batch.Options(
        workers=args.workers,
        isolation=args.isolation,
        call_timeout=args.timeout,
        cell_timeout=args.cell_timeout,
        memory_gib=args.memory_gib,
        budget=args.budget,
        force=args.force,
        dask=args.scheduler or (f"local:{args.dask_local}" if args.dask_local else None),
        tls_ca_file=args.tls_ca_file,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        insecure_scheduler=args.insecure_scheduler,
        times=time_sources(args),
    )
    layout = batch.Layout.beside(args.submissions, args.feedback)
    return grade_and_report(assignment, layout, options, args)


def announce_isolation(requested: str, limits=None) -> str:
    """Say how student code is isolated and its memory bounded; return the mode in force."""
    from autograder.sandbox.isolation import WARNING, isolation_mode, memory_mechanism, probe

    mode = isolation_mode(requested)
    if mode == "namespaces":
        console.print("sandbox: user, mount, pid and network namespaces (no network, no grader files visible)")
    else:
        ok, reason = probe() if requested == "auto" else (False, "--isolation process was requested")
        err_console.print(f"[bold red]{WARNING.format(reason=reason)}[/]")
    console.print(memory_mechanism(mode, limits), markup=False, highlight=False)
    return mode


def duration(seconds: float) -> str:
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

    def step(self, student: str, result: StudentResult) -> None:
        self.done += 1
        now = pace(time.monotonic() - self.started, self.done, self.total)
        if self.bar:
            self.bar.update(self.task, advance=1, current=terminal(student, 80), pace=now)
            return
        score = f"{reports.fmt(result.score)}/{reports.fmt(result.max_score)}"
        self.console.print(
            f"graded {self.done}/{self.total or '?'} {terminal(student, 80)} {score}" + (f" ({now})" if now else ""),
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
    assignment: Assignment, layout: batch.Layout, options: batch.Options, args: argparse.Namespace
) -> int:
    """Grade through the pipeline, with a progress bar; then the table and where everything went."""
    limits = assignment.limits(memory_bytes=options.memory_bytes())
    options.isolation = announce_isolation(options.isolation, limits)
    if options.dask and not options.dask.startswith("local:"):
        from autograder.run.dask_security import INSECURE_WARNING, client_security

        # refused or loaded before any submission is read; tcp:// only with the explicit opt-in, loudly
        if client_security(options.dask, options.tls_ca_file, options.tls_cert, options.tls_key,
                           options.insecure_scheduler) is None:  # fmt: skip
            err_console.print(f"[bold red]{terminal(INSECURE_WARNING.format(address=options.dask), 2000)}[/]")
    elif options.tls_ca_file or options.tls_cert or options.tls_key or options.insecure_scheduler:
        raise batch.BatchError("--tls-ca-file, --tls-cert, --tls-key and --insecure-scheduler go with --scheduler "
                               "ADDRESS (--dask-local makes credentials of its own); drop them or add --scheduler")  # fmt: skip
    if options.dask:
        where = options.dask.removeprefix("local:")
        where = f"a LocalCluster of {where} worker processes" if options.dask.startswith("local:") else where
        console.print(Text(f"workers: the Dask cluster's ({where}); each checked to have the same course"))
    elif options.workers == "auto":
        options.workers, why = batch.auto_workers(limits.memory_bytes)
        console.print(Text(f"workers: {options.workers} (auto: {why}; --workers N to choose)"))
    with GradingProgress(console, assignment.name) as progress:
        outcome = pipeline.grade(
            assignment,
            layout,
            options,
            gradebook=getattr(args, "gradebook", None),
            csv=getattr(args, "csv", None),
            json=getattr(args, "json", None),
            students=getattr(args, "student", None),
            due=getattr(args, "due", None),
            on_start=progress.start,
            on_progress=progress.step,
        )
    report = outcome.report
    print_summary(assignment, report)
    json_note = f" and {outcome.json}" if outcome.json else ""
    kept_note = f" (and the rows of {outcome.kept} students graded before, kept)" if outcome.kept else ""
    console.print(Text(f"feedback:   {layout.feedback}/<student>/{assignment.name}/{assignment.name}.html"))
    console.print(Text(f"grades:     {outcome.csv}{kept_note}{json_note}"))
    console.print(Text(f"gradebook:  {gradebook.shown(outcome.gradebook)}"))  # (never its password)
    console.print(Text(f"report:     {outcome.class_report or 'not written (see the warning above)'}"))
    if outcome.late is not None:
        late = sum(1 for r in report.results.values() if r.late is not None and (r.late.hours_late or 0) > 0)
        console.print(Text(f"due:        {outcome.late.due:%Y-%m-%d %H:%M} UTC (from {outcome.due_from}); "
                           f"{late} submitted late"))  # fmt: skip
        console.print(Text(f"times:      {time_tally(report.results)}"))
    if report.unstamped and len(report.unstamped) < len(report.results):
        # Some came through nbgrader's exchange and some didn't: release_feedback stops at the latter.
        names = ",".join(clean(s, 100) for s in sorted(report.unstamped))
        console.print(
            Text(
                f"note: {len(report.unstamped)} submissions lack nbgrader's timestamp.txt or submission_secret.txt "
                f"(not collected with nbgrader collect), so nbgrader release_feedback stops at them. Release the others "
                f"with: nbgrader release_feedback {assignment.name} --CourseDirectory.student_id_exclude={names}; "
                f"send these pages yourself."
            )
        )
    for student, error in sorted(report.failed.items()):  # the student's result says so too (0 points)
        err_console.print(
            f"[yellow]warning:[/] {terminal(error.splitlines()[0] if error else '', 500)}; "
            f"{terminal(student)} scored 0 and will be graded again on the next run (-v for details)"
        )
        logging.getLogger(__name__).info("%s", clean(error))
    return 2 if any(r.bad_input for r in report.results.values()) else 0


def print_summary(assignment: Assignment, report: batch.Report) -> None:
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
        pending = f" + up to {reports.fmt(r.manual_pending)} manual" if r.needs_manual_grading else ""
        score = f"{reports.fmt(r.score)}{pending} / {reports.fmt(r.max_score)}"
        table.add_row(Text(clean(student, 200)), score, f"{pct:.0f}", Text(note))  # Text: never markup
    console.print(table)
    if report.reused:
        console.print(f"({len(report.reused)} unchanged since the last run, not graded again; --force re-grades)")


def cmd_export(args: argparse.Namespace) -> int:
    from autograder.outputs.exports import ExportError, export

    if not (args.canvas or args.gradescope or args.gradescope_results):
        err_console.print("[red]error:[/] nothing to export: give --canvas PATH, --gradescope DIR or "
                          "--gradescope-results PATH")  # fmt: skip
        return 1
    name = Assignment(args.assignment, root=course_of(args)).check().name
    try:
        done = export(name, batch.Layout.beside(args.submissions), grades_csv=args.csv, gradebook=args.gradebook,
                      canvas=args.canvas, canvas_id=args.canvas_id, gradescope=args.gradescope,
                      gradescope_results_path=args.gradescope_results, students=args.student)  # fmt: skip
    except ExportError as e:
        err_console.print(f"[red]error:[/] {terminal(e)}")
        return 1
    if done.canvas:
        console.print(Text(f"canvas:     {done.canvas} ({done.students} students)"))
    if args.gradescope:
        console.print(Text(f"gradescope: {args.gradescope}/<student>/results.json ({done.students} students)"))
    if args.gradescope_results:
        console.print(Text(f"gradescope: {args.gradescope_results}"))
    if done.without_detail and (args.gradescope or args.gradescope_results):
        names = ", ".join(clean(s, 100) for s in done.without_detail)
        console.print(Text(f"note: no saved results match the CSV for {names} (refused, or graded differently "
                           f"since): their results.json has the score only"))  # fmt: skip
    if done.without_score:
        names = ", ".join(clean(s, 100) for s in done.without_score)
        console.print(Text(f"note: no numeric score in the CSV for {names}: left blank"))
    if done.quoted:
        names = ", ".join(clean(s, 100) for s in done.quoted)
        console.print(Text(f"note: the ids {names} start with = + - @ or ', so their SIS Login ID cells have a "
                           f"leading ' (a spreadsheet would run them); Canvas won't match those rows by it"))  # fmt: skip
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from autograder.outputs import class_report
    from autograder.outputs.results import LatePolicy

    assignment = Assignment(args.assignment, root=course_of(args)).check()
    layout = batch.Layout.beside(args.submissions)
    if not layout.submitted.is_dir():
        raise batch.BatchError(f"submissions folder {layout.submitted} does not exist; give the folder that was graded")
    due = args.due if args.due is not None else class_report.gradebook_due(assignment, layout, args.gradebook)
    late = LatePolicy.of(assignment.late(), due)
    path, report = class_report.write(assignment, layout, args.out, late=late, threshold=args.similarity,
                                      sources=time_sources(args))  # fmt: skip
    console.print(Text(f"report: {path} ({len(report.results)} students, {len(report.pairs)} pairs of similar "
                       f"answers at {report.threshold:.0%} or more)"))  # fmt: skip
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from autograder.authoring.demo import run_demo

    return run_demo(args, grade_and_report)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    commands = {"new": cmd_new, "release": cmd_release, "grade": cmd_grade, "export": cmd_export,
                "report": cmd_report, "demo": cmd_demo}  # fmt: skip
    try:
        return commands[args.command](args)
    except (AssignmentError, batch.BatchError, NotebookError, ReleaseError, RuntimeError) as e:
        if args.verbose:
            raise
        err_console.print(f"[red]error:[/] {terminal(e)}")
        return 1
    except KeyboardInterrupt:
        err_console.print("interrupted: grades saved so far are kept; run the same command again to resume")
        return 130


if __name__ == "__main__":
    sys.exit(main())
