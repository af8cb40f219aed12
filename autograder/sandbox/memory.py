"""How a sandbox's memory is bounded: the mechanisms as data, which apply here, and the line announcing them.

RLIMIT_AS alone counts only a process's address space: memfd, SysV and POSIX shared
memory and tmpfs files hold pages outside it, and it is per process. So where the
machine lets us, each sandbox gets its own memory cgroup (``cgroups.py``), which counts
every page it touches; elsewhere seccomp (``seccomp_filter.py``) and small tmpfs mounts
close those holes. ``MECHANISMS`` is the whole list, each with the reason it is there;
``in_force`` says which apply here. The grader process's own memory: ``grader_memory.py``.

Standard library only: the grader imports it, and what it decides travels to the launcher
as data in the spec (the launcher imports nothing from this package).
"""

from __future__ import annotations

import platform
from dataclasses import dataclass

from autograder.sandbox.cgroups import cgroup_parent
from autograder.sandbox.seccomp_filter import seccomp_program

MiB, GiB = 2**20, 2**30
SHM_BYTES = 16 * MiB  # size of the sandbox's /dev/shm (POSIX shared memory lives there)


@dataclass(frozen=True)
class Mechanism:
    """One way the sandbox bounds memory, when it applies, and why it is there."""

    name: str
    when: str  # a key of _WHEN
    covers: str
    reason: str
    summary: str  # its part of the one-line announcement; {placeholders} from describe()


MECHANISMS = (
    Mechanism(
        "memory cgroup",
        "cgroup",
        "every page the sandbox's processes touch, together: anonymous, memfd, SysV and POSIX shm, tmpfs",
        "RLIMIT_AS is per process and counts none of memfd, shared memory or tmpfs",
        "cgroup {cgroup}, {memory} per sandbox (covers shared memory and tmpfs)",
    ),
    Mechanism(
        "RLIMIT_AS",
        "always",
        "each process's address space: heap, NumPy arrays, every mmap and shmat",
        "a too-large allocation fails as a MemoryError in the student's code instead of killing the worker",
        "RLIMIT_AS {memory} per process",
    ),
    Mechanism(
        "seccomp",
        "no cgroup or no IPC namespace",
        "memfd_create, memfd_secret, shmget and msgget fail with EPERM",
        "their pages are in no address space, and SysV objects outlive a worker in the host's IPC namespace",
        "seccomp blocks memfd/SysV shm",
    ),
    Mechanism(
        "tmpfs sizes",
        "namespaces",
        "the sandbox's private /tmp (Limits.tmp_bytes) and /dev/shm (SHM_BYTES), where POSIX shm lives",
        "tmpfs pages belong to no process; without a cgroup only the size of the mount bounds them",
        "/tmp {tmp}, /dev/shm {shm}",
    ),
    Mechanism(
        "IPC and mount namespaces",
        "namespaces",
        "SysV objects, /tmp and /dev/shm",
        "whatever student code leaves there is freed when the sandbox ends, not kept on the host",
        "",
    ),
)
_WHEN = {
    "always": lambda cgroup, namespaces: True,
    "cgroup": lambda cgroup, namespaces: cgroup,
    "namespaces": lambda cgroup, namespaces: namespaces,
    "no cgroup or no IPC namespace": lambda cgroup, namespaces: not (cgroup and namespaces),
}


def in_force(cgroup: bool, namespaces: bool) -> tuple[Mechanism, ...]:
    """The mechanisms that apply with (or without) a memory cgroup and namespaces."""
    return tuple(m for m in MECHANISMS if _WHEN[m.when](cgroup, namespaces))


def describe(memory_bytes: int, tmp_bytes: int, namespaces: bool) -> str:
    """One line for the start of a run, e.g. 'memory: cgroup v1, 2 GiB per sandbox (...)'."""
    parent, reason = cgroup_parent()
    facts = {
        "memory": size_text(memory_bytes),
        "tmp": size_text(tmp_bytes),
        "shm": size_text(SHM_BYTES),
        "cgroup": f"v{parent.version}" if parent else "",
    }
    mechanisms = in_force(parent is not None, namespaces)
    parts = [m.summary.format(**facts) for m in mechanisms if m.summary]
    if not namespaces:
        parts.append("/tmp and /dev/shm are the host's, not bounded")
    line = "memory: " + " + ".join(parts)
    if seccomp_program() is None and any(m.name == "seccomp" for m in mechanisms):
        line += f" (seccomp not available on {platform.machine()}: memfd and SysV shm unbounded)"
    return line + (f" (no memory cgroup: {reason})" if parent is None else "")


def size_text(n: int) -> str:
    """A size as the announcements say it: "2 GiB", "64 MiB"."""
    return f"{n / GiB:g} GiB" if n >= GiB else f"{n / MiB:g} MiB"
