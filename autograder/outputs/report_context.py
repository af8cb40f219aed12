"""The figures and tables of the class report, computed from a ``ClassReport``: the template only lays them out.

Statistics over graded work: the histogram counts every student (a refused notebook scores
0, as in the CSV), but the per-function and per-check figures and the common mistakes count
only submissions the graders ran (``report_data.ran``). The page shows at most
``Bounds.report_errors`` problems per student, each at most ``Bounds.report_error_bytes``.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter

from autograder.grader.failures import NOT_IMPLEMENTED
from autograder.outputs import similarity
from autograder.outputs.bounds import Bounds
from autograder.outputs.late import describe, duration
from autograder.outputs.report_data import ClassReport, ran
from autograder.outputs.report_plots import functions_plot, histogram_plot, times_plot
from autograder.outputs.results import StudentResult, fmt
from autograder.text import CODE_LIMIT, TRUNCATED, clean, clean_messages

TOP_MISTAKES = 25  # most common failure messages listed
SLOWEST = 10  # submissions listed by time


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
    unfinished: dict[str, set] = {}  # function -> the students who haven't written it yet: no mistake, shown apart
    for student, r in graded.items():
        for gid, f in r.functions.items():
            for t in f.tests:
                if t.passed:
                    continue
                if NOT_IMPLEMENTED in t.message:
                    unfinished.setdefault(gid, set()).add(student)
                else:
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
         "score": r.score, "max_score": r.max_score, "what": describe(r.late)}
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
        "unfinished": [{"function": gid, "students": len(who)} for gid, who in sorted(unfinished.items())],
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
