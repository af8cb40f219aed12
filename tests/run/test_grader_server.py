"""The warm grader: each submission's grader run is a fork of a process that only imported modules."""

from __future__ import annotations

import os
import signal
import sys

import pytest

from autograder.authoring.submissions import build_submission, write_submission
from autograder.course.assignments import Assignment
from autograder.run.class_run import grade_class
from autograder.run.grader_server import ServerDied, WarmGrader
from autograder.run.grading import run_grader
from autograder.run.layout import Layout
from autograder.run.options import Options
from autograder.sandbox.isolation import isolation_mode

# Each run appends to a list in a module the server imported, then checks it is alone in it.
LEAK_TEST = """
from autograder.kit import checks

def test_starts_from_the_servers_state():
    seen = vars(checks).setdefault("runs_seen", [])
    seen.append("this run")
    assert seen == ["this run"], seen
"""


@pytest.fixture
def warm():
    grader = WarmGrader([])
    yield grader
    grader.close()


def pytest_args(folder, *extra):
    return [str(folder), "-q", "-p", "no:cacheprovider", "-p", "no:randomly", *extra]


def test_nothing_passes_from_one_run_to_the_next(warm, tmp_path):
    """Does every run start from the server's own state, whatever the run before it changed?"""
    (tmp_path / "test_leak.py").write_text(LEAK_TEST)
    for _ in range(3):
        rc, output = warm.run(pytest_args(tmp_path), tmp_path, timeout=120)
        assert rc == 0, output
    assert warm.proc is not None and warm.proc.poll() is None  # one server served all three


def test_a_run_over_its_time_is_killed_and_the_server_serves_on(warm, tmp_path):
    """Is a grader run that hangs killed at its deadline, with the next run served as usual?"""
    (tmp_path / "test_hang.py").write_text("import time\n\ndef test_hangs():\n    time.sleep(600)\n")
    (tmp_path / "test_ok.py").write_text("def test_ok():\n    pass\n")
    with pytest.raises(TimeoutError):
        warm.run(pytest_args(tmp_path / "test_hang.py"), tmp_path, timeout=3)
    rc, output = warm.run(pytest_args(tmp_path / "test_ok.py"), tmp_path, timeout=120)
    assert rc == 0, output


def test_a_crashing_run_is_its_exit_code_only(warm, tmp_path):
    """Does a grader run that dies (a signal, os._exit) report that, and leave the server serving?"""
    (tmp_path / "test_crash.py").write_text(
        "import os, signal\n\ndef test_crash():\n    os.kill(os.getpid(), signal.SIGSEGV)\n"
    )
    (tmp_path / "test_ok.py").write_text("def test_ok():\n    pass\n")
    rc, _ = warm.run(pytest_args(tmp_path / "test_crash.py"), tmp_path, timeout=120)
    assert rc == -signal.SIGSEGV
    assert warm.run(pytest_args(tmp_path / "test_ok.py"), tmp_path, timeout=120)[0] == 0


def test_a_dead_server_is_replaced_by_a_new_one(warm, tmp_path):
    """If the warm server has died between two submissions, does the next one start a new server?"""
    (tmp_path / "test_ok.py").write_text("def test_ok():\n    pass\n")
    assert warm.run(pytest_args(tmp_path / "test_ok.py"), tmp_path, timeout=120)[0] == 0
    first = warm.proc.pid
    os.kill(first, signal.SIGKILL)
    warm.proc.wait()
    assert warm.run(pytest_args(tmp_path / "test_ok.py"), tmp_path, timeout=120)[0] == 0
    assert warm.proc.pid != first


def test_a_server_that_cannot_start_means_a_cold_run(tmp_path):
    """Does a warm grader that fails to start (a module it can't import) leave grading cold but working?"""
    (tmp_path / "test_ok.py").write_text("def test_ok():\n    pass\n")
    broken = WarmGrader(["no_such_module_here"])
    with pytest.raises(ServerDied):
        broken.start()
    cmd = [sys.executable, "-m", "pytest", *pytest_args(tmp_path / "test_ok.py")]
    assert run_grader(cmd, str(tmp_path), broken)[0] == 0


def test_warm_and_cold_grading_give_the_same_results(tmp_path):
    """Do a warm and a cold batch give every student the same scores and messages?"""
    a = Assignment("cnn_step_by_step")
    for student, perfect in (("ada", True), ("ben", False)):
        write_submission(build_submission(a, perfect=perfect), tmp_path / "submitted", student, a.name)
    results, starts = {}, {}
    for warm in (True, False):
        report = grade_class(a, Layout.beside(tmp_path / "submitted"), Options(workers=2, warm=warm, force=True))
        assert report.failed == {}
        results[warm] = {s: (r.score, r.functions, r.errors) for s, r in report.results.items()}
        starts[warm] = {s: r.extra["sandbox_starts"] for s, r in report.results.items()}
    assert results[True] == results[False] and results[True]["ada"][0] == 100 and results[True]["ben"][0] == 0
    if isolation_mode("auto") == "namespaces":  # warm graders fork each sandbox from a template
        assert all(set(s) == {"warm"} for s in starts[True].values()), starts
    assert all(set(s) == {"cold"} for s in starts[False].values()), starts
