"""Do the visible Check cells catch the catalogued mutants, and do they say they are not the grade?

Coverage is the fraction of an assignment's catalogued mutants (``catalogue.py``, the
realistic wrong answers that the hidden graders must fail) on which at least one visible
check cell of the notebook raises. Every assignment must stay at or above its floor in
``[fidelity] visible_checks`` in its assignment.toml (the figure measured when the floor was
last raised, never below 0.80).

How one mutant is measured, cheaply and without a Jupyter kernel:

* One parent process per assignment (this file run as ``python -m tests.course.test_visible_checks
  NAME``) imports the heavy modules once (NumPy; ``[grader] preload`` such as keras), runs
  the cells before the first answer cell (imports, data loading) and then forks one child
  per mutant, at most ``CHILDREN`` at a time, each with a limit on its CPU time.
* A child ``exec``s the rest of the notebook in order, with the mutant's answer cell in
  place of the reference's, and stops at the first check cell that raises: that mutant is
  caught, and the check cell's grade id and message are reported. Children run under an
  address-space limit, so a mutant that builds a huge model fails alone.
* Which cells run: set-up cells, answer cells, check cells (grade id ``test_*``), and any
  other locked cell that uses no name an answer cell (or a skipped cell) defines: it
  prepares data or settings, e.g. ``demo_load_data``. Demos, figures and training cells
  call student code, so they are skipped: they are not checks, and training is slow. Cells
  after the last check cell never run. Quick mode (``CNN_COURSE_QUICK=1``) is on, as in
  tests/course/test_notebooks.py.
* For a mutant of function f, only the check cells that can see f run: those that use f
  or an answer that calls f, directly or not (read from the answer cells' names). The
  others run the reference's code, so they pass. This is what keeps the Keras notebooks
  within budget (a whole VGG or ResNet50 is built only by the mutants that reach it).
  Since skipping cells could change the state later checks see (a random seed, say), the
  reference runs once on each function's plan and must pass every one of them.
* A mutant whose child uses up its CPU time is not counted as caught (a student would see
  a hung cell, not a failed check). The limit is on CPU time, not wall time, so how busy the
  machine is changes how long a measurement takes, never what it finds; a wall-clock limit,
  far above any busy machine's, only ends a child that waits on nothing.

Decisions: the measurement lives here, not in ``autograder/``, because only the test
suite needs it (an author runs ``.venv/bin/python -m tests.course.test_visible_checks NAME`` to
see which mutants escape, and why). nbgrader's ``validate`` prints "Success! Your notebook
passes all the tests." from code with no setting to change it, so the check cells say
themselves that the hidden checks grade more (``DISCLAIMER``, asserted below on the
reference), and so do each notebook's introduction and docs/students.md.
"""

from __future__ import annotations

import ast
import concurrent.futures as cf
import contextlib
import io
import json
import os
import resource
import select
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.authoring.catalogue import load
from autograder.authoring.submissions import reference_answers
from autograder.course.assignments import Assignment, available
from autograder.course.declaration import VISIBLE_CHECKS_MINIMUM
from autograder.course.notebook import cell_role, grade_id_of, read_notebook

REPO = Path(__file__).resolve().parents[2]
ASSIGNMENTS = available()


# The coverage measured when each floor was last set (caught / catalogued, rounded down);
# a change that lowers it fails here. Raise a floor when the checks improve.
def floor(name: str) -> float:
    """The assignment's declared floor: ``[fidelity] visible_checks`` in its assignment.toml."""
    return float(Assignment(name, root=REPO).fidelity()["visible_checks"])


DISCLAIMER = "visible checks passed. The hidden checks grade more cases, so this is not the final grade."
CHILD_MEMORY = 6 << 30  # bytes a child may add to what the parent has mapped
CHILDREN = 2  # children of one parent at a time (the machine has 2 cores)
# CPU seconds for one mutant's remaining cells (all its threads together): CPU time, unlike wall
# time, does not grow with the machine's load, so the verdicts don't either. The slowest children
# measured used 7 s (keras_resnet, ResNet34) and 6 s (classic_cnns, VGG) of CPU; at load 12 they
# took 60 s of wall time. The summary lists each child's wall and CPU seconds.
CHILD_CPU_SECONDS = {"keras": 150.0, "numpy": 60.0}
CHILD_WALL_SECONDS = 1800.0  # a child blocked on nothing (a deadlock) uses no CPU: ended here
PARENT_WALL_SECONDS = 3600.0  # one assignment's whole measurement, in case the parent itself hangs


