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
keeper before anything else happens, so no worker can ask it for anything. The template is
handed down explicitly: the warm grader passes it to each grader run it forks (the plugin's
``WarmSandbox``), the run to its session, the session to each ``WorkerProcess``; a grader
process that is not a child of a warm grader has none and starts cold; a template
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
import socket
import struct
import time
from dataclasses import asdict, replace
from pathlib import Path

from autograder.sandbox.forked import Forked, TemplateUnavailable
from autograder.sandbox.limits import Limits
from autograder.sandbox.process import WorkerProcess

START_TIMEOUT = 180.0  # seconds for the template's imports (TensorFlow on a busy machine)
_UCRED = struct.Struct("3i")  # struct ucred: pid, uid, gid


class SandboxTemplate:
    """One template sandbox for one assignment folder and the limits of its workers (their environment
    decides what the imports do; the template's own limits are theirs, with a longer start-up)."""

    def __init__(self, assignment_dir: Path, limits: Limits, modules: list[str]):
        self.assignment_dir = Path(assignment_dir)
        self.limits = limits
        self.env = dict(limits.env)
        self.modules = list(modules)
        self.process = None  # a WorkerProcess running harness/template.py
        self.control: socket.socket | None = None

    def key(self) -> tuple:
        return (str(self.assignment_dir), json.dumps(asdict(self.limits), sort_keys=True), tuple(self.modules))

    def serves(self, assignment_dir: Path, env: dict) -> bool:
        return Path(assignment_dir) == self.assignment_dir and dict(env) == self.env and self.control is not None

    def alive(self) -> bool:
        """Only in the process that started it (a forked grader can't wait for it: ``fork``
        finds out there, when the template no longer answers)."""
        return self.process is not None and self.process.alive()

    def start(self) -> None:
        """Start the template and wait for its imports; WorkerDied if it can't start."""
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        limits = replace(self.limits, startup_timeout=START_TIMEOUT)  # its imports may take longer than a worker's
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


class TemplateProcess(WorkerProcess):
    """The launcher's usual sandbox, running harness/template.py instead of the worker: it keeps its capabilities in its user namespace and sets no limits,
    and hands on ``control_fd``, the socket it takes fork requests on."""

    def __init__(self, assignment_dir: Path, limits: Limits, control_fd: int, modules: list[str]):
        super().__init__(assignment_dir, limits, isolate=True)
        self.extra_fds = (control_fd,)
        self.modules = list(modules)

    def _memory(self) -> dict:  # the template's own pages are no submission's; each worker gets a cgroup
        return {"cgroup_procs": None, "seccomp": None, "shm_bytes": self.limits.shm_bytes}

    def _spec(self) -> dict:
        spec = super()._spec()
        argv = [spec["argv"][0], "-I", "/harness/template.py", str(self.extra_fds[0]), *self.modules]
        return {**spec, "template": True, "argv": argv}
