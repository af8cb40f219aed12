"""The fingerprint of a grade: a hash of everything that decides it, and the saved results it guards.

A student whose saved results match everything that decides a grade (the notebook, the
graders, the grading package, the reference and helper modules, the limits and the pinned
environment: the same fingerprint) is not graded again, so re-running after an interruption
resumes where it stopped and never double-counts. Every file is hashed under its path
relative to its folder, so moving the course folder re-grades no one.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tomllib
from pathlib import Path

from autograder.authoring.catalogue import FILE as CATALOGUE
from autograder.course.assignments import Assignment
from autograder.grader.spec import GradingSpec
from autograder.outputs import saved
from autograder.outputs.results import StudentResult

# The grading package (its code, the sandbox and its harness, the feedback template,
# the graders' pytest.ini): every file of it decides grades, so every file is in the
# fingerprint. A module constant, so a test can point it at a copy.
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # autograder/

_CACHES = {"__pycache__", ".ipynb_checkpoints"}  # written by Python and Jupyter, never read by grading


def _tree(folder: Path) -> list[Path]:
    """Every file under ``folder``, sorted; never ``.pyc`` or what is under a cache folder."""
    files = (p for p in folder.rglob("*") if p.is_file() and p.suffix != ".pyc")
    return sorted(p for p in files if not _CACHES.intersection(p.relative_to(folder).parts))


# Files of the package that only read finished results (the class report and its parts, its results and
# similarity check, its default due date and the LMS exports): they can't change a grade, so editing them
# grades no one again.
READS_RESULTS_ONLY = (
    "run/class_results.py",
    "outputs/class_report.py",
    "outputs/report_data.py",
    "outputs/report_similarity.py",
    "outputs/report_context.py",
    "outputs/report_plots.py",
    "outputs/report_due.py",
    "outputs/similarity.py",
    "outputs/exports.py",
    "outputs/templates/class_report.html.j2",
)


def package_files() -> list[Path]:
    """The grading package's files: all but the assignments' own graders (each is hashed alone)
    and the modules that only read results (``READS_RESULTS_ONLY``)."""
    graders = PACKAGE_DIR / "graders"
    readers = {PACKAGE_DIR / name for name in READS_RESULTS_ONLY}
    files = [p for p in _tree(PACKAGE_DIR) if p.parent == graders or graders not in p.parents]
    return [p for p in files if p not in readers]


# Tables of assignment.toml that never decide a raw grade: the late policy is applied to
# each saved grade when a run finishes, and [report] only shapes the class report, so
# changing either must not grade anyone again.
NOT_DECISIVE = ("late", "report")


def decisive_bytes(path: Path) -> bytes:
    """A file's bytes as the fingerprint sees them. assignment.toml is read as its tables
    without ``NOT_DECISIVE`` (so neither the late policy nor a comment re-grades anyone)."""
    data = path.read_bytes()
    if path.name == "assignment.toml":
        try:
            conf = tomllib.loads(data.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return data  # unreadable: grading stops on it anyway
        kept = {k: v for k, v in conf.items() if k not in NOT_DECISIVE}
        return b"assignment.toml tables\0" + json.dumps(kept, sort_keys=True, default=str).encode()
    return data


def shared_inputs(assignment: Assignment) -> dict[str, tuple[Path, list[Path]]]:
    """What decides every student's grade alike: label -> (folder, its files)."""
    source, release = assignment.source_notebook.parent, assignment.release_dir
    requirements = assignment.root / "requirements.txt"
    return {
        # tests, conftest, toml, data; not catalogue.py, which tests the graders and decides no grade
        "graders": (assignment.graders_dir, [p for p in _tree(assignment.graders_dir) if p.name != CATALOGUE]),
        "package": (PACKAGE_DIR, package_files()),  # the grading code, the sandbox and its harness
        "source": (source, _tree(source)),  # the reference notebook and its helper modules
        "release": (release, _tree(release)),  # what the sandbox runs beside the student's cells
        "requirements": (assignment.root, [requirements] if requirements.exists() else []),  # pinned packages
    }


def shared_digest(assignment: Assignment, spec: GradingSpec) -> str:
    """A hash of every input but the notebook: sorted relative paths and their contents, and the
    run's grading spec (so a limit given on the command line grades again; the worker count doesn't).

    Computed once per batch (``grade_class``) and combined with each notebook's digest.
    """
    h = hashlib.sha256(b"autograder fingerprint 2\0")
    for label, (folder, files) in shared_inputs(assignment).items():
        h.update(f"{label} {len(files)}\0".encode())  # a missing folder or file: 0 files
        for path in files:
            data = decisive_bytes(path)
            h.update(f"{path.relative_to(folder).as_posix()}\0{len(data)}\0".encode())
            h.update(data)
    h.update(spec.model_dump_json().encode())  # the limits (the command line's too), isolation, tolerances
    h.update(sys.version.encode())  # the interpreter (requirements.txt pins the packages)
    return h.hexdigest()


def manifest(assignment: Assignment) -> dict[str, str]:
    """What ``shared_digest`` hashes, file by file: "label/relative path" -> sha256, and the Python."""
    files = {"python": sys.version}
    for label, (folder, paths) in shared_inputs(assignment).items():
        for path in paths:
            files[f"{label}/{path.relative_to(folder).as_posix()}"] = hashlib.sha256(decisive_bytes(path)).hexdigest()
    return files


def fingerprint(assignment: Assignment, digest: str, spec: GradingSpec, shared: str | None = None) -> str:
    """Changes whenever the grade could: the notebook or anything in ``shared_digest``.

    ``shared`` is ``shared_digest(assignment, spec)``, computed once for a whole class.
    """
    shared = shared or shared_digest(assignment, spec)
    return hashlib.sha256(f"notebook {digest}\0shared {shared}".encode()).hexdigest()


def load_saved(path: Path, expected: str, student: str, assignment: str) -> StudentResult | None:
    """Saved results if they match ``expected``; None if missing, stale or unreadable.

    Results an older run saved with text that needs cleaning are saved again, clean.
    """
    found = saved.load(path, student, assignment)
    if found is None or found.fingerprint != expected:
        return None
    if not found.current:
        saved.save(path, expected, found.result)
    return found.result
