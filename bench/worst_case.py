"""How much can one hostile submission add to a batch? Its grading time against its budget.

    python bench/worst_case.py [ASSIGNMENT...]

For each assignment, grades one submission that sleeps just under every time-out (a
cell just under the cell time-out, then every graded function just under the call
time-out) next to an honest one, and prints both grading times, the time charged to
student code, and the budget (``budget_seconds`` in the assignment's limits). Before
the budget existed, such a submission added about 290 s to a cnn_step_by_step batch.
A benchmark, not a test: the test asserts only the budget plus a margin.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder.authoring.submissions import build_submission, write_submission  # noqa: E402
from autograder.course.assignments import Assignment, available  # noqa: E402
from autograder.run.class_run import grade_class  # noqa: E402
from autograder.run.layout import Layout  # noqa: E402
from autograder.run.options import Options  # noqa: E402

SLEEPY = """
import time, types
time.sleep({cell:.1f})  # just under the cell time-out

def _sleepy(fn):
    def wrapper(*args, **kwargs):
        time.sleep({call:.1f})  # just under the call time-out
        return fn(*args, **kwargs)
    return wrapper

for _name, _fn in list(globals().items()):
    if isinstance(_fn, (types.FunctionType, type)) and not _name.startswith("_"):
        globals()[_name] = _sleepy(_fn)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", default=available())
    args = parser.parse_args()
    for name in args.assignments:
        a = Assignment(name).check()
        limits = a.limits()
        sleepy = SLEEPY.format(cell=limits.cell_timeout - 0.5, call=limits.call_timeout - 0.2)
        with tempfile.TemporaryDirectory() as tmp:
            submitted = Path(tmp) / "submitted"
            write_submission(build_submission(a), submitted, "honest", name)
            write_submission(build_submission(a, extra_cells=[sleepy]), submitted, "sleepy", name)
            report = grade_class(a, Layout.beside(submitted), Options(workers=2, force=True))
        assert not report.failed, report.failed
        honest, sleepy_r = report.results["honest"], report.results["sleepy"]
        print(
            f"{name}: budget {limits.budget_seconds:g} s; honest {honest.extra['seconds']:.1f} s "
            f"({honest.extra['student_seconds']:.1f} s in student code, {honest.score:g} points); "
            f"sleepy {sleepy_r.extra['seconds']:.1f} s ({sleepy_r.extra['student_seconds']:.1f} s in student code, "
            f"{sleepy_r.score:g} points); adds at most {sleepy_r.extra['seconds'] - honest.extra['seconds']:.1f} s "
            f"over an honest submission"
        )


if __name__ == "__main__":
    main()
