"""What a grading run hands back: feedback pages, the autograded notebook, CSV, JSON.

Every string from a submission is cleaned (``text.clean``) before it is written here,
and each feedback page stays under ``text.PAGE_LIMIT`` bytes (shortened, visibly, when
it would not). ``notebook`` is always the grader's private copy of the submission, or
None when the submission was refused.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
from pathlib import Path

import jinja2

from .notebook import Notebook, NotebookError, cell_role, grade_id_of, read_notebook, write_notebook
from .results import StudentResult, public_json
from .text import CODE_LIMIT, MAX_ERRORS, MESSAGE_LIMIT, PAGE_LIMIT, TRUNCATED, clean, clean_messages, clean_tree

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,  # student code and messages are untrusted text
    trim_blocks=True,
    lstrip_blocks=True,
)
# How much of each text a feedback page shows, tried in order until the page fits
# under PAGE_LIMIT: (bytes per message, bytes per answer cell, problems listed).
PAGE_BUDGETS = [(MESSAGE_LIMIT, CODE_LIMIT, MAX_ERRORS), (1024, 4096, 20), (200, 0, 5)]


def fmt(x: float) -> str:
    return f"{x:g}"


def atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so an interrupted run leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def answers_of(notebook: Path | None, limit: int | None = CODE_LIMIT) -> dict[str, str]:
    """grade_id -> the student's answer-cell source (cleaned; the last cell of an id wins)."""
    try:
        nb = read_notebook(notebook) if notebook is not None else {"cells": []}
    except NotebookError:
        return {}
    return {gid: clean(c["source"], limit) for c in nb["cells"] if cell_role(c) == "answer" and (gid := grade_id_of(c))}


def feedback_html(result: StudentResult, notebook: Path | None) -> str:
    """The student's feedback page, at most ``PAGE_LIMIT`` bytes of valid HTML."""
    answers = answers_of(notebook, None)
    graded_at = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")

    def render(functions: dict, errors: list[str], shown_answers: dict, notice: str) -> str:
        return _TEMPLATES.get_template("feedback.html.j2").render(
            assignment=clean(result.assignment, 256),
            student=clean(result.student, 256),
            score=result.score,
            max_score=result.max_score,
            errors=errors,
            functions=functions,
            answers=shown_answers,
            notice=notice,
            graded_at=graded_at,
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
        )
        if len(page.encode("utf-8")) <= PAGE_LIMIT:
            return page
    # the scores alone always fit
    return render(
        {},
        [],
        {},
        f"The details of this page did not fit in {PAGE_LIMIT // 1_000_000} MB and were left out ({TRUNCATED}).",
    )


def autograded_notebook(result: StudentResult, notebook: Path | None) -> Notebook | None:
    """The submission with each visible test cell's output replaced by our verdicts.

    formgrader shows this notebook next to the scores; it holds no hidden test code.
    """
    if notebook is None:
        return None
    try:
        nb = clean_tree(read_notebook(notebook), limit=None)  # no escapes or controls in any of it
    except (NotebookError, ValueError):
        return None
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        cell["outputs"] = []
        grade_id = grade_id_of(cell) or ""
        function = result.functions.get(grade_id.removeprefix("test_")) if grade_id.startswith("test_") else None
        if function:
            lines = [f"Hidden checks: {fmt(function.score)} / {fmt(function.max_score)}"]
            for t in function.tests:
                mark = "PASS" if t.passed else "FAIL"
                lines.append(f"  [{mark}] {t.description or t.name}" + ("" if t.passed else f" -- {t.message}"))
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "\n".join(lines) + "\n"}]
    return nb


def write_student_outputs(
    result: StudentResult, notebook: Path | None, autograded_dir: Path, feedback_dir: Path
) -> None:
    name, student = result.assignment, result.student
    atomic_write(feedback_dir / student / name / f"{name}.html", feedback_html(result, notebook))
    nb = autograded_notebook(result, notebook)
    if nb is not None:
        path = autograded_dir / student / name / f"{name}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_notebook(nb, path)


def write_csv(path: Path, results: dict[str, StudentResult], functions: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "score", "max_score", *functions, "errors"])
        for student, r in sorted(results.items()):
            scores = [fmt(r.functions[g].score if g in r.functions else 0.0) for g in functions]
            writer.writerow([_cell(student), fmt(r.score), fmt(r.max_score), *scores, len(r.errors)])
    os.replace(tmp, path)


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet won't run as a formula (a leading = + - @ is quoted with ')."""
    text = clean(text, 1024)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def write_json(path: Path, assignment: str, results: dict[str, StudentResult]) -> None:
    atomic_write(path, json.dumps(public_json(assignment, results), indent=2) + "\n")
