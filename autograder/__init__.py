"""A trustworthy autograder for a CNN course: nbgrader notebooks, sandboxed student code.

Layout of the package, one concern per module:

    cli.py          the `autograder` command (new, release, grade, demo): parses, then calls pipeline
    pipeline.py     the grading pipeline the CLI, the demo and the tests call
    results.py      typed results (student, function, test) and their JSON contract
    assignments.py  the course folder, an assignment's files and its declaration
    scaffold.py     `autograder new NAME`: a new assignment in four files
    release.py      source/ -> release/ with nbgrader
    notebook.py     read a submission; which cells run
    session.py      one student's notebook in a sandbox, as graders see it
    sandbox/        the sandbox: launcher (namespaces, limits), worker, wire format
    plugin.py       pytest plugin: points marker, `student` fixture, scores
    kit/            the grading library graders import (checks, gradients, tolerances,
                    layer cases, Keras model comparison, fixtures)
    catalogue.py    the format of each assignment's catalogue (mutants, variants, attacks)
    grading.py      grade one notebook in its own grader process
    batch.py        grade a class: parallel, resumable
    gradebook.py    nbgrader gradebook rows
    reports.py      feedback HTML, autograded notebook, CSV, JSON
    inert.py        what instructors' tools render (the autograded notebook), made inert with nh3
    graders/        hidden graders, one folder per assignment
"""

__version__ = "0.1.0"
