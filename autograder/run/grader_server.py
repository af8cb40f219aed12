"""A warm grader: the heavy imports happen once, then each submission's grader run is a fork.

Every submission is graded in its own grader process (``grading.py``): pytest, the
grading library and, for the Keras assignments, TensorFlow (about 6 s of CPU to import
on the development machine, once per submission). This server imports them once and
then, for each request, forks a child that runs pytest with that submission's arguments
and exits. The child is a fresh copy of a process that has imported modules and run
nothing else, so no state passes from one submission's grading to the next (the server
itself never runs a grader, a reference or student code). What it imports is
``PRELOAD`` plus the assignment's ``[grader] preload`` (assignment.toml); TensorFlow
may be imported before a fork but not used (it starts its thread pools on first use).

It also keeps a warm *sandbox*: a sandbox template (``sandbox/warm.py``) for the
assignment being graded, which has imported NumPy and the same heavy modules inside the
sandbox, so that each submission's sandboxed worker is a fork too (with its own fresh
namespaces, limits and memory cgroup), not a new interpreter that imports Keras again.
Each grader run gets the template as a pytest plugin (``plugin.WarmSandbox``), and hands it on
to the sandboxes it starts.

Protocol, one JSON object per line: the client writes ``{"args": [...], "cwd": DIR,
"log": FILE, "sandbox": KEY}`` (KEY: ``grading.sandbox_template``, or null for cold
sandboxes: the release folder, the modules to import and the run's grading spec file, the
one ``--spec`` in the args names, whose limits the template's workers get); the server
answers ``{"pid": N}`` once the child runs, then ``{"rc": N}`` when it has exited (its
output is in ``log``). The client kills the child on a time-out (``WarmGrader.run``); if
the server itself dies, the client starts a new one.

    python -m autograder.run.grader_server [MODULE ...]
"""

from __future__ import annotations

import importlib
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from autograder.grader.spec import GradingSpec, SpecError
from autograder.sandbox import warm

# Always worth importing before the fork: what every grader run imports anyway.
PRELOAD = ("numpy", "pytest", "autograder.grader.plugin")
START_TIMEOUT = 300  # seconds for the imports (TensorFlow on a busy machine)


class ServerDied(Exception):
    """The warm server stopped answering; the caller grades this submission the cold way."""


def serve(modules: list[str]) -> None:
    if any(m in ("keras", "tensorflow") for m in modules):
        import autograder.kit.tensorflow_env  # noqa: F401  (sets TensorFlow's env defaults before it loads)
    for name in (*PRELOAD, *modules):
        importlib.import_module(name)
    import pytest

    from autograder.grader.plugin import WarmSandbox  # (imported above, as PRELOAD)

    protocol = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # stray prints can't corrupt the protocol
    protocol.write('{"ready": true}\n')
    templates = Templates()
    for line in sys.stdin:
        request = json.loads(line)
        template = templates.get(request.get("sandbox"))
        pid = os.fork()
        if pid == 0:  # the child: one submission's grader run
            code = 3
            try:
                protocol.close()
                os.chdir(request["cwd"])
                log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                os.dup2(log, 1)
                os.dup2(log, 2)
                os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                code = pytest.main(list(request["args"]), plugins=[WarmSandbox(template)])  # its sandboxes fork from it
            except BaseException as e:  # noqa: BLE001 - anything goes into the log, then the exit code
                print(f"grader child failed: {type(e).__name__}: {e}", file=sys.stderr)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(int(code))
        protocol.write(json.dumps({"pid": pid}) + "\n")
        _, status = os.waitpid(pid, 0)
        protocol.write(json.dumps({"rc": os.waitstatus_to_exitcode(status)}) + "\n")


