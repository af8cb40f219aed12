"""The class report: one self-contained HTML page per assignment, for the instructor.

    gather   every student's result, from this run (``current``) or the saved
             autograded/<student>/<assignment>/results.json, with the late policy applied
    located  each graded student's code per graded function, as the graders called it: the
             definition in force once the cells that ran had run (definitions.py), read from
             the autograded notebook (the copy graded) and the results' ``cells_run``
    pairs    similar code per function (similarity.py), against the release's starter code
    render   statistics, three plots (matplotlib, as SVG images in data: URIs) and tables,
             through templates/class_report.html.j2 (jinja2, autoescape on)

``autograder report`` writes it, and so does every ``autograder grade`` run (pipeline.py),
by default to ``reports/<assignment>.html`` in the course folder (beside ``grades/``).

Decisions, and why:

- **The whole class.** The report covers every student with saved results or a
  submission, not only those graded by this run: the students of ``submitted/`` and of
  ``autograded/`` (a run on a folder with only some students keeps the others' results
  there). Saved results are shown as saved, without re-checking their fingerprint
  (that needs the run's command-line limits); ``autograder grade`` brings them up to date.
- **Late work as in grading.** Saved results are raw. Each is given its submission time
  as ``batch.grade_class`` gives it (``times.resolve``: the times file, the grader's ledger of
  when it first saw the notebook, and nbgrader's ``timestamp.txt`` beside the submission,
  else the copy beside the autograded notebook, only if trusted) and the run's ``LatePolicy``
  is applied; ``autograder report`` takes ``--due`` or the gradebook's due date, and the
  time options, as ``grade`` does. So the report's scores are the CSV's.
- **Statistics over graded work.** The histogram counts every student (a refused notebook
  scores 0, as in the CSV), but the per-function and per-check figures and the common
  mistakes count only submissions the graders ran: a refused notebook's "not graded"
  would otherwise top every list. Students with a submission but no saved results (not
  graded yet, or their grader process failed) are listed apart, with what intake says.
- **Bounded.** Locating and comparing share one time budget for the class
  (``bounds.Bounds.similarity_seconds``); each notebook's reading and each student's code
  are capped (``Bounds``), and the page shows at most ``Bounds.report_errors`` problems per
  student, each at most ``Bounds.report_error_bytes``. A student past a cap is listed under
  "Similar answers" with the reason; the others are still compared.
- **Hostile text.** Student ids, messages, errors and code reach the page only through
  jinja2's autoescape (already cleaned by ``results.StudentResult.parse``). The plots hold
  no student text (scores, seconds, function names) and are embedded as ``<img>`` with a
  ``data:`` URI, never as markup. A Content-Security-Policy meta tag forbids every script,
  so even a mistake in escaping could not run one; the page needs no script.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import os
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import jinja2

from autograder.course import definitions
from autograder.course.assignments import Assignment
from autograder.course.notebook import NotebookError, cell_role, grade_id_of, plan_submission, read_notebook
from autograder.outputs import similarity
from autograder.outputs.bounds import BOUNDS, Bounds
from autograder.outputs.reports import atomic_write, fmt
from autograder.outputs.results import NOT_GRADED, LatePolicy, ManualGrades, StudentResult, duration
from autograder.run import batch, intake, times
from autograder.text import CODE_LIMIT, TRUNCATED, clean, clean_id, clean_messages

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,  # student ids, messages, errors and code are untrusted text
    trim_blocks=True,
    lstrip_blocks=True,
)
TOP_MISTAKES = 25  # most common failure messages listed
SLOWEST = 10  # submissions listed by time


def default_path(assignment: Assignment, layout: batch.Layout) -> Path:
    """``reports/<assignment>.html`` in the course folder (the parent of SUBMISSIONS, like ``grades/``)."""
    return layout.submitted.parent / "reports" / f"{assignment.name}.html"


@dataclass
class ClassReport:
    """What the page shows, before it is rendered."""

    assignment: Assignment
    results: dict[str, StudentResult]  # student -> final result (late policy applied)
    missing: dict[str, str] = field(default_factory=dict)  # student with a submission but no results -> why
    pairs: list[similarity.Pair] = field(default_factory=list)
    answers: dict[str, dict[str, str]] = field(default_factory=dict)  # student -> grade_id -> the code compared
    threshold: float = similarity.DEFAULT_THRESHOLD
    late: LatePolicy | None = None
    # (student, grade_id) -> where the code compared was: "cell 45, outside its answer cell" (definitions.py)
    where: dict[tuple[str, str], str] = field(default_factory=dict)
    # (student, grade_id or "") -> why it was not compared, or what else to know about it
    similarity_notes: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    stopped: str = ""  # why locating or comparing stopped before the end ("" if it didn't)
    bounds: Bounds = BOUNDS


# --- gathering --------------------------------------------------------------------------


def saved_students(layout: batch.Layout, assignment: str) -> list[str]:
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


def read_saved(path: Path, student: str, assignment: str) -> StudentResult | None:
    """The result saved in ``path`` (batch.save's layout), whatever its fingerprint; None if unreadable."""
    try:
        saved = json.loads(path.read_bytes())
        return StudentResult.parse(saved.get("result") if isinstance(saved, dict) else None, student, assignment)
    except (OSError, ValueError, RecursionError):
        return None


def _why_missing(assignment: Assignment, layout: batch.Layout, student: str, folder: str, graded: list[str]) -> str:
    """For a submission without saved results: intake's refusal if it refuses it, else "not graded yet"."""
    with tempfile.TemporaryDirectory(prefix="autograder-report-") as private:
        try:
            taken = intake.take(layout.submitted, folder, assignment.name, Path(private))
        except intake.Refused as e:
            return str(e)
        problem = batch.wrong_assignment(assignment, graded, student, taken)
    return problem or ""


def gather(
    assignment: Assignment,
    layout: batch.Layout,
    *,
    late: LatePolicy | None = None,
    manual: ManualGrades | None = None,
    current: Mapping[str, StudentResult] | None = None,
    sources: times.Sources | None = None,
) -> ClassReport:
    """Every student's result: ``current`` (this run's, finished) first, else the saved one, finished here
    (``sources``: where submission times come from, as for grading)."""
    name = assignment.name
    current = dict(current or {})
    submitted = batch.discover(layout.submitted, name) if layout.submitted.is_dir() else {}
    students = sorted(set(current) | set(submitted) | set(saved_students(layout, name)))
    results: dict[str, StudentResult] = {}
    refused: dict[str, str] = {}
    missing: dict[str, str] = {}
    graded = assignment.graded_ids()
    for student in students:
        if student in current:
            results[student] = current[student]
            continue
        result = read_saved(layout.results_file(student, name), student, name)
        if result is None:
            why = _why_missing(assignment, layout, student, submitted[student], graded) if student in submitted else ""
            if why:
                refused[student] = why
            else:
                missing[student] = (
                    "no saved results: not graded yet, or its grader process failed; run autograder grade"
                )
            continue
        # finished as batch.grade_class finishes a result: the submission time, then the late policy
        if student in submitted:
            stamp = intake.exchange_files(layout.submitted, submitted[student], name)
        else:
            stamp = intake.exchange_files(layout.autograded, student, name)  # the copy beside the autograded notebook
        seen = times.latest_sighting(layout.autograded / student / name / times.LEDGER)
        due = late.due if late is not None else None
        time = times.resolve(student, stamp.timestamp, stamp.timestamp_problem, seen, sources or times.Sources(), due)
        result = replace(result, errors=(*result.errors, *stamp.notes), timestamp=time.when, time=time)
        if manual is not None:  # as batch.grade_class: manual points first, then the late policy
            result = manual.apply(result)
        results[student] = late.apply(result) if late is not None else result
    if refused:
        skeleton = batch.skeleton_of(assignment, results)
        for student, why in refused.items():
            results[student] = StudentResult.unscored(skeleton, student, name, why)
    return ClassReport(assignment, results, missing, late=late)


def located_of(
    path: Path, release: dict, result: StudentResult, graded: list[str], bounds: Bounds, safe: frozenset[str]
) -> dict[str, definitions.Located]:
    """grade_id -> where its code was when the graders called it, from a graded notebook and its results
    (which cells ran: ``cells_run``); NotebookError if the notebook can't be read."""
    nb = intake.read_submission(path)
    ran = definitions.parse_ran(result.extra.get("cells_run"))
    return definitions.locate(plan_submission(nb, release).cells, ran, graded, bounds, safe)


def add_similarity(report: ClassReport, layout: batch.Layout, threshold: float, bounds: Bounds = BOUNDS) -> None:
    """Each graded student's code as the graders called it (from their autograded notebook), and the
    similar pairs among them; within ``bounds``: what is left out is in ``similarity_notes`` or ``stopped``."""
    name = report.assignment.name
    release = read_notebook(report.assignment.release_notebook)
    starter = {gid: c["source"] for c in release["cells"] if cell_role(c) == "answer" and (gid := grade_id_of(c))}
    graded = [gid for gid in report.assignment.graded_ids() if gid in starter]
    safe = definitions.safe_modules(report.assignment)
    deadline = time.monotonic() + bounds.similarity_seconds
    report.threshold, report.bounds = threshold, bounds
    notes = report.similarity_notes
    students = [s for s, r in sorted(report.results.items()) if ran(r)]
    for i, student in enumerate(students):
        if time.monotonic() > deadline:
            report.stopped = f"{len(students) - i} of {len(students)} graded students were not read"
            break
        path = layout.autograded / student / name / f"{name}.ipynb"
        try:
            located = located_of(path, release, report.results[student], graded, bounds, safe)
        except NotebookError as e:
            notes[student, ""] = [f"not compared: its autograded notebook could not be read ({clean(str(e), 300)})"]
            continue
        # kept: the code to compare (within the cap) and where it was; never the parsed cells, which
        # take many times their size in memory
        report.answers[student] = {}
        for gid, loc in located.items():
            code = loc.code()
            if why := similarity.too_large(code, bounds):
                notes.setdefault((student, gid), []).append(why)
            elif code:
                report.answers[student][gid] = code
                report.where[student, gid] = _where(loc)
        of = {gid: loc.notes() for gid, loc in located.items()}
        every = [n for n in next(iter(of.values()), []) if all(n in ns for ns in of.values())]
        if every:  # (a cell too large to read concerns every function: said once, for the notebook)
            notes[student, ""] = every
        for gid, ns in of.items():
            if kept := [n for n in ns if n not in every]:
                notes[student, gid] = kept + notes.get((student, gid), [])
    comparison = similarity.compare(report.answers, starter, threshold, bounds, deadline)
    report.pairs = comparison.pairs
    for key, why in comparison.skipped.items():
        notes.setdefault(key, []).append(why)
    if comparison.stopped and not report.stopped:
        report.stopped = comparison.stopped


def ran(result: StudentResult) -> bool:
    """Whether the graders ran this submission (not one scored 0 unseen: refused, or its grader process failed)."""
    tests = [t for f in result.functions.values() for t in f.tests]
    if not tests:  # (a skeleton without tests: the graders could not even be listed)
        return not result.bad_input
    return any(t.passed or t.message != NOT_GRADED for t in tests)


# --- the page ---------------------------------------------------------------------------


def _svg(figure) -> str:
    """A matplotlib figure as a ``data:`` URI of its SVG (text drawn as paths: no fonts needed)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(width: float = 6.4, height: float = 2.8):
    # matplotlib.figure.Figure, not pyplot: no global state, no GUI backend (renders with Agg/SVG only)
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    return figure, figure.subplots()


def histogram_plot(percents: list[float]) -> str:
    figure, ax = _figure()
    ax.hist(percents, bins=list(range(0, 105, 5)), color="#3b6ea8", edgecolor="white")
    ax.set_xlim(0, 100)
    ax.set_xlabel("score (% of the maximum)")
    ax.set_ylabel("students")
    ax.yaxis.get_major_locator().set_params(integer=True)
    return _svg(figure)


def functions_plot(rows: list[dict]) -> str:
    figure, ax = _figure(6.4, 0.4 * len(rows) + 1)
    names = [r["name"] for r in rows][::-1]
    ax.barh(names, [r["mean_percent"] for r in rows][::-1], color="#3b6ea8")
    ax.set_xlim(0, 100)
    ax.set_xlabel("mean score (% of the function's points)")
    return _svg(figure)


def times_plot(seconds: list[float]) -> str:
    figure, ax = _figure()
    ax.hist(seconds, bins=min(20, max(5, len(seconds))), color="#8a5a9e", edgecolor="white")
    ax.set_xlabel("seconds to grade one submission")
    ax.set_ylabel("submissions")
    ax.yaxis.get_major_locator().set_params(integer=True)
    return _svg(figure)


def _seconds(result: StudentResult, key: str) -> float | None:
    value = result.extra.get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def context(report: ClassReport) -> dict:
    """Everything the template shows, computed (the template only lays it out)."""
    results = report.results
    graded = {s: r for s, r in results.items() if ran(r)}
    percents = [100 * r.score / r.max_score if r.max_score else 0.0 for r in results.values()]
    functions, checks = [], []
    points = report.assignment.points()
    for gid in report.assignment.graded_ids():
        of = [r.functions[gid] for r in graded.values() if gid in r.functions]
        max_score = of[0].max_score if of else points.get(gid, 0.0)
        mean = statistics.fmean(f.score for f in of) if of else 0.0
        functions.append({
            "name": gid,
            "max_score": max_score,
            "mean": mean,
            "mean_percent": 100 * mean / max_score if max_score else 0.0,
            "failure_rate": sum(f.lost for f in of) / len(of) if of else 0.0,
            "count": len(of),
        })  # fmt: skip
        by_check: dict[str, list] = {}
        for f in of:
            for t in f.tests:
                by_check.setdefault(t.name, []).append(t)
        for test_name, tests in by_check.items():
            failed = sum(not t.passed for t in tests)
            checks.append({
                "function": gid,
                "name": test_name,
                "description": next((t.description for t in tests if t.description), ""),
                "points": tests[0].points,
                "mean": statistics.fmean(t.points if t.passed else 0.0 for t in tests),
                "failure_rate": failed / len(tests),
                "failed": failed,
                "count": len(tests),
            })  # fmt: skip
    mistakes: Counter = Counter()
    students_with: dict[tuple[str, str], set] = {}
    for student, r in graded.items():
        for gid, f in r.functions.items():
            for t in f.tests:
                if not t.passed:
                    mistakes[gid, t.message] += 1
                    students_with.setdefault((gid, t.message), set()).add(student)
    common = [{"function": gid, "message": message, "count": n, "students": len(students_with[gid, message])}
              for (gid, message), n in mistakes.most_common(TOP_MISTAKES)]  # fmt: skip
    timed = {
        s: (sec, _seconds(r, "student_seconds"))
        for s, r in results.items()
        if (sec := _seconds(r, "seconds")) is not None
    }
    slowest = sorted(timed.items(), key=lambda kv: (-kv[1][0], kv[0]))[:SLOWEST]
    errored = [{"student": s, "score": r.score, "max_score": r.max_score, "bad_input": r.bad_input,
                "errors": _shown_errors(r.errors, report.bounds), "graded": ran(r)}
               for s, r in sorted(results.items()) if r.errors or r.bad_input]  # fmt: skip
    late_rows = [
        {"student": s, "submitted": r.late.at.strftime("%Y-%m-%d %H:%M UTC") if r.late.at else "",
         "late_by": duration(r.late.hours_late) if r.late.hours_late is not None else "?",
         "raw": r.late.raw_score, "penalty": r.late.penalty,
         "score": r.score, "max_score": r.max_score, "what": r.late.describe()}
        for s, r in sorted(results.items()) if r.late is not None and (r.late.hours_late or r.late.review)
    ]  # fmt: skip
    review = sorted(s for s, r in results.items() if r.late is not None and r.late.review)
    listed, unlisted = [], Counter()
    for p in report.pairs:  # (sorted by function, then most similar first)
        shown = report.bounds.pairs_listed
        if sum(1 for q in listed[-shown:] if q.function == p.function) < shown:
            listed.append(p)
        else:
            unlisted[p.function] += 1
    shown = {(p.first, p.function) for p in listed} | {(p.second, p.function) for p in listed}
    code = {key: clean(report.answers.get(key[0], {}).get(key[1], ""), CODE_LIMIT) for key in shown}
    where = {key: report.where.get(key, "") for key in shown}
    similarity_notes = [
        {"student": student, "function": function, "notes": clean_messages(notes, report.bounds.report_error_bytes)}
        for (student, function), notes in sorted(report.similarity_notes.items())  # (notes quote module names)
    ]
    scores = [r.score for r in results.values()]
    max_scores = {r.max_score for r in results.values()}
    return {
        "assignment": report.assignment.name,
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "count": len(results),
        "graded_count": len(graded),
        "max_score": max(max_scores) if max_scores else 0.0,
        "mean_score": statistics.fmean(scores) if scores else 0.0,
        "median_score": statistics.median(scores) if scores else 0.0,
        "mean_percent": statistics.fmean(percents) if percents else 0.0,
        "histogram": histogram_plot(percents) if results else "",
        "functions": functions,
        "functions_plot": functions_plot(functions) if graded and functions else "",
        "checks": checks,
        "mistakes": common,
        "mistake_total": sum(mistakes.values()),
        "times_plot": times_plot([t for t, _ in timed.values()]) if timed else "",
        "time_total": sum(t for t, _ in timed.values()),
        "time_mean": statistics.fmean(t for t, _ in timed.values()) if timed else 0.0,
        "time_median": statistics.median(t for t, _ in timed.values()) if timed else 0.0,
        "timed_count": len(timed),
        "slowest": [{"student": s, "seconds": t, "student_seconds": st} for s, (t, st) in slowest],
        "errored": errored,
        "missing": sorted(report.missing.items()),
        "due": f"{report.late.due:%Y-%m-%d %H:%M} UTC" if report.late else "",
        "late": late_rows,
        "review": review,
        "threshold": report.threshold,
        "min_tokens": similarity.MIN_TOKENS,
        "pairs": listed,
        "unlisted": sorted(unlisted.items()),
        "code": code,
        "where": where,
        "similarity_notes": similarity_notes,
        "stopped": report.stopped,
        "compare_bytes": report.bounds.compare_bytes,
        "similarity_seconds": report.bounds.similarity_seconds,
        "fmt": fmt,
        "pct": lambda x: f"{100 * x:.0f}%",
    }


def _shown_errors(errors: tuple[str, ...], bounds: Bounds) -> list[str]:
    """A student's problems as the page lists them (50 of 10 KB each would be 500 KB a student):
    at most ``report_errors``, each at most ``report_error_bytes``; the rest counted."""
    shown = clean_messages(list(errors), bounds.report_error_bytes, bounds.report_errors)
    if len(errors) > bounds.report_errors:  # (clean_messages's last line counts the rest)
        shown[-1] = f"{TRUNCATED}: {len(errors) - bounds.report_errors:,} more, all on the student's feedback page"
    return shown


def _where(located: definitions.Located) -> str:
    """Where the code compared came from, as a pair's details say it: "cell 12, outside its answer cell"."""
    if not located.definitions:
        return ""
    cells = " or ".join(dict.fromkeys(d.where for d in located.definitions))
    return f"{cells}, outside its answer cell" if located.outside else cells


def render(report: ClassReport) -> str:
    return _TEMPLATES.get_template("class_report.html.j2").render(**context(report))


def write(
    assignment: Assignment,
    layout: batch.Layout,
    out: Path | None = None,
    *,
    late: LatePolicy | None = None,
    manual: ManualGrades | None = None,
    current: Mapping[str, StudentResult] | None = None,
    threshold: float | None = None,
    sources: times.Sources | None = None,
) -> tuple[Path, ClassReport]:
    """Gather, compare and render the class report of ``assignment``; write it (atomically) to ``out``.

    ``threshold``: the similarity threshold (default: assignment.toml's ``[report] similarity``,
    else ``similarity.DEFAULT_THRESHOLD``).
    """
    if threshold is None:
        threshold = float(assignment.report().get("similarity", similarity.DEFAULT_THRESHOLD))
    report = gather(assignment, layout, late=late, manual=manual, current=current, sources=sources)
    add_similarity(report, layout, threshold)
    path = Path(out) if out is not None else default_path(assignment, layout)
    atomic_write(path, render(report))
    return path, report


def gradebook_due(assignment: Assignment, layout: batch.Layout, url: str | None = None) -> dt.datetime | None:
    """The assignment's ``duedate`` in the gradebook (``url``, else gradebook.db beside SUBMISSIONS, if
    there is one: the report never creates a gradebook); None without one. BatchError if it can't be read."""
    from nbgrader.api import Gradebook, MissingEntry

    from autograder.outputs.gradebook import GradebookError, check_url, default_url

    course = layout.submitted.parent
    if url is None:
        if not (course / "gradebook.db").is_file():
            return None
        url = default_url(course)
    try:
        check_url(url, course)
        with Gradebook(url) as gb:
            return gb.find_assignment(assignment.name).duedate
    except MissingEntry:
        return None
    except GradebookError as e:
        raise batch.BatchError(str(e)) from None
    except Exception as e:  # SQLAlchemy's and nbgrader's errors share no base class
        reason = (str(e).strip().splitlines() or [""])[0][:300]
        raise batch.BatchError(f"the gradebook {url} could not be read ({type(e).__name__}: {reason})") from e
