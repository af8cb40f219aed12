"""The class report's time with a 32 MiB notebook in the class, against the same class without it.

    python bench/report_bounds.py [--students N] [--shape answers|cell] [--runs R] [--baseline DIR [--baseline-runs R]]

Grades two copies of a small cnn_step_by_step class (N honest students: the reference and
the catalogue's differently written correct answers), the second with one more student
whose notebook is just under intake's 32 MiB cap, then times ``autograder report`` on
each (a fresh process, as an instructor runs it; the median of R runs). Shapes of the big
notebook: ``answers`` puts ~3.9 MiB of generated code in every answer cell (each cell still
runs in the sandbox), ``cell`` one ~32 MiB cell of the student's own. ``--baseline DIR``
also times the report of another checkout of the package (e.g. ``git archive`` of the
commit before the bounds) on the same graded classes. Also times the big student's
feedback page (``feedback.feedback_html``). A benchmark, not a test.
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autograder.authoring.submissions import build_submission, reference_answers, write_submission  # noqa: E402
from autograder.course.assignments import Assignment  # noqa: E402
from autograder.course.notebook import write_notebook  # noqa: E402
from autograder.graders.cnn_step_by_step.catalogue import CORRECT  # noqa: E402
from autograder.outputs import feedback  # noqa: E402
from autograder.run.class_run import grade_class  # noqa: E402
from autograder.run.intake import BOUNDS  # noqa: E402
from autograder.run.layout import Layout  # noqa: E402
from autograder.run.options import Options  # noqa: E402

A = Assignment("cnn_step_by_step")


def honest(n: int) -> dict[str, dict]:
    """n notebooks: the reference, then one correct variant each (so the pairs are realistic)."""
    out = {"s00": build_submission(A)}
    for i, v in zip(range(1, n), CORRECT * n, strict=False):
        out[f"s{i:02d}"] = build_submission(A, {v.function: v.source})
    return out


def big(shape: str, count: int) -> dict:
    """A notebook with ``count`` generated helper functions: all in one cell of the student's own
    (``cell``), or shared out among the answer cells, after the reference's code (``answers``)."""
    helper = "def _pad_{i}(x):\n    return x + {i}\n\n"
    if shape == "cell":
        return build_submission(A, extra_cells=["".join(helper.format(i=i) for i in range(count))])
    answers = reference_answers(A)
    each = count // len(answers)
    return build_submission(A, {gid: src + "\n\n" + "".join(helper.format(i=i) for i in range(each))
                                for gid, src in answers.items()})  # fmt: skip


def write_big(shape: str, path: Path) -> int:
    """Write the big notebook at ``path``, just under intake's cap (``BOUNDS.max_bytes``); its size."""
    target = BOUNDS.max_bytes - 64 * 1024
    count = 100_000
    for _ in range(3):  # scale the count to the size written (JSON quotes each line: not linear at first)
        write_notebook(big(shape, count), path)
        count = int(count * target / path.stat().st_size)
    write_notebook(big(shape, count), path)
    return path.stat().st_size


def time_report(course: Path, package: Path, out: Path) -> float:
    env = {**os.environ, "PYTHONPATH": str(package)}
    cmd = [sys.executable, "-m", "autograder", "--course", str(REPO), "report", A.name, str(course / "submitted"),
           "--out", str(out)]  # fmt: skip
    started = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, capture_output=True, cwd=package)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=6)
    parser.add_argument("--shape", choices=("answers", "cell"), default="answers")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="another checkout's root, to time its report too")
    parser.add_argument("--baseline-runs", type=int, default=1, help="runs of the baseline's report (it may be slow)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        courses = {"without": Path(tmp) / "without", "with": Path(tmp) / "with"}
        for label, course in courses.items():
            for student, nb in honest(args.students).items():
                write_submission(nb, course / "submitted", student, A.name)
            if label == "with":
                path = course / "submitted" / "big" / A.name / f"{A.name}.ipynb"
                size = write_big(args.shape, path)
                assert size <= BOUNDS.max_bytes, size
                print(f"big notebook ({args.shape}): {size:,} bytes ({size / 2**20:.2f} MiB; the cap is "
                      f"{BOUNDS.max_bytes / 2**20:g} MiB)")  # fmt: skip
            started = time.perf_counter()
            report = grade_class(A, Layout.beside(course / "submitted"), Options(workers=2, force=True))
            assert not report.failed, report.failed
            print(f"graded {label}: {len(report.results)} students in {time.perf_counter() - started:.1f} s")
            if label == "with":
                result = report.results["big"]
                print(f"  big: {result.score:g} / {result.max_score:g}; errors: {[e[:120] for e in result.errors]}")
                notebook = course / "autograded" / "big" / A.name / f"{A.name}.ipynb"
                started = time.perf_counter()
                page = feedback.feedback_html(result, notebook)
                print(f"  big's feedback page: {len(page.encode()):,} bytes in {time.perf_counter() - started:.2f} s")
        packages = {"bounded": REPO, **({"baseline": args.baseline} if args.baseline else {})}
        for name, package in packages.items():
            for label, course in courses.items():
                count = args.runs if name == "bounded" else args.baseline_runs
                runs = [time_report(course, package, Path(tmp) / f"{name}-{label}.html") for _ in range(count)]
                print(f"report ({name}, {label} the big notebook): median {statistics.median(runs):.1f} s "
                      f"of {', '.join(f'{r:.1f}' for r in runs)}")  # fmt: skip


if __name__ == "__main__":
    main()
