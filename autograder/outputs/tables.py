"""The class's grades tables: the CSV and the ``--json`` file, read back to merge a run into and written whole.

A run that grades only some students (``--student``, or a folder with a few) merges into
them, replacing those students' rows and keeping the others' (``read_csv``, ``read_json``;
``OutputError`` if a file can't be merged into). With manually graded cells, the CSV's
``status`` column and the JSON's ``status`` key say "needs manual grading" until they are
all graded, then "final". Cells a spreadsheet would run as formulas are quoted (``text.cell``).
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

from autograder.files import atomic_write
from autograder.outputs.results import StudentResult, fmt, public_json
from autograder.text import cell, clean, uncell


class OutputError(Exception):
    """An existing grades CSV or JSON that a run can't merge into; says what to do."""


CSV_HEAD = ["student", "score", "max_score"]  # then one column per function, then "errors"
# last, under a late policy (score is then the final score): the raw score and the penalty, the
# submission time used, where it came from (times.py) and, if it needs review, why
CSV_LATE = ["raw_score", "late_penalty", "submitted_at", "time_source", "time_review"]
# last of all, for an assignment with manually graded cells: the manual points given so far
# (part of score), those still to be graded, and "final" or "needs manual grading"
CSV_MANUAL = ["manual_score", "manual_pending", "status"]


def read_csv(path: Path) -> list[dict[str, str]]:
    """The rows of an existing grades CSV (none if there is none), to merge a run into."""
    if not path.exists():
        return []
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            if (reader.fieldnames or [])[:3] != CSV_HEAD:
                raise OutputError(
                    f"{path} exists but is not a grades CSV written by autograder (its first columns are "
                    f"{','.join((reader.fieldnames or [])[:3]) or 'missing'}, expected {','.join(CSV_HEAD)}). "
                    f"Move it away or choose another --csv path."
                )
            return list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise OutputError(
            f"{path} could not be read to merge into ({e}). Move it away or choose another --csv path."
        ) from None


def write_csv(
    path: Path, results: dict[str, StudentResult], functions: list[str], keep: list[dict[str, str]] = ()
) -> int:
    """Write the CSV: ``results``' rows, and the rows of ``keep`` (``read_csv``) of everyone else.

    Returns how many rows were kept from ``keep``. Under a late policy (a result with
    ``late``, or kept rows that have them) the columns ``CSV_LATE`` come last; with
    manually graded cells, ``CSV_MANUAL`` after them.
    """
    late = any(r.late for r in results.values()) or any(CSV_LATE[0] in row for row in keep)
    manual = any(r.manual for r in results.values()) or any(CSV_MANUAL[-1] in row for row in keep)
    header = [*CSV_HEAD, *functions, "errors", *(CSV_LATE if late else ()), *(CSV_MANUAL if manual else ())]
    rows: dict[str, list[str]] = {}  # by the raw student id (``cell`` is one-to-one, so rows never merge)
    for row in keep:  # by column name: a column the assignment no longer has is dropped
        rows[uncell(row.get("student") or "")] = [cell(uncell(row.get(column) or "")) for column in header]
    kept = len(rows.keys() - results.keys())
    for student, r in results.items():
        scores = [fmt(r.functions[g].score if g in r.functions else 0.0) for g in functions]
        row = [cell(student), fmt(r.score), fmt(r.max_score), *scores, str(len(r.errors))]
        if late:  # without a due date, the raw score is the final one
            row += _late_cells(r)
        if manual:  # score counts the manual points given; status says whether more may come
            row += [fmt(r.manual_score), fmt(r.manual_pending), r.status]
        rows[student] = row
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(row for _, row in sorted(rows.items()))
    os.replace(tmp, path)
    return kept


def _late_cells(r: StudentResult) -> list[str]:
    if r.late is None:
        return [fmt(r.score), "0", "", "", ""]
    at = f"{r.late.at.isoformat(' ', 'seconds')} UTC" if r.late.at else ""
    return [fmt(r.late.raw_score), fmt(r.late.penalty), at, r.late.source, cell(r.late.review)]


def read_json(path: Path, assignment: str) -> dict[str, StudentResult]:
    """Every student of an existing ``--json`` file (none if there is none), to merge a run into."""
    if not path.exists():
        return {}
    what = "Move it away or choose another --json path."
    try:
        raw = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError) as e:
        raise OutputError(f"{path} could not be read as JSON to merge into ({type(e).__name__}: {e}). {what}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("students"), dict):
        raise OutputError(f"{path} is not results JSON written by autograder (no students object). {what}")
    if raw.get("assignment") != assignment:
        raise OutputError(
            f"{path} holds the results of {clean(raw.get('assignment'), 200)!r}, not {assignment}. {what}"
        )
    try:
        return {clean(s): StudentResult.from_public(r, clean(s), assignment) for s, r in raw["students"].items()}
    except ValueError as e:
        raise OutputError(f"{path} has a student entry that is not in the documented schema ({e}). {what}") from None


def write_json(
    path: Path, assignment: str, results: dict[str, StudentResult], keep: dict[str, StudentResult] | None = None
) -> None:
    """The documented JSON of ``results``, and of everyone else in ``keep`` (``read_json``)."""
    atomic_write(path, json.dumps(public_json(assignment, {**(keep or {}), **results}), indent=2) + "\n")
