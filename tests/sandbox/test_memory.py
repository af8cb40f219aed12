"""Is a sandbox's memory bounded in every form a cell can hold it, and freed when it ends?

Each attack tries to hold twice the limit in one form while a thread samples the host's
MemAvailable every 20 ms. Both paths run: the memory cgroup (this machine and CI have
one) and the fallback without it (AUTOGRADER_FORCE_NO_CGROUP: RLIMIT_AS, seccomp and
small tmpfs mounts). The measured drops are printed (``pytest -s``) as "memory-figure".
"""

from __future__ import annotations

import contextlib
import os
import textwrap
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.sandbox import cgroups, memory
from autograder.sandbox.channel import WorkerDied
from autograder.sandbox.forked import Forked
from autograder.sandbox.isolation import probe
from autograder.sandbox.limits import Limits
from autograder.sandbox.process import WorkerProcess
from autograder.sandbox.warm import SandboxTemplate
from tests.sandbox import warm_template

pytestmark = pytest.mark.skipif(not probe()[0], reason="needs user namespaces")  # see test_sandbox

MiB = 2**20
LIMIT = 512 * MiB  # small, so that twice the limit is cheap to attempt
TARGET = 2 * LIMIT
CHUNK = 16 * MiB
# What the host may lose beyond the limit: the worker's own start-up (Python, NumPy),
# page tables and kernel objects that no cgroup charges, and whatever else the machine
# is doing during the cell (others' tests on a shared machine). An unbounded attack
# takes all of TARGET, twice the limit, so LIMIT + SLACK still tells the two apart.
SLACK = 128 * MiB
ATTEMPTS = 3  # a drop over the bound is re-measured, in case the host was busy

ATTACKS = {
    "anonymous (numpy)": """
        import numpy as np
        held = [np.ones(CHUNK, dtype=np.uint8) for _ in range(TARGET // CHUNK)]
    """,
    "memfd write": """
        import os
        fds = [os.memfd_create("hold") for _ in range(TARGET // CHUNK)]  # RLIMIT_FSIZE caps each
        for fd in fds:
            os.write(fd, b"x" * CHUNK)
    """,
    "memfd ftruncate+touch": """
        import mmap, os
        fds = [os.memfd_create("hold") for _ in range(TARGET // CHUNK)]
        for fd in fds:  # one mapping at a time: RLIMIT_AS never sees them all
            os.ftruncate(fd, CHUNK)
            with mmap.mmap(fd, CHUNK) as m:
                m.write(b"x" * CHUNK)
    """,
    "SysV shm": """
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.shmat.restype = ctypes.c_void_p
        libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
        libc.shmdt.argtypes = [ctypes.c_void_p]
        for _ in range(TARGET // CHUNK):
            shmid = libc.shmget(0, CHUNK, 0o1600)  # IPC_PRIVATE, IPC_CREAT | 0600
            if shmid < 0:
                raise OSError(ctypes.get_errno(), "shmget")
            addr = libc.shmat(shmid, None, 0)
            if addr is None or addr == 2**64 - 1:
                raise OSError(ctypes.get_errno(), "shmat")
            ctypes.memset(addr, 1, CHUNK)
            libc.shmdt(addr)  # detached, the segment (and its pages) stays
    """,
    "POSIX shm (/dev/shm)": """
        for i in range(TARGET // CHUNK):
            with open(f"/dev/shm/hold{i}", "wb") as f:
                f.write(b"x" * CHUNK)
    """,
    "tmpfs (/tmp)": """
        for i in range(TARGET // CHUNK):
            with open(f"/tmp/hold{i}", "wb") as f:
                f.write(b"x" * CHUNK)
    """,
    "mmap of a /tmp file": """
        import mmap, os
        for i in range(TARGET // CHUNK):  # files of CHUNK: RLIMIT_FSIZE caps one file
            fd = os.open(f"/tmp/map{i}", os.O_RDWR | os.O_CREAT)
            os.ftruncate(fd, CHUNK)
            with mmap.mmap(fd, CHUNK) as m:
                m.write(b"x" * CHUNK)
            os.close(fd)
    """,
}
ACROSS_PROCESSES = """
    import os, time
    import numpy as np
    kids = []
    for _ in range(4):  # each under RLIMIT_AS, together twice the limit
        pid = os.fork()
        if pid == 0:
            held = np.ones(TARGET // 4, dtype=np.uint8)
            time.sleep(2)
            os._exit(0)
        kids.append(pid)
    statuses = [os.waitpid(pid, 0)[1] for pid in kids]
    if any(statuses):
        raise RuntimeError(f"children stopped: {[os.waitstatus_to_exitcode(s) for s in statuses]}")
"""


