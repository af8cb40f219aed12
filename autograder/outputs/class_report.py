"""The class report: one self-contained HTML page per assignment for the instructor, compared, rendered, written.

    results  every student's finished result, from the run (``run/class_results.py``: this run's,
             else the saved results.json, finished as the run finishes it), in a ``ClassReport``
             (``report_data.py``: what the page shows)
    located  each graded student's code per graded function, as the graders called it, and
    pairs    the similar pairs among them (``report_similarity.py``, with ``definitions.py`` and
             ``similarity.py``), against the release's starter code
    render   statistics and tables (``report_context.py``), three plots (``report_plots.py``:
             matplotlib, as SVG images in data: URIs), through templates/class_report.html.j2
             (jinja2, autoescape on)

``autograder report`` writes it (its default due date: ``report_due.py``), and so does every
``autograder grade`` run (pipeline.py), by default to ``reports/<assignment>.html`` in the
course folder (beside ``grades/``).

Decisions, and why:

- **The whole class, late work as in grading.** The report shows the results the run hands it
  (``class_results.gather``): every student with saved results or a submission, each finished
  as ``class_run.grade_class`` finishes a result (the submission time, the manual points, the
  late policy), so the report's scores are the CSV's. It finishes nothing itself.
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

from collections.abc import Mapping
from pathlib import Path

import jinja2

from autograder.course.assignments import Assignment
from autograder.files import atomic_write
from autograder.outputs import similarity
from autograder.outputs.late import LatePolicy
from autograder.outputs.report_context import context
from autograder.outputs.report_data import ClassReport
from autograder.outputs.report_similarity import add_similarity
from autograder.outputs.results import StudentResult
from autograder.run.layout import Layout

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,  # student ids, messages, errors and code are untrusted text
    trim_blocks=True,
    lstrip_blocks=True,
)


def default_path(assignment: Assignment, layout: Layout) -> Path:
    """``reports/<assignment>.html`` in the course folder (the parent of SUBMISSIONS, like ``grades/``)."""
    return layout.submitted.parent / "reports" / f"{assignment.name}.html"


def render(report: ClassReport) -> str:
    """The page's HTML."""
    return _TEMPLATES.get_template("class_report.html.j2").render(**context(report))


def write(
    assignment: Assignment,
    layout: Layout,
    results: Mapping[str, StudentResult],
    missing: Mapping[str, str] | None = None,
    out: Path | None = None,
    *,
    late: LatePolicy | None = None,
    threshold: float | None = None,
) -> tuple[Path, ClassReport]:
    """Compare and render the class report of ``assignment`` from the class's finished ``results`` (and the
    students ``missing`` results, with why); write it (atomically) to ``out``.

    ``threshold``: the similarity threshold (default: assignment.toml's ``[report] similarity``,
    else ``similarity.DEFAULT_THRESHOLD``).
    """
    if threshold is None:
        threshold = float(assignment.report().get("similarity", similarity.DEFAULT_THRESHOLD))
    report = ClassReport(assignment, dict(results), dict(missing or {}), late=late)
    add_similarity(report, layout, threshold)
    path = Path(out) if out is not None else default_path(assignment, layout)
    atomic_write(path, render(report))
    return path, report
