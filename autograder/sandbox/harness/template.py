"""The sandbox template: heavy imports once, then one fresh, confined worker per request.

A warm grader (``grader_server.py``) starts this once, in a sandbox built the usual way
(``launcher.py``: new user, mount, net, ipc, uts and pid namespaces, the read-only
root), except that it keeps its capabilities inside its own user namespace and has no
limits yet. It imports NumPy and the assignment's heavy modules (Keras: about 3 s here)
and then only ever forks. It never runs student code.

For each submission's worker, the grader sends one SOCK_SEQPACKET record on the control
socket: the limits as JSON, with three descriptors (SCM_RIGHTS) that the grader made:
the worker's protocol socket, its output pipe and an exit-status pipe. Then:

    template ──fork─> keeper: closes everything but those three; sends one byte on the
                      │        protocol socket (the grader learns its host pid from the
                      │        kernel's SCM_CREDENTIALS and moves it into the submission's
                      │        memory cgroup), waits for "go"; new mount, pid, ipc, net and
                      │        uts namespaces
                      └─fork─> init (pid 1): a fresh /proc, /tmp and /dev/shm (nothing another
                                 submission wrote is visible; /dev stays read-only), a new
                                 session keyring, drops every capability and becomes "nobody",
                                 sets the limits, loads seccomp (which refuses the keyring calls)
                                 └─fork─> worker: reseeds NumPy, then runs harness/worker.py's
                                          loop, exactly as a cold worker does after its imports

The keeper writes the worker's exit status to the status pipe and exits; if the grader
goes first (the pipe's other end closes), the keeper kills init, and so the namespace. Nothing passes
from one submission to the next: each worker is a fresh copy of a process that has only
imported modules; its files, processes, SysV/POSIX IPC, sockets (abstract names too),
network settings and host name live in namespaces that die with it; what it shares with
the template is read-only (/dev, the root) or out of its reach (the user namespace and its
keyrings: no capabilities, and seccomp refuses add_key, request_key and keyctl); Python's
``random`` reseeds itself after a fork and NumPy's global generator is reseeded here;
Keras has built nothing, so its name counters start at zero.

    python -I /harness/template.py CONTROL_FD [MODULE ...]
"""

from __future__ import annotations

import importlib
import json
import os
import select
import signal
import socket
import sys

sys.path[:0] = [os.path.dirname(os.path.abspath(__file__)), os.getcwd()]
import confine  # noqa: E402
import wire  # noqa: E402
import worker  # noqa: E402

RECORD = 1 << 20  # largest control record (the seccomp program is a few KiB)
# Each worker's own: whatever it writes in them dies with it. It stays in the template's user
# namespace, where it has no capabilities and seccomp keeps it from the keyrings.
WORKER_NAMESPACES = (
    confine.CLONE_NEWNS | confine.CLONE_NEWPID | confine.CLONE_NEWIPC | confine.CLONE_NEWNET | confine.CLONE_NEWUTS
)


def keep_only(fds: list[int]) -> None:
    """Close every descriptor but ``fds`` (and none of the standard three: they are replaced)."""
    keep = sorted(set(fds))
    low = 0
    for fd in [*keep, 1 << 16]:
        if fd > low:  # (closerange(0, 0) would close everything: close_range's upper bound wraps)
            os.closerange(low, fd)
        low = fd + 1


