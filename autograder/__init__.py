"""A trustworthy autograder for a CNN course: nbgrader notebooks, sandboxed student code.

Layout of the package, one concern per module:

    cli.py          the `autograder` command (release, grade, demo)
    release.py      source/ -> release/ with nbgrader
    notebook.py     read a submission; which cells run
    session.py      one student's notebook in a sandbox, as graders see it
    sandbox/        the sandbox: launcher (namespaces, limits), worker, wire format
    plugin.py       pytest plugin: points marker, `student` fixture, scores
    checks.py       comparisons with student-safe messages, for graders
    grading.py      grade one notebook in its own grader process
    batch.py        grade a class: parallel, resumable
    gradebook.py    nbgrader gradebook rows
    reports.py      feedback HTML, autograded notebook, CSV, JSON
    graders/        hidden graders, one folder per assignment
"""

__version__ = "0.1.0"
