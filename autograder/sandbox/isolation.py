"""Can this machine isolate student code? Find out once, and say so loudly if not."""

from __future__ import annotations

import functools
import os
import tempfile

from autograder.sandbox import memory
from autograder.sandbox.channel import WorkerDied, WorkerTimeout
from autograder.sandbox.limits import Limits
from autograder.sandbox.process import WorkerProcess

WARNING = (
    "WARNING: this machine cannot isolate student code ({reason}). Grading continues, "
    "each submission in its own process with time, memory and process limits, but "
    "student code CAN read files the grader can read and CAN use the network. "
    "Enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1 "
    "or user.max_user_namespaces > 0) for the full sandbox."
)


@functools.lru_cache(maxsize=1)
def probe() -> tuple[bool, str]:
    """(True, "") if a namespace sandbox starts and answers here, else (False, why)."""
    if os.environ.get("AUTOGRADER_FORCE_NO_NAMESPACES"):  # lets tests exercise the fallback
        return False, "disabled by AUTOGRADER_FORCE_NO_NAMESPACES"
    with tempfile.TemporaryDirectory() as empty:
        worker = WorkerProcess(empty, Limits(startup_timeout=20), isolate=True)
        try:
            worker.start()
            reply = worker.request({"op": "names"}, timeout=10)
            return bool(reply.get("ok")), "" if reply.get("ok") else "the sandbox did not answer"
        except (WorkerDied, WorkerTimeout, OSError) as e:
            return False, str(e) or type(e).__name__
        finally:
            worker.kill()


def memory_mechanism(mode: str, limits: Limits) -> str:
    """How memory is bounded here, one line: a memory cgroup, or RLIMIT_AS plus seccomp and small tmpfs.

    ``mode`` is what ``isolation_mode`` returned; ``limits`` are the run's (its grading spec's).
    """
    return memory.describe(limits.memory_bytes, limits.tmp_bytes, namespaces=mode == "namespaces")


def isolation_mode(requested: str = "auto") -> str:
    """'namespaces' or 'process'. 'namespaces' requested but unavailable is an error."""
    if requested == "process":
        return "process"
    ok, reason = probe()
    if ok:
        return "namespaces"
    if requested == "namespaces":
        raise RuntimeError(f"the namespace sandbox is unavailable: {reason}")
    return "process"
