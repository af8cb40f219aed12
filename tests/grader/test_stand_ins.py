"""Does the grader answer a student's helper requests only as declared, and cheaply?

The rule and the bounds live in ``autograder/grader/stand_ins.py``; the end-to-end attacks
(a graded function that forwards to the grader, a request for a function it doesn't
depend on, expensive requests) are in ``tests/graders/cnn_step_by_step/hostile.py``.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from autograder.course.assignments import Assignment, AssignmentError
from autograder.grader import stand_ins
from autograder.grader.session import StudentSession
from autograder.sandbox.limits import Limits


def reference_zero_pad(X, pad):
    return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))


def reference_distribute_value(dz, shape):
    return np.ones(shape) * dz / (shape[0] * shape[1])


def slow_helper(n):
    total = 0
    for i in range(10**9):  # pure Python: the SIGALRM limit stops it
        total += i * n
    return total


@pytest.mark.parametrize(
    "fn, args, why",
    [
        (reference_zero_pad, [np.ones((1, 4, 4, 1)), np.array(10**6)], "the number 1,000,000"),
        (reference_zero_pad, [np.ones((1, 4, 4, 1)), np.int64(50_000)], "the number 50,000"),
        (reference_zero_pad, [np.ones((3000, 1000, 1, 1)), 1], "more than 2,000,000 elements"),
        (reference_zero_pad, [[np.ones((1500, 1000)), {"x": np.ones((1000, 1000))}], 1], "more than 2,000,000"),
        (np.add, [np.ones((1000, 1, 1)), np.ones((1, 1000, 1000))], "broadcast to 1,000,000,000 elements"),
        (reference_zero_pad, [np.ones((1, 1000, 1000, 1)), 5000], "more than 256 MiB"),
        (reference_distribute_value, [1.0, (10_000, 10_000)], "more than 256 MiB"),
        (slow_helper, [3], "more than 2 s"),
        (np.ones, [(1500, 1500)], "answer would hold more than 2,000,000"),
    ],
    ids=["0-d size", "numpy int", "big array", "nested arrays", "broadcast", "padding", "shape", "slow", "big answer"],
)
def test_expensive_requests_are_refused(fn, args, why):
    """Is each request that would cost the grader memory or time refused, with the reason?"""
    started = time.process_time()  # CPU time: what a refusal saves, whatever the machine's load
    with pytest.raises(stand_ins.Refused, match=why):
        stand_ins.answer(fn, args, {})
    assert time.process_time() - started < stand_ins.MAX_SECONDS + 1


def test_affordable_requests_are_answered_and_the_limits_restored():
    """Does an honest request get the reference's answer, leaving the process as it was?"""
    before = resource.getrlimit(resource.RLIMIT_AS)
    X = np.arange(2 * 3 * 3 * 2, dtype=float).reshape(2, 3, 3, 2)
    np.testing.assert_array_equal(stand_ins.answer(reference_zero_pad, [X, 2], {}), reference_zero_pad(X, 2))
    with pytest.raises(stand_ins.Refused):
        stand_ins.answer(reference_zero_pad, [np.ones((1, 1000, 1000, 1)), 5000], {})
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    with pytest.raises(stand_ins.Refused, match="not a list"):
        stand_ins.answer(reference_zero_pad, {"X": X}, {})


