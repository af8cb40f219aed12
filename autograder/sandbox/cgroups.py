"""Memory cgroups: where this machine lets us make them, one per sandbox or grader process, and their removal.

Standard library only (see ``memory.py``): the launcher joins a group by the path in its spec.
"""

from __future__ import annotations

import errno
import functools
import itertools
import os
import re
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

GROUP_PREFIX = "autograder-sandbox-"  # per-sandbox cgroups: GROUP_PREFIX + "<grader pid>-<n>"
GRADER_PREFIX = "autograder-grader-"  # per-grader-process cgroups: GRADER_PREFIX + "<client pid>-<n>"
FORCE_NO_CGROUP = "AUTOGRADER_FORCE_NO_CGROUP"  # lets tests exercise the fallback
_TRIAL_BYTES = 64 * 2**20  # the limit of the trial group that shows whether we may create groups


@dataclass(frozen=True)
class CgroupParent:
    """A memory cgroup we may create per-sandbox groups under (our own current one), and this process's
    bookkeeping there: the groups it still has to remove, and the numbers that make its groups' names unique."""

    version: int  # 1 or 2
    path: Path
    # groups whose tasks had not exited in time; retried at the next ``SandboxCgroup.create``
    leftover: list[Path] = field(default_factory=list, compare=False, hash=False, repr=False)
    names: Iterator[int] = field(default_factory=itertools.count, compare=False, hash=False, repr=False)


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
            SandboxCgroup.create(parent, _TRIAL_BYTES).remove()
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

    def __init__(self, parent: CgroupParent, path: Path):
        self.parent, self.version, self.path = parent, parent.version, path

    @classmethod
    def create(cls, parent: CgroupParent, limit_bytes: int, name: str | None = None) -> SandboxCgroup:
        """Make the group with its limit (no swap beyond it); OSError if the machine refuses."""
        for path in parent.leftover[:]:
            if cls(parent, path).remove(timeout=0):
                parent.leftover.remove(path)
        path = parent.path / (name or f"{GROUP_PREFIX}{os.getpid()}-{next(parent.names)}")
        path.mkdir()
        group = cls(parent, path)
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
                    if self.path not in self.parent.leftover:
                        self.parent.leftover.append(self.path)
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
            SandboxCgroup(parent, path).remove(timeout=0)
        except PermissionError:
            pass
