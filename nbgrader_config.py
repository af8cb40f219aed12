"""nbgrader settings for this course folder (used by `nbgrader` and formgrader).

The `autograder` command passes the same settings itself (autograder/release.py), so
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
# works without an activated venv, as autograder.release.use_venv_tools does for us.
_bin = os.path.dirname(sys.executable)
if _bin not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.db", ".*"]
