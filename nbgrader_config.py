"""nbgrader settings for this course folder (used by `nbgrader` and formgrader).

The `autograder` command passes the same settings itself (autograder/release.py), so
it doesn't depend on this file; keep the two in step.
"""

import os

c = get_config()  # noqa: F821 - provided by nbgrader when it loads this file

c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.db", ".*"]
