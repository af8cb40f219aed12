"""Plain nbgrader on the whole course, once per session: what tests/course/test_plain_nbgrader.py
checks, and where tests/course/test_notebooks.py reads the training notebooks' executed reference.

The course is copied to a temporary folder (only nbgrader_config.py and source/; nbgrader
regenerates release/ there, which also records the assignment in the temporary gradebook, as an
instructor's `generate_assignment` does), each assignment's reference answers are submitted for
one student, and every nbgrader command runs as a separate process with the venv's tools *not* on
PATH. Then `autograde` runs on every reference, and `validate` on the untouched release and on
the reference of each notebook that doesn't train. For those that do (TRAINING), `validate` on the
reference would run the same notebook as `autograde` with the same Execute settings, so
autograde's full marks stand for both; and how their untouched release fails (at the first stub,
every cell before it clean) is tests/course/test_notebooks.py's, in a kernel: `validate`'s own
verdict on an untouched release is the same code for every notebook, checked on the others.
The notebooks run in quick mode (CNN_COURSE_QUICK=1: fewer training steps, every cell still
runs), as in the rest of the suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from autograder.authoring.submissions import build_submission, write_submission
from autograder.course.assignments import Assignment
from tests.support import REPO

NBGRADER = str(Path(sys.executable).with_name("nbgrader"))
ASSIGNMENTS = sorted(p.name for p in (REPO / "source").iterdir() if (p / f"{p.name}.ipynb").exists())
STUDENT = "reference"
PARALLEL = 2  # nbgrader processes at a time (the suite's machines have 2 cores)
TRAINING = ("keras_resnet", "classic_cnns", "conv_net")  # the notebooks that train (minutes), started first

SECONDS: dict[str, float] = {}  # each command's wall time, printed with -s


@dataclass
class PlainRun:
    """The course nbgrader ran in, and each command's result by (assignment, what): what is
    "autograde", "release" (validate the untouched release) or "reference" (validate the reference)."""

    course: Path
    runs: dict[tuple[str, str], subprocess.CompletedProcess]
    seconds: float

    def autograded(self, name: str) -> Path:
        """The reference's notebook as `nbgrader autograde` executed it (with its outputs)."""
        return self.course / "autograded" / STUDENT / name / f"{name}.ipynb"


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    """One nbgrader command in the course, as an instructor runs it: no venv on PATH."""
    venv_bin = str(Path(sys.executable).parent)
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != venv_bin)
    # one BLAS thread per kernel: two kernels share the two cores (the conv_net notebook's own advice)
    env = {**os.environ, "PATH": path, "CNN_COURSE_QUICK": "1", "OPENBLAS_NUM_THREADS": "1"}
    started = time.monotonic()
    done = subprocess.run([NBGRADER, *args], cwd=course, env=env, capture_output=True, text=True, timeout=1800)
    SECONDS[" ".join(args[:1] + tuple(str(Path(a).relative_to(course)) if a.startswith("/") else a
                                      for a in args[1:]))] = round(time.monotonic() - started, 1)  # fmt: skip
    return done


def gradebook_of(course: Path, name: str) -> str:
    """The option giving each assignment a gradebook of its own (the runs go two at a time)."""
    return f"--CourseDirectory.db_url=sqlite:///{course / f'{name}.db'}"


def prepare(root: Path) -> Path:
    """A copy of the course (config and sources), each assignment generated, the reference submitted."""
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    for name in ASSIGNMENTS:
        shutil.copytree(REPO / "source" / name, root / "source" / name,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))  # fmt: skip
    with ThreadPoolExecutor(PARALLEL) as pool:  # (one gradebook each: two nbgraders creating one SQLite file race)
        runs = pool.map(lambda n: nbgrader(root, "generate_assignment", n, gradebook_of(root, n)), ASSIGNMENTS)
        for name, done in zip(ASSIGNMENTS, runs, strict=True):
            assert done.returncode == 0, f"generate_assignment {name}:\n{done.stdout}\n{done.stderr}"
    for name in ASSIGNMENTS:  # the student's folder: the release generated here, with the reference's answers
        shutil.copytree(root / "release" / name, root / "submitted" / STUDENT / name)
        write_submission(build_submission(Assignment(name, root=root)), root / "submitted", STUDENT, name)
    return root


def run(root: Path) -> PlainRun:
    """Autograde every reference and validate as the module docstring says, two commands at a time."""
    course = prepare(root)
    jobs = []  # (assignment, what, nbgrader's arguments), the training notebooks first: they set the wall time
    for name in sorted(ASSIGNMENTS, key=lambda n: TRAINING.index(n) if n in TRAINING else len(TRAINING)):
        jobs.append((name, "autograde", ("autograde", name, gradebook_of(course, name))))
        if name not in TRAINING:
            jobs += [(name, "release", ("validate", str(course / "release" / name / f"{name}.ipynb"))),
                     (name, "reference", ("validate", str(course / "submitted" / STUDENT / name / f"{name}.ipynb")))]  # fmt: skip
    started = time.monotonic()
    with ThreadPoolExecutor(PARALLEL) as pool:
        runs = dict(zip([(n, what) for n, what, _ in jobs], pool.map(lambda j: nbgrader(course, *j[2]), jobs),
                        strict=True))  # fmt: skip
    return PlainRun(course, runs, time.monotonic() - started)
