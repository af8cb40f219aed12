"""What a grading run hands back: feedback pages, the autograded notebook, CSV, JSON."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import json
import os
from pathlib import Path

import jinja2

from .notebook import Notebook, NotebookError, cell_role, nbgrader_meta, read_notebook, write_notebook

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,  # student code and messages are untrusted text
    trim_blocks=True,
    lstrip_blocks=True,
)
PUBLIC_TEST_KEYS = ("name", "passed", "points", "message")


def fmt(x: float) -> str:
    return f"{x:g}"


def atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so an interrupted run leaves no half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def answers_of(notebook: Path) -> dict[str, str]:
    try:
        nb = read_notebook(notebook)
    except NotebookError:
        return {}
    return {nbgrader_meta(c).get("grade_id"): c["source"] for c in nb["cells"] if cell_role(c) == "answer"}


def feedback_html(result: dict, notebook: Path) -> str:
    return _TEMPLATES.get_template("feedback.html.j2").render(
        assignment=result["assignment"],
        student=result["student"],
        score=result["score"],
        max_score=result["max_score"],
        errors=result["errors"],
        functions=result["functions"],
        answers=answers_of(notebook),
        graded_at=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        fmt=fmt,
    )


def autograded_notebook(result: dict, notebook: Path) -> Notebook | None:
    """The submission with each visible test cell's output replaced by our verdicts.

    formgrader shows this notebook next to the scores; it holds no hidden test code.
    """
    try:
        nb = copy.deepcopy(read_notebook(notebook))
    except NotebookError:
        return None
    for cell in nb["cells"]:
        if cell.get("cell_type") != "code":
            continue
        cell["outputs"] = []
        grade_id = str(nbgrader_meta(cell).get("grade_id", ""))
        function = result["functions"].get(grade_id.removeprefix("test_")) if grade_id.startswith("test_") else None
        if function:
            lines = [f"Hidden checks: {fmt(function['score'])} / {fmt(function['max_score'])}"]
            for t in function["tests"]:
                mark = "PASS" if t["passed"] else "FAIL"
                lines.append(
                    f"  [{mark}] {t.get('description') or t['name']}" + ("" if t["passed"] else f" -- {t['message']}")
                )
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "\n".join(lines) + "\n"}]
    return nb


def write_student_outputs(result: dict, notebook: Path, autograded_dir: Path, feedback_dir: Path) -> None:
    name, student = result["assignment"], result["student"]
    atomic_write(feedback_dir / student / name / f"{name}.html", feedback_html(result, notebook))
    nb = autograded_notebook(result, notebook)
    if nb is not None:
        path = autograded_dir / student / name / f"{name}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_notebook(nb, path)


def public_json(assignment: str, results: dict[str, dict]) -> dict:
    """Exactly the documented --json schema (tools depend on it: no extra keys)."""
    return {
        "assignment": assignment,
        "students": {
            student: {
                "score": float(r["score"]),
                "max_score": float(r["max_score"]),
                "errors": [str(e) for e in r["errors"]],
                "functions": {
                    gid: {
                        "score": float(f["score"]),
                        "max_score": float(f["max_score"]),
                        "tests": [{k: t[k] for k in PUBLIC_TEST_KEYS} for t in f["tests"]],
                    }
                    for gid, f in r["functions"].items()
                },
            }
            for student, r in sorted(results.items())
        },
    }


def write_csv(path: Path, results: dict[str, dict], functions: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "score", "max_score", *functions, "errors"])
        for student, r in sorted(results.items()):
            scores = [fmt(r["functions"].get(g, {}).get("score", 0.0)) for g in functions]
            writer.writerow([student, fmt(r["score"]), fmt(r["max_score"]), *scores, len(r["errors"])])
    os.replace(tmp, path)


def write_json(path: Path, assignment: str, results: dict[str, dict]) -> None:
    atomic_write(path, json.dumps(public_json(assignment, results), indent=2) + "\n")
