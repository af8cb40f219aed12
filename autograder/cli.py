"""The ``autograder`` command: new, release, grade, export, report, demo. Each verb parses its
arguments and calls the API (``scaffold``, ``release``, ``pipeline``, ``exports``); what a run shows
on the terminal (progress, the summary table, where everything went) is ``console.py``'s.

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

from rich.text import Text

from autograder import console
from autograder.course import assignments
from autograder.course.assignments import Assignment, AssignmentError
from autograder.course.notebook import NotebookError
from autograder.course.release import ReleaseError
from autograder.grader.spec import GradingSpec
from autograder.run import pipeline, times
from autograder.run.layout import Layout
from autograder.run.options import BatchError, Options
from autograder.text import terminal


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


def limit_arg(text: str) -> float:
    """A limit given on the command line (seconds, GiB): a finite number above 0."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a limit: give a number above 0, e.g. 10 or 1.5")
    return value


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
    # the sandbox's limits over assignment.toml's [limits], by its keys (dest): grading_spec
    p.add_argument("--timeout", dest="call_timeout", type=limit_arg, metavar="S",
                   help="seconds per call into student code (default: 5)")  # fmt: skip
    p.add_argument("--cell-timeout", dest="cell_timeout", type=limit_arg, metavar="S",
                   help="seconds per notebook cell (default: 30)")  # fmt: skip
    p.add_argument("--memory-gib", dest="memory_gib", type=limit_arg, metavar="G",
                   help="memory limit per sandbox in GiB (default: 2)")  # fmt: skip
    p.add_argument(
        "--budget",
        dest="budget_seconds",
        type=limit_arg,
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
        console.out.print(Text(f"course: {root} (the autograder package is installed from {installed})"))
    return root


def cmd_new(args: argparse.Namespace) -> int:
    from autograder.authoring.scaffold import new

    root = course_of(args)
    for path in new(root, args.name):
        console.out.print(Text(f"wrote {path.relative_to(root)}"))
    console.out.print(f"next: autograder release {args.name}   (then see docs/authoring.md)")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from autograder.course.release import release_assignment

    root = course_of(args)
    names = args.assignments or assignments.available(root)
    for name in names:
        out = release_assignment(Assignment(name, root=root), say_points_written)
        console.out.print(Text(f"released {name} -> {out}"))
    return 0


def say_points_written(assignment: Assignment) -> None:
    """The points are declared in assignment.toml only: say when release wrote them into the source notebook."""
    console.out.print(Text(f"wrote the points of {assignment.declaration} into {assignment.source_notebook}"))


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
        raise BatchError(str(e)) from None
    return times.Sources(table, str(path or ""), getattr(args, "trust_student_timestamps", False),
                         getattr(args, "released", None))  # fmt: skip


def cmd_grade(args: argparse.Namespace) -> int:
    assignment = Assignment(args.assignment, root=course_of(args)).check()
    options = Options(
        workers=args.workers,
        force=args.force,
        dask=args.scheduler or (f"local:{args.dask_local}" if args.dask_local else None),
        tls_ca_file=args.tls_ca_file,
        tls_cert=args.tls_cert,
        tls_key=args.tls_key,
        insecure_scheduler=args.insecure_scheduler,
        times=time_sources(args),
        spec=grading_spec(assignment, args),  # (probes the sandbox: after the cheaper checks of the arguments)
    )
    layout = Layout.beside(args.submissions, args.feedback)
    return console.grade_and_report(
        assignment, layout, options, isolation=args.isolation, gradebook=args.gradebook, csv=args.csv,
        json=args.json, students=args.student, due=args.due,
    )  # fmt: skip


LIMIT_OPTIONS = ("call_timeout", "cell_timeout", "memory_gib", "budget_seconds")  # their dest: [limits] keys


def grading_spec(assignment: Assignment, args: argparse.Namespace) -> GradingSpec:
    """The run's grading spec, made once: assignment.toml's declaration, with the command line's limits
    (``LIMIT_OPTIONS``) over its ``[limits]`` and ``--isolation`` decided (probed) here."""
    limits = {key: getattr(args, key, None) for key in LIMIT_OPTIONS}
    return GradingSpec.of(assignment, getattr(args, "isolation", "auto"), limits)


def cmd_export(args: argparse.Namespace) -> int:
    from autograder.outputs.exports import ExportError, export

    if not (args.canvas or args.gradescope or args.gradescope_results):
        console.err.print("[red]error:[/] nothing to export: give --canvas PATH, --gradescope DIR or "
                          "--gradescope-results PATH")  # fmt: skip
        return 1
    name = Assignment(args.assignment, root=course_of(args)).check().name
    try:
        done = export(name, Layout.beside(args.submissions), grades_csv=args.csv, gradebook=args.gradebook,
                      canvas=args.canvas, canvas_id=args.canvas_id, gradescope=args.gradescope,
                      gradescope_results_path=args.gradescope_results, students=args.student)  # fmt: skip
    except ExportError as e:
        console.err.print(f"[red]error:[/] {terminal(e)}")
        return 1
    console.print_export(done, args.gradescope, args.gradescope_results)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from autograder.outputs.late import LatePolicy
    from autograder.outputs.report_due import gradebook_due

    assignment = Assignment(args.assignment, root=course_of(args)).check()
    layout = Layout.beside(args.submissions)
    if not layout.submitted.is_dir():
        raise BatchError(f"submissions folder {layout.submitted} does not exist; give the folder that was graded")
    due = args.due if args.due is not None else gradebook_due(assignment, layout, args.gradebook)
    late = LatePolicy.of(assignment.late(), due)
    path, report = pipeline.report(assignment, layout, late, time_sources(args), out=args.out,
                                   threshold=args.similarity)  # fmt: skip
    console.out.print(Text(f"report: {path} ({len(report.results)} students, {len(report.pairs)} pairs of similar "
                           f"answers at {report.threshold:.0%} or more)"))  # fmt: skip
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from autograder.authoring.demo import run_demo

    return run_demo(assignments.course_root(args.course), args.workers, args.force)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(message)s")
    commands = {"new": cmd_new, "release": cmd_release, "grade": cmd_grade, "export": cmd_export,
                "report": cmd_report, "demo": cmd_demo}  # fmt: skip
    try:
        return commands[args.command](args)
    except (AssignmentError, BatchError, NotebookError, ReleaseError, RuntimeError) as e:
        if args.verbose:
            raise
        console.err.print(f"[red]error:[/] {terminal(e)}")
        return 1
    except KeyboardInterrupt:
        console.err.print("interrupted: grades saved so far are kept; run the same command again to resume")
        return 130


if __name__ == "__main__":
    sys.exit(main())
