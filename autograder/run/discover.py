"""Find a class's submissions of an assignment, pick the students asked for, and spot another assignment's notebook.

``discover`` lists ``submitted/<student>/<assignment>`` (following nothing), ``layout_problem``
says why it found none, ``select`` keeps the ``--student`` names, and ``wrong_assignment``
refuses a notebook that is another assignment's (its answer cells say so).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Collection
from pathlib import Path

from autograder.course.assignments import Assignment, AssignmentError, available
from autograder.course.notebook import NotebookError
from autograder.run import intake
from autograder.run.options import BatchError
from autograder.text import clean_id


def discover(submitted: Path, assignment: str) -> dict[str, str]:
    """student id -> folder name, for every ``<student>/<assignment>`` in ``submitted``.

    Nothing is followed: a student folder that is a symbolic link is listed (intake
    refuses it) without looking where it points. A folder without the notebook is
    listed too (intake reports it), and so is one with ``<assignment>.ipynb`` but no
    ``<assignment>/`` folder (intake says where the notebook belongs). Ids are the folder
    names, with unprintable characters spelled out (``clean_id``) and made unique.
    """
    if not submitted.is_dir():
        raise BatchError(f"submissions folder {submitted} does not exist")
    found: dict[str, str] = {}
    with os.scandir(submitted) as entries:
        folders = sorted(entries, key=lambda e: e.name)
    for entry in folders:
        if entry.name.startswith("."):
            continue
        if not entry.is_symlink():
            if not entry.is_dir(follow_symlinks=False):
                continue  # a file beside the student folders
            # <assignment>/<assignment>.ipynb here is one student's folder passed as the class's (layout_problem)
            loose = () if entry.name == assignment else (f"{assignment}.ipynb",)
            if not any(_lexists(os.path.join(entry.path, n)) for n in (assignment, *loose)):
                continue  # this student has no folder for this assignment
        student, n = clean_id(entry.name), 1
        while student in found:
            n += 1
            student = f"{clean_id(entry.name)}~{n}"
        found[student] = entry.name
    return found


def _lexists(path: str) -> bool:
    try:
        os.lstat(path)
    except OSError:
        return False
    return True


def layout_problem(submitted: Path, assignment: str) -> str:
    """Why ``discover`` found no submission in ``submitted``, for the usual mistakes.

    Says what was found, what was expected (an example path) and what to do. Only
    names are read (nothing is opened or followed); they are the students', so cleaned.
    """
    a, nb = assignment, f"{assignment}.ipynb"
    entries = {}
    with os.scandir(submitted) as it:
        for entry in it:
            if not entry.name.startswith("."):
                entries[entry.name] = entry.is_dir(follow_symlinks=False)
    folders = sorted(n for n, is_dir in entries.items() if is_dir)
    notebooks = sorted(n for n, is_dir in entries.items() if not is_dir and n.endswith(".ipynb"))
    expected = f"expected {submitted}/<student>/{a}/{nb}"
    fix = "see “Submissions in the wrong layout” in docs/instructors.md for a command that moves them"
    if a in folders:
        inner = submitted / a
        if _lexists(str(inner / nb)):
            return (
                f"{submitted} looks like one student's folder: it holds {a}/{nb}, and no student folders. "
                f"E{expected[1:]}: pass the folder that holds every student's folder (nbgrader's "
                f"submitted/), e.g. autograder grade {a} {submitted.parent}"
            )
        with os.scandir(inner) as it:
            students = sorted(clean_id(e.name) for e in it if e.is_dir(follow_symlinks=False))
        if students:
            s = students[0]
            return (
                f"the levels of {submitted} are swapped: found {a}/{s}/ ({len(students)} student folders inside "
                f"the assignment's folder), {expected}, e.g. {submitted}/{s}/{a}/{nb}. Move each {a}/<student>/ "
                f"to <student>/{a}/ ({fix}), then grade again."
            )
    if notebooks:
        stem = clean_id(notebooks[0].removesuffix(".ipynb"))
        shown = ", ".join(clean_id(n) for n in notebooks[:3]) + (", …" if len(notebooks) > 3 else "")
        return (
            f"found {len(notebooks)} notebooks directly in {submitted} ({shown}) and no student folders; "
            f"{expected}, e.g. {submitted}/{stem}/{a}/{nb}. Put each notebook in its student's folder "
            f"({fix}), then grade again."
        )
    if "submitted" in folders:
        return (
            f"{submitted} looks like the course folder (it holds submitted/); {expected}: grade "
            f"{submitted / 'submitted'}"
        )
    shown = ", ".join(clean_id(n) for n in folders[:5]) + (", …" if len(folders) > 5 else "")
    what = f"none of its {len(folders)} folders ({shown}) has a {a}/ folder" if folders else "it is empty"
    return (
        f"no submissions of {a} in {submitted}: {what}; {expected}, e.g. {submitted}/ada/{a}/{nb}. "
        f"Collect them first (nbgrader collect {a}), or pass the folder that holds them."
    )


def select(found: dict[str, str], names: Collection[str], submitted: Path, assignment: str) -> dict[str, str]:
    """The students of ``found`` named in ``names`` (``--student``); BatchError for a name without a submission."""
    unknown = [n for n in names if n not in found]
    if unknown:
        name = clean_id(unknown[0])
        near = difflib.get_close_matches(name, list(found), n=3, cutoff=0.6)
        hint = (
            f"Did you mean {' or '.join(near)}?"
            if near
            else f"Students with a submission: {', '.join(list(found)[:10])}{', …' if len(found) > 10 else ''}."
        )
        example = f"{submitted}/{name}/{assignment}/{assignment}.ipynb"
        raise BatchError(
            f"--student {name}: no submission of {assignment} for {name} in {submitted} (expected {example}). "
            f"{hint} Check the name, or collect the submission first (nbgrader collect {assignment})."
        )
    return {s: f for s, f in found.items() if s in names}


def other_assignment(assignment: Assignment, grade_ids: Collection[str]) -> tuple[str, list[str]] | None:
    """For a notebook with none of ``assignment``'s answer cells: the course's assignment
    whose answer cells it has most of, and those; None if it has none of anyone's."""
    best: tuple[str, list[str]] | None = None
    for other in available(assignment.root):
        if other == assignment.name:
            continue
        try:
            ids = Assignment(other, root=assignment.root).graded_ids()
        except (AssignmentError, NotebookError, OSError, KeyError):
            continue  # an assignment still being written
        found = [g for g in ids if g in grade_ids]
        if found and (best is None or len(found) > len(best[1])):
            best = (other, found)
    return best


def wrong_assignment(assignment: Assignment, graded: list[str], student: str, taken: intake.Taken) -> str | None:
    """Why this notebook is refused if it is another assignment's (its grade_ids say so), else None."""
    if set(graded) & taken.grade_ids:
        return None
    match = other_assignment(assignment, taken.grade_ids)
    if match is None:
        return None  # not anyone's: grading says which answer cells are missing
    other, found = match
    a, where = assignment.name, f"{student}/{assignment.name}/{assignment.name}.ipynb"
    cells = ", ".join(found[:2]) + (", …" if len(found) > 2 else "")
    return (
        f"{where} looks like the {other} notebook, not {a}: it has {other}'s answer cells ({cells}) "
        f"and none of {a}'s (such as {graded[0]}). Submit your {a} notebook (from release/{a}/{a}.ipynb) as {where}."
    )