def test_a_refused_request_never_makes_the_grader_hold_much_memory():
    """Measured in a fresh process: how much does each hostile request raise peak memory?"""
    code = textwrap.dedent(
        """
        import json, resource, numpy as np
        from autograder.grader import stand_ins
        def pad(X, p): return np.pad(X, ((0, 0), (p, p), (p, p), (0, 0)))
        def spread(dz, shape): return np.ones(shape) * dz
        X = np.ones((1, 1000, 1000, 1))
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for fn, args in [(pad, [X, 5000]), (pad, [X, 9999]), (spread, [1.0, (10_000, 10_000)]),
                         (spread, [1.0, (10_000, 10_000, 10_000)]), (np.add, [np.ones((1000, 1, 1)), np.ones((1, 1000, 1000))])]:
            try:
                stand_ins.answer(fn, args, {})
            except stand_ins.Refused:
                pass
        print(json.dumps((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    grew = json.loads(out.stdout)
    assert grew <= stand_ins.MAX_EXTRA_BYTES, f"peak memory grew by {grew / 2**20:.0f} MiB"


class FakeWorker:
    """Stands in for the sandbox: replays helper requests, then replies ``ok``."""

    def __init__(self, requests):
        self.requests = requests
        self.answers = []

    def alive(self):
        return True

    def request(self, message, timeout, on_callback=None):
        for r in self.requests:
            self.answers.append(on_callback({"op": "callback", **r}))
        return {"ok": True, "value": 1.0}


def session_with(requests, stand_in_table):
    s = StudentSession(None, None, Limits(), isolate=False)
    s.helpers = {"zero_pad": reference_zero_pad, "distribute_value": reference_distribute_value}
    s.stand_ins = stand_in_table
    s.worker, s.loaded, s.defined = FakeWorker(requests), True, {"zero_pad": "function", "conv_forward": "function"}
    return s


@pytest.mark.parametrize(
    "called, asked, allowed",
    [
        ("zero_pad", "zero_pad", False),  # the function under test: an oracle for itself
        ("conv_forward", "distribute_value", False),  # a helper, but not a declared dependency
        ("conv_forward", "zero_pad", True),
        ("conv_forward", ["zero_pad"], False),  # not even a string
    ],
)
def test_only_declared_stand_ins_are_answered(called, asked, allowed):
    """Is a helper answered only for the function being called, as declared?"""
    request = {"name": asked, "args": [np.ones((1, 2, 2, 1)), 1], "kwargs": {}}
    s = session_with([request], {"conv_forward": ("zero_pad",)})
    if allowed:
        s.call(called)
        assert s.worker.answers[0]["ok"]
    else:
        with pytest.raises(Exception, match="which is not available while") as e:
            s.call(called)
        assert e.value.kind == "refused"
        assert not s.worker.answers[0]["ok"]


def test_a_refusal_fails_the_call_even_if_the_student_code_swallowed_it():
    """The worker replied 'ok' (the student caught the error): does the call still fail?"""
    s = session_with([{"name": "zero_pad", "args": [np.ones((1, 4, 4, 1)), 9999], "kwargs": {}}], {})
    with pytest.raises(Exception, match="your code asked the grader for `zero_pad`"):
        s.call("conv_forward")
    s.stand_ins = {"conv_forward": ("zero_pad",)}
    with pytest.raises(Exception, match="the grader refused to compute `zero_pad`.*MiB"):
        s.call("conv_forward")


def test_stand_in_declarations_are_validated(tmp_path):
    """Does a stand-in table that names itself or an unknown function stop with the file?"""
    real = Assignment("cnn_step_by_step")
    assert real.stand_ins()["conv_forward"] == ("zero_pad", "conv_single_step")
    (tmp_path / "autograder" / "graders" / real.name).mkdir(parents=True)
    (tmp_path / "source" / real.name).mkdir(parents=True)
    (tmp_path / "source" / real.name / f"{real.name}.ipynb").write_bytes(real.source_notebook.read_bytes())
    toml = tmp_path / "autograder" / "graders" / real.name / "assignment.toml"
    fake = Assignment(real.name, root=tmp_path)
    for table, problem in [
        ('zero_pad = ["zero_pad"]', "other than itself"),
        ('conv_forward = ["conv_fwd"]', "conv_fwd"),
        ('conv_forward = "zero_pad"', "must be a list"),
    ]:
        toml.write_text(f"[stand_ins]\n{table}\n")
        with pytest.raises(AssignmentError, match=problem) as e:
            fake.stand_ins()
        assert str(toml) in str(e.value)
