"""Marginal seconds per honest submission: a class of N reference answers, one worker, warm.

    python bench/honest_rate.py COURSE ASSIGNMENT [N]

COURSE is a checkout of this repository (``.`` for this one; another commit's checkout, with
the venv's editable install pointed at it, for a before/after comparison).

(time when the N-th student finished - time when the 1st finished) / (N - 1), in one run:
the steady rate, without the warm grader's and template's start-up.
"""

import sys
import tempfile
import time
from pathlib import Path

root = Path(sys.argv[1]).resolve()
sys.path.insert(0, str(root))
import autograder  # noqa: E402 (after sys.path)
from autograder.authoring.submissions import build_submission, write_submission  # noqa: E402 (after sys.path)
from autograder.course.assignments import Assignment  # noqa: E402 (after sys.path)
from autograder.run.class_run import grade_class  # noqa: E402 (after sys.path)
from autograder.run.layout import Layout  # noqa: E402
from autograder.run.options import Options  # noqa: E402

assert Path(autograder.__file__).resolve().is_relative_to(root), autograder.__file__
name, n = sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 6
a = Assignment(name, root=root)
with tempfile.TemporaryDirectory() as tmp:
    sub = Path(tmp) / "submitted"
    nb = build_submission(a)
    for i in range(n):
        write_submission(nb, sub, f"s{i:02d}", name)
    done = []
    start = time.perf_counter()
    report = grade_class(
        a,
        Layout.beside(sub),
        Options(workers=1, force=True),
        on_progress=lambda s, r, reused: done.append((time.perf_counter(), r.score)),
    )
    assert not report.failed, report.failed
    assert all(score == 100 for _, score in done), done
    marginal = (done[-1][0] - done[0][0]) / (n - 1)
    print(
        f"{root.name} {name}: first {done[0][0] - start:.1f} s, marginal {marginal:.2f} s per honest submission (n={n})"
    )
