"""Exports for an LMS: a Canvas gradebook CSV, and Gradescope's results.json per student.

Both are made from what ``autograder grade`` already wrote, never by grading again:

    the class CSV (grades/<assignment>.csv)   every student's final score, after the late
                                              policy, and their raw score and penalty
    the saved results (autograded/<student>/<assignment>/results.json)
                                              every test's verdict and student message
    the gradebook                             names, emails and LMS ids (nbgrader's Student:
                                              first_name, last_name, email, lms_user_id)

Decisions:

- **Scores are the class CSV's.** That is the file the instructor saw after the run, with
  the final scores (late policy applied) and the rows of students graded in earlier runs.
  The saved results are raw and stay raw; they give the per-test detail only, and only
  when their score is the CSV's raw score (``raw_score``, else ``score``). A student
  whose saved results don't match (refused since, or never saved: a refused file) gets the
  CSV's score and no tests, with a line saying to read the feedback page.
- **Canvas** (its gradebook import format, as Canvas's own gradebook export writes it):
  columns ``Student, ID, SIS User ID, SIS Login ID, Section``, then one column for the
  assignment, then one row per student; the second row is ``Points Possible`` with the
  assignment's points (Canvas's export has it; its import reads it or ignores it). Canvas
  finds each row's student by ``ID`` (its own user id), else by the SIS ids. We write:
  ``Student`` "Last, First" from the gradebook (else the id), ``ID`` the gradebook's
  ``lms_user_id`` (blank without one), ``SIS User ID`` blank, ``SIS Login ID`` the
  nbgrader student id (on JupyterHub, the login), ``Section`` blank. The assignment column
  is ``<assignment> (<canvas id>)`` with ``--canvas-id`` (Canvas then updates that
  assignment), else the plain name (Canvas offers to create a new assignment). A score
  that is not a number (left blank) is skipped by Canvas's import.
- **Gradescope** (its autograder results format, ``/autograder/results/results.json``):
  ``score`` (final), ``execution_time`` (seconds, when timed), ``output`` (the score line
  and the student's problems, as the feedback page shows them), ``tests``: one per hidden
  test with ``name`` (function: the test's description), ``score``, ``max_score``,
  ``status`` (passed/failed), ``output`` (its student message) and ``visibility``
  ``visible`` (our feedback shows every test's verdict and message too). ``extra_data``
  holds the student id, name and email, to match folders with a roster. Messages are the
  public ones (``StudentResult.public``'s): never expected values or grader output, and
  nothing of the results' ``extra`` (timings, isolation) but the time. Every ``output``
  and ``name`` is declared plain text (``output_format``, ``test_output_format``,
  ``test_name_format``, and each test's ``output_format`` and ``name_format``:
  ``OUTPUT_FORMAT``): Gradescope would otherwise read them as its default format, and as
  HTML or Markdown if anyone set that, so a student's ``<img onerror=...>`` in a message
  stays the text it is.
- Every string that came from a student or the gradebook is cleaned (``text.clean``);
  a CSV cell a spreadsheet would run as a formula is quoted with ``'`` (``text.cell``,
  which quotes a leading ``'`` too, so that ``+x`` and ``'+x`` stay two students). Canvas
  then reads such a student's SIS Login ID with the quote: ``Exported.quoted`` lists them.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from autograder.files import atomic_write
from autograder.outputs import saved, tables
from autograder.outputs.gradebook import GradebookError, check_server, default_url, resolve_url, shown
from autograder.outputs.results import StudentResult, fmt
from autograder.run.layout import Layout
from autograder.text import cell, clean, uncell

CANVAS_HEAD = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
TEST_VISIBILITY = "visible"  # Gradescope: "hidden", "after_due_date", "after_published" or "visible"
# Gradescope shows outputs and names as "text", "html", "simple_format", "md" or "ansi": ours
# hold student text (messages, exception text), so always plain text, escaped by Gradescope.
OUTPUT_FORMAT = "text"
NOT_DETAILED = "The details of this grade are on your feedback page."


class ExportError(Exception):
    """An export that can't be made from what is there; says what to do."""


@dataclass(frozen=True)
class Person:
    """A student as the gradebook knows them (every field but ``student`` may be empty)."""

    student: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    lms_user_id: str = ""

    @property
    def name(self) -> str:
        """ "Last, First" as Canvas sorts students; one of them alone; else the id."""
        if self.last_name and self.first_name:
            return f"{self.last_name}, {self.first_name}"
        return self.last_name or self.first_name or self.student


