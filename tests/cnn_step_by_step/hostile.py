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
    # --- the grader's helper channel (autograder/stand_ins.py) --------------------------
    Attack(
        "forwards_to_the_grader_via_gc",
        "zero_pad",
        cell("""
            def zero_pad(X, pad):
                # find the sandbox's own worker object and ask the grader for the answer
                import gc
                worker = next(o for o in gc.get_objects() if type(o).__name__ == "Worker" and hasattr(o, "callback"))
                return worker.callback("zero_pad")(X, pad)
        """),
        "your code asked the grader for `zero_pad`, which is not available while `zero_pad` is being graded",
    ),
    Attack(
        "forwards_to_the_grader_via_frames",
        "create_mask_from_window",
        cell("""
            def create_mask_from_window(x):
                import sys
                frame = sys._getframe()
                while frame is not None and type(frame.f_locals.get("self")).__name__ != "Worker":
                    frame = frame.f_back
                ask = frame.f_locals["self"].callback
                try:
                    return ask("create_mask_from_window")(x)
                except ValueError:  # refused: try a dependency of another function instead
                    return ask("distribute_value")(x, x.shape) > 0
        """),
        "which is not available while `create_mask_from_window` is being graded",
    ),
    Attack(
        "asks_for_a_function_it_does_not_depend_on",
        "conv_backward",
        cell("""
            def conv_backward(dZ, cache):
                import gc
                worker = next(o for o in gc.get_objects() if type(o).__name__ == "Worker" and hasattr(o, "callback"))
                try:  # conv_backward may ask for zero_pad only
                    worker.callback("conv_forward")(cache[0], cache[1], cache[2], cache[3])
                except ValueError:
                    pass
                return REFERENCE_CONV_BACKWARD(dZ, cache)
        """),
        "which is not available while `conv_backward` is being graded",
    ),
    Attack(
        "expensive_helper_requests",
        "conv_forward",
        cell("""
            def conv_forward(A_prev, W, b, hparameters):
                # make the trusted grader allocate gigabytes: every request is refused,
                # and the call fails even though the errors are swallowed here
                for request in (
                    lambda: zero_pad(A_prev, np.array(10**6)),  # a 0-d array used as a size
                    lambda: zero_pad(np.ones((1, 1000, 1000, 1)), 5000),  # 80 GB of padding
                    lambda: zero_pad(np.ones((3000, 1000, 1, 1)), 1),  # 3M elements
                    lambda: conv_single_step(np.ones((1000, 1, 1)), np.ones((1, 1000, 1000)), 0.0),  # broadcast to 1e9
                ):
                    try:
                        request()
                    except ValueError:
                        pass
                return REFERENCE_CONV_FORWARD(A_prev, W, b, hparameters)
        """),
        "the grader refused to compute",
    ),
    Attack(
        "stops_reading_the_graders_replies",
        "pool_backward",
        cell("""
            def pool_backward(dA, cache, mode="max"):
                # ask for a large answer, then never read it: the grader's write must not block
                import gc, time
                worker = next(o for o in gc.get_objects() if type(o).__name__ == "Worker" and hasattr(o, "send"))
                worker.send({"op": "callback", "name": "distribute_value", "args": [1.0, (1000, 1000)], "kwargs": {}})
                time.sleep(3600)
        """),
        "did not finish within",
    ),
    # --- the time budget (Limits.budget_seconds) -----------------------------------------
    Attack(
        "sleeps_just_under_every_time_out",
        None,
        cell("""
            import time, types
            time.sleep(9.5)  # just under the 10 s cell time-out

            def _sleepy(fn):
                def wrapper(*args, **kwargs):
                    time.sleep(4.8)  # just under the 5 s call time-out
                    return fn(*args, **kwargs)
                return wrapper

            for _name, _fn in list(globals().items()):
                if isinstance(_fn, types.FunctionType) and not _name.startswith("_"):
                    globals()[_name] = _sleepy(_fn)
        """),
        "time budget",
        spares_others=False,  # slows down every function on purpose
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