@pytest.fixture(scope="module")
def empty(tmp_path_factory) -> Path:
    """The sandbox's /assignment: nothing in it."""
    return tmp_path_factory.mktemp("assignment")


def meminfo(field: str) -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        name, value = line.split(":")
        if name == field:
            return int(value.split()[0]) * 1024
    raise KeyError(field)


class HostMemory(threading.Thread):
    """Samples /proc/meminfo every 20 ms while in use: the largest fall of MemAvailable
    (``drop``) and, for the figures, the largest rise of Shmem (tmpfs and shm pages)."""

    def __init__(self):
        super().__init__(daemon=True)
        self.first = self.lowest = meminfo("MemAvailable")
        self.shmem_first = self.shmem_highest = meminfo("Shmem")
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.sample()

    def sample(self) -> None:
        self.lowest = min(self.lowest, meminfo("MemAvailable"))
        self.shmem_highest = max(self.shmem_highest, meminfo("Shmem"))

    def __enter__(self) -> HostMemory:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.done.set()
        self.join()
        self.sample()

    @property
    def drop(self) -> int:
        return self.first - self.lowest


def code(source: str) -> str:
    return f"CHUNK, TARGET = {CHUNK}, {TARGET}\n" + textwrap.dedent(source)


def sandbox_limits(path: str) -> Limits:
    """The cgroup path gets big tmpfs mounts, so that the cgroup, not their size, must stop it."""
    if path == "fallback":
        return Limits(memory_bytes=LIMIT, cell_timeout=60)
    return Limits(memory_bytes=LIMIT, tmp_bytes=4 * LIMIT, shm_bytes=4 * LIMIT, cell_timeout=60)


@dataclass
class Mechanism:
    """A memory mechanism under test, and the template its workers fork from (None: cold)."""

    name: str
    template: SandboxTemplate | None = None


@pytest.fixture(params=["cgroup", "fallback", "warm"])
def path(request, monkeypatch, empty):
    """The memory mechanism under test: a memory cgroup, the fallback without one, or a
    memory cgroup around a worker forked from a sandbox template (``warm.py``)."""
    if request.param == "fallback":
        monkeypatch.setenv(cgroups.FORCE_NO_CGROUP, "1")
    else:
        require_cgroup()
    if request.param != "warm":
        yield Mechanism(request.param)
        return
    with warm_template(empty) as template:
        yield Mechanism(request.param, template)


def require_cgroup() -> None:
    parent, reason = cgroups.cgroup_parent()
    if parent is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must bound memory with a cgroup, but: {reason}")
        pytest.skip(f"no memory cgroup here: {reason}")


def attack(
    empty: Path, source: str, limits: Limits, isolate: bool = True, template: SandboxTemplate | None = None
) -> tuple[dict | str, HostMemory, int]:
    """Run one attack in a fresh worker: the reply (or why the worker died), the host's
    memory during it, and the most its cgroup ever held (0 without one)."""
    with WorkerProcess(empty, limits, isolate=isolate, template=template) as worker:
        assert isinstance(worker.proc, Forked) == (template is not None and isolate)
        assert run(worker, "import numpy")["ok"]  # its memory is the worker's, not the attack's
        with HostMemory() as host:
            try:
                outcome: dict | str = run(worker, source)
            except WorkerDied as e:
                outcome = e.reason
        peak = worker._cgroup.usage()[1] if worker._cgroup else 0
    return outcome, host, peak


def run(worker: WorkerProcess, source: str) -> dict:
    return worker.request({"op": "exec_cell", "index": 0, "source": source}, timeout=60)


def stopped_within_bound(
    empty: Path,
    name: str,
    path: str,
    source: str,
    limits: Limits,
    isolate: bool = True,
    template: SandboxTemplate | None = None,
) -> dict | str:
    """Attack until the host drop is within LIMIT + SLACK (at most ATTEMPTS times); the outcome."""
    drops = []
    for _ in range(ATTEMPTS):
        outcome, host, peak = attack(empty, source, limits, isolate, template)
        assert not (isinstance(outcome, dict) and outcome["ok"]), f"{name}: the cell held {TARGET // MiB} MiB"
        drops.append(host.drop)
        if host.drop <= LIMIT + SLACK:
            break
    print(
        f"memory-figure {path:8} {name:24} host MemAvailable drop {host.drop / MiB:5.0f} MiB, "
        f"Shmem rise {(host.shmem_highest - host.shmem_first) / MiB:5.0f} MiB, cgroup peak {peak / MiB:4.0f} MiB "
        f"(limit {LIMIT // MiB} MiB, {len(drops)} attempt(s))"
    )
    assert host.drop <= LIMIT + SLACK, f"{name}: the host lost {[d // MiB for d in drops]} MiB"
    return outcome


