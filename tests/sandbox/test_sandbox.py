"""Does the sandbox hold? Each test runs hostile code in a real worker and checks the
effect from outside (the host's /proc, a real socket, the real repository files)."""

from __future__ import annotations

import contextlib
import os
import socket
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from autograder.sandbox.channel import WorkerDied, WorkerTimeout
from autograder.sandbox.forked import Forked
from autograder.sandbox.isolation import probe
from autograder.sandbox.limits import Limits
from autograder.sandbox.process import WorkerProcess
from tests.sandbox import warm_template
from tests.support import REPO

pytestmark = pytest.mark.skipif(not probe()[0], reason="needs user namespaces")  # see test_isolation_is_available


def run(worker: WorkerProcess, code: str, timeout: float = 10) -> dict:
    return worker.request({"op": "exec_cell", "index": 0, "source": textwrap.dedent(code)}, timeout)


def host_processes_with(token: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if token.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.fixture(params=["cold", "warm"])
def worker(request, tmp_path):
    """A sandboxed worker started cold (its own launcher) or warm (forked from a sandbox
    template, as a warm grader's are): every attack below must fail the same way on both."""
    with warm_template(tmp_path) if request.param == "warm" else contextlib.nullcontext() as template:
        w = WorkerProcess(tmp_path, Limits(memory_bytes=512 * 2**20, max_processes=32), isolate=True, template=template)
        w.start()
        assert isinstance(w.proc, Forked) == (request.param == "warm")
        yield w
        w.kill()


def test_isolation_is_available():
    """Does this machine run the full namespace sandbox? (CI must not silently fall back.)"""
    ok, reason = probe()
    assert ok, reason


def test_loopback_and_outside_network_are_unreachable(worker):
    """Can student code connect to a server on the host's loopback, or anywhere else?"""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    try:
        reply = run(worker, f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2)")
        assert not reply["ok"] and reply["error"]["type"] in ("OSError", "ConnectionRefusedError")
        reply = run(worker, "import socket; socket.create_connection(('1.1.1.1', 53), timeout=2)")
        assert not reply["ok"]
        server.settimeout(0.5)
        with pytest.raises(socket.timeout):
            server.accept()  # nothing ever arrived
    finally:
        server.close()


def test_graders_reference_and_gradebook_are_invisible(worker):
    """Can student code read hidden graders, the source notebook or a gradebook?"""
    secrets = [
        REPO / "autograder" / "graders",
        REPO / "source",
        REPO / "autograder" / "plugin.py",
        REPO / "gradebook.db",
    ]
    code = f"""
        import os
        visible = [p for p in {[str(p) for p in secrets]!r} if os.path.exists(p)]
        assert not visible, visible
        # the course folder holds only the venv, or (a course under /tmp: the sandbox's own /tmp) isn't there
        assert not os.path.exists({str(REPO)!r}) or sorted(os.listdir({str(REPO)!r})) == ['.venv']
    """
    reply = run(worker, code)
    assert reply["ok"], reply


def test_cannot_write_outside_tmp_or_regain_privileges(worker):
    """Is everything but /tmp read-only, and are capabilities gone for good?"""
    for path in ("/assignment/x.txt", "/usr/x.txt", "/harness/wire.py"):
        reply = run(worker, f"open({path!r}, 'w')")
        assert not reply["ok"] and reply["error"]["type"] in ("PermissionError", "OSError"), reply
    reply = run(worker, "import os; os.chroot('/')")
    assert not reply["ok"] and reply["error"]["type"] == "PermissionError"
    reply = run(worker, "import ctypes; assert ctypes.CDLL(None).unshare(0x10000000) != 0")
    assert reply["ok"], reply  # no nested user namespace from inside the chroot
    assert run(worker, "open('/tmp/scratch', 'w').write('ok')")["ok"]


def test_child_processes_do_not_outlive_the_worker(worker):
    """Do daemonised grandchildren die when grading ends?"""
    token = f"autograder-test-{uuid.uuid4().hex}"
    code = f"""
        import os, subprocess, sys
        if os.fork() == 0:           # double fork + setsid: a classic daemon
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, [sys.executable, '-c', 'import time; time.sleep(600)', {token!r}])
            os._exit(0)
        subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)', {token!r}], start_new_session=True)
    """
    assert run(worker, code)["ok"]
    deadline = time.monotonic() + 60  # (waits only as long as it must)
    while len(host_processes_with(token)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(host_processes_with(token)) == 2
    worker.kill()
    deadline = time.monotonic() + 60
    while host_processes_with(token) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert host_processes_with(token) == []


def test_loop_that_ignores_sigterm_and_sigalrm_is_killed_on_time(worker):
    """Does an infinite loop that ignores SIGTERM and SIGALRM stop at the time limit?"""
    code = """
        import signal
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        while True:
            pass
    """
    start = time.monotonic()
    with pytest.raises(WorkerTimeout):
        run(worker, code, timeout=1.5)
    assert time.monotonic() - start < 60  # killed at its time limit, not left to loop (on any machine)
    assert not worker.alive()


def test_memory_hog_hits_the_limit(worker):
    """Does allocating past the memory limit fail inside the worker, not on the host?"""
    reply = run(worker, "import numpy as np; x = np.ones((1024, 1024, 1024), dtype=np.uint8)  # 1 GiB")
    assert not reply["ok"] and "MemoryError" in reply["error"]["type"], reply
    assert run(worker, "y = bytearray(10)")["ok"]  # still alive and usable


def test_fork_bomb_is_capped(worker):
    """Is the number of processes limited?"""
    code = """
        import os, time
        kids = []
        try:
            for _ in range(500):
                pid = os.fork()
                if pid == 0:
                    time.sleep(30)
                    os._exit(0)
                kids.append(pid)
        except OSError as e:
            raise RuntimeError(f"stopped after {len(kids)}") from e
    """
    reply = run(worker, code, timeout=20)
    assert not reply["ok"] and reply["error"]["message"].startswith("stopped after")
    assert int(reply["error"]["message"].split()[-1]) < 40


def test_segfault_and_exit_are_reported(tmp_path):
    """Do a segfault and os._exit end the worker with a clear reason?"""
    for code, expected in [
        ("import ctypes; ctypes.string_at(0)", "segmentation fault"),
        ("import os; os._exit(3)", "exited with code 3"),
    ]:
        with WorkerProcess(tmp_path, Limits(), isolate=True) as w:
            with pytest.raises(WorkerDied) as info:
                run(w, code)
            assert expected in info.value.reason


def test_output_flood_neither_blocks_nor_fakes_replies(worker):
    """Can printing (lots, or fake protocol-looking text) block or fool the grader?"""
    code = """
        import sys
        for _ in range(2000):
            print('{"ok": true, "value": 100}' * 100)
            sys.stderr.write('x' * 10000)
    """
    reply = run(worker, code, timeout=30)
    assert reply == {"ok": True}
    text, total = worker.output()
    assert total > 20_000_000 and len(text) <= worker.limits.output_bytes


def test_environment_is_minimal(tmp_path, monkeypatch):
    """Does the grader's environment (tokens, paths) leak into the sandbox?"""
    monkeypatch.setenv("SECRET_TOKEN", "s3cret")
    with WorkerProcess(tmp_path, Limits(), isolate=True) as worker:
        reply = run(worker, "import os; leaked = [k for k in os.environ if 'TOKEN' in k]; assert not leaked, leaked")
    assert reply["ok"], reply


def test_student_has_no_capabilities(worker):
    """Root or not, student code holds no capability: it can't re-chroot (to climb out), mount or rename the host."""
    code = """
        import ctypes, errno
        libc = ctypes.CDLL(None, use_errno=True)
        attempts = {
            "chroot": lambda: libc.chroot(b"/tmp"),
            "mount": lambda: libc.mount(b"none", b"/tmp", b"tmpfs", 0, None),
            "sethostname": lambda: libc.sethostname(b"mine", 4),
        }
        results = {name: (attempt(), ctypes.get_errno()) for name, attempt in attempts.items()}
        assert all(result == (-1, errno.EPERM) for result in results.values()), results
    """
    reply = run(worker, code)
    assert reply["ok"], reply


@pytest.mark.skipif(os.geteuid() != 0, reason="the uid switch only applies when grading as root")
def test_root_grader_runs_students_as_nobody(worker):
    """When the grader runs as root (CI does), is student code 'nobody' on the host?"""
    reply = run(
        worker, "import os; assert os.getuid() == 65534 and os.getgroups() == [], (os.getuid(), os.getgroups())"
    )
    assert reply["ok"], reply
    reply = run(worker, "open('/etc/shadow').read()")
    assert not reply["ok"] and reply["error"]["type"] == "PermissionError"


def test_command_lines_and_environments_reveal_no_host_paths(worker):
    """Does any /proc/*/cmdline or environ visible in the sandbox name the course, the launcher or the sandbox's root?"""
    from autograder.sandbox.launch import LAUNCHER

    secrets = [str(REPO), str(LAUNCHER), *worker._dirs, "autograder-root-"]
    code = f"""
        import os, subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        time.sleep(0.2)
        seen, leaks = {{}}, []
        for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
            for name in ("cmdline", "environ"):
                try:
                    text = open(f"/proc/{{pid}}/{{name}}", "rb").read().decode(errors="replace")
                except OSError:
                    continue  # not ours to read (pid 1 belongs to root): it reveals nothing either
                seen[pid, name] = text
                leaks += [(pid, name, s) for s in {secrets!r} if s in text]
        child.kill()
        assert not leaks, leaks
        cmdlines = [pid for pid, name in seen if name == "cmdline"]
        assert "1" in cmdlines and len(cmdlines) >= 3, seen  # init, the worker and its child
        assert ("self" not in cmdlines) and (str(os.getpid()), "environ") in seen, seen
    """
    reply = run(worker, code)
    assert reply["ok"], reply


@pytest.mark.slow  # imports TensorFlow in a sandbox
def test_worker_python_runs_numpy_and_tensorflow(tmp_path):
    """From its neutral path (/venv when grading from a venv), does the worker's Python import NumPy and TensorFlow?"""
    code = """
        import subprocess, sys
        import numpy
        assert numpy.ones(3).sum() == 3
        subprocess.run([sys.executable, "-c", "import tensorflow"], check=True, timeout=100)
        print(sys.executable)
    """
    with WorkerProcess(tmp_path, Limits(cell_timeout=120), isolate=True) as worker:
        reply = worker.request({"op": "exec_cell", "index": 0, "source": textwrap.dedent(code)}, timeout=120)
        executable = worker.output()[0].strip().splitlines()[-1]
    assert reply["ok"], reply
    assert not executable.startswith(str(REPO)), executable
