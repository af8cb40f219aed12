"""A sandboxed worker forked from a warm template (``warm.py``), seen the way ``WorkerProcess`` sees a Popen.

``Template`` is what ``process.WorkerProcess`` needs of the template it is handed (``warm.SandboxTemplate``
is the one); ``TemplateUnavailable`` makes it start that sandbox cold instead.
"""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
from pathlib import Path
from typing import Protocol


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


class Template(Protocol):
    """A sandbox template a worker can be forked from (``warm.SandboxTemplate``)."""

    def serves(self, assignment_dir: Path, env: dict) -> bool: ...

    def fork(self, spec: dict, timeout: float) -> Forked: ...
