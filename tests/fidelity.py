"""Grading an assignment's catalogue once per test session, for the fidelity suite.

One class per assignment: the reference ("perfect"), the untouched release, a correct
student who prints and warns on every call ("noisy"), and every entry of the
catalogue (``autograder/graders/<name>/catalogue.py``). Students graded in full go
through one ``grade_class`` batch (two workers, feedback written); an assignment
that declares ``mutants_graded_on = "dependents"`` has each mutant graded on its own
function and on the graded functions that call it through the grader (where a leak
across functions would show), with two in parallel.
"""

from __future__ import annotations

import concurrent.futures as cf
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from autograder.authoring.catalogue import GRADER_FILE, LOOPBACK_PORT, Attack, Catalogue, load
from autograder.authoring.submissions import build_submission, reference_answers, write_submission
from autograder.course.assignments import Assignment
from autograder.outputs.results import StudentResult
from autograder.run.batch import Layout, Options, grade_class
from autograder.run.grader_server import WarmGraders
from autograder.run.grading import grade_notebook

# A correct student whose every graded function prints, writes to stderr and warns.
NOISY_CELL = """
import functools as _functools, inspect as _inspect, sys as _sys, warnings as _warnings

def _noisy(fn):
    @_functools.wraps(fn)
    def wrapper(*args, **kwargs):
        print(f"calling {fn.__name__}")
        print("debug output on stderr", file=_sys.stderr)
        _warnings.warn(f"{fn.__name__}: this loop is slow", RuntimeWarning)
        return fn(*args, **kwargs)
    return wrapper

for _name in GRADED:
    if _inspect.isfunction(globals().get(_name)):  # functions only: a class stays a class
        globals()[_name] = _noisy(globals()[_name])
"""


class LoopbackListener:
    """A server on the host's loopback that records anything a submission sends it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
                self.connections += 1
                conn.close()
            except OSError:
                continue

    def close(self):
        self.stop.set()
        self.thread.join()
        self.sock.close()


@dataclass
class GradedClass:
    assignment: Assignment
    catalogue: Catalogue
    results: dict[str, StudentResult]  # student id -> results
    feedback: Path  # feedback/<student>/<assignment>/<assignment>.html, for the full gradings


def grader_file(assignment: Assignment) -> Path:
    """The hidden grader file an attack's ``GRADER_FILE`` names."""
    return sorted(assignment.graders_dir.glob("test_*.py"))[-1]


def attack_source(attack: Attack, assignment: Assignment, port: int) -> str:
    """The attack's cell with its placeholders filled in (see autograder/authoring/catalogue.py)."""
    source = attack.source.replace(LOOPBACK_PORT, str(port))
    source = source.replace(GRADER_FILE, str(grader_file(assignment)))
    for function, honest in reference_answers(assignment).items():
        placeholder = f"REFERENCE_{function.upper()}"
        if placeholder in source:  # an honest copy the attack falls back on
            source = honest.replace(f"def {function}(", f"def {placeholder}(") + "\n\n" + source
    return source


def grade_catalogue(assignment: Assignment, root: Path, listener: LoopbackListener) -> GradedClass:
    catalogue = load(assignment)
    graded = assignment.graded_ids()
    full = {
        "perfect": build_submission(assignment),
        "release": build_submission(assignment, perfect=False),
        "noisy": build_submission(assignment, extra_cells=[NOISY_CELL.replace("GRADED", repr(graded))]),
    }
    partial: dict[str, tuple] = {}
    by_dependents = assignment.fidelity()["mutants_graded_on"] == "dependents"
    for v in catalogue.mutants:
        nb = build_submission(assignment, {v.function: v.source})
        if by_dependents:
            partial[f"mutant-{v.name}"] = (
                nb,
                [v.function, *(f for f in assignment.dependents(v.function) if f in graded)],
            )
        else:
            full[f"mutant-{v.name}"] = nb
    for v in catalogue.correct:
        full[f"correct-{v.name}"] = build_submission(assignment, {v.function: v.source})
    for a in catalogue.attacks:
        source = attack_source(a, assignment, listener.port)
        full[f"attack-{a.name}"] = (build_submission(assignment, {a.function: source}) if a.function
                                    else build_submission(assignment, extra_cells=[source]))  # fmt: skip
    submitted = root / "submitted"
    for student, nb in full.items():
        write_submission(nb, submitted, student, assignment.name)
    report = grade_class(assignment, Layout.beside(submitted), Options(workers=2))
    assert not report.failed, report.failed
    results = dict(report.results)

    def grade_some(student: str) -> StudentResult:
        nb, only = partial[student]
        path = write_submission(nb, root / "partial", student, assignment.name)
        raw = grade_notebook(assignment, path, student, warm=warm.for_this_thread(), only=only)
        return StudentResult.parse(raw, student, assignment.name)

    with WarmGraders(assignment.grader_preload()) as warm, cf.ThreadPoolExecutor(max_workers=2) as pool:
        results.update(zip(partial, pool.map(grade_some, partial), strict=True))
    return GradedClass(assignment, catalogue, results, root / "feedback")
