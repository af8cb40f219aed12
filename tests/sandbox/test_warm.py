"""Warm sandboxes (``sandbox/warm.py``): does nothing pass from one student's worker to the
next when both are forked from one template that has imported NumPy and Keras?

Student A does everything a submission could do to leave state behind; student B, the
next worker from the same template, must see none of it. (The attacks on the sandbox
itself run on warm workers too: test_sandbox.py and test_memory.py are parametrised.)
"""

from __future__ import annotations

import os
import select
import signal
import textwrap
from pathlib import Path

import pytest

from autograder.course.assignments import Assignment
from autograder.sandbox import warm
from autograder.sandbox.forked import Forked
from autograder.sandbox.isolation import probe
from autograder.sandbox.launch import python_paths
from autograder.sandbox.limits import Limits
from autograder.sandbox.process import WorkerProcess
from tests.sandbox import warm_template
from tests.support import REPO

pytestmark = pytest.mark.skipif(not probe()[0], reason="needs user namespaces")

KERAS = Assignment("keras_resnet", root=REPO)
# What a fresh /tmp holds: the top folders of the read-only binds below it (the venv of a
# course cloned under /tmp, as on CI), as in a cold sandbox; nothing when the course is elsewhere.
BOUND_UNDER_TMP = sorted({p.split("/")[2] for p in python_paths() if p.startswith("/tmp/")})


@pytest.fixture(scope="module")
def template():
    """One template with Keras imported, for the keras_resnet folder, as a warm grader starts it."""
    with warm_template(KERAS.release_dir, KERAS.limits().env, ("numpy", "keras")) as t:
        yield t


def start(template: warm.SandboxTemplate) -> WorkerProcess:
    worker = WorkerProcess(KERAS.release_dir, KERAS.limits(), isolate=True, template=template)
    worker.start()
    assert isinstance(worker.proc, Forked), "the worker was started cold, not from the template"
    return worker


def run(worker: WorkerProcess, code: str) -> dict:
    reply = worker.request({"op": "exec_cell", "index": 0, "source": textwrap.dedent(code)}, 60)
    assert reply["ok"], reply
    return reply


def value(worker: WorkerProcess, expression: str):
    """The value of ``expression`` in the worker (sent back as data)."""
    run(worker, f"__probe = lambda: {expression}")
    reply = worker.request({"op": "call", "name": "__probe", "args": [], "kwargs": {}}, 60)
    assert reply["ok"], reply
    return reply["value"]


STUDENT_A = """
    import builtins, os, sys, time, random
    import numpy as np
    import keras

    LEAKED = "from student A"
    builtins.LEAKED_BUILTIN = 1
    np.allclose = lambda *a, **k: True            # a monkey-patch of a pre-imported module
    sys.modules["keras"].LEAKED = True
    sys.path.insert(0, "/tmp/leak")
    open("/tmp/a.txt", "w").write("A was here")
    open("/dev/shm/a", "w").write("A was here")
    if os.fork() == 0:                            # a process left running
        time.sleep(600)
        os._exit(0)
    first_draws = (np.random.rand(), random.random())
    np.random.seed(1234)
    for _ in range(5):
        keras.layers.Conv2D(1, 1)                 # Keras's global name counters
    keras.utils.set_random_seed(7)
"""


def test_nothing_passes_from_one_student_to_the_next(template):
    """After student A ran in a worker forked from the template, does student B, forked next,
    see any of A's globals, patches, files, processes, random state or Keras names?"""
    a = start(template)
    try:
        run(a, STUDENT_A)
        a_draws = value(a, "list(first_draws)")
        assert value(a, "keras.layers.Conv2D(1, 1).name") == "conv2d_5"  # A's counters did move
        assert value(a, "sorted(p for p in os.listdir('/proc') if p.isdigit())") == ["1", "2", "3"]
    finally:
        a.kill()
    b = start(template)
    try:
        seen = value(
            b,
            """{
            "global": "LEAKED" in globals(),
            "builtin": hasattr(__import__("builtins"), "LEAKED_BUILTIN"),
            "allclose": __import__("numpy").allclose(1, 2),
            "keras attribute": hasattr(__import__("keras"), "LEAKED"),
            "sys.path": "/tmp/leak" in __import__("sys").path,
            "tmp": __import__("os").listdir("/tmp"),
            "shm": __import__("os").listdir("/dev/shm"),
            "processes": sorted(p for p in __import__("os").listdir("/proc") if p.isdigit()),
        }""",
        )
        assert seen == {
            "global": False,
            "builtin": False,
            "allclose": False,
            "keras attribute": False,
            "sys.path": False,
            "tmp": BOUND_UNDER_TMP,  # nothing but the read-only binds that live there (a clone's venv)
            "shm": [],
            "processes": ["1", "2"],  # init and B's worker: nothing of A's, not the template
        }
        run(b, "import numpy as np, random, keras")
        b_draws = value(b, "[np.random.rand(), random.random()]")
        assert b_draws[0] != a_draws[0], "NumPy's global generator was not reseeded: both students drew the same"
        assert b_draws[1] != a_draws[1], "random was not reseeded"
        assert value(b, "keras.layers.Conv2D(1, 1).name") == "conv2d"
    finally:
        b.kill()


