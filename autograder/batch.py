"""Grade a whole class: find submissions, grade them in parallel, keep every grade.

The order of work for each student, and why:

    1. grade in a fresh grader process          (grading.py; sandboxed student code)
    2. save results.json atomically             (before anything else: this is the grade)
    3. write the gradebook rows                  (idempotent: update, never add twice)
    4. write feedback and the autograded notebook

A student whose saved results match the current notebook, graders and limits (same
fingerprint) is not graded again, so re-running after an interruption resumes where it
stopped and never double-counts. ``force=True`` re-grades everyone.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .assignments import Assignment
from .grading import GradingError, grade_notebook
from .reports import atomic_write, write_student_outputs
from .sandbox.harness import wire

HARNESS_FILES = [Path(wire.__file__).parent / "worker.py", Path(wire.__file__)]


class BatchError(Exception):
    """A problem with the whole run (missing folder, unknown assignment)."""


@dataclass
class Options:
    workers: int = 1
    isolation: str = "auto"
    call_timeout: float | None = None
    cell_timeout: float | None = None
    memory_gib: float | None = None
    force: bool = False

    def plugin_options(self) -> dict:
        return {
            "isolation": self.isolation,
            "call_timeout": self.call_timeout,
            "cell_timeout": self.cell_timeout,
            "memory_gib": self.memory_gib,
        }


@dataclass
class Layout:
    """Where a batch reads and writes, nbgrader-style, next to ``submitted/``."""

    submitted: Path
    autograded: Path
    feedback: Path

    @classmethod
    def beside(cls, submitted: Path, feedback: Path | None = None) -> Layout:
        course = submitted.resolve().parent
        return cls(submitted.resolve(), course / "autograded", Path(feedback or course / "feedback").resolve())

    def results_file(self, student: str, assignment: str) -> Path:
        return self.autograded / student / assignment / "results.json"


@dataclass
class Report:
    results: dict[str, dict] = field(default_factory=dict)  # student -> results
    failed: dict[str, str] = field(default_factory=dict)  # student -> internal error (no grade)
    reused: list[str] = field(default_factory=list)


def discover(submitted: Path, assignment: str) -> dict[str, Path]:
    """student -> notebook path, for every ``<student>/<assignment>/`` folder.

    A folder without the notebook is still listed: grading it reports the problem.
    """
    if not submitted.is_dir():
        raise BatchError(f"submissions folder {submitted} does not exist")
    found = {}
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if (student_dir / assignment).is_dir():
            found[student_dir.name] = student_dir / assignment / f"{assignment}.ipynb"
    return found


def fingerprint(assignment: Assignment, notebook: Path, options: Options) -> str:
    """Changes whenever the grade could: the notebook, graders, reference or limits."""
    h = hashlib.sha256()
    files = [notebook, assignment.source_notebook, assignment.release_notebook, *HARNESS_FILES]
    files += sorted(assignment.graders_dir.rglob("*.py")) + sorted(assignment.graders_dir.glob("*.toml"))
    for path in files:
        h.update(str(path.name).encode())
        h.update(path.read_bytes() if path.exists() else b"<missing>")
    h.update(json.dumps(options.plugin_options(), sort_keys=True).encode())
    return h.hexdigest()


def load_saved(path: Path, expected: str) -> dict | None:
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return saved.get("result") if saved.get("fingerprint") == expected else None


def grade_class(
    assignment: Assignment,
    layout: Layout,
    options: Options,
    on_result: Callable[[str, dict], None] | None = None,
    on_progress: Callable[[str], None] | None = None,
) -> Report:
    """Grade every submission; ``on_result`` runs in this thread after each save."""
    notebooks = discover(layout.submitted, assignment.name)
    report = Report()
    todo = {}
    for student, notebook in notebooks.items():
        fp = fingerprint(assignment, notebook, options)
        saved = None if options.force else load_saved(layout.results_file(student, assignment.name), fp)
        if saved is not None:
            report.results[student] = saved
            report.reused.append(student)
            write_student_outputs(saved, notebook, layout.autograded, layout.feedback)
            if on_result:
                on_result(student, saved)
            if on_progress:
                on_progress(student)
        else:
            todo[student] = (notebook, fp)

    def work(student: str) -> dict:
        notebook, _ = todo[student]
        return grade_notebook(assignment, notebook, student, **options.plugin_options())

    with cf.ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
        futures = {pool.submit(work, s): s for s in todo}
        for future in cf.as_completed(futures):
            student = futures[future]
            try:
                result = future.result()
            except GradingError as e:
                report.failed[student] = str(e)
            else:
                notebook, fp = todo[student]
                atomic_write(
                    layout.results_file(student, assignment.name),
                    json.dumps({"fingerprint": fp, "result": result}, indent=1),
                )
                report.results[student] = result
                write_student_outputs(result, notebook, layout.autograded, layout.feedback)
                if on_result:
                    on_result(student, result)
            if on_progress:
                on_progress(student)
    return report