@dataclass(frozen=True)
class Grade:
    """One student's row of the class CSV: the final score, and the raw one before the late policy."""

    student: str
    score: float | None  # None: not a number in the CSV (left blank in exports)
    max_score: float
    raw_score: float | None
    late_penalty: float
    time_review: str = ""  # why the submission time needs review (the CSV's time_review), "" if it doesn't


@dataclass
class Exported:
    canvas: Path | None = None
    gradescope: list[Path] = field(default_factory=list)
    students: int = 0
    without_detail: list[str] = field(default_factory=list)  # no saved results matching the CSV
    without_score: list[str] = field(default_factory=list)  # a score in the CSV that isn't a number
    quoted: list[str] = field(default_factory=list)  # ids written with a leading ' (Canvas won't match them)


def _number(text: str | None) -> float | None:
    try:
        value = float(text or "")
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet won't run as a formula (``text.cell``: one-to-one), on one line."""
    return cell(clean(text, 1024).replace("\n", " "))


def class_grades(csv_path: Path, students: list[str] | None = None) -> dict[str, Grade]:
    """The class CSV's rows (``tables.read_csv``), by student; only ``students`` if given."""
    try:
        rows = tables.read_csv(csv_path)
    except tables.OutputError as e:
        raise ExportError(str(e).replace("choose another --csv path", "give its path with --csv")) from None
    if not rows:
        raise ExportError(
            f"no grades at {csv_path}: export reads the CSV that autograder grade writes. Grade first "
            f"(autograder grade ASSIGNMENT SUBMISSIONS), or give that CSV's path with --csv."
        )
    grades = {}
    for row in rows:
        student = uncell(row.get("student") or "")  # the raw id: every row is keyed by it
        score = _number(row.get("score"))
        raw = _number(row.get("raw_score")) if "raw_score" in row else score
        grades[student] = Grade(student, score, _number(row.get("max_score")) or 0.0, raw,
                                _number(row.get("late_penalty")) or 0.0,
                                uncell(row.get("time_review") or ""))  # fmt: skip
    if students is not None:
        unknown = sorted(set(students) - grades.keys())
        if unknown:
            raise ExportError(
                f"{', '.join(clean(s, 100) for s in unknown)} not in {csv_path} (it has "
                f"{len(grades)} students). Grade them first, or check the names given to --student."
            )
        grades = {s: grades[s] for s in students}
    return grades


def people(db_url: str, students: list[str]) -> dict[str, Person]:
    """The gradebook's names, emails and LMS ids of ``students``; just the ids without a gradebook."""
    from nbgrader.api import Gradebook, MissingEntry  # slow import

    found = {s: Person(s) for s in students}
    url = resolve_url(db_url)
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return found  # no gradebook (yet): opening one would create it
    try:
        if not url.startswith("sqlite"):
            check_server(url)
        with Gradebook(url) as gb:
            for s in students:
                try:
                    st = gb.find_student(s)
                except MissingEntry:
                    continue
                found[s] = Person(s, *(clean(getattr(st, k), 200).strip() for k in
                                       ("first_name", "last_name", "email", "lms_user_id")))  # fmt: skip
    except GradebookError as e:
        raise ExportError(str(e)) from None
    except Exception as e:  # SQLAlchemy's and nbgrader's errors share no base class
        reason = clean((str(e).strip().splitlines() or [type(e).__name__])[0], 300)
        raise ExportError(
            f"the gradebook {shown(db_url)} could not be read ({type(e).__name__}: {reason}). Fix --gradebook, "
            f"or move it away to export with student ids for names."
        ) from None
    return found


def canvas_csv(assignment: str, grades: dict[str, Grade], who: dict[str, Person], canvas_id: str | None = None) -> str:
    """The Canvas gradebook import CSV of one assignment (see the module's docstring)."""
    column = f"{assignment} ({canvas_id})" if canvas_id else assignment
    points = max((g.max_score for g in grades.values()), default=0.0)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([*CANVAS_HEAD, column])
    writer.writerow(["Points Possible", "", "", "", "", fmt(points)])
    for student, g in sorted(grades.items(), key=lambda item: (who[item[0]].name.lower(), item[0])):
        p = who[student]
        score = "" if g.score is None else fmt(g.score)
        writer.writerow([_cell(p.name), _cell(p.lms_user_id), "", _cell(student), "", score])
    return out.getvalue()