# Every kernel object and place a worker can write into, as student code reaches them (ctypes:
# keyutils may be absent). ``write_everything`` is student A; ``seen`` is what a later worker finds.
KERNEL_OBJECTS = r"""
import ctypes, errno, os, platform, socket

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
ADD_KEY, KEYCTL = {"x86_64": (248, 250), "aarch64": (217, 219)}[platform.machine()]
KEYCTL_GET_PERSISTENT, KEYCTL_SEARCH = 22, 10
MARK = b"autograder-leak"
KEYRINGS = {"thread": -1, "process": -2, "session": -3, "user": -4, "user-session": -5}
SYSV_KEY = 0x5EED
SYSCTLS = {  # one in each namespace whose sysctls a worker may be able to write, and the user namespace's
    "/proc/sys/net/ipv4/ip_default_ttl": "42",
    "/proc/sys/kernel/msgmax": "4242",
    "/proc/sys/fs/mqueue/msg_max": "42",
    "/proc/sys/kernel/pid_max": "4242",
    "/proc/sys/user/max_user_namespaces": "42",
}

def outcome(result):
    return result if result >= 0 else errno.errorcode.get(ctypes.get_errno(), ctypes.get_errno())

def keyctl(*args):
    return outcome(libc.syscall(ctypes.c_long(KEYCTL), *(ctypes.c_long(a) if isinstance(a, int) else a for a in args)))

def add_key(ring):
    return outcome(libc.syscall(ctypes.c_long(ADD_KEY), b"user", MARK, MARK, ctypes.c_size_t(len(MARK)),
                                ctypes.c_long(ring)))

def attempt(action):
    try:
        action()
        return "done"
    except OSError as e:
        return errno.errorcode.get(e.errno, e.errno)

def write(path, text):
    with open(path, "w") as f:
        f.write(text)

held = []  # what A keeps open while it runs

def write_everything():
    wrote = {name: add_key(ring) for name, ring in KEYRINGS.items()}
    persistent = keyctl(KEYCTL_GET_PERSISTENT, -1, -3)  # this uid's persistent keyring, linked into @s
    wrote["persistent"] = add_key(persistent) if isinstance(persistent, int) else persistent
    for path in ("/dev/autograder-leak", "/dev/shm/autograder-leak", "/tmp/autograder-leak"):
        wrote[path] = attempt(lambda: write(path, "A was here"))
    wrote["hostname"] = attempt(lambda: socket.sethostname("autograder-leak"))
    wrote["semaphores"] = outcome(libc.semget(SYSV_KEY, 1, 0o1666))  # IPC_CREAT | 0666
    wrote["message queues"] = outcome(libc.msgget(SYSV_KEY, 0o1666))
    wrote["shared memory"] = outcome(libc.shmget(SYSV_KEY, 4096, 0o1666))
    wrote["mqueue"] = outcome(libc.mq_open(b"/autograder-leak", os.O_CREAT | os.O_RDWR, 0o600, None))
    held.append(socket.socket(socket.AF_UNIX, socket.SOCK_STREAM))
    wrote["abstract socket"] = attempt(lambda: (held[0].bind("\0autograder-leak"), held[0].listen()))
    for path, text in SYSCTLS.items():
        wrote[path] = attempt(lambda: write(path, text))
    os.chdir("/tmp")
    return wrote

def seen():
    view = {name: keyctl(KEYCTL_SEARCH, ring, b"user", MARK, 0) for name, ring in KEYRINGS.items()}
    persistent = keyctl(KEYCTL_GET_PERSISTENT, -1, -3)
    view["persistent"] = keyctl(KEYCTL_SEARCH, persistent, b"user", MARK, 0) if isinstance(persistent, int) else persistent
    view["/proc/keys"] = open("/proc/keys").read()  # (lists keys of other namespaces too, by uid)
    view["/dev"] = sorted(os.listdir("/dev"))
    view["/dev/shm"] = sorted(os.listdir("/dev/shm"))
    view["/tmp"] = sorted(os.listdir("/tmp"))
    view["hostname"] = socket.gethostname()
    view["semaphores"] = outcome(libc.semget(SYSV_KEY, 0, 0))
    view["message queues"] = outcome(libc.msgget(SYSV_KEY, 0))
    view["shared memory"] = outcome(libc.shmget(SYSV_KEY, 0, 0))
    view["/proc/sysvipc"] = {n: open("/proc/sysvipc/" + n).read().count("\n") for n in ("msg", "sem", "shm")}
    view["mqueue"] = outcome(libc.mq_open(b"/autograder-leak", os.O_RDONLY))
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    view["abstract socket"] = attempt(lambda: probe.connect("\0autograder-leak"))
    probe.close()
    view |= {path: open(path).read().strip() for path in SYSCTLS}
    view["cwd"] = os.getcwd()
    return view
"""


