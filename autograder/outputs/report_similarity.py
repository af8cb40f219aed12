"""Each graded student's code as the graders called it, and the similar pairs among them, added to a ``ClassReport``.

The code is the definition in force once the cells that ran had run (``definitions.py``),
read from the autograded notebook (the copy graded) and the results' ``cells_run``; the
pairs are ``similarity.py``'s, against the release's starter code. Locating and comparing
share one time budget for the class (``Bounds.similarity_seconds``), and each notebook's
reading and each student's code are capped (``Bounds``): a student past a cap is noted
with the reason, and the others are still compared.
"""

from __future__ import annotations

import time
from pathlib import Path

from autograder.course import cells_run, definitions
from autograder.course.notebook import NotebookError, cell_role, grade_id_of, plan_submission, read_notebook
from autograder.outputs import similarity
from autograder.outputs.bounds import BOUNDS, Bounds
from autograder.outputs.report_data import ClassReport, ran
from autograder.outputs.results import StudentResult
from autograder.run import intake
from autograder.run.layout import Layout
from autograder.text import clean


def located_of(
    path: Path, release: dict, result: StudentResult, graded: list[str], bounds: Bounds, safe: frozenset[str]
) -> dict[str, definitions.Located]:
    """grade_id -> where its code was when the graders called it, from a graded notebook and its results
    (which cells ran: ``cells_run``); NotebookError if the notebook can't be read."""
    nb = intake.read_submission(path)
    how_ran = cells_run.parse_ran(result.extra.get("cells_run"))
    return definitions.locate(plan_submission(nb, release).cells, how_ran, graded, bounds, safe)


def add_similarity(report: ClassReport, layout: Layout, threshold: float, bounds: Bounds = BOUNDS) -> None:
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
                report.where[student, gid] = where_label(loc)
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


def where_label(located: definitions.Located) -> str:
    """Where the code compared came from, as a pair's details say it: "cell 12, outside its answer cell"."""
    if not located.definitions:
        return ""
    cells = " or ".join(dict.fromkeys(d.where for d in located.definitions))
    return f"{cells}, outside its answer cell" if located.outside else cells