@dataclass(frozen=True)
class Step:
    """One cell the harness runs."""

    kind: str  # "setup" (set-up or preparing cell), "answer" or "check"
    source: str
    grade_id: str  # the answer's function, the check's test_<function>, or the cell's own id


def plan(assignment: Assignment) -> list[Step]:
    """The notebook's cells the harness runs, in order (see the module docstring)."""
    cells = read_notebook(assignment.source_notebook)["cells"]
    answers = reference_answers(assignment)
    student_names = set().union(*(top_level_names(c["source"]) for c in cells if cell_role(c) == "answer"))
    last_check = max(i for i, c in enumerate(cells) if cell_role(c) == "locked" and is_check(c))
    steps, skipped_names = [], set()  # names that only skipped cells define
    for i, c in enumerate(cells[: last_check + 1]):
        role, grade_id = cell_role(c), grade_id_of(c) or f"cell {i + 1}"
        if role == "answer":
            steps.append(Step("answer", answers[grade_id], grade_id))
        elif role == "setup":
            steps.append(Step("setup", c["source"], grade_id))
        elif role == "locked" and is_check(c):
            steps.append(Step("check", c["source"], grade_id))
        elif role == "locked":
            used, assigned = names_in(c["source"])
            if used & (student_names | skipped_names):
                skipped_names |= assigned
            else:
                steps.append(Step("setup", c["source"], grade_id))
    return steps


def top_level_names(source: str) -> set[str]:
    """The functions and classes an answer cell defines."""
    return {n.name for n in ast.parse(source).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}


def is_check(cell: dict) -> bool:
    return (grade_id_of(cell) or "").startswith("test_")


def names_in(source: str) -> tuple[set[str], set[str]]:
    """The names a cell reads, and the names it binds (assignments, defs, imports)."""
    used, bound = set(), set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name):
            (bound if isinstance(node.ctx, ast.Store) else used).add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
    return used, bound


def checks_for(steps: list[Step], function: str) -> list[Step]:
    """``steps`` without the check cells that can't see ``function``: those that use no answer
    cell which is, or calls (directly or not), the answer cell of ``function``."""
    defines = {s.grade_id: top_level_names(s.source) for s in steps if s.kind == "answer"}
    uses = {s.grade_id: names_in(s.source)[0] for s in steps if s.kind == "answer"}
    affected = {function}
    while True:
        seen = set().union(*(defines[f] for f in affected))
        more = {f for f in defines if uses[f] & seen} - affected
        if not more:
            break
        affected |= more
    seen = set().union(*(defines[f] for f in affected))
    return [s for s in steps if s.kind != "check" or names_in(s.source)[0] & seen]


# ----------------------------------------------------------------------------------------
# The parent: one process per assignment, forking a child per mutant.


def run_steps(steps: list[Step], namespace: dict, replace: dict[str, str]) -> dict:
    """Execute ``steps`` in ``namespace``; the first cell that raises ends the run, and only
    a check cell's raising counts as caught. Also returns the check cells whose output
    includes ``DISCLAIMER``."""
    disclaimed = []
    for step in steps:
        source = replace.get(step.grade_id, step.source) if step.kind == "answer" else step.source
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed):
                exec(compile(source, f"<{step.grade_id}>", "exec"), namespace)
        except BaseException as e:  # noqa: BLE001 - anything a cell raises is what the student sees
            message = f"{type(e).__name__}: {e}".strip().splitlines()
            first = message[0][:300] if message else ""
            return {"caught": step.kind == "check", "cell": step.grade_id, "error": first, "disclaimed": disclaimed}
        if step.kind == "check" and DISCLAIMER in printed.getvalue():
            disclaimed.append(step.grade_id)
    return {"caught": False, "cell": None, "error": "", "disclaimed": disclaimed}


def limit_child(cpu_seconds: float) -> None:
    """A mutant that builds a huge model fails with MemoryError, not by taking the machine's memory;
    one that loops is ended by SIGXCPU after ``cpu_seconds`` of CPU time (SIGKILL a little later)."""
    vm_kib = next(int(line.split()[1]) for line in Path("/proc/self/status").read_text().splitlines()
                  if line.startswith("VmSize:"))  # fmt: skip
    limit = vm_kib * 1024 + CHILD_MEMORY
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CPU, (int(cpu_seconds), int(cpu_seconds) + 5))  # (a fork starts at 0)


