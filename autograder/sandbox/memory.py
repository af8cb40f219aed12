"""How a sandbox's memory is bounded: the mechanisms as data, and the code that sets them up.

RLIMIT_AS alone counts only a process's address space: memfd, SysV and POSIX shared
memory and tmpfs files hold pages outside it, and it is per process. So where the
machine lets us, each sandbox gets its own memory cgroup, which counts every page it
touches; elsewhere seccomp and small tmpfs mounts close those holes. ``MECHANISMS`` is
the whole list, each with the reason it is there; ``in_force`` says which apply here.

Standard library only: the grader imports it, and the seccomp program it builds travels
to the launcher as data in the spec (the launcher imports nothing from this package).
"""

from __future__ import annotations

import errno
import functools
import itertools
import os
import platform
import re
import signal
import time
from dataclasses import dataclass
from pathlib import Path

MiB, GiB = 2**20, 2**30
SHM_BYTES = 16 * MiB  # size of the sandbox's /dev/shm (POSIX shared memory lives there)
GROUP_PREFIX = "autograder-sandbox-"  # per-sandbox cgroups: GROUP_PREFIX + "<grader pid>-<n>"
GRADER_PREFIX = "autograder-grader-"  # per-grader-process cgroups: GRADER_PREFIX + "<client pid>-<n>"
FORCE_NO_CGROUP = "AUTOGRADER_FORCE_NO_CGROUP"  # lets tests exercise the fallback


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
        "memory": _size(memory_bytes),
        "tmp": _size(tmp_bytes),
        "shm": _size(SHM_BYTES),
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


def _size(n: int) -> str:
    return f"{n / GiB:g} GiB" if n >= GiB else f"{n / MiB:g} MiB"


# --- memory cgroups ------------------------------------------------------------------


@dataclass(frozen=True)
class CgroupParent:
    """A memory cgroup we may create per-sandbox groups under (our own current one)."""

    version: int  # 1 or 2
    path: Path


def cgroup_parent() -> tuple[CgroupParent | None, str]:
    """(where to create sandbox cgroups, "") if this machine allows it, else (None, why)."""
    if os.environ.get(FORCE_NO_CGROUP):
        return None, f"disabled by {FORCE_NO_CGROUP}"
    return _detect()


@functools.lru_cache(maxsize=1)
def _detect() -> tuple[CgroupParent | None, str]:
    try:
        cgroups = Path("/proc/self/cgroup").read_text()
        mounts = Path("/proc/self/mountinfo").read_text()
    except OSError as e:
        return None, f"cannot read /proc/self: {e.strerror}"
    reasons = []
    for parent in find_parents(cgroups, mounts):
        try:  # a trial group: creating one is what a sandbox will need
            _remove_stale(parent)
            SandboxCgroup.create(parent, 64 * MiB).remove()
            return parent, ""
        except OSError as e:
            reasons.append(f"cannot create a cgroup v{parent.version} under {parent.path}: {e.strerror}")
    return None, "; ".join(reasons) or "no cgroup v2 with the memory controller delegated, no cgroup v1 memory"


def find_parents(cgroups: str, mounts: str) -> list[CgroupParent]:
    """Where sandbox groups can go, v2 first, from /proc/self/cgroup and mountinfo text.

    v1: our own memory cgroup, if the memory hierarchy is mounted (nested groups work).
    v2: our group or its parent, whichever is delegated to us: writable, with the
    memory controller enabled for children (a v2 group with processes in it can't
    enable it, hence the parent when the grader sits in a leaf).
    """
    where: dict[int, str] = {}  # version -> our path in that hierarchy
    for line in cgroups.splitlines():
        if line.count(":") < 2:
            continue
        hierarchy, controllers, path = line.split(":", 2)
        if hierarchy == "0" and controllers == "":
            where[2] = path
        elif "memory" in controllers.split(","):
            where[1] = path
    found = []
    for line in mounts.splitlines():
        fields, _, tail = line.partition(" - ")
        fields, tail = fields.split(), tail.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        root, mount_point, fstype, options = fields[3], _unescape(fields[4]), tail[0], tail[2].split(",")
        version = 2 if fstype == "cgroup2" else 1 if fstype == "cgroup" and "memory" in options else 0
        ours = where.get(version)
        if not version or ours is None or not (ours + "/").startswith(root.rstrip("/") + "/"):
            continue
        path = Path(mount_point, ours[len(root.rstrip("/")) :].lstrip("/"))
        if version == 2:  # our own group, or (we sit in a leaf) its parent
            path = next((p for p in (path, path.parent) if _delegated(p)), None)
            if path is None:
                continue
        found.append(CgroupParent(version, path))
    return sorted(set(found), key=lambda p: -p.version)


