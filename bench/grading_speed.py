"""How long does grading take? Seconds per submission with 1 and 2 workers, warm and cold.

    python bench/grading_speed.py [ASSIGNMENT] [--students N] [--workers 1 2] [--cold]

Builds a class of N submissions (perfect, untouched, and realistic mutants from the
assignment's catalogue), grades it with each number of workers, and prints seconds per
submission and the speed-up. With ``--cold`` it also grades each time without the warm
grader (every grader process started from scratch) and prints the ratio. A benchmark,
not a test: figures vary with the machine and its load.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder.authoring.catalogue import load  # noqa: E402
from autograder.authoring.submissions import build_submission, write_submission  # noqa: E402
from autograder.course.assignments import Assignment  # noqa: E402
from autograder.run.class_run import grade_class  # noqa: E402
from autograder.run.layout import Layout  # noqa: E402
from autograder.run.options import Options  # noqa: E402


def make_class(a: Assignment, folder: Path, n: int) -> None:
    notebooks = [build_submission(a), build_submission(a, perfect=False)]
    for m in load(a).mutants:
        notebooks.append(build_submission(a, {m.function: m.source}))
    for i in range(n):
        write_submission(notebooks[i % len(notebooks)], folder, f"s{i:03d}", a.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignment", nargs="?", default="cnn_step_by_step")
    parser.add_argument("--students", type=int, default=12, help="class size (default 12)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts (default 1 2)")
    parser.add_argument("--cold", action="store_true", help="also grade without the warm grader, for the ratio")
    args = parser.parse_args()
    a = Assignment(args.assignment).check()
    with tempfile.TemporaryDirectory() as tmp:
        submitted = Path(tmp) / "submitted"
        make_class(a, submitted, args.students)
        timings = {}
        for workers in args.workers:
            for warm in (True, False) if args.cold else (True,):
                start = time.perf_counter()
                report = grade_class(a, Layout.beside(submitted), Options(workers=workers, force=True, warm=warm))
                timings[workers, warm] = time.perf_counter() - start
                assert not report.failed, report.failed
                per = timings[workers, warm] / args.students
                kind = "warm" if warm else "cold"
                print(f"{a.name}: {args.students} submissions, {workers} worker(s), {kind}: "
                      f"{timings[workers, warm]:.1f} s, {per:.2f} s per submission")  # fmt: skip
            if args.cold:
                print(
                    f"  cold / warm with {workers} worker(s): {timings[workers, False] / timings[workers, True]:.2f}x"
                )
        if (1, True) in timings and (2, True) in timings:
            print(f"speed-up with 2 workers: {timings[1, True] / timings[2, True]:.2f}x")


if __name__ == "__main__":
    main()
