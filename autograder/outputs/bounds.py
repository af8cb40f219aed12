"""Every limit on the work done outside the sandbox on student data, in one place.

The sandbox bounds what student code may do (``sandbox/limits.py``'s ``Limits``) and intake
bounds what a submitted file may be (``intake.FileBounds``: 32 MiB, 5,000 cells). These bound
what the grader's and the instructor's own processes then do with a submission: read its
cells to find the code that ran (``definitions.py``), compare that code between students
(``similarity.py``) and lay it out in the class report (``class_report.py``). Each is
applied before the work it bounds. A submission past a limit is noted (in the report, and
in its feedback where the student can act on it) and left out of that step only; the step
goes on for everyone else.

Student text elsewhere is bounded where it is cleaned (``text.py``: 10 KB per message, 50
messages per student, 32 KiB of code per answer shown, 1 MB per feedback page); exports
only read results and CSVs the grader wrote, which those limits already bound.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Bounds:
    """The limits of the instructor-side work on one assignment's submissions."""

    # reading a notebook's cells (definitions.py), in the grader process and again for the report
    cell_bytes: int = 256 * 1024  # a cell larger than this is not parsed (real answers are a few KiB)
    notebook_bytes: int = 2**20  # code parsed per notebook, in the order it ran; later cells are not
    parse_seconds: float = 2.0  # reading one notebook's cells; checked between cells
    helpers: int = 25  # the student's own functions followed from one graded function
    # comparing (similarity.py), for the class report
    compare_bytes: int = 64 * 1024  # code compared per function per student; more is noted, not compared
    similarity_seconds: float = 120.0  # locating and comparing, for the whole class; then it stops, noted
    # the class report's page (class_report.py)
    # similar pairs listed per function, most similar first; the rest are counted (a class that
    # copied one posted answer would otherwise list every pair of its students: ~45,000 for 300)
    pairs_listed: int = 50
    report_errors: int = 10  # problems shown per student (each at most report_error_bytes); the rest counted
    report_error_bytes: int = 2048


BOUNDS = Bounds()
