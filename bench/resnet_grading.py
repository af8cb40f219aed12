"""How long does grading one keras_resnet submission take, TensorFlow imports included?

    python bench/resnet_grading.py            # 3 sequential gradings + one batch of 2 in parallel
    python bench/resnet_grading.py --runs 1 -v

Each grading is what `autograder grade` does for one student: a fresh grader process
(pytest, TensorFlow, the reference notebook) and a fresh sandboxed worker (TensorFlow,
the student's cells), then 51 hidden tests that build blocks, ResNet50 skeletons and
ResNet18/34 models. The budget is 60 s per submission on 2 cores. Record the printed
figures in docs/bench/resnet_grading.md (the machine is shared: say how busy it was).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder.authoring.submissions import build_submission, write_submission  # noqa: E402
from autograder.course.assignments import Assignment  # noqa: E402
from autograder.run.class_run import grade_class  # noqa: E402
from autograder.run.grading import grade_notebook  # noqa: E402
from autograder.run.layout import Layout  # noqa: E402
from autograder.run.options import Options  # noqa: E402

BUDGET = 60.0


def tensorflow_import_seconds() -> float:
    """Wall time of `import keras` (TensorFlow underneath) in a fresh interpreter."""
    start = time.monotonic()
    subprocess.run([sys.executable, "-c", "import keras"], check=True, capture_output=True,
                   env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})  # fmt: skip
    return time.monotonic() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="sequential gradings of the reference (default 3)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each grading's score as well")
    args = parser.parse_args(argv)
    assignment = Assignment("keras_resnet")
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f} before the benchmark")
    print(f"import keras (TensorFlow) in a fresh process: {tensorflow_import_seconds():.1f} s")

    with tempfile.TemporaryDirectory(prefix="resnet-bench-") as tmp:
        submitted = Path(tmp) / "submitted"
        perfect = write_submission(build_submission(assignment), submitted, "perfect", assignment.name)
        write_submission(build_submission(assignment), submitted, "perfect-2", assignment.name)
        walls, inside = [], []
        for run in range(args.runs):
            start = time.monotonic()
            result = grade_notebook(assignment, perfect, "perfect")
            walls.append(time.monotonic() - start)
            inside.append(result["seconds"])
            score = f"  score {result['score']:g}/{result['max_score']:g}" if args.verbose else ""
            print(f"sequential grading {run + 1}: {walls[-1]:.1f} s wall ({result['seconds']:.1f} s in pytest){score}")
        start = time.monotonic()
        report = grade_class(assignment, Layout.beside(submitted), Options(workers=2, force=True))
        batch = time.monotonic() - start
        each = [r.extra["seconds"] for r in report.results.values()]

    print()
    print("| measure | seconds |\n|---|---|")
    print(f"| one submission, alone (median of {len(walls)}) | {statistics.median(walls):.1f} |")
    print(f"| one submission, alone (max) | {max(walls):.1f} |")
    print(f"| two submissions at once (--workers 2), each | {', '.join(f'{s:.1f}' for s in each)} |")
    print(f"| two submissions at once, whole batch | {batch:.1f} ({batch / 2:.1f} per submission) |")
    worst = max(max(walls), batch / 2)
    print(f"\nbudget {BUDGET:.0f} s per submission: {'OK' if worst <= BUDGET else 'OVER'} (worst {worst:.1f} s)")
    return 0 if worst <= BUDGET else 1


if __name__ == "__main__":
    sys.exit(main())
