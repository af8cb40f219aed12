"""One parallel batch grades every notebook the cnn_step_by_step tests look at."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest

from autograder.assignments import Assignment
from autograder.batch import Layout, Options, grade_class
from tests.support import build_submission, reference_answers, write_submission

from .hostile import ATTACKS, GRADER_FILE_PLACEHOLDER, LOOPBACK_PORT_PLACEHOLDER
from .variants import CORRECT, MUTANTS

ASSIGNMENT = Assignment("cnn_step_by_step")

# A correct student whose every function prints, writes to stderr and warns.
NOISY_CELL = """
import functools, sys, warnings

def _noisy(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        print(f"calling {fn.__name__}")
        print("debug output on stderr", file=sys.stderr)
        warnings.warn(f"{fn.__name__}: this loop is slow", RuntimeWarning)
        with np.errstate(all="warn"):
            np.log(np.zeros(1))  # RuntimeWarning: divide by zero
        return fn(*args, **kwargs)
    return wrapper

for _name in GRADED:
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


@pytest.fixture(scope="session")
def listener():
    server = LoopbackListener()
    yield server
    server.close()


@pytest.fixture(scope="session")
def graded(tmp_path_factory, listener) -> dict[str, dict]:
    """student id -> results, for: perfect, release, every mutant, correct variant and attack."""
    root = tmp_path_factory.mktemp("class")
    submitted = root / "submitted"
    name = ASSIGNMENT.name
    write_submission(build_submission(ASSIGNMENT), submitted, "perfect", name)
    write_submission(build_submission(ASSIGNMENT, perfect=False), submitted, "release", name)
    noisy = NOISY_CELL.replace("GRADED", repr(ASSIGNMENT.graded_ids()))
    write_submission(build_submission(ASSIGNMENT, extra_cells=[noisy]), submitted, "noisy", name)
    for v in MUTANTS:
        write_submission(build_submission(ASSIGNMENT, {v.function: v.source}), submitted, f"mutant-{v.name}", name)
    for v in CORRECT:
        write_submission(build_submission(ASSIGNMENT, {v.function: v.source}), submitted, f"correct-{v.name}", name)
    grader_file = ASSIGNMENT.graders_dir / "test_distribute_value.py"
    reference = reference_answers(ASSIGNMENT)
    for a in ATTACKS:
        source = a.source.replace(LOOPBACK_PORT_PLACEHOLDER, str(listener.port))
        source = source.replace(GRADER_FILE_PLACEHOLDER, str(grader_file))
        for function in ("conv_forward", "conv_backward"):  # an honest copy the attack falls back on
            placeholder = f"REFERENCE_{function.upper()}"
            if placeholder in source:
                honest = reference[function].replace(f"def {function}(", f"def {placeholder}(")
                source = honest + "\n\n" + source
        nb = (
            build_submission(ASSIGNMENT, {a.function: source})
            if a.function
            else build_submission(ASSIGNMENT, extra_cells=[source])
        )
        write_submission(nb, submitted, f"attack-{a.name}", name)
    report = grade_class(ASSIGNMENT, Layout.beside(submitted), Options(workers=2))
    assert not report.failed, report.failed
    return report.results


@pytest.fixture(scope="session")
def feedback_dir(graded, tmp_path_factory) -> Path:
    # Layout.beside puts feedback next to submitted/
    return next(tmp_path_factory.getbasetemp().glob("class*/feedback"))
