"""nbgrader settings for this course folder (used by `nbgrader` and formgrader).

The `autograder` command passes the same settings itself (autograder/course/release.py), so
it doesn't depend on this file; keep the two in step.

For the exchange (release_assignment, collect, release_feedback, ...), also set the
course id and, if not the default /srv/nbgrader/exchange, the exchange's folder:

    c.CourseDirectory.course_id = "cnn101"
    c.Exchange.root = "/srv/nbgrader/exchange"
"""

import os
import sys

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

# nbgrader runs the `alembic` command when it creates a gradebook (`collect`, `db`, ...).
# Put the tools of the Python running nbgrader (.venv/bin) on PATH, so `.venv/bin/nbgrader`
# works without an activated venv, as autograder.course.release.use_venv_tools does for us.
_bin = os.path.dirname(sys.executable)
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.db", ".*"]

# Seconds per cell when nbgrader itself runs a notebook (`nbgrader autograde`, `nbgrader validate`,
# formgrader). nbgrader's default, 30 s, stops the training cells, and a stopped cell scores the
# whole notebook 0. Measured on the reference notebooks in full mode, slowest cell (whole notebook),
# on a 2-core machine shared with other jobs (load average about 8): conv_net 289 s (336 s; about
# 10 s on an idle machine, the rest is NumPy's BLAS threads fighting for busy cores), keras_resnet
# 77 s (222 s), classic_cnns 53 s (94 s), cnn_step_by_step 5 s, normalization 2 s.
# 900 s is three times the slowest of those; a cell that hangs costs fifteen minutes, not forever.
# tests/course/test_plain_nbgrader.py runs autograde and validate on every assignment with this file.
# `autograder grade` doesn't read this: it runs cells in its sandbox with the per-assignment
# limits in autograder/graders/<name>/assignment.toml (cell_timeout).
c.Execute.timeout = 900

# `nbgrader validate` ends with "Success! Your notebook passes all the tests." when every
# visible check passes. Here the hidden checks grade more cases, so that would overclaim:
# say what passed instead. nbgrader 0.9 writes the sentence in one method
# (Validator._print_num_failed), so that method alone is replaced, and only its success
# line. (The Validate button of a student's own Jupyter reads the student's config, not
# this one: the notebooks' introductions and check cells say the same; see docs/students.md.)
try:
    from nbgrader.validator import Validator as _Validator

    _print_num_failed = getattr(_Validator, "_autograder_original", _Validator._print_num_failed)

    def _print_visible_checks_passed(self, num_failed):
        if num_failed:
            return _print_num_failed(self, num_failed)
        self.stream.write(
            "Success! Your notebook passes the visible checks. The hidden checks grade more cases, "
            "so this is not your grade.\n"
        )

    _Validator._autograder_original = _print_num_failed
    _Validator._print_num_failed = _print_visible_checks_passed
except (ImportError, AttributeError):  # another nbgrader: its own sentence stays
    pass