def run_worker(spec: dict, proto: int, output: int) -> None:
    """init's child: the submission's worker. Never returns."""
    code = 70
    try:
        os.dup2(proto, 0)
        os.dup2(proto, 1)
        os.dup2(output, 2)
        keep_only([0, 1, 2])
        confine.dumpable()
        sys.argv = ["/harness/worker.py"]
        if "numpy" in sys.modules:  # a fresh process would draw a fresh seed (random reseeds at fork)
            sys.modules["numpy"].random.seed()
        worker.main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException as e:  # noqa: BLE001
        print(f"sandbox worker failed: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
    finally:
        os._exit(code)


def run_init(spec: dict, proto: int, output: int) -> None:
    """pid 1 of this submission's pid namespace: fresh mounts, confinement, the worker."""
    try:
        confine.die_with_parent(signal.SIGKILL)
        flags = confine.MS_NOSUID | confine.MS_NODEV
        confine.mount(None, "/", None, confine.MS_REC | confine.MS_PRIVATE)
        confine.fresh_tmpfs("/tmp", f"mode=1777,size={spec['tmp_bytes']}")
        confine.mount("tmpfs", "/dev/shm", "tmpfs", flags, f"mode=1777,size={spec['shm_bytes']}")
        try:
            confine.mount("proc", "/proc", "proc", flags | confine.MS_NOEXEC)
        except OSError:
            pass  # as in launcher.build_root: some hosts forbid a fresh /proc
        else:
            confine.mask_proc("/proc")
        os.chdir(spec["cwd"])
        confine.fresh_session_keyring()  # not the template's (nor, through it, the grader's)
        confine.drop_privileges(spec["drop_to_nobody"])
        confine.die_with_parent(signal.SIGKILL)  # (cleared by the uid change)
        confine.set_limits(spec["limits"])
        confine.load_seccomp(spec.get("seccomp"))
    except BaseException as e:  # noqa: BLE001 - reported on the output pipe, which the grader shows
        os.write(output, f"sandbox setup failed: {e}\n".encode(errors="replace"))
        os._exit(70)
    pid = os.fork()
    if pid == 0:
        run_worker(spec, proto, output)
    os.close(proto)
    os.close(output)
    confine.reap_until(pid)  # (the namespace dies with us)


def wait_for(init: int, status: int) -> int:
    """Wait for init to exit; if the grader goes first (its end of the status pipe closes),
    kill init, and with it this submission's whole pid namespace. A cold sandbox dies with
    its grader by the parent-death signal; a keeper's parent is the template, so it watches
    the pipe instead. Its exit status, as init's."""
    grader = select.poll()
    grader.register(status, select.POLLERR)  # (a pipe's write end: POLLERR once the reader is gone)
    while True:
        done, wait_status = os.waitpid(init, os.WNOHANG)
        if done:
            code = os.waitstatus_to_exitcode(wait_status)
            return 128 - code if code < 0 else code
        if grader.poll(100):
            os.kill(init, signal.SIGKILL)


def run_keeper(spec: dict, proto: int, output: int, status: int) -> None:
    """The template's child for one submission: waits for the cgroup, then starts init."""
    code = 70
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # (the template ignores it; we wait)
        keep_only([proto, output, status])
        os.write(proto, b"h")  # the grader reads our host pid from this byte's credentials
        if os.read(proto, 1) != b"g":
            os._exit(71)
        confine.unshare(WORKER_NAMESPACES)
        pid = os.fork()
        if pid == 0:
            os.close(status)
            run_init(spec, proto, output)
        os.close(proto)
        os.close(output)
        code = wait_for(pid, status)
    except BaseException as e:  # noqa: BLE001
        try:
            os.write(output, f"sandbox setup failed: {e}\n".encode(errors="replace"))
        except OSError:
            pass
    finally:
        try:
            os.write(status, code.to_bytes(2, "little"))
        finally:
            os._exit(code)


def serve(control: socket.socket) -> None:
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # keepers are reaped by the kernel
    while True:
        try:
            data, fds, _, _ = socket.recv_fds(control, RECORD, 3)
        except OSError:
            return
        if not data:  # the warm grader closed its end
            return
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            continue
        try:
            spec = json.loads(data)
        except ValueError:
            spec = None
        if isinstance(spec, dict) and os.fork() == 0:
            control.close()
            run_keeper(spec, *fds)
        for fd in fds:
            os.close(fd)


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    for name in sys.argv[2:]:
        importlib.import_module(name)
    wire.write_frame(1, wire.encode_frame({"op": "ready", "pid": os.getpid()}))
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    keep_only([0, 1, 2, control.fileno()])
    serve(control)


if __name__ == "__main__":
    main()