def _delegated(path: Path) -> bool:
    """May we make v2 children with the memory controller here (and move tasks in)?"""
    try:
        enabled = "memory" in (path / "cgroup.subtree_control").read_text().split()
    except OSError:
        return False
    return enabled and os.access(path, os.W_OK) and os.access(path / "cgroup.procs", os.W_OK)


def _unescape(field: str) -> str:  # mountinfo writes space, tab, newline, backslash as \ooo
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


_names = itertools.count()
_leftover: list[Path] = []  # groups whose tasks had not exited in time; retried later


class SandboxCgroup:
    """One sandbox's memory cgroup: the launcher joins it, ``remove`` empties and deletes it."""

    _FILES = {  # version -> (limit, no-swap limit, usage, peak)
        1: (
            "memory.limit_in_bytes",
            "memory.memsw.limit_in_bytes",
            "memory.usage_in_bytes",
            "memory.max_usage_in_bytes",
        ),
        2: ("memory.max", "memory.swap.max", "memory.current", "memory.peak"),
    }

    def __init__(self, version: int, path: Path):
        self.version, self.path = version, path

    @classmethod
    def create(cls, parent: CgroupParent, limit_bytes: int, name: str | None = None) -> SandboxCgroup:
        """Make the group with its limit (no swap beyond it); OSError if the machine refuses."""
        for path in _leftover[:]:
            if cls(parent.version, path).remove(timeout=0):
                _leftover.remove(path)
        path = parent.path / (name or f"{GROUP_PREFIX}{os.getpid()}-{next(_names)}")
        path.mkdir()
        group = cls(parent.version, path)
        limit, no_swap, _, _ = cls._FILES[parent.version]
        try:
            (path / limit).write_text(str(limit_bytes))
            if (path / no_swap).exists():  # v1: memory+swap <= limit; v2: no swap at all
                (path / no_swap).write_text(str(limit_bytes) if parent.version == 1 else "0")
            if parent.version == 2:
                (path / "memory.oom.group").write_text("1")  # an OOM kill takes the whole sandbox
        except OSError:
            group.remove()
            raise
        return group

    @property
    def procs_file(self) -> str:
        """The file the launcher writes its pid to, to join before it starts anything."""
        return str(self.path / "cgroup.procs")

    def usage(self) -> tuple[int, int]:
        """(bytes charged now, the most ever charged), for tests and measurements."""
        _, _, usage, peak = self._FILES[self.version]
        now = int((self.path / usage).read_text())
        try:
            return now, int((self.path / peak).read_text())
        except (OSError, ValueError):  # memory.peak is new in Linux 5.19
            return now, now

    def oom_kills(self) -> int:
        """How many processes the kernel killed in this group for going over its limit."""
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            for line in (self.path / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def remove(self, timeout: float = 2.0) -> bool:
        """Kill every task left, wait (at most ``timeout`` s) until none is, and delete the group.

        False if tasks were still exiting at the deadline; the group is retried later.
        """
        deadline = time.monotonic() + timeout
        while True:
            self._kill_all()
            try:
                self.path.rmdir()
                return True
            except FileNotFoundError:
                return True
            except OSError as e:
                if e.errno != errno.EBUSY or time.monotonic() >= deadline:
                    if self.path not in _leftover:
                        _leftover.append(self.path)
                    return False
            time.sleep(0.002)  # tasks killed a moment ago are still exiting

    def _kill_all(self) -> None:
        if self.version == 2:
            try:
                (self.path / "cgroup.kill").write_text("1")  # Linux 5.14+: all at once
                return
            except OSError:
                pass
        try:
            pids = [int(p) for p in (self.path / "cgroup.procs").read_text().split()]
        except OSError:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _remove_stale(parent: CgroupParent) -> None:
    """Delete sandbox and grader groups left by processes that are gone (a crash, a kill -9)."""
    for prefix, path in ((p, path) for p in (GROUP_PREFIX, GRADER_PREFIX) for path in parent.path.glob(p + "*")):
        owner = path.name[len(prefix) :].split("-")[0]
        if not owner.isdigit() or int(owner) == os.getpid():
            continue
        try:
            os.kill(int(owner), 0)
        except ProcessLookupError:
            SandboxCgroup(parent.version, path).remove(timeout=0)
        except PermissionError:
            pass


# --- the grader process's own memory -------------------------------------------------
#
# The grader process is trusted, but what it holds grows with what a student sends it
# (arguments it records, replies it decodes). So it is bounded too: the client that starts
# it makes a cgroup for it (``grader_group``), and the grader joins it first thing
# (``bound_grader``), before any student code runs; without a cgroup, RLIMIT_DATA bounds
# it instead. Going over costs that one student's grading (``grading.GradingError``).

GRADER_MEMORY_EXIT = 75  # the grader's exit status after a MemoryError under RLIMIT_DATA


def grader_group(limit_bytes: int) -> SandboxCgroup | None:
    """A memory cgroup for one grader process (made and removed by the client), or None."""
    parent, _ = cgroup_parent()
    if parent is None:
        return None
    try:
        return SandboxCgroup.create(parent, limit_bytes, name=f"{GRADER_PREFIX}{os.getpid()}-{next(_names)}")
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
            return f"cgroup, {_size(limit_bytes)}"
        except OSError:
            pass
    import resource

    # RLIMIT_DATA, not RLIMIT_AS: TensorFlow reserves gigabytes of address space it never
    # touches (thread stacks, allocator arenas), so a cap on address space stops an honest
    # grading at random; the data segment counts what is writable and private: the heap and
    # anonymous mappings, where a student's values end up.
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    cap = _data_size() + limit_bytes  # beyond what the graders' imports already hold
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (cap, hard))  # the soft limit only: sandboxes set their own
    return f"RLIMIT_DATA, {_size(limit_bytes)} more"