def start_child(steps: list[Step], namespace: dict, replace: dict[str, str], cpu_seconds: float) -> tuple[int, int]:
    """Fork a child that runs ``steps`` and writes one JSON line; (pid, read end of its pipe)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report, then leave without running the parent's cleanup
        try:
            os.close(read_fd)
            limit_child(cpu_seconds)
            result = run_steps(steps, dict(namespace), replace)
            os.write(write_fd, (json.dumps(result) + "\n").encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    return pid, read_fd


def run_children(namespace: dict, jobs: dict[str, tuple[list[Step], dict]], cpu_seconds: float) -> dict[str, dict]:
    """Each job (name -> its steps, the answers to swap in) in its own child, ``CHILDREN`` at a time,
    each with ``cpu_seconds`` of CPU time; each result says the child's wall and CPU seconds.

    No threads: the parent forks from a single thread, as TensorFlow needs."""
    waiting, running, results = list(jobs), {}, {}
    while waiting or running:
        while waiting and len(running) < CHILDREN:
            key = waiting.pop(0)
            steps, replace = jobs[key]
            pid, fd = start_child(steps, namespace, replace, cpu_seconds)
            running[fd] = (key, pid, time.monotonic(), bytearray())
        ready, _, _ = select.select(list(running), [], [], 1.0)
        for fd in list(running):
            key, pid, started, data = running[fd]
            ended = False
            if fd in ready:
                chunk = os.read(fd, 1 << 16)
                data += chunk
                ended = not chunk
            if not ended and time.monotonic() - started > CHILD_WALL_SECONDS:
                os.kill(pid, signal.SIGKILL)
                ended = True
            if ended:
                os.close(fd)
                _, status, usage = os.wait4(pid, 0)
                del running[fd]
                seconds = round(time.monotonic() - started, 1)
                result = json.loads(data) if data else {
                    "caught": False, "cell": None, "disclaimed": [], "error": no_result(status, cpu_seconds),
                }  # fmt: skip
                results[key] = {**result, "seconds": seconds, "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 1)}
    return results


def no_result(status: int, cpu_seconds: float) -> str:
    """Why a child wrote no result, from its wait status."""
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGXCPU, signal.SIGKILL):
        return f"no result (used up its {cpu_seconds:.0f} s of CPU time, or was killed)"
    return f"no result (crashed: wait status {status})"


def measure(name: str) -> dict:
    """The parent's work: the reference's result and each mutant's, as JSON-ready data."""
    a = Assignment(name, root=REPO)
    os.environ["CNN_COURSE_QUICK"] = "1"
    os.environ.setdefault("MPLBACKEND", "Agg")
    source_dir = a.source_notebook.parent
    os.chdir(source_dir)
    sys.path.insert(0, str(source_dir))
    import numpy  # noqa: F401 - imported once, before the forks

    for module in a.grader_preload():
        __import__(module)
    steps = plan(a)
    first_answer = next(i for i, s in enumerate(steps) if s.kind == "answer")
    namespace: dict = {"__name__": "__main__"}
    prepared = run_steps(steps[:first_answer], namespace, {})
    assert not prepared["cell"], f"{name}: the cells before the first answer fail: {prepared}"
    cpu_seconds = CHILD_CPU_SECONDS["keras" if a.grader_preload() else "numpy"]
    mutants = load(a).mutants
    rest = steps[first_answer:]
    # the reference, once on each function's plan: a check the plan skips can't hide a bug
    # in that function, and the reference passing every plan shows the skipping changes nothing
    jobs = {f"reference {f}": (checks_for(rest, f), {}) for f in sorted({m.function for m in mutants})}
    jobs |= {m.name: (checks_for(rest, m.function), {m.function: m.source}) for m in mutants}
    results = run_children(namespace, jobs, cpu_seconds)
    return {
        "assignment": name,
        "reference": {key.split()[1]: r for key, r in results.items() if key.startswith("reference ")},
        "mutants": {m.name: {**results[m.name], "function": m.function} for m in mutants},
    }