@pytest.fixture(params=["cold", "warm"])
def starts(request, template):
    """Starts workers for keras_resnet cold (each its own launcher) or warm (from the template)."""

    def start_one() -> WorkerProcess:
        worker = WorkerProcess(
            KERAS.release_dir, KERAS.limits(), isolate=True, template=template if request.param == "warm" else None
        )
        worker.start()
        assert isinstance(worker.proc, Forked) == (request.param == "warm")
        run(worker, KERNEL_OBJECTS)
        return worker

    return start_one


def test_nothing_a_worker_writes_reaches_another(starts):
    """Student A writes into every kernel object and place a worker can reach: the session, user,
    user-session, process, thread and persistent keyrings, /dev, /dev/shm, /tmp, SysV IPC, a POSIX
    message queue, an abstract unix socket, network, IPC, pid and user sysctls, the host name and
    its cwd. Does student B, started while A still runs, or C, started after A has gone, find
    anything that a fresh worker would not? (Cold and warm alike, as root or not.)"""
    fresh = starts()
    try:
        baseline = value(fresh, "seen()")
    finally:
        fresh.kill()
    a = starts()
    try:
        wrote = value(a, "write_everything()")
        assert wrote["/tmp/autograder-leak"] == wrote["/dev/shm/autograder-leak"] == "done", wrote
        assert isinstance(wrote["semaphores"], int) and isinstance(wrote["mqueue"], int), wrote
        assert wrote["abstract socket"] == "done", wrote
        assert value(a, "seen()") != baseline  # (A sees what it wrote: the probe can tell)
        b = starts()
        try:
            assert value(b, "seen()") == baseline, wrote
        finally:
            b.kill()
    finally:
        a.kill()
    c = starts()
    try:
        assert value(c, "seen()") == baseline, wrote
    finally:
        c.kill()


# Where a worker may write, and why that is no channel to another worker: each is its own
# (a namespace or tmpfs made for it) or leads nowhere. test_nothing_a_worker_writes_reaches_another
# writes into one of each kind. Directories below /tmp and /dev/shm are not listed.
WRITABLE_AND_OWN = {
    "/tmp": "its own tmpfs",
    "/dev/shm": "its own tmpfs",
    "/dev/full": "a device: what is written goes to the device, not a file",
    "/dev/null": "a device",
    "/dev/zero": "a device",
    "/dev/random": "a device (mixed into the kernel's entropy pool, which no one can read back)",
    "/dev/urandom": "a device (as /dev/random)",
    "/proc/keys": "/dev/null, bound over it",
    "/proc/key-users": "/dev/null, bound over it",
    "/proc/pressure/cpu": "a PSI trigger, which lives as long as the open file",
    "/proc/pressure/io": "a PSI trigger",
    "/proc/pressure/memory": "a PSI trigger",
    "/proc/sys/kernel/ns_last_pid": "its own pid namespace (and the kernel wants CAP_CHECKPOINT_RESTORE)",
    "/proc/sys/kernel/pid_max": "its own pid namespace",
    "/proc/sys/kernel/auto_msgmni": "its own IPC namespace",
    "/proc/sys/kernel/msgmax": "its own IPC namespace",
    "/proc/sys/kernel/msgmnb": "its own IPC namespace",
    "/proc/sys/kernel/msgmni": "its own IPC namespace",
    "/proc/sys/kernel/sem": "its own IPC namespace",
    "/proc/sys/kernel/shm_rmid_forced": "its own IPC namespace",
    "/proc/sys/kernel/shmall": "its own IPC namespace",
    "/proc/sys/kernel/shmmax": "its own IPC namespace",
    "/proc/sys/kernel/shmmni": "its own IPC namespace",
    "/proc/sys/fs/mqueue/": "its own IPC namespace",
    "/proc/sys/net/": "its own network namespace",
}

