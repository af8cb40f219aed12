"""Warm sandboxes: a sandbox template that has done the heavy imports, and workers forked from it.

A cold sandbox imports NumPy, and TensorFlow with Keras where the notebook does (about
3 s here, more on a busy machine), for every submission and again for every restart.
A warm grader (``grader_server.py``) instead starts one ``SandboxTemplate`` per
assignment: a sandbox built by the usual launcher that imports those modules once and
then only forks (``harness/template.py``, which draws the process tree). Each
submission's worker is forked from it and confined as a cold one is, by the same calls
(``harness/confine.py``): the same rlimits, seccomp filter, "nobody" and memory cgroup,
with its own mount, pid, ipc, net and uts namespaces, so its /tmp, /dev/shm, /proc,
processes, IPC objects, sockets and host name are its own and end with it. What it still
shares with the template is read-only to it (/dev, the root) or out of its reach (the
template's user namespace: no capabilities, and seccomp refuses the keyring calls).

Trust: the template is inside the sandbox (no graders, no network, no host files) and
never runs student code; the control socket that reaches it is closed in each forked
keeper before anything else happens, so no worker can ask it for anything. A grader
process that is not a child of a warm grader has no template and starts cold; a template
that has died or does not answer makes ``WorkerProcess.spawn`` start that sandbox cold
(``TemplateUnavailable``), and the warm grader starts a new template for the next
submission. The process fallback (``--isolation process``) is always cold: without a
mount namespace a worker could leave files for the next one.

The host pid of each keeper comes from the kernel (SCM_CREDENTIALS on the worker's own
socket), never from anything the sandbox says, and is what goes into the memory cgroup.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

START_TIMEOUT = 180.0  # seconds for the template's imports (TensorFlow on a busy machine)
_UCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid

_current: SandboxTemplate | None = None


def current_template() -> SandboxTemplate | None:
    """The template this (grader) process may fork sandboxes from, if a warm grader set one."""
    return _current


def use_template(template: SandboxTemplate | None) -> None:
    """Set by the warm grader in each forked grader process (``grader_server.serve``)."""
    global _current
    _current = template


class TemplateUnavailable(Exception):
    """The template could not give a worker; the caller starts that sandbox cold."""


class _End:
    """A descriptor with ``fileno``/``close``, as Popen's pipes have."""

    def __init__(self, fd: int):
        self.fd = fd

    def fileno(self) -> int:
        return self.fd

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Forked:
    """A worker forked from a template, seen the way ``WorkerProcess`` sees a Popen: ``pid``
    (the keeper's, on the host), ``stdin``/``stdout`` (one socket), ``stderr`` (the output
    pipe), ``poll``, ``wait`` and ``kill``. The exit status comes on the status pipe; a
    keeper that ends without writing it was killed (-9, as Popen would say)."""

    def __init__(self, pid: int, sock: socket.socket, output: int, status: int):
        self.pid = pid
        self.stdin = self.stdout = _End(sock.detach())
        self.stderr = _End(output)
        self._status = status
        self.returncode: int | None = None

    def go(self) -> None:
        os.write(self.stdin.fd, b"g")

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            ready, _, _ = select.select([self._status], [], [], timeout)
            if not ready:
                raise subprocess.TimeoutExpired("sandbox worker", timeout or 0)
            data = os.read(self._status, 2)
            self.returncode = int.from_bytes(data, "little") if len(data) == 2 else -signal.SIGKILL
            os.close(self._status)
        return self.returncode

    def poll(self) -> int | None:
        try:
            return self.wait(0)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        if self.poll() is None:  # (once it has exited, its pid may belong to someone else)
            os.kill(self.pid, signal.SIGKILL)


class SandboxTemplate:
    """One template sandbox for one assignment folder and worker environment."""

    def __init__(self, assignment_dir: Path, env: dict, modules: list[str]):
        self.assignment_dir = Path(assignment_dir)
        self.env = dict(env)
        self.modules = list(modules)
        self.process = None  # a WorkerProcess running harness/template.py
        self.control: socket.socket | None = None

    def key(self) -> tuple:
        return (str(self.assignment_dir), json.dumps(self.env, sort_keys=True), tuple(self.modules))

    def serves(self, assignment_dir: Path, env: dict) -> bool:
        return Path(assignment_dir) == self.assignment_dir and dict(env) == self.env and self.control is not None

    def alive(self) -> bool:
        """Only in the process that started it (a forked grader can't wait for it: ``fork``
        finds out there, when the template no longer answers)."""
        return self.process is not None and self.process.alive()

    def start(self) -> None:
        """Start the template and wait for its imports; WorkerDied if it can't start."""
        from autograder.sandbox.process import Limits, TemplateProcess  # (process.py imports this module)

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        limits = Limits(env=self.env, startup_timeout=START_TIMEOUT)
        process = TemplateProcess(self.assignment_dir, limits, theirs.fileno(), self.modules)
        try:
            process.start()
        finally:
            theirs.close()
        self.process, self.control = process, ours

    def fork(self, spec: dict, timeout: float) -> Forked:
        """Ask for one confined worker; it waits for ``Forked.go`` before it starts."""
        if self.control is None:
            raise TemplateUnavailable("the sandbox template is not running")
        sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        out_r, out_w = os.pipe()
        status_r, status_w = os.pipe()
        try:
            try:
                socket.send_fds(self.control, [json.dumps(spec).encode()], [theirs.fileno(), out_w, status_w])
            finally:
                for fd in (out_w, status_w):
                    os.close(fd)
                theirs.close()
            pid = self._keeper_pid(sock, timeout)
        except (OSError, TemplateUnavailable) as e:
            sock.close()
            os.close(out_r)
            os.close(status_r)
            raise TemplateUnavailable(str(e)) from None
        return Forked(pid, sock, out_r, status_r)

    @staticmethod
    def _keeper_pid(sock: socket.socket, timeout: float) -> int:
        """The keeper's host pid, from the credentials the kernel attached to its first byte."""
        deadline = time.monotonic() + timeout
        ready, _, _ = select.select([sock], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            raise TemplateUnavailable(f"no worker from the template within {timeout:g} s")
        data, ancillary, _, _ = sock.recvmsg(1, socket.CMSG_SPACE(_UCRED.size))
        for level, kind, payload in ancillary:
            if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS and data == b"h":
                pid, _, _ = _UCRED.unpack(payload[: _UCRED.size])
                if pid > 0:
                    return pid
        raise TemplateUnavailable("the template's worker did not identify itself")

    def close(self) -> None:
        if self.control is not None:
            self.control.close()
            self.control = None
        if self.process is not None:
            self.process.kill()
            self.process = None
