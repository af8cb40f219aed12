"""The ``autograder`` command: new, release, grade, demo. Each verb parses its arguments and
calls the API (``scaffold``, ``release``, ``pipeline``); this module only presents.

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
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from . import assignments, batch, pipeline, reports
from .assignments import Assignment, AssignmentError
from .notebook import NotebookError
from .release import ReleaseError
from .text import clean, terminal

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
        help="grade only this student (repeatable); the CSV and JSON keep everyone else's rows",
    )
    add_grading_options(p)

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


def add_grading_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=workers_arg, default="auto", help="submissions graded in parallel: N or auto "
                   "(default: auto, one per core as memory allows, printed)")  # fmt: skip
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
    from .scaffold import new

    root = course_of(args)
    for path in new(root, args.name):
        console.print(Text(f"wrote {path.relative_to(root)}"))
    console.print(f"next: autograder release {args.name}   (then see docs/authoring.md)")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from .release import generate

    root = course_of(args)
    names = args.assignments or assignments.available(root)
    for name in names:
        out = generate(Assignment(name, root=root))
        console.print(Text(f"released {name} -> {out}"))
    return 0


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
    )
    layout = batch.Layout.beside(args.submissions, args.feedback)
    return grade_and_report(assignment, layout, options, args)


def announce_isolation(requested: str, limits=None) -> str:
    """Say how student code is isolated and its memory bounded; return the mode in force."""
    from .sandbox.isolation import WARNING, isolation_mode, memory_mechanism, probe

    mode = isolation_mode(requested)
    if mode == "namespaces":
        console.print("sandbox: user, mount, pid and network namespaces (no network, no grader files visible)")
    else:
        ok, reason = probe() if requested == "auto" else (False, "--isolation process was requested")
        err_console.print(f"[bold red]{WARNING.format(reason=reason)}[/]")
    console.print(memory_mechanism(mode, limits), markup=False, highlight=False)
    return mode


def grade_and_report(
    assignment: Assignment, layout: batch.Layout, options: batch.Options, args: argparse.Namespace
) -> int:
    """Grade through the pipeline, with a progress bar; then the table and where everything went."""
    limits = assignment.limits(memory_bytes=options.memory_bytes())
    options.isolation = announce_isolation(options.isolation, limits)
    if options.workers == "auto":
        options.workers, why = batch.auto_workers(limits.memory_bytes)
        console.print(Text(f"workers: {options.workers} (auto: {why}; --workers N to choose)"))
    with Progress(
        TextColumn("grading [bold]{task.fields[current]}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("grading", total=None, current=assignment.name)
        outcome = pipeline.grade(
            assignment,
            layout,
            options,
            gradebook=getattr(args, "gradebook", None),
            csv=getattr(args, "csv", None),
            json=getattr(args, "json", None),
            students=getattr(args, "student", None),
            due=getattr(args, "due", None),
            on_start=lambda n: progress.update(task, total=n),
            on_progress=lambda s: progress.update(task, advance=1, current=terminal(s, 80)),
        )
    report = outcome.report
    print_summary(assignment, report)
    json_note = f" and {outcome.json}" if outcome.json else ""
    kept_note = f" (and the rows of {outcome.kept} students graded before, kept)" if outcome.kept else ""
    console.print(Text(f"feedback:   {layout.feedback}/<student>/{assignment.name}/{assignment.name}.html"))
    console.print(Text(f"grades:     {outcome.csv}{kept_note}{json_note}"))
    console.print(Text(f"gradebook:  {outcome.gradebook}"))
    if outcome.late is not None:
        late = sum(1 for r in report.results.values() if r.late is not None and (r.late.hours_late or 0) > 0)
        console.print(Text(f"due:        {outcome.late.due:%Y-%m-%d %H:%M} UTC (from {outcome.due_from}); "
                           f"{late} submitted late"))  # fmt: skip
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
        note = clean(r.errors[0], 300) if r.errors else ""
        if len(r.errors) > 1:
            note += f" (+{len(r.errors) - 1} more)"
        score = f"{reports.fmt(r.score)} / {reports.fmt(r.max_score)}"
        table.add_row(Text(clean(student, 200)), score, f"{pct:.0f}", Text(note))  # Text: never markup
    console.print(table)
    if report.reused:
        console.print(f"({len(report.reused)} unchanged since the last run, not graded again; --force re-grades)")


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(args, grade_and_report)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    commands = {"new": cmd_new, "release": cmd_release, "grade": cmd_grade, "demo": cmd_demo}
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
