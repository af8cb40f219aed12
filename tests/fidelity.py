"""Grading an assignment's catalogue once per test session, for the fidelity suite.

One class per assignment: the reference ("perfect"), the untouched release, a correct
student who prints and warns on every call ("noisy"), and every entry of the
catalogue (``autograder/graders/<name>/catalogue.py``), each graded once per session
(``graded_class`` in tests/conftest.py) and read by every test that needs it: the
fidelity suite, tests/outputs/test_feedback.py, tests/grader/test_self_descriptions.py and the
assignments' own hostile tests.

Most students go through one ``grade_class`` batch (two workers, feedback written).
The rest are graded one by one, two in parallel, beside the batch, for what a batch can't do: the
release and a few mutants (``feedback_mutants``) record the expected values their
graders used, which tests/outputs/test_feedback.py looks for in their feedback; and an
assignment that declares ``mutants_graded_on = "dependents"`` (the Keras ones, where a whole
grading takes seconds) has each mutant and each correct variant graded on its own function
and on the graded functions that call it through the grader (where a leak across functions
would show). The other functions run the reference's code, so grading them again would show
nothing new; the release is graded in full, and so are the attacks (in the batch).
"""

from __future__ import annotations

import concurrent.futures as cf
import socket
import threading
from dataclasses import dataclass
from pathlib import Path

from autograder.authoring.catalogue import GRADER_FILE, LOOPBACK_PORT, Attack, Catalogue, load
from autograder.authoring.submissions import Variant, build_submission, reference_answers, write_submission
from autograder.course.assignments import Assignment
from autograder.outputs.results import StudentResult
from autograder.run.class_run import grade_class
from autograder.run.grader_server import WarmGraders
from autograder.run.grading import grade_notebook
from autograder.run.layout import Layout
from autograder.run.options import Options
from tests.plugins import record_expected

# What a submission is told when its code ran out of time: a call or cell that did not finish
# within its time-out, a function that ran out of time too often, or its time budget used up
# (grader/session.py). Which one an attack on time gets depends on the machine's load (the
# set-up and earlier calls draw on the same budget), so each of them explains such an attack.
TIME_EXPLANATIONS = ("did not finish within", "ran out of time", "used up its time budget")
FEEDBACK_MUTANTS = 5  # mutants whose feedback tests/outputs/test_feedback.py reads: enough for every kind of message

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
    """An assignment's catalogue, graded: what the tests read."""

    assignment: Assignment
    catalogue: Catalogue
    results: dict[str, StudentResult]  # student id -> results
    feedback: Path  # feedback/<student>/<assignment>/<assignment>.html, for the students graded in the batch
    notebooks: dict[str, Path]  # student id -> the notebook graded
    # student id -> the expected values its graders used (an .npz of arrays): the release and feedback_mutants
    expected: dict[str, Path]


def feedback_mutants(catalogue: Catalogue) -> list[Variant]:
    """The mutants whose feedback is searched for leaks: the first of each function's (failed checks
    are where a leak would hide), at most ``FEEDBACK_MUTANTS``."""
    first: dict[str, Variant] = {}
    for m in catalogue.mutants:
        first.setdefault(m.function, m)
    return list(first.values())[:FEEDBACK_MUTANTS]


def explanations(attack: Attack) -> tuple[str, ...]:
    """What may explain ``attack`` on any machine: its ``reasons``, and every honest explanation of
    running out of time if one of them is such (see ``TIME_EXPLANATIONS``)."""
    on_time = any(r and any(r in t or t in r for t in TIME_EXPLANATIONS) for r in attack.reasons)
    return tuple(dict.fromkeys([*attack.reasons, *(TIME_EXPLANATIONS if on_time else ())]))


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
    """Grade the assignment's class (see the module docstring), each student once."""
    catalogue = load(assignment)
    graded = assignment.graded_ids()
    notebooks = {
        "perfect": build_submission(assignment),
        "release": build_submission(assignment, perfect=False),
        "noisy": build_submission(assignment, extra_cells=[NOISY_CELL.replace("GRADED", repr(graded))]),
    }
    recorded = ["release", *(f"mutant-{m.name}" for m in feedback_mutants(catalogue))]  # graded alone
    only: dict[str, list[str]] = {}  # student -> the grade ids graded, for the rest graded alone
    by_dependents = assignment.fidelity()["mutants_graded_on"] == "dependents"
    for kind, variants in (("mutant", catalogue.mutants), ("correct", catalogue.correct)):
        for v in variants:
            notebooks[f"{kind}-{v.name}"] = build_submission(assignment, {v.function: v.source})
            if by_dependents:  # the other functions run the reference's code: grading them shows nothing new
                only[f"{kind}-{v.name}"] = [v.function, *(f for f in assignment.dependents(v.function) if f in graded)]
    for a in catalogue.attacks:
        source = attack_source(a, assignment, listener.port)
        notebooks[f"attack-{a.name}"] = (build_submission(assignment, {a.function: source}) if a.function
                                         else build_submission(assignment, extra_cells=[source]))  # fmt: skip
    alone = [*dict.fromkeys([*recorded, *only])]  # the release (graded in full) first: it takes longest
    paths = {
        student: write_submission(nb, root / ("alone" if student in alone else "submitted"), student, assignment.name)
        for student, nb in notebooks.items()
    }
    expected = {student: root / f"{student}-expected.npz" for student in recorded}

    def grade_alone(student: str) -> StudentResult:
        raw = grade_notebook(
            assignment, paths[student], student, warm=warm.for_this_thread(),
            only=only.get(student), plugins=record_expected.arguments(expected[student]) if student in expected else (),
        )  # fmt: skip
        return StudentResult.parse(raw, student, assignment.name)

    # The students graded alone go beside the batch, not after it: each side has idle moments
    # (a worker waiting on a time-out, the batch's last student), which the other fills.
    with WarmGraders(assignment.grader_preload()) as warm, cf.ThreadPoolExecutor(max_workers=2) as pool:
        graded_alone = pool.map(grade_alone, alone)
        report = grade_class(assignment, Layout.beside(root / "submitted"), Options(workers=2))
        by_themselves = dict(zip(alone, graded_alone, strict=True))
    assert not report.failed, report.failed
    assert sorted(report.results) == sorted(s for s in notebooks if s not in alone)
    results = {**report.results, **by_themselves}
    return GradedClass(assignment, catalogue, results, root / "feedback", paths, expected)
