"""A trustworthy autograder for a CNN course: nbgrader notebooks, sandboxed student code.

The folders follow an assignment's life (docs/architecture.md draws it):

    course/     an assignment as authored: paths, the typed declaration (assignment.toml),
                points declared once, notebooks, release (source/ -> release/ with nbgrader)
    authoring/  tools for authors and tests, never run while grading: catalogue, demo
                submissions, scaffold (`autograder new`), the demo
    run/        a class run on the host: the listed pipeline, discover, intake, times,
                fingerprint, pools (local threads or Dask with TLS), class_run, grading
                (one grader process per submission), grader_server (warm graders)
    grader/     inside the grader process: the pytest plugin, the grading spec, the
                student's sandboxed session, stand-ins
    kit/        the grading library graders import (checks, gradients, tolerances, Keras
                model comparison, fixtures, verdicts, the reference store)
    sandbox/    limits, isolation, memory bounds, the worker process, warm templates, and
                harness/ (what runs inside the sandbox: worker, wire format, confinement)
    outputs/    results (the one shape), saved results, feedback, tables, late and manual
                grades, the gradebook, the class report, similarity, exports, inertness
    graders/    the hidden graders, one folder per assignment
    cli.py      the `autograder` command: parses, then calls run.pipeline
    console.py  what a run shows on the terminal
    text.py     the one sanitiser for student-controlled text; files.py: atomic writes
"""

__version__ = "0.1.0"
