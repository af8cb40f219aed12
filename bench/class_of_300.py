"""A class of 300: wall time per assignment with 1 worker, 2 workers and a 2-worker Dask LocalCluster.

    python bench/class_of_300.py [ASSIGNMENT ...] [--students 300] [--configs workers1 workers2 dask2]

For each assignment (default: every one in autograder/graders/) it builds one class of N
submissions and grades it once per config, each time from scratch (``force=True``, a
fresh autograded/ and feedback/ folder per config), then prints wall seconds, seconds
per submission, the machine's load before and after each config, the speed-up from 1 to
2 workers, Dask against ``--workers 2``, and the projected time for 300 students of the
three original assignments with 2 workers. A benchmark, not a test: figures vary with
the machine and its load.

The class, decided here:

- **10 % hostile** (rounded up, so a tiny class has one): the catalogue's attacks, in
  turn, with their placeholders filled as the fidelity suite fills them
  (``tests/fidelity.attack_source``; a loopback listener stands in for the host server
  they must not reach). An assignment without attacks gets four generic hostile answer
  cells, each replacing one graded function in turn: an infinite loop, ``os._exit(1)``,
  a correct answer that prints 1 MB per call, and a memory hog.
- **The rest**: every other student hands in the reference answers, the others the
  catalogue's mutants in turn (each wrong in one function), so about half the class
  loses points somewhere, as a real class does.
- Students are shuffled with a fixed seed, so the hostile ones are spread through the
  run rather than bunched at the end, and every config grades the same class.

Every config must give each student the same score; a line says so for any that
does not (a timeout on a loaded machine could, which is itself worth knowing).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograder.authoring.catalogue import load  # noqa: E402
from autograder.authoring.submissions import build_submission, reference_answers, write_submission  # noqa: E402
from autograder.course.assignments import Assignment, available  # noqa: E402
from autograder.course.notebook import Notebook  # noqa: E402
from autograder.run.class_run import grade_class  # noqa: E402
from autograder.run.layout import Layout  # noqa: E402
from autograder.run.options import Options  # noqa: E402
from tests.fidelity import LoopbackListener, attack_source  # noqa: E402

CONFIGS = {  # name -> grading options (force: every config grades everyone)
    "workers1": Options(workers=1, force=True),
    "workers2": Options(workers=2, force=True),
    "dask2": Options(workers=2, force=True, dask="local:2"),
}
ORIGINAL = ("cnn_step_by_step", "conv_net", "keras_resnet")  # the three assignments the course started with
PROJECTED_CLASS = 300
HOSTILE_SHARE = 0.10
SEED = 300

# Generic hostile answers for an assignment whose catalogue has no attacks. FUNCTION is
# the graded function replaced; HONEST its reference cell (for the one that stays correct).
GENERIC_HOSTILE = {
    "infinite_loop": "def FUNCTION(*args, **kwargs):\n    while True:\n        pass\n",
    "os_exit": "import os\nos._exit(1)\n",
    "prints_1mb": "HONEST\n\n_honest_FUNCTION = FUNCTION\n\n\ndef FUNCTION(*args, **kwargs):\n"
    "    print('x' * 2**20)\n    return _honest_FUNCTION(*args, **kwargs)\n",
    "memory_hog": "def FUNCTION(*args, **kwargs):\n    hog = []\n    while True:\n"
    "        hog.append(b'\\x01' * 2**26)\n",
}


@dataclass
class Run:
    config: str
    seconds: float
    load_before: float
    load_after: float
    scores: dict[str, float]
    failed: int


def hostile_notebooks(a: Assignment, port: int) -> list[tuple[str, Notebook]]:
    """(kind, notebook) for each hostile case: the catalogue's attacks, else the generic ones."""
    attacks = load(a).attacks
    if attacks:
        out = []
        for attack in attacks:
            source = attack_source(attack, a, port)
            nb = (build_submission(a, {attack.function: source}) if attack.function
                  else build_submission(a, extra_cells=[source]))  # fmt: skip
            out.append((f"attack-{attack.name}", nb))
        return out
    honest = reference_answers(a)
    functions = [f for f in a.graded_ids() if f"def {f}(" in honest.get(f, "")]  # classes keep their answers
    if not functions:
        raise SystemExit(f"{a.name}: no catalogue attacks and no graded function to put a generic hostile cell in")
    out = []
    for i, (kind, template) in enumerate(GENERIC_HOSTILE.items()):
        function = functions[i % len(functions)]
        source = template.replace("HONEST", honest[function]).replace("FUNCTION", function)
        out.append((f"hostile-{kind}-{function}", build_submission(a, {function: source})))
    return out