@pytest.mark.parametrize("name", list(ATTACKS))
def test_twice_the_limit_is_stopped(empty, name, path):
    """Is a cell that holds twice the limit in this form stopped, with the host losing at most the limit?"""
    outcome = stopped_within_bound(
        empty, name, path.name, code(ATTACKS[name]), sandbox_limits(path.name), template=path.template
    )
    if isinstance(outcome, str):  # the worker was killed: the cgroup's OOM kill, or SIGBUS on a full tmpfs
        assert "SIGKILL (usually the memory or CPU limit)" in outcome or "SIGBUS" in outcome, outcome
        return
    error = outcome["error"]
    if path.name == "fallback" and name.startswith(("memfd", "SysV")):  # seccomp, nothing else
        assert error["type"] == "PermissionError", error
    elif name.startswith("anonymous"):  # RLIMIT_AS on either path
        assert error["type"] == "MemoryError", error
    elif path.name == "fallback":  # the size of the tmpfs mount
        assert "No space left on device" in error["message"], error
    else:  # the cgroup refused the page
        assert error["type"] in ("MemoryError", "OSError") and "memory" in error["message"].lower(), error


@pytest.mark.parametrize("start", ["cold", "warm"])
def test_processes_together_are_bounded_by_the_cgroup(empty, start):
    """Do four processes, each under RLIMIT_AS, hold twice the limit together? (Only a cgroup stops this.)"""
    require_cgroup()
    with warm_template(empty) if start == "warm" else contextlib.nullcontext() as template:
        outcome = stopped_within_bound(
            empty, "anonymous, 4 processes", "cgroup", code(ACROSS_PROCESSES), sandbox_limits("cgroup"),
            template=template,
        )  # fmt: skip
    text = outcome if isinstance(outcome, str) else outcome["error"]["message"]
    assert "-9" in text or "SIGKILL" in text, outcome  # the kernel's OOM kill, inside the sandbox


def test_cgroup_also_bounds_the_process_fallback(empty):
    """Without namespaces (the loud fallback), does the launcher still join the cgroup before it execs?"""
    require_cgroup()
    outcome = stopped_within_bound(
        empty, "anonymous, 4 processes", "process", code(ACROSS_PROCESSES), sandbox_limits("cgroup"), isolate=False
    )
    text = outcome if isinstance(outcome, str) else outcome["error"]["message"]
    assert "-9" in text or "SIGKILL" in text, outcome


FILL = """
    import ctypes
    for i in range(SHARE // CHUNK):
        for d in ("/tmp", "/dev/shm"):
            with open(f"{d}/keep{i}", "wb") as f:
                f.write(b"x" * CHUNK)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    libc.shmdt.argtypes = [ctypes.c_void_p]
    for _ in range(SHARE // CHUNK):
        addr = libc.shmat(libc.shmget(0, CHUNK, 0o1600), None, 0)
        ctypes.memset(addr, 1, CHUNK)
        libc.shmdt(addr)
"""


def test_cgroup_is_removed_and_its_pages_freed(empty):
    """After kill, is the sandbox's cgroup gone, and are its tmpfs and shm pages back on the host?"""
    require_cgroup()
    share = 128 * MiB  # in each of /tmp, /dev/shm and SysV shm: 384 MiB, under the limit
    shmem_before = meminfo("Shmem")
    worker = WorkerProcess(empty, sandbox_limits("cgroup"), isolate=True)
    worker.start()
    try:
        source = f"CHUNK, SHARE = {CHUNK}, {share}\n" + textwrap.dedent(FILL)
        assert run(worker, source)["ok"]
        group = worker._cgroup.path
        charged, _ = worker._cgroup.usage()
        assert charged >= 3 * share, f"only {charged // MiB} MiB charged to the sandbox's cgroup"
    finally:
        started = time.monotonic()
        worker.kill()
        teardown = time.monotonic() - started
    assert not group.exists()
    deadline = time.monotonic() + 60  # the IPC namespace is freed by a kernel worker, soon after
    while meminfo("Shmem") - shmem_before > SLACK and time.monotonic() < deadline:
        time.sleep(0.05)
    print(f"memory-figure cgroup   kill with {3 * share // MiB} MiB in tmpfs and shm: {teardown * 1000:.0f} ms")
    assert meminfo("Shmem") - shmem_before <= SLACK, "tmpfs or shm pages outlived the sandbox"


