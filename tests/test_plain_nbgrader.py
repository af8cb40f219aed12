"""Does plain nbgrader work on every assignment with the course's nbgrader_config.py?

An instructor who never runs `autograder` still gets full marks for the reference from
`nbgrader autograde`, and `nbgrader validate` tells a finished notebook from the
untouched release. The course is copied to a temporary folder (only nbgrader_config.py
and source/; nbgrader regenerates release/ there, which also records the assignment in
the temporary gradebook, as an instructor's `generate_assignment` does), each
assignment's reference answers are submitted for one student, and every nbgrader
command runs as a separate process with the venv's tools *not* on PATH.

Validate runs on every untouched release, and on every reference but keras_resnet's, whose
run autograde's full marks already stand for (see REFERENCE_VALIDATED_BY_AUTOGRADE). The
notebooks run in quick mode (CNN_COURSE_QUICK=1: fewer training steps, every cell
still runs), as in the rest of the suite; the full-mode figures that set
``c.Execute.timeout`` are in nbgrader_config.py. nbgrader's own default (30 s) is
tested against too: the config must be what raises it.

Running without the venv: ``python3 -m autograder`` with a Python that lacks the course's
packages says so in one line, with the command that works, instead of a traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from autograder.authoring.submissions import build_submission, write_submission
from autograder.course.assignments import Assignment
from tests.support import need_program

REPO = Path(__file__).resolve().parents[1]
NBGRADER = str(Path(sys.executable).with_name("nbgrader"))
ASSIGNMENTS = sorted(p.name for p in (REPO / "source").iterdir() if (p / f"{p.name}.ipynb").exists())
STUDENT = "reference"
PARALLEL = 2  # nbgrader processes at a time (the suite's machines have 2 cores)
SLOWEST = ("keras_resnet", "classic_cnns", "conv_net")  # the notebooks that train, started first
# `validate` on the reference runs the same notebook as `autograde`, with the same Execute
# settings: for the slowest notebook (about 110 s in quick mode on a busy machine) autograde's
# full marks stand for both, to keep this test near three minutes.
REFERENCE_VALIDATED_BY_AUTOGRADE = ("keras_resnet",)


SECONDS: dict[str, float] = {}  # each command's wall time, printed with -s


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


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A copy of the course (config and sources), each assignment generated, the reference submitted."""
    root = tmp_path_factory.mktemp("plain-nbgrader")
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


def test_the_config_raises_nbgrader_s_cell_timeout():
    """Does nbgrader_config.py give nbgrader's cell execution more than its 30 s default?"""
    from nbgrader.preprocessors import Execute
    from traitlets.config import Config, PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    assert isinstance(config, Config)
    assert Execute.class_traits()["timeout"].default_value == 30  # what the Keras notebooks failed at
    assert Execute(config=config).timeout >= 300


@pytest.mark.slow
def test_autograde_gives_the_reference_full_marks_and_validate_tells_done_from_untouched(course):
    """Does `nbgrader autograde` score every assignment's reference at its maximum in the gradebook,
    and does `nbgrader validate` pass the reference and fail the untouched release?"""
    from nbgrader.api import Gradebook

    jobs = []  # (assignment, what, nbgrader's arguments), the training notebooks first: they set the wall time
    for name in sorted(ASSIGNMENTS, key=lambda n: SLOWEST.index(n) if n in SLOWEST else len(SLOWEST)):
        jobs += [(name, "autograde", ("autograde", name, gradebook_of(course, name))),
                 (name, "release", ("validate", str(course / "release" / name / f"{name}.ipynb")))]  # fmt: skip
        if name not in REFERENCE_VALIDATED_BY_AUTOGRADE:
            jobs.append((name, "reference", ("validate", str(course / "submitted" / STUDENT / name / f"{name}.ipynb"))))
    started = time.monotonic()
    with ThreadPoolExecutor(PARALLEL) as pool:
        runs = dict(zip([(n, what) for n, what, _ in jobs], pool.map(lambda j: nbgrader(course, *j[2]), jobs),
                        strict=True))  # fmt: skip
    print(f"plain nbgrader on {len(ASSIGNMENTS)} assignments: {time.monotonic() - started:.0f} s; {SECONDS}")

    for name in ASSIGNMENTS:
        with Gradebook(gradebook_of(course, name).split("=", 1)[1]) as gradebook:
            run = runs[name, "autograde"]
            assert run.returncode == 0, f"autograde {name}:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
            assert "CellTimeoutError" not in run.stdout + run.stderr, name
            submission = gradebook.find_submission(name, STUDENT)
            failed = [g.name for nb in submission.notebooks for g in nb.grades if g.score != g.max_score]
            assert submission.max_score > 0, name
            assert submission.score == submission.max_score, (
                f"{name}: the reference scores {submission.score} of {submission.max_score} in nbgrader's gradebook; "
                f"failed: {failed} (nbgrader fails a test cell that raises or writes to stderr, warnings included)"
            )
    for name in ASSIGNMENTS:
        out = runs[name, "release"].stdout + runs[name, "release"].stderr
        assert "VALIDATION FAILED ON" in out and "NotImplementedError" in out, f"{name} (untouched):\n{out[-3000:]}"
        if name in REFERENCE_VALIDATED_BY_AUTOGRADE:
            continue
        out = runs[name, "reference"].stdout + runs[name, "reference"].stderr
        assert runs[name, "reference"].returncode == 0, f"validate {name} (reference):\n{out[-3000:]}"
        assert "VALIDATION FAILED" not in out and "Traceback" not in out, f"{name} (reference):\n{out[-3000:]}"
        # the course's config makes validate say what passed: the visible checks, not "all the tests"
        assert "passes all the tests" not in out and "passes the visible checks" in out, out[-3000:]


def test_autograder_without_its_venv_says_what_to_run():
    """Does `python3 -m autograder --help` with the system Python (no rich) fail in one line that names the
    missing package and the venv's command, with exit status 1?"""
    python = need_program("/usr/bin/python3", "python3")
    has_rich = subprocess.run([python, "-c", "import rich"], capture_output=True).returncode == 0
    flags = ["-S"] if has_rich else []  # without site-packages it lacks rich whatever is installed
    done = subprocess.run([python, *flags, "-m", "autograder", "--help"], cwd=REPO, capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")})  # fmt: skip
    assert done.returncode == 1, done
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "lacks the package `rich`" in lines[0] and "virtual environment" in lines[0]
    assert f"`{REPO / '.venv' / 'bin' / 'autograder'} --help`" in lines[0]
    assert "Traceback" not in done.stderr
