"""Against nbgrader: plain `nbgrader autograde` against `autograder grade` with 1 and 2 workers.

    python bench/vs_nbgrader.py [ASSIGNMENT ...] [--students 4] [--timeout 600]

For each assignment (default: every one in autograder/graders/) one class of honest
submissions is graded three ways, in the same run: by `nbgrader autograde` in a
temporary nbgrader course, and by `autograder grade --workers 1` and `--workers 2`
(the command an instructor runs, as a subprocess). It prints seconds per submission
for each, the ratios, and both tools' totals as percentages of full marks, with a
line when they disagree on a student. A benchmark, not a test: figures vary with the
machine and its load.

Decisions:

- **The class**: honest only (this compares speed and agreement on correct code, not
  the graders' strictness): the reference answers, then the catalogue's first two
  ``correct`` variants (answers written differently from the reference), in turn.
  Every one should earn full marks from both tools.
- **The nbgrader course** is a temporary folder with a copy of nbgrader_config.py (its
  ``CourseDirectory.root`` is the folder it sits in, so the copy makes the temporary
  folder the course), source/<a>/ and release/<a>/. `nbgrader generate_assignment
  --force` records the assignment's cells in the temporary gradebook (autograde needs
  them; it also regenerates the copied release/, never the repository's). Each student
  folder is the repository's release/<a>/ with the student's notebook, as
  `nbgrader collect` leaves it.
- **The cell timeout** is passed on the command line (``--Execute.timeout``, the class
  nbgrader_config.py sets, which a command-line value overrides), so the figure does
  not depend on the config's default: the training notebooks need minutes per cell.
- **Full mode**: CNN_COURSE_QUICK is removed from nbgrader's environment, so its run
  trains as a student's notebook does. `autograder grade` starts its sandbox with a
  minimal environment, so it never sees the variable either.
- Both tools run one after the other, never together, so neither slows the other.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from autograder.authoring.catalogue import load  # noqa: E402
from autograder.authoring.submissions import build_submission, write_submission  # noqa: E402
from autograder.course.assignments import Assignment, available  # noqa: E402

BIN = Path(sys.executable).parent  # the venv's nbgrader and autograder commands
IGNORE = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints")
WORKERS = (1, 2)


def make_class(a: Assignment, submitted: Path, n: int) -> dict[str, str]:
    """N honest submissions in nbgrader's layout, each beside a copy of the release's files."""
    correct = load(a).correct[:2]
    honest = [("reference", build_submission(a))]
    honest += [(f"correct-{v.name}", build_submission(a, {v.function: v.source})) for v in correct]
    kinds = {}
    for i in range(n):
        student = f"s{i:03d}"
        kind, nb = honest[i % len(honest)]
        shutil.copytree(a.release_dir, submitted / student / a.name, ignore=IGNORE)
        write_submission(nb, submitted, student, a.name)
        kinds[student] = kind
    return kinds


def run(command: list[str], cwd: Path, what: str, env: dict | None = None, ok: tuple[int, ...] = (0,)) -> float:
    """Run one command; its wall seconds, or SystemExit with its output's tail if its exit status is not ``ok``."""
    start = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in ok:
        raise SystemExit(f"{what} failed (exit {done.returncode}): {' '.join(command)}\n"
                         f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")  # fmt: skip
    if "CellTimeoutError" in done.stdout + done.stderr:
        print(f"  {what}: a cell timed out; raise --timeout", flush=True)
    return seconds


def nbgrader_course(a: Assignment, root: Path) -> Path:
    """A temporary nbgrader course holding ``a``, generated, with its gradebook."""
    course = root / "nbgrader"
    course.mkdir(parents=True)
    shutil.copy(REPO / "nbgrader_config.py", course / "nbgrader_config.py")
    shutil.copytree(a.source_notebook.parent, course / "source" / a.name, ignore=IGNORE)
    shutil.copytree(a.release_dir, course / "release" / a.name, ignore=IGNORE)
    run([str(BIN / "nbgrader"), "generate_assignment", a.name, "--force"], course, "nbgrader generate_assignment")
    return course


def nbgrader_scores(course: Path, a: Assignment, students: list[str]) -> dict[str, float]:
    """Each student's total in nbgrader's gradebook, as a percentage of full marks."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        scores = {}
        for student in students:
            s = gradebook.find_submission(a.name, student)
            scores[student] = 100 * s.score / s.max_score if s.max_score else float("nan")
    return scores


def autograder_scores(results: Path) -> dict[str, float]:
    """Each student's total in `autograder grade --json`, as a percentage of full marks."""
    students = json.loads(results.read_text())["students"]
    return {s: 100 * r["score"] / r["max_score"] if r["max_score"] else float("nan") for s, r in students.items()}


def bench(a: Assignment, root: Path, n: int, timeout: float) -> dict[str, tuple[float, dict[str, float]]]:
    """tool -> (wall seconds for the class, percentage per student)."""
    out = {}
    course = nbgrader_course(a, root)
    kinds = make_class(a, course / "submitted", n)
    env = {k: v for k, v in os.environ.items() if k != "CNN_COURSE_QUICK"}
    seconds = run([str(BIN / "nbgrader"), "autograde", a.name, "--force", f"--Execute.timeout={timeout:g}"],
                  course, "nbgrader autograde", env)  # fmt: skip
    out["nbgrader"] = seconds, nbgrader_scores(course, a, sorted(kinds))
    print(f"  nbgrader autograde: {seconds:.1f} s, {seconds / n:.2f} s per submission", flush=True)
    for workers in WORKERS:
        mine = root / f"autograder-w{workers}"
        # a copy per run: autograded/, feedback/ and the gradebook are written beside submitted/
        shutil.copytree(course / "submitted", mine / "submitted")
        command = [str(BIN / "autograder"), "--course", str(REPO), "grade", a.name, str(mine / "submitted"),
                   "--workers", str(workers), "--force", "--json", str(mine / "results.json")]  # fmt: skip
        # exit 2: some submission was bad input (it has its 0); the scores are still all there
        seconds = run(command, mine, f"autograder grade --workers {workers}", env, ok=(0, 2))
        out[f"autograder w{workers}"] = seconds, autograder_scores(mine / "results.json")
        print(f"  autograder grade --workers {workers}: {seconds:.1f} s, {seconds / n:.2f} s per submission",
              flush=True)  # fmt: skip
    for student, kind in sorted(kinds.items()):
        seen = {tool: scores.get(student) for tool, (_, scores) in out.items()}
        if len({round(v, 6) if v is not None else None for v in seen.values()}) > 1 or kind == "reference":
            shown = ", ".join(f"{t} {'-' if v is None else f'{v:.1f} %'}" for t, v in seen.items())
            verdict = "agree" if len(set(seen.values())) == 1 else "DISAGREE"
            print(f"  {student} ({kind}): {verdict}: {shown}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: all")
    parser.add_argument("--students", type=int, default=4, help="class size (default 4)")
    parser.add_argument("--timeout", type=float, default=600, help="nbgrader's seconds per cell (default 600)")
    args = parser.parse_args(argv)
    if args.students < 1:
        parser.error(f"--students must be at least 1, not {args.students}")
    for tool in ("nbgrader", "autograder"):
        if not (BIN / tool).exists():
            raise SystemExit(f"{BIN / tool} is missing: run this with the course's venv (.venv/bin/python)")
    assignments = [Assignment(n).check() for n in args.assignments or available()]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
          f"{args.students} honest students per assignment, nbgrader cell timeout {args.timeout:g} s",
          flush=True)  # fmt: skip
    table = {}
    with tempfile.TemporaryDirectory(prefix="vs-nbgrader-") as tmp:
        for a in assignments:
            print(f"{a.name}:", flush=True)
            load_before = os.getloadavg()[0]
            table[a.name] = bench(a, Path(tmp) / a.name, args.students, args.timeout), load_before, os.getloadavg()[0]

    print()
    print(f"{'assignment':<18} {'nbgrader s/sub':>14} {'w1 s/sub':>9} {'w2 s/sub':>9} {'nbg/w1':>7} {'nbg/w2':>7} "
          f"{'nbg total':>9} {'ours':>7} {'load':>11}")  # fmt: skip
    for name, (out, before, after) in table.items():
        per = {tool: seconds / args.students for tool, (seconds, _) in out.items()}
        totals = {tool: sum(scores.values()) / len(scores) for tool, (_, scores) in out.items()}
        print(f"{name:<18} {per['nbgrader']:>14.2f} {per['autograder w1']:>9.2f} {per['autograder w2']:>9.2f} "
              f"{per['nbgrader'] / per['autograder w1']:>6.1f}x {per['nbgrader'] / per['autograder w2']:>6.1f}x "
              f"{totals['nbgrader']:>8.1f}% {totals['autograder w2']:>6.1f}% {before:>4.1f} -> {after:<4.1f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