WRITABLE = """
import os

def writable():
    points = [l.split()[1] for l in open("/proc/self/mounts")]
    found = []
    for top, options in ((l.split()[1], l.split()[3]) for l in open("/proc/self/mounts")):
        if "rw" not in options.split(","):
            continue  # (device nodes, which a read-only mount still lets one write, are mounts of their own)
        if os.access(top, os.W_OK):
            found.append(top)
        if top.startswith(("/tmp", "/dev/shm")):
            continue
        for folder, dirs, files in os.walk(top):
            if folder == "/proc":  # processes: the worker's own pid namespace
                dirs[:] = [d for d in dirs if not d.isdigit() and d not in ("self", "thread-self")]
            dirs[:] = [d for d in dirs if os.path.join(folder, d) not in points]
            for name in dirs + files:
                path = os.path.join(folder, name)
                if not os.path.islink(path) and os.access(path, os.W_OK):
                    found.append(path)
    return sorted(set(found))
"""


def test_a_worker_can_write_only_to_what_is_its_own(starts):
    """Walking every read-write mount of the sandbox as the student: is every path it can write
    one that is its own or leads nowhere (WRITABLE_AND_OWN), so that no other worker can see it?"""
    worker = starts()
    try:
        run(worker, WRITABLE)
        paths = value(worker, "writable()")
    finally:
        worker.kill()
    assert "/tmp" in paths and "/dev/null" in paths, paths  # (the walk works)
    shared = [
        p for p in paths if not any(p == own or (own.endswith("/") and p.startswith(own)) for own in WRITABLE_AND_OWN)
    ]
    assert shared == [], "the worker can write these, and they are not its own: make each fresh per worker or read-only"


CONFINEMENT = """{
    "status": {k: v for k, v in (l.split(":\\t", 1) for l in open("/proc/self/status").read().splitlines())
               if k in ("Uid", "Gid", "Groups", "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs",
                        "Seccomp")},
    "rlimits": {n: __import__("resource").getrlimit(getattr(__import__("resource"), n))
                for n in ("RLIMIT_AS", "RLIMIT_NPROC", "RLIMIT_FSIZE", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_NOFILE")},
    # mount point -> options of the one on top (a warm worker's fresh /tmp, /dev/shm and /proc
    # lie over the template's; without capabilities it can't unmount them)
    "mounts": {l.split()[1]: l.split()[3] for l in open("/proc/self/mounts")},
    "hostname": __import__("socket").gethostname(),
    "interfaces": sorted(n for _, n in __import__("socket").if_nameindex()),
    "cwd": __import__("os").getcwd(),
    "kernel objects": seen(),  # (KERNEL_OBJECTS, run first)
}"""


def test_a_worker_is_confined_as_a_cold_one_is(template):
    """Is a warm worker confined exactly as a cold one: uid, capabilities, seccomp, rlimits,
    mounts, network, host name and what it finds in every kernel object it can reach (keyrings,
    IPC, sysctls...); and is it in its own memory cgroup?"""
    warm_worker = start(template)
    try:
        run(warm_worker, KERNEL_OBJECTS)
        warm_view = value(warm_worker, CONFINEMENT)
        if warm_worker._cgroup is not None:  # the keeper, init and the worker are all in it
            pids = [int(p) for p in open(warm_worker._cgroup.procs_file).read().split()]
            assert warm_worker.proc.pid in pids and len(pids) >= 3, pids
    finally:
        warm_worker.kill()
    with WorkerProcess(KERAS.release_dir, KERAS.limits(), isolate=True) as cold_worker:  # (no template: cold)
        run(cold_worker, KERNEL_OBJECTS)
        cold_view = value(cold_worker, CONFINEMENT)
    student = "65534" if os.geteuid() == 0 else "0"  # "nobody" under a root grader, else the grader's own uid
    assert warm_view["status"]["Uid"].split()[0] == student and warm_view["status"]["CapEff"] == "0" * 16
    for key in warm_view:
        assert warm_view[key] == cold_view[key], (key, warm_view[key], cold_view[key])


def test_the_template_outlives_a_student_who_attacks_it(template):
    """Can a student kill, signal or read the template (or the keeper) from inside?"""
    worker = start(template)
    try:
        run(
            worker,
            """
            import os, signal
            for pid in (-1, 1):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            """,
        )
    except Exception:
        pass  # killing everything it can see may take the worker itself down
    finally:
        worker.kill()
    assert template.alive()
    worker = start(template)  # still warm
    worker.kill()