def saved_result(layout: Layout, assignment: str, grade: Grade) -> StudentResult | None:
    """The student's saved (raw) results, if they are the ones the CSV's score came from."""
    found = saved.load(layout.results_file(grade.student, assignment), grade.student, assignment)
    if found is None:
        return None
    result = found.result
    if grade.raw_score is None or abs(result.score - grade.raw_score) > 1e-6:
        return None  # graded differently since (refused, or a grader process that failed)
    return result


def gradescope_results(grade: Grade, result: StudentResult | None, person: Person) -> dict:
    """Gradescope's results.json for one student (see the module's docstring)."""
    score = grade.score if grade.score is not None else 0.0
    line = f"Score: {fmt(score)} / {fmt(grade.max_score)}"
    if grade.late_penalty:
        line += f" (raw {fmt(grade.raw_score or 0.0)}, late penalty −{fmt(grade.late_penalty)})"
    if grade.time_review:
        line += f"; the submission time needs review: {clean(grade.time_review, 500)}"
    lines = [line]
    tests = []
    if result is None:
        lines.append(NOT_DETAILED)
    else:
        public = result.public()  # the student-facing form: exactly the documented keys
        lines += [clean(e) for e in public["errors"]]
        names = {(gid, t.name): clean(t.description or t.name, 500) for gid, f in result.functions.items()
                 for t in f.tests}  # fmt: skip
        for gid, f in public["functions"].items():
            for t in f["tests"]:
                tests.append(
                    {
                        "name": f"{clean(gid, 200)}: {names[(gid, t['name'])]}",
                        "score": t["points"] if t["passed"] else 0.0,
                        "max_score": t["points"],
                        "status": "passed" if t["passed"] else "failed",
                        "output": clean(t["message"]),
                        "output_format": OUTPUT_FORMAT,
                        "name_format": OUTPUT_FORMAT,
                        "visibility": TEST_VISIBILITY,
                    }
                )
    out: dict = {"score": score, "output": "\n".join(lines), "visibility": "visible", "stdout_visibility": "hidden"}
    out.update(output_format=OUTPUT_FORMAT, test_output_format=OUTPUT_FORMAT, test_name_format=OUTPUT_FORMAT)
    seconds = result.extra.get("seconds") if result else None
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
        out["execution_time"] = round(seconds)
    out["tests"] = tests
    out["extra_data"] = {"student": person.student, "name": person.name, "email": person.email}
    return out


def export(
    assignment: str,
    layout: Layout,
    *,
    grades_csv: Path | None = None,
    gradebook: str | None = None,
    canvas: Path | None = None,
    canvas_id: str | None = None,
    gradescope: Path | None = None,
    gradescope_results_path: Path | None = None,
    students: list[str] | None = None,
) -> Exported:
    """Write the exports asked for: ``canvas`` (a CSV), ``gradescope`` (DIR/<student>/results.json),
    ``gradescope_results_path`` (one student's results.json: the class must be one student,
    or ``students`` one name). Defaults as ``autograder grade``'s, beside the submissions."""
    course = layout.submitted.parent
    grades = class_grades(grades_csv or course / "grades" / f"{assignment}.csv", students)
    if gradescope_results_path is not None and len(grades) != 1:
        raise ExportError(
            f"--gradescope-results writes one student's results, but there are {len(grades)}: name one with "
            f"--student, or use --gradescope DIR for one folder per student."
        )
    who = people(gradebook or default_url(course), list(grades))
    done = Exported(students=len(grades), without_score=sorted(s for s, g in grades.items() if g.score is None))
    if canvas is not None:
        atomic_write(canvas, canvas_csv(assignment, grades, who, canvas_id))
        done.canvas = canvas
        done.quoted = sorted(s for s in grades if cell(s) != s)
    if gradescope is not None or gradescope_results_path is not None:
        for student, g in sorted(grades.items()):
            if gradescope is not None and (not student or "/" in student or student in (".", "..")):
                raise ExportError(f"the CSV's student {clean(student, 100)!r} can't be a folder name; fix its row")
            result = saved_result(layout, assignment, g)
            if result is None:
                done.without_detail.append(student)
            text = json.dumps(gradescope_results(g, result, who[student]), indent=2, ensure_ascii=False) + "\n"
            paths = [gradescope / student / "results.json"] if gradescope is not None else []
            paths += [gradescope_results_path] if gradescope_results_path is not None else []
            for path in paths:
                atomic_write(path, text)
                done.gradescope.append(path)
    return done
