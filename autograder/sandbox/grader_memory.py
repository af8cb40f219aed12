"""Bounding the grader process's own memory: a cgroup its client makes for it, else RLIMIT_DATA.

The grader process is trusted, but what it holds grows with what a student sends it
(arguments it records, replies it decodes). So it is bounded too: the client that starts
it makes a cgroup for it (``grader_group``), and the grader joins it first thing
(``bound_grader``), before any student code runs; without a cgroup, RLIMIT_DATA bounds
it instead. Going over costs that one student's grading (``grading.GradingError``).
"""

from __future__ import annotations

import os

from autograder.sandbox.cgroups import GRADER_PREFIX, SandboxCgroup, cgroup_parent
from autograder.sandbox.memory import size_text

GRADER_MEMORY_EXIT = 75  # the grader's exit status after a MemoryError under RLIMIT_DATA


def grader_group(limit_bytes: int) -> SandboxCgroup | None:
    """A memory cgroup for one grader process (made and removed by the client), or None."""
    parent, _ = cgroup_parent()
    if parent is None:
        return None
    try:
        return SandboxCgroup.create(parent, limit_bytes, name=f"{GRADER_PREFIX}{os.getpid()}-{next(parent.names)}")
    except OSError:
        return None


def bound_grader(procs_file: str | None, limit_bytes: int) -> str:
    """Bound this (grader) process: join its cgroup, else cap its data segment. Says which.

    The sandboxes' parent group is looked up first, so that their groups are made beside
    this one, not inside it (a sandbox's pages never count against its grader's limit).
    """
    cgroup_parent()
    if procs_file:
        try:
            with open(procs_file, "w") as f:
                f.write(str(os.getpid()))
            return f"cgroup, {size_text(limit_bytes)}"
        except OSError:
            pass
    import resource

    # RLIMIT_DATA, not RLIMIT_AS: TensorFlow reserves gigabytes of address space it never
    # touches (thread stacks, allocator arenas), so a cap on address space stops an honest
    # grading at random; the data segment counts what is writable and private: the heap and
    # anonymous mappings, where a student's values end up.
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    cap = _datasize_text() + limit_bytes  # beyond what the graders' imports already hold
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))  # the soft limit only: sandboxes set their own
    return f"RLIMIT_DATA, {size_text(limit_bytes)} more"


def _datasize_text() -> int:
    """This process's data segment (VmData: private writable mappings), in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    return 0