def _data_size() -> int:
    """This process's data segment (VmData: private writable mappings), in bytes."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmData:"):
                return int(line.split()[1]) * 1024
    return 0


# --- seccomp -------------------------------------------------------------------------

SECCOMP_BLOCKED = ("memfd_create", "memfd_secret", "shmget", "msgget")
# Refused in every sandbox, whatever the memory mechanism: the kernel's keyrings check access
# by uid, not by namespace, so a keyring is a channel between sandboxes (docs/sandbox.md)
KEYRING_CALLS = ("add_key", "request_key", "keyctl")
_ARCHES = {  # machine -> (AUDIT_ARCH_*, syscall numbers, x32 syscall bit or 0)
    "x86_64": (
        0xC000003E,
        {"memfd_create": 319, "memfd_secret": 447, "shmget": 29, "msgget": 68}
        | {"add_key": 248, "request_key": 249, "keyctl": 250},
        0x40000000,
    ),
    "aarch64": (
        0xC00000B7,
        {"memfd_create": 279, "memfd_secret": 447, "shmget": 194, "msgget": 186}
        | {"add_key": 217, "request_key": 218, "keyctl": 219},
        0,
    ),
}
_LD_ABS_W, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JGE|K, BPF_RET|K
_ALLOW, _EPERM = 0x7FFF0000, 0x00050000 | errno.EPERM  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM


def seccomp_program(blocked: tuple[str, ...] = SECCOMP_BLOCKED) -> list[list[int]] | None:
    """A classic BPF filter, as [code, jt, jf, k] rows, that fails ``blocked`` with EPERM.

    It first checks the audit arch: a system call made through another ABI (i386 via
    int 0x80, x32) would use other numbers, so any of those fails with EPERM too.
    None on an architecture we have no syscall table for.
    """
    if platform.machine() not in _ARCHES:
        return None
    arch, numbers, x32_bit = _ARCHES[platform.machine()]
    checks = [(_JGE_K, x32_bit)] if x32_bit else []
    checks += [(_JEQ_K, numbers[name]) for name in blocked]
    program = [
        [_LD_ABS_W, 0, 0, 4],  # seccomp_data.arch
        [_JEQ_K, 1, 0, arch],
        [_RET_K, 0, 0, _EPERM],
        [_LD_ABS_W, 0, 0, 0],  # seccomp_data.nr
    ]
    for i, (code, k) in enumerate(checks):
        program.append([code, len(checks) - i, 0, k])  # true: jump to the EPERM at the end
    return program + [[_RET_K, 0, 0, _ALLOW], [_RET_K, 0, 0, _EPERM]]
