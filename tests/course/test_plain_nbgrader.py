"""Does plain nbgrader work on every assignment with the course's nbgrader_config.py?

An instructor who never runs `autograder` still gets full marks for the reference from
`nbgrader autograde`, and `nbgrader validate` tells a finished notebook from the
untouched release. The run is tests/course/plain_nbgrader.py's, once per session (the
training notebooks' test in tests/course/test_notebooks.py reads it too). The full-mode
figures that set ``c.Execute.timeout`` are in nbgrader_config.py. nbgrader's own default
(30 s) is tested against too: the config must be what raises it.

Running without the venv: ``python3 -m autograder`` with a Python that lacks the course's
packages says so in one line, with the command that works, instead of a traceback.
"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.course.plain_nbgrader import ASSIGNMENTS, SECONDS, STUDENT, TRAINING, gradebook_of
from tests.support import REPO, need_program


def test_the_config_raises_nbgrader_s_cell_timeout():
    """Does nbgrader_config.py give nbgrader's cell execution more than its 30 s default?"""
    from nbgrader.preprocessors import Execute
    from traitlets.config import Config, PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(REPO)).load_config()
    assert isinstance(config, Config)
    assert Execute.class_traits()["timeout"].default_value == 30  # what the Keras notebooks failed at
    assert Execute(config=config).timeout >= 300


@pytest.mark.slow
def test_autograde_gives_the_reference_full_marks_and_validate_tells_done_from_untouched(plain_nbgrader_run):
    """Does `nbgrader autograde` score every assignment's reference at its maximum in the gradebook,
    and does `nbgrader validate` pass the reference and fail the untouched release?"""
    from nbgrader.api import Gradebook

    course, runs = plain_nbgrader_run.course, plain_nbgrader_run.runs
    print(f"plain nbgrader on {len(ASSIGNMENTS)} assignments: {plain_nbgrader_run.seconds:.0f} s; {SECONDS}")

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
    validated = [name for name in ASSIGNMENTS if name not in TRAINING]  # (see tests/course/plain_nbgrader.py)
    assert validated
    for name in validated:
        out = runs[name, "release"].stdout + runs[name, "release"].stderr
        assert "VALIDATION FAILED ON" in out and "NotImplementedError" in out, f"{name} (untouched):\n{out[-3000:]}"
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
