"""What each student gets back: the feedback page and the autograded notebook, with nbgrader's exchange files.

Every string from a submission is cleaned (``text.clean``) before it is written here,
and each feedback page stays under ``text.PAGE_LIMIT`` bytes (shortened, visibly, when
it would not). ``notebook`` is always the grader's private copy of the submission, or
None when the submission was refused.

Manually graded cells (written answers and tasks: ``StudentResult.manual``) are shown in
the feedback with the student's text (escaped, like everything a student wrote) and
their points, or "needs manual grading"; while any is ungraded the score reads
"100 + up to 5 manual / 105".
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import jinja2

from autograder.course.notebook import (
    Notebook,
    NotebookError,
    cell_role,
    grade_id_of,
    manual_sources,
    read_notebook,
    write_notebook,
)
from autograder.files import atomic_write
from autograder.outputs import inert
from autograder.outputs.late import describe
from autograder.outputs.results import StudentResult, fmt
from autograder.run import intake
from autograder.run.intake import EXCHANGE_FILES
from autograder.run.times import shown
from autograder.text import (
    CODE_LIMIT,
    MAX_ERRORS,
    MESSAGE_LIMIT,
    PAGE_LIMIT,
    TRUNCATED,
    clean,
    clean_messages,
    clean_tree,
)

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,  # student code and messages are untrusted text
    trim_blocks=True,
    lstrip_blocks=True,
)
# How much of each text a feedback page shows, tried in order until the page fits
# under PAGE_LIMIT: (bytes per message, bytes per answer cell, problems listed).
PAGE_BUDGETS = [(MESSAGE_LIMIT, CODE_LIMIT, MAX_ERRORS), (1024, 4096, 20), (200, 0, 5)]


def answers_of(notebook: Path | None, limit: int | None = CODE_LIMIT) -> dict[str, str]:
    """grade_id -> the student's answer-cell source (cleaned; the last cell of an id wins)."""
    try:
        nb = read_notebook(notebook) if notebook is not None else {"cells": []}
    except NotebookError:
        return {}
    return {gid: clean(c["source"], limit) for c in nb["cells"] if cell_role(c) == "answer" and (gid := grade_id_of(c))}


def written_of(notebook: Path | None) -> dict[str, str]:
    """grade_id -> the text of each manually graded cell of the student's notebook (cleaned)."""
    try:
        nb = read_notebook(notebook) if notebook is not None else {"cells": []}
    except NotebookError:
        return {}
    return {gid: clean(src, None) for gid, src in manual_sources(nb).items()}


def feedback_html(result: StudentResult, notebook: Path | None) -> str:
    """The student's feedback page, at most ``PAGE_LIMIT`` bytes of valid HTML."""
    answers = answers_of(notebook, None)
    written = written_of(notebook) if result.manual else {}
    graded_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")

    def render(functions: dict, errors: list[str], shown_answers: dict, notice: str, code: int | None = None) -> str:
        manual = {
            clean(gid): {
                "score": m.score,
                "max_score": m.max_score,
                "kind": m.kind,
                # None: the notebook has no such cell; a shortened page shows only that it was there
                "text": (clean(written[gid], code) if code != 0 else TRUNCATED) if gid in written else None,
            }
            for gid, m in result.manual.items()
        }
        return _TEMPLATES.get_template("feedback.html.j2").render(
            assignment=clean(result.assignment, 256),
            student=clean(result.student, 256),
            score=result.score,
            max_score=result.max_score,
            pending=result.manual_pending if result.needs_manual_grading else 0,  # "+ up to 5 manual"
            manual=manual,
            late=describe(result.late) if result.late else "",  # "raw 80, submitted 2 h 10 min late: −8"
            errors=errors,
            functions=functions,
            answers=shown_answers,
            notice=notice,
            graded_at=graded_at,
            submitted_at=submitted_at(result),
            fmt=fmt,
        )

    for level, (message, code, max_errors) in enumerate(PAGE_BUDGETS):
        functions = {
            clean(gid): {
                "score": f.score,
                "max_score": f.max_score,
                "tests": [
                    {
                        "passed": t.passed,
                        "points": t.points,
                        "name": clean(t.name, message),
                        "description": clean(t.description, message),
                        "message": clean(t.message, message),
                    }
                    for t in f.tests
                ],
            }
            for gid, f in result.functions.items()
        }
        notice = (
            f"This page was shortened to stay under {PAGE_LIMIT // 1_000_000} MB; shortened parts end "
            f"with “{TRUNCATED}”."
            if level
            else ""
        )
        page = render(
            functions,
            clean_messages(list(result.errors), message, max_errors),
            {gid: clean(src, code) for gid, src in answers.items()} if code else {},
            notice,
            code,
        )
        if len(page.encode("utf-8")) <= PAGE_LIMIT:
            return page
    # the scores alone always fit
    return render(
        {},
        [],
        {},
        f"The details of this page did not fit in {PAGE_LIMIT // 1_000_000} MB and were left out ({TRUNCATED}).",
        0,
    )


