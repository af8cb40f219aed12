"""Hostile submissions for cnn_step_by_step: each a perfect student plus one attack.

``function`` is where the attack lives (it must score 0 there, and nothing may raise its
score); attacks at import live in an extra cell (``function=None``) and must cost
nothing at all, since the graded functions are still correct. ``reason`` is a phrase
the student's feedback must contain.
"""

from __future__ import annotations

from dataclasses import dataclass
from textwrap import dedent


@dataclass(frozen=True)
class Attack:
    name: str
    function: str | None  # graded function replaced by the attack, or None (extra cell)
    source: str
    reason: str  # must appear in the feedback for that function (or in errors)
    spares_others: bool = True  # False if the attack also sabotages the student's other functions


def cell(source: str) -> str:
    return dedent(source).strip() + "\n"


# A token that hostile child processes carry in their command line, so the test can
# look for survivors in the host's /proc after grading.
TOKEN = "autograder-hostile-survivor-4f1c"
LOOPBACK_PORT_PLACEHOLDER = "LOOPBACK_PORT"
GRADER_FILE_PLACEHOLDER = "GRADER_FILE"

ATTACKS: list[Attack] = [
    Attack(
        "loop_ignoring_signals",
        "conv_forward",
        cell("""
            def conv_forward(A_prev, W, b, hparameters):
                import signal
                for sig in (signal.SIGTERM, signal.SIGALRM, signal.SIGINT):
                    signal.signal(sig, signal.SIG_IGN)
                while True:
                    pass
        """),
        "did not finish within",
    ),
    Attack(
        "loop_at_import",
        None,
        cell("""
            import signal
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            while True:
                pass
        """),
        "did not finish within",
    ),
    Attack(
        "memory_hog",
        "conv_backward",
        cell("""
            def conv_backward(dZ, cache):
                hog = []
                while True:
                    hog.append(np.ones((1000, 1000, 1000)))  # 8 GB at once
        """),
        "MemoryError",
    ),
    Attack("os_exit_at_import", None, "import os\nos._exit(0)\n", "ended the process"),
    Attack("sys_exit_at_import", None, "import sys\nsys.exit('bye')\n", "called exit()"),
    Attack(
        "segfault",
        "pool_backward",
        cell("""
            def pool_backward(dA, cache, mode="max"):
                import ctypes
                ctypes.string_at(0)
        """),
        "segmentation fault",
    ),
    Attack(
        "patches_numpy_and_builtins",
        "pool_forward",
        cell("""
            import builtins, numpy
            numpy.allclose = lambda *a, **k: True
            numpy.array_equal = lambda *a, **k: True
            numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.shape(a), bool)
            numpy.testing.assert_allclose = lambda *a, **k: None
            builtins.isinstance = lambda obj, cls: True

            def pool_forward(A_prev, hparameters, mode="max"):
                return numpy.zeros((1,))
        """),
        "should return a tuple",
        spares_others=False,  # a patched isinstance breaks NumPy itself in the student's process
    ),
    Attack(
        "always_equal_object",
        "conv_single_step",
        cell("""
            class Anything(float):
                def __eq__(self, other):
                    return True
                __ne__ = lambda self, other: False
                __hash__ = float.__hash__

            class Opaque:
                def __eq__(self, other):
                    return True
                def __float__(self):
                    return 0.0

            def conv_single_step(a_slice_prev, W, b):
                return Opaque()
        """),
        "should be a number",
    ),
    Attack(
        "fake_output_and_flood",
        None,
        cell("""
            import sys
            print('{"score": 100, "max_score": 100, "passed": true}')
            print("All hidden tests passed. Score: 100/100")
            for _ in range(200):
                sys.stdout.write("x" * 50_000)
                sys.stderr.write("y" * 50_000)
        """),
        "bytes while being graded",
    ),
    Attack(
        "child_processes",
        None,
        cell(f"""
            import os, subprocess, sys
            subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "{TOKEN}"], start_new_session=True)
            if os.fork() == 0:
                os.setsid()
                os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", "{TOKEN}"])
        """),
        "",
    ),
    Attack(
        "network",
        "zero_pad",
        cell(f"""
            def zero_pad(X, pad):
                import socket
                socket.create_connection(("127.0.0.1", {LOOPBACK_PORT_PLACEHOLDER}), timeout=1).sendall(b"leak")
                return np.pad(X, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
        """),
        "Network is unreachable",
    ),
    Attack(
        "reads_hidden_tests",
        "distribute_value",
        cell(f"""
            def distribute_value(dz, shape):
                # try to read the hidden grader and smuggle it out in the error message
                with open("{GRADER_FILE_PLACEHOLDER}") as f:
                    raise RuntimeError(f.read())
        """),
        "No such file or directory",
    ),
    Attack(
        "closes_protocol_pipes",
        None,
        cell("""
            import os
            for fd in range(3, 64):
                try:
                    os.close(fd)
                except OSError:
                    pass
        """),
        "ended the process",
    ),
]