def test_a_dead_template_means_a_cold_sandbox(tmp_path):
    """When the template has died, does the next sandbox start cold, and work?"""
    with warm_template(tmp_path) as t:
        os.kill(t.process.proc.pid, signal.SIGKILL)
        t.process.proc.wait()
        gone = select.poll()  # the template itself dies a moment later, with its pid namespace
        gone.register(t.control, select.POLLHUP)
        assert gone.poll(10_000), "the template outlived its launcher"
        worker = WorkerProcess(tmp_path, Limits(), isolate=True, template=t)
        worker.start()
        try:
            assert not isinstance(worker.proc, Forked)
            assert worker.request({"op": "exec_cell", "index": 0, "source": "x = 1"}, 30)["ok"]
        finally:
            worker.kill()


def test_read_only_binds_under_tmp_stay_visible_under_the_fresh_tmp(tmp_path, monkeypatch):
    """A course cloned under /tmp has its venv bound below the sandbox's /tmp: does a warm
    worker, whose /tmp is a fresh tmpfs, still see it (read-only) and nothing else left there?"""
    from autograder.sandbox import launch

    assert str(tmp_path).startswith("/tmp/"), "this test needs pytest's tmp_path under /tmp"
    venv_like = tmp_path / "clone" / ".venv"
    (venv_like / "lib").mkdir(parents=True)
    (venv_like / "lib" / "module.py").write_text("VALUE = 42\n")
    paths = launch.python_paths()
    monkeypatch.setattr(launch, "python_paths", lambda: [*paths, str(venv_like)])
    folder = tmp_path / "assignment"
    folder.mkdir()
    with warm_template(folder) as template:
        for _ in range(2):  # two students, one after the other, from one template
            worker = WorkerProcess(folder, Limits(), isolate=True, template=template)
            worker.start()
            try:
                assert isinstance(worker.proc, Forked)
                seen = value(
                    worker,
                    f"""{{
                    "read": open("{venv_like}/lib/module.py").read(),
                    "tmp": sorted(__import__("os").listdir("/tmp")),
                    "left": __import__("os").path.exists("/tmp/left-by-first"),
                }}""",
                )
                tmp = sorted({str(tmp_path).split("/")[2], *BOUND_UNDER_TMP})
                assert seen == {"read": "VALUE = 42\n", "tmp": tmp, "left": False}
                reply = worker.request(
                    {"op": "exec_cell", "index": 0, "source": f"open('{venv_like}/lib/x.py', 'w')"}, 30
                )
                assert not reply["ok"] and reply["error"]["type"] in ("OSError", "PermissionError"), reply
                run(worker, "open('/tmp/left-by-first', 'w').write('x')")
            finally:
                worker.kill()


def test_a_worker_does_not_outlive_its_grader(tmp_path):
    """A grader process that dies (killed on its time-out, say) while its warm worker runs an
    endless loop: does the keeper see the grader's end close and take the whole sandbox down?"""
    import json
    import time

    with warm_template(tmp_path) as template:
        report_r, report_w = os.pipe()
        grader = os.fork()
        if grader == 0:  # the grader: start a worker, set it looping, say who it is, and die
            try:
                worker = WorkerProcess(tmp_path, Limits(), isolate=True, template=template)
                worker.start()
                worker.channel.send(
                    {"op": "exec_cell", "index": 0, "source": "while True:\n    pass\n"}, time.monotonic() + 5
                )
                procs = worker._cgroup.procs_file if worker._cgroup is not None else None
                os.write(report_w, json.dumps([isinstance(worker.proc, Forked), worker.proc.pid, procs]).encode())
            finally:
                os._exit(0)  # no clean-up: the kernel closes its descriptors, as when it is killed
        os.close(report_w)
        forked, keeper, procs = json.loads(os.read(report_r, 4096))
        os.waitpid(grader, 0)
        assert forked, "the worker was started cold"
        deadline = time.monotonic() + 60  # (waits only as long as it must)
        while time.monotonic() < deadline and (
            os.path.exists(f"/proc/{keeper}") or (procs and Path(procs).read_text().split())
        ):
            time.sleep(0.05)
        assert not os.path.exists(f"/proc/{keeper}"), "the keeper outlived its grader"
        if procs:
            assert Path(procs).read_text().split() == [], "processes of the sandbox outlived its grader"
            Path(procs).parent.rmdir()  # (the dead grader could not remove its cgroup)
