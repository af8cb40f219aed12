"""How long does grading take? Seconds per submission with 1 and 2 workers.

    python bench/grading_speed.py [ASSIGNMENT] [--students N]

Builds a class of N submissions (perfect, untouched, and realistic mutants from the
assignment's test catalogue), grades it once with one worker and once with two, and
prints seconds per submission and the speed-up. A benchmark, not a test: figures vary
with the machine and its load.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder.assignments import Assignment  # noqa: E402
from autograder.batch import Layout, Options, grade_class  # noqa: E402
from autograder.catalogue import load  # noqa: E402
from autograder.submissions import build_submission, write_submission  # noqa: E402


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
    args = parser.parse_args()
    a = Assignment(args.assignment).check()
    with tempfile.TemporaryDirectory() as tmp:
        submitted = Path(tmp) / "submitted"
        make_class(a, submitted, args.students)
        timings = {}
        for workers in (1, 2):
            start = time.perf_counter()
            report = grade_class(a, Layout.beside(submitted), Options(workers=workers, force=True))
            timings[workers] = time.perf_counter() - start
            assert not report.failed, report.failed
            per = timings[workers] / args.students
            print(
                f"{a.name}: {args.students} submissions, {workers} worker(s): {timings[workers]:.1f} s, {per:.2f} s per submission"
            )
        print(f"speed-up with 2 workers: {timings[1] / timings[2]:.2f}x")


if __name__ == "__main__":
    main()