def summary(measured: dict) -> str:
    mutants = measured["mutants"]
    caught = sum(r["caught"] for r in mutants.values())
    lines = [f"{measured['assignment']}: the visible checks catch {caught} of {len(mutants)} mutants "
             f"({caught / len(mutants):.0%})"]  # fmt: skip
    for function, r in measured["reference"].items():
        if r["cell"]:
            lines.append(f"  the reference FAILS on the plan of {function}, in {r['cell']}: {r['error']}")
    for key, r in sorted(mutants.items(), key=lambda kv: (kv[1]["caught"], kv[1]["function"], kv[0])):
        where = f"by {r['cell']}: {r['error'][:120]}" if r["caught"] else f"ESCAPES {r['error']}".strip()
        lines.append(f"  {key:40} {r['function']:26} {r['seconds']:6.1f} s {r['cpu_seconds']:6.1f} s CPU  {where}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------
# The tests.


def run_parent(name: str) -> dict:
    """Measure ``name`` in a fresh Python (its heavy imports stay out of pytest's process)."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.course.test_visible_checks", "--json", name],
        cwd=REPO, capture_output=True, text=True, timeout=PARENT_WALL_SECONDS,
    )  # fmt: skip
    assert done.returncode == 0, f"measuring {name} failed:\n{done.stderr[-3000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def measured(request) -> dict[str, cf.Future]:
    """The assignments this session's selected tests read, measured at once, one parent each (so
    ``-k classic_cnns`` measures classic_cnns alone), started by the first test that needs one."""
    wanted = {item.callspec.params["name"] for item in request.session.items
              if "measured" in getattr(item, "fixturenames", ()) and hasattr(item, "callspec")}  # fmt: skip
    pool = cf.ThreadPoolExecutor(max_workers=max(1, len(wanted)))
    futures = {name: pool.submit(run_parent, name) for name in ASSIGNMENTS if name in wanted}
    yield futures
    pool.shutdown(wait=True)


def test_every_floor_is_declared_and_at_least_80_percent():
    """Does every assignment declare its floor ([fidelity] visible_checks), none below 80%?"""
    for name in ASSIGNMENTS:
        assert "visible_checks" in Assignment(name, root=REPO).config().get("fidelity", {}), (
            f"{name}: declare the measured coverage as [fidelity] visible_checks in its assignment.toml"
        )
        assert VISIBLE_CHECKS_MINIMUM <= floor(name) <= 1, (name, floor(name))


def test_the_plan_runs_every_check_cell_and_skips_training():
    """Does the harness run each assignment's check cells, and none of the cells that train?"""
    for name in ASSIGNMENTS:
        steps = plan(Assignment(name, root=REPO))
        ids = {s.grade_id for s in steps}
        checks = {s.grade_id for s in steps if s.kind == "check"}
        assert checks == {f"test_{f}" for f in Assignment(name, root=REPO).graded_ids()}, name
        assert not any(i.startswith("demo_train") for i in ids), f"{name} would train: {sorted(ids)}"


@pytest.mark.slow  # runs every catalogued mutant's check cells (Keras models for two assignments)
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_visible_checks_catch_the_catalogued_mutants(name, measured):
    """Do the visible checks fail on at least the floor's share of the catalogued mutants?"""
    result = measured[name].result()
    for function, r in result["reference"].items():
        assert not r["cell"], (
            f"{name}: the reference fails in the harness (checks of {function}), so the figure means nothing: {r}"
        )
    mutants = result["mutants"]
    assert len(mutants) == len(load(Assignment(name, root=REPO)).mutants)
    coverage = sum(r["caught"] for r in mutants.values()) / len(mutants)
    report = summary(result)
    print(report)
    assert coverage >= floor(name), f"coverage {coverage:.3f} is below the floor {floor(name):.3f}\n{report}"


@pytest.mark.slow  # (the same measurement)
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_visible_checks_say_they_are_not_the_grade(name, measured):
    """On the reference, does every check cell end by saying the hidden checks grade more?"""
    runs = measured[name].result()["reference"].values()
    disclaimed = {cell for r in runs for cell in r["disclaimed"]}
    checks = [s.grade_id for s in plan(Assignment(name, root=REPO)) if s.kind == "check"]
    silent = [c for c in checks if c not in disclaimed]
    assert not silent, f"{name}: these check cells pass on the reference without printing {DISCLAIMER!r}: {silent}"


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_the_release_explains_what_validate_means(name):
    """Does the student's notebook say that nbgrader's "passes all the tests" covers the visible checks only?"""
    intro = read_notebook(Assignment(name, root=REPO).release_notebook)["cells"][0]["source"]
    assert "Success! Your notebook passes all the tests." in intro and "not that the hidden tests will" in intro


if __name__ == "__main__":
    as_json = "--json" in sys.argv
    for arg in [a for a in sys.argv[1:] if a != "--json"]:
        measured_one = measure(arg)
        print(json.dumps(measured_one) if as_json else summary(measured_one), flush=True)