def make_class(a: Assignment, folder: Path, n: int, port: int) -> dict[str, str]:
    """Write N submissions under ``folder``; returns student id -> what they handed in."""
    hostile = hostile_notebooks(a, port)
    mutants = [(f"mutant-{m.name}", build_submission(a, {m.function: m.source})) for m in load(a).mutants]
    reference = ("reference", build_submission(a))
    n_hostile = math.ceil(n * HOSTILE_SHARE)
    chosen = [hostile[i % len(hostile)] for i in range(n_hostile)]
    for i in range(n - n_hostile):
        chosen.append(reference if i % 2 == 0 or not mutants else mutants[(i // 2) % len(mutants)])
    random.Random(SEED).shuffle(chosen)
    kinds = {}
    for i, (kind, nb) in enumerate(chosen):
        student = f"s{i:03d}"
        write_submission(nb, folder, student, a.name)
        kinds[student] = kind
    return kinds


def grade(a: Assignment, submitted: Path, out: Path, config: str) -> Run:
    layout = Layout(submitted, out / "autograded", out / "feedback")
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    report = grade_class(a, layout, CONFIGS[config])
    seconds = time.perf_counter() - start
    scores = {s: r.score for s, r in report.results.items()}
    return Run(config, seconds, load_before, os.getloadavg()[0], scores, len(report.failed))


def compare_scores(name: str, runs: list[Run], kinds: dict[str, str]) -> None:
    """One line per student whose score differs between configs."""
    differ = 0
    for student in sorted(kinds):
        seen = {r.config: r.scores.get(student) for r in runs}
        if len(set(seen.values())) > 1:
            differ += 1
            shown = ", ".join(f"{c} {s if s is None else f'{s:g}'}" for c, s in seen.items())
            print(f"  {name} {student} ({kinds[student]}): scores differ: {shown}")
    if len(runs) > 1:
        print(f"  {name}: {'every config gave the same scores' if not differ else f'{differ} students differ'}")


def ratio(runs: dict[str, Run], top: str, bottom: str) -> str:
    return f"{runs[top].seconds / runs[bottom].seconds:.2f}x" if top in runs and bottom in runs else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: all")
    parser.add_argument("--students", type=int, default=300, help="class size (default 300)")
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS),
                        help="how to grade (default: all three)")  # fmt: skip
    args = parser.parse_args(argv)
    if args.students < 1:
        parser.error(f"--students must be at least 1, not {args.students}")
    names = args.assignments or available()
    assignments = [Assignment(n).check() for n in names]
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
          f"{args.students} students per assignment, configs {' '.join(args.configs)}", flush=True)  # fmt: skip

    table: dict[str, dict[str, Run]] = {}
    listener = LoopbackListener()
    try:
        with tempfile.TemporaryDirectory(prefix="class-of-300-") as tmp:
            for a in assignments:
                submitted = Path(tmp) / a.name / "submitted"
                kinds = make_class(a, submitted, args.students, listener.port)
                hostile = sum(k.startswith(("attack-", "hostile-")) for k in kinds.values())
                print(f"{a.name}: {len(kinds)} submissions ({hostile} hostile)", flush=True)
                runs = {}
                for config in args.configs:
                    run = grade(a, submitted, Path(tmp) / a.name / config, config)
                    runs[config] = run
                    print(f"  {config}: {run.seconds:.1f} s, {run.seconds / args.students:.2f} s per submission, "
                          f"load {run.load_before:.1f} -> {run.load_after:.1f}"
                          + (f", {run.failed} grader processes failed" if run.failed else ""), flush=True)  # fmt: skip
                compare_scores(a.name, list(runs.values()), kinds)
                table[a.name] = runs
    finally:
        listener.close()
    if listener.connections:
        print(f"the loopback listener heard {listener.connections} connections from the sandbox (it must hear none)")

    print()
    print(f"{'assignment':<18} {'config':<9} {'wall s':>8} {'s/sub':>7} {'load':>11} {'1->2 w':>7} {'dask/w2':>7}")
    for name, runs in table.items():
        speedup, dask = ratio(runs, "workers1", "workers2"), ratio(runs, "dask2", "workers2")
        for run in runs.values():
            print(f"{name:<18} {run.config:<9} {run.seconds:>8.1f} {run.seconds / args.students:>7.2f} "
                  f"{run.load_before:>4.1f} -> {run.load_after:<4.1f} {speedup:>7} {dask:>7}")  # fmt: skip
    missing = [n for n in ORIGINAL if "workers2" not in table.get(n, {})]
    if missing:
        print(f"\nno projection for {PROJECTED_CLASS} students x {', '.join(ORIGINAL)}: "
              f"not graded with workers2: {', '.join(missing)}")  # fmt: skip
    else:
        seconds = sum(table[n]["workers2"].seconds / args.students * PROJECTED_CLASS for n in ORIGINAL)
        print(f"\nprojected, {PROJECTED_CLASS} students x {', '.join(ORIGINAL)} with 2 workers: "
              f"{seconds / 60:.1f} min")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
