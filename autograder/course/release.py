"""Generate ``release/`` from ``source/`` with nbgrader, showing the points assignment.toml declares.

The points are declared once, in assignment.toml (``[points]``, ``[manual]``). ``autograder
release`` writes them into the source notebook (``write_source_points``: nbgrader's metadata and
the points table, only where they differ), then generates the release. ``generate`` never reads
the points from the notebook: it writes them into a staged copy of source/<name> first, so a
release always shows the declared points, and the sync test (tests/course/test_release.py) catches a
release/ that an edit of assignment.toml has left behind.

nbgrader does the real work (clear solutions, clear hidden tests, lock cells, record
the cells in the gradebook). We add steps around it, so the committed release is
byte-for-byte reproducible and the sync test can compare it:

    1. stage source/<name>, with the declared points written in
    2. nbgrader generate_assignment   (solutions -> stubs, checksums, gradebook)
    3. drop volatile metadata          (execution counts, widget state)
    4. write with a fixed JSON layout  (nbformat's, one-space indent, final newline)
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from traitlets.config import Config

from autograder.course import edited_work
from autograder.course.assignments import Assignment, AssignmentError
from autograder.course.notebook import read_notebook, write_notebook
from autograder.course.points import write_points

# Files in source/<assignment>/ that never belong in a release.
IGNORE = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.db", ".*"]


def use_venv_tools() -> None:
    """nbgrader runs the `alembic` command to create a gradebook: find it in our venv."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"


class ReleaseError(Exception):
    """nbgrader refused to generate the release."""


def nbgrader_config(root: Path, release_dir: Path, db_url: str, scratch: Path) -> Config:
    config = Config()
    config.Exchange.root = str(scratch)  # unused, but nbgrader warns if it's unwritable
    config.NbGraderAPI.log_level = "WARN"  # its INFO lines are noise on our console
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.source_directory = "source"
    config.CourseDirectory.release_directory = str(release_dir)  # absolute: nbgrader joins it
    config.CourseDirectory.ignore = IGNORE
    config.CourseDirectory.db_url = db_url
    return config


def generate(assignment: Assignment, out_dir: Path | None = None, db_url: str | None = None) -> Path:
    """Write the release of ``assignment`` to ``out_dir`` (default: release/<name>).

    With ``db_url``, nbgrader also records the assignment's cells in that gradebook.
    """
    from nbgrader.apps import NbGraderAPI  # slow import; only release needs it

    use_venv_tools()

    if not assignment.source_notebook.exists():
        raise AssignmentError(f"no source notebook at {assignment.source_notebook}")
    out_dir = Path(out_dir or assignment.release_dir)
    with tempfile.TemporaryDirectory(prefix="autograder-release-") as tmp:
        course = Path(tmp) / "course"  # source/<name> as nbgrader reads it: with the declared points
        staged = course / "source" / assignment.name
        shutil.copytree(assignment.source_notebook.parent, staged, ignore=shutil.ignore_patterns(*IGNORE))
        staged_nb = staged / assignment.source_notebook.name
        write_notebook(declared_points(assignment, read_notebook(staged_nb)), staged_nb)
        staging = Path(tmp) / "release"
        db_url = db_url or f"sqlite:///{tmp}/gradebook.db"  # nbgrader always wants one
        api = NbGraderAPI(config=nbgrader_config(course, staging, db_url, Path(tmp)))
        result = api.generate_assignment(assignment.name, force=True, create=True)
        if not result.get("success"):
            last = (result.get("error") or result.get("log") or "unknown error").strip().splitlines()[-1]
            raise ReleaseError(f"nbgrader could not generate {assignment.name}: {last}")
        built = staging / assignment.name
        for notebook in built.glob("*.ipynb"):
            normalise(notebook)
        missing = [m.name for m in assignment.helper_modules() if not (built / m.name).exists()]
        if missing:  # e.g. matched by IGNORE, or a folder nbgrader skipped
            raise ReleaseError(
                f"the release of {assignment.name} lacks the helper modules {', '.join(missing)} that "
                f"{assignment.declaration} ships to students; check the names in [helpers] modules"
            )
        ours = out_dir.resolve() == assignment.release_dir.resolve()  # (else a fresh folder: tests, the gradebook)
        if out_dir.exists():  # never delete work: edited files are moved aside first (edited_work.py)
            known = edited_work.last_release(assignment.root, assignment.name, out_dir) if ours else {}
            edited_work.move_aside(out_dir, built, known, assignment.root / edited_work.EDITS_DIR / assignment.name)
            shutil.rmtree(out_dir)
        shutil.copytree(built, out_dir)
        if ours:
            edited_work.write_manifest(assignment.root, assignment.name, out_dir)
    return out_dir


def declared_points(assignment: Assignment, nb: dict) -> dict:
    """``nb`` (the source notebook) showing the points ``assignment`` declares (``points.write_points``)."""
    return write_points(nb, assignment.points(), assignment.manual_points(), str(assignment.source_notebook))


def write_source_points(assignment: Assignment) -> bool:
    """Write the declared points into source/<name>/<name>.ipynb, in place, if it shows others;
    return whether it did (the file is left as it is when it already shows them)."""
    nb = read_notebook(assignment.source_notebook)
    shown = declared_points(assignment, nb)
    if shown == nb:
        return False
    write_notebook(shown, assignment.source_notebook)
    return True


def release_assignment(assignment: Assignment, on_points_written: Callable[[Assignment], None] | None = None) -> Path:
    """What ``autograder release`` (and ``autograder demo``) does for one assignment: the declared
    points written into its source notebook where it shows others (``write_source_points``; then
    ``on_points_written(assignment)``, before nbgrader runs), then release/<name> generated
    (``generate``). Returns the release's folder."""
    if write_source_points(assignment) and on_points_written is not None:
        on_points_written(assignment)
    return generate(assignment)


def normalise(path: Path) -> None:
    """Strip what changes from run to run, and write in one stable layout."""
    nb = read_notebook(path)
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["execution_count"] = None
            cell["outputs"] = []
    write_notebook(nb, path)