def submitted_at(result: StudentResult) -> str:
    """When the feedback page says it was submitted: the trusted time, else what timestamp.txt claims, marked so."""
    if result.timestamp is not None:
        return f"{result.timestamp:%Y-%m-%d %H:%M} UTC"
    claimed = result.time.claimed if result.time else None
    return f"{shown(claimed)} (the time in your timestamp.txt, not verified)" if claimed else ""


def autograded_notebook(result: StudentResult, notebook: Path | None) -> Notebook | None:
    """The submission with each visible test cell's output replaced by our verdicts, made inert.

    formgrader shows this notebook next to the scores, in the instructor's Jupyter origin;
    it holds no hidden test code and nothing that could run or load there (``inert.notebook``).
    """
    if notebook is None:
        return None
    try:
        nb = clean_tree(read_notebook(notebook), limit=None)  # no escapes or controls in any of it
    except (NotebookError, ValueError):
        return None
    for c in nb["cells"]:
        if c.get("cell_type") != "code":
            continue
        c["outputs"] = []
        grade_id = grade_id_of(c) or ""
        function = result.functions.get(grade_id.removeprefix("test_")) if grade_id.startswith("test_") else None
        if function:
            lines = [f"Hidden checks: {fmt(function.score)} / {fmt(function.max_score)}"]
            for t in function.tests:
                mark = "PASS" if t.passed else "FAIL"
                lines.append(f"  [{mark}] {t.description or t.name}" + ("" if t.passed else f" -- {t.message}"))
            c["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "\n".join(lines) + "\n"}]
    return inert.notebook(nb)


def write_student_outputs(
    result: StudentResult,
    notebook: Path | None,
    autograded_dir: Path,
    feedback_dir: Path,
    exchange_files: dict[str, str] | None = None,
) -> None:
    """The feedback page and the autograded notebook, each with nbgrader's exchange files beside it.

    ``exchange_files`` (name -> text: timestamp.txt, submission_secret.txt) go where nbgrader's
    autograde and generate_feedback put them, so ``nbgrader release_feedback`` finds them; one
    the submission no longer has is removed. They are written before the page, so a
    release_feedback run while grading never meets a page without them.
    """
    name, student = result.assignment, result.student
    files = exchange_files or {}
    for folder in (autograded_dir / student / name, feedback_dir / student / name):
        for file in EXCHANGE_FILES:
            if file in files:
                atomic_write(folder / file, files[file])
            else:
                (folder / file).unlink(missing_ok=True)
    atomic_write(feedback_dir / student / name / f"{name}.html", feedback_html(result, notebook))
    nb = autograded_notebook(result, notebook)
    path = autograded_dir / student / name / f"{name}.ipynb"
    if nb is None and path.is_file() and not path.is_symlink():
        nb = _inert_copy(path)  # a refused student's notebook from an earlier run, maybe by an older version
    if nb is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_notebook(nb, path)


def _inert_copy(path: Path) -> Notebook | None:
    """The autograded notebook at ``path`` made inert, or None if it can't be read (then it is left as it is)."""
    try:
        return inert.notebook(clean_tree(intake.read_submission(path), limit=None))
    except (NotebookError, ValueError):
        return None