def test_fallback_tmpfs_pages_are_freed(empty, monkeypatch):
    """Without a cgroup, is what a cell leaves in /tmp and /dev/shm freed when the sandbox ends?"""
    monkeypatch.setenv(cgroups.FORCE_NO_CGROUP, "1")
    tolerance = 96 * MiB  # other sandboxes on this machine fill and free their tmpfs meanwhile
    shmem_before = meminfo("Shmem")
    with WorkerProcess(empty, Limits(tmp_bytes=256 * MiB), isolate=True) as worker:
        assert worker._cgroup is None
        for directory, size in (("/tmp", 200 * MiB), ("/dev/shm", 15 * MiB)):
            source = f"""
                import os
                for i in range({size // MiB}):
                    open(f'{directory}/keep{{i}}', 'wb').write(b'x' * {MiB})
                st = os.statvfs('{directory}')
                assert (st.f_blocks - st.f_bfree) * st.f_frsize >= {size}
            """
            assert run(worker, textwrap.dedent(source))["ok"]
    deadline = time.monotonic() + 60
    while meminfo("Shmem") - shmem_before > tolerance and time.monotonic() < deadline:
        time.sleep(0.05)
    assert meminfo("Shmem") - shmem_before <= tolerance


def test_escaped_process_dies_with_the_cgroup(empty):
    """In the process fallback (no pid namespace), does kill reach a child that left the session?"""
    require_cgroup()
    source = """
        import os, subprocess, sys
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
    """
    with WorkerProcess(empty, Limits(), isolate=False) as worker:
        assert run(worker, textwrap.dedent(source))["ok"]
        group = worker._cgroup.path
        pids = [int(p) for p in (group / "cgroup.procs").read_text().split()]
        assert len(pids) == 2  # the worker and the escaped sleeper
    assert not group.exists()
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_seccomp_filter_blocks_only_the_listed_calls(empty, monkeypatch):
    """Under the fallback's seccomp filter, do memfd, SysV shm and msgget fail while NumPy and TensorFlow import?"""
    monkeypatch.setenv(cgroups.FORCE_NO_CGROUP, "1")
    source = """
        import ctypes, errno, os, subprocess, sys
        libc = ctypes.CDLL(None, use_errno=True)
        results = {
            "memfd_create": libc.memfd_create(b"x", 0),
            "shmget": libc.shmget(0, 4096, 0o1600),
            "msgget": libc.msgget(0, 0o1600),
        }
        assert all(r == -1 for r in results.values()), results
        assert ctypes.get_errno() == errno.EPERM
        assert libc.semget(0, 1, 0o1600) >= 0  # the rest of SysV IPC is untouched
        import numpy
        subprocess.run([sys.executable, "-c", "import tensorflow"], check=True, timeout=100)
    """
    with WorkerProcess(empty, Limits(cell_timeout=120), isolate=True) as worker:
        reply = worker.request({"op": "exec_cell", "index": 0, "source": textwrap.dedent(source)}, timeout=120)
    assert reply["ok"], reply


def test_cgroup_v2_is_found_only_where_delegated(tmp_path):
    """Is a v2 group used only when writable with the memory controller on for children, else v1?"""
    unified = tmp_path / "unified"
    (unified / "grader").mkdir(parents=True)
    (unified / "cgroup.procs").write_text("")
    v1 = tmp_path / "memory" / "job"
    v1.mkdir(parents=True)
    proc_cgroup = "4:memory:/job\n0::/grader\n"
    mounts = (
        f"30 25 0:26 / {unified} rw,relatime - cgroup2 cgroup2 rw\n"
        f"31 25 0:27 / {tmp_path / 'memory'} rw,relatime - cgroup cgroup rw,memory\n"
    )
    (unified / "cgroup.subtree_control").write_text("cpu io\n")
    assert cgroups.find_parents(proc_cgroup, mounts) == [cgroups.CgroupParent(1, v1)]
    (unified / "cgroup.subtree_control").write_text("cpu io memory\n")  # the grader sits in a leaf
    assert cgroups.find_parents(proc_cgroup, mounts) == [cgroups.CgroupParent(2, unified), cgroups.CgroupParent(1, v1)]


def test_mechanisms_are_announced(monkeypatch):
    """Does the start-of-run line name the mechanism in force, and the reason when there is no cgroup?"""
    parent, _ = cgroups.cgroup_parent()
    line = memory.describe(2 * 2**30, 64 * MiB, namespaces=True)
    if parent is not None:
        assert line.startswith(f"memory: cgroup v{parent.version}, 2 GiB per sandbox"), line
    monkeypatch.setenv(cgroups.FORCE_NO_CGROUP, "1")
    line = memory.describe(2 * 2**30, 64 * MiB, namespaces=True)
    assert "seccomp blocks memfd/SysV shm" in line and "/tmp 64 MiB, /dev/shm 16 MiB" in line, line
    assert line.endswith("(no memory cgroup: disabled by AUTOGRADER_FORCE_NO_CGROUP)"), line