class Templates:
    """The server's sandbox template (``sandbox/warm.py``): one at a time, for the assignment
    being graded, started on the first request that asks for it (from this, the main thread:
    the sandbox's parent-death signal follows the thread that started it) and again if it
    dies. One that fails to start is not tried again: its sandboxes start cold."""

    def __init__(self) -> None:
        self.current: warm.SandboxTemplate | None = None
        self.failed: set[tuple] = set()

    def get(self, key: dict | None) -> warm.SandboxTemplate | None:
        if not key:
            return None
        try:
            limits = GradingSpec.read(Path(key["spec"])).limits
        except SpecError:
            return None  # the grader run reads the same file, and stops saying what is wrong with it
        wanted = warm.SandboxTemplate(Path(key["dir"]), limits, key["modules"])
        if self.current is not None and self.current.key() == wanted.key() and self.current.alive():
            return self.current
        if self.current is not None:
            self.current.close()
            self.current = None
        if wanted.key() in self.failed:
            return None
        try:
            wanted.start()
        except Exception:  # noqa: BLE001 - WorkerDied, OSError: grade with cold sandboxes
            self.failed.add(wanted.key())
            wanted.close()
            return None
        self.current = wanted
        return wanted


class WarmGrader:
    """One warm server, for one thread of a batch: ``run`` grades one submission at a time."""

    def __init__(self, modules: list[str]):
        self.modules = list(modules)
        self.proc: subprocess.Popen | None = None
        self.buffer = b""

    def start(self) -> None:
        self.buffer = b""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autograder.run.grader_server", *self.modules],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0,
        )  # fmt: skip
        try:
            ready = self._read(START_TIMEOUT).get("ready") is True
        except (TimeoutError, ValueError):
            ready = False
        if not ready:
            self.close()
            raise ServerDied("the warm grader did not start")

    def _read(self, timeout: float) -> dict:
        """The server's next reply line (unbuffered reads: select then sees every byte)."""
        assert self.proc is not None and self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:
                raise TimeoutError
            chunk = os.read(fd, 65536)
            if not chunk:
                raise ServerDied("the warm grader exited")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return json.loads(line)

    def run(self, args: list[str], cwd: Path, timeout: float, sandbox: dict | None = None) -> tuple[int, str]:
        """pytest ``args`` in a forked child, in ``cwd``: (exit code, its output). A child still
        running after ``timeout`` seconds is killed, and TimeoutError raised. ``sandbox``
        (``grading.sandbox_template``): the sandbox template its workers fork from."""
        if self.proc is None or self.proc.poll() is not None:
            self.start()
        assert self.proc is not None and self.proc.stdin is not None
        log = Path(cwd) / "grader-output.txt"
        deadline = time.monotonic() + timeout
        try:
            request = {"args": args, "cwd": str(cwd), "log": str(log), "sandbox": sandbox}
            self.proc.stdin.write((json.dumps(request) + "\n").encode())
            pid = self._read(START_TIMEOUT)["pid"]
        except (OSError, ValueError, KeyError, TimeoutError) as e:
            self.close()
            raise ServerDied(f"the warm grader stopped answering ({type(e).__name__})") from None
        try:
            rc = self._read(deadline - time.monotonic())["rc"]
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)  # the server reaps it and reports; a new request may follow
            self._read(30)
            raise
        except (ValueError, KeyError) as e:
            self.close()
            raise ServerDied(f"the warm grader sent a bad reply ({type(e).__name__})") from None
        return int(rc), log.read_text(errors="replace") if log.exists() else ""

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


class WarmGraders:
    """One ``WarmGrader`` per thread of a pool, started on first use; ``close`` stops them all."""

    def __init__(self, modules: list[str]):
        self.modules = list(modules)
        self.local = threading.local()
        self.started: list[WarmGrader] = []
        self.lock = threading.Lock()

    def for_this_thread(self) -> WarmGrader:
        if not hasattr(self.local, "grader"):
            self.local.grader = WarmGrader(self.modules)
            with self.lock:
                self.started.append(self.local.grader)
        return self.local.grader

    def close(self) -> None:
        for grader in self.started:
            grader.close()

    def __enter__(self) -> WarmGraders:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


if __name__ == "__main__":
    serve(sys.argv[1:])
