"""The grader's side of one sandboxed worker: start it (cold, or forked from a warm template), and end it.

What it is started with is ``launch.py``'s; talking to it, ``channel.py``'s.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from autograder.sandbox import launch
from autograder.sandbox.channel import Channel, WorkerDied, WorkerTimeout
from autograder.sandbox.forked import Forked, Template, TemplateUnavailable
from autograder.sandbox.harness import wire
from autograder.sandbox.limits import Limits

log = logging.getLogger(__name__)


class OutputCapture(threading.Thread):
    """Drains the worker's stdout+stderr so a flood can't block it; keeps the head."""

    def __init__(self, fd: int, keep: int):
        super().__init__(daemon=True)
        self.fd, self.keep = fd, keep
        self.head = bytearray()
        self.total = 0

    def run(self) -> None:
        while chunk := os.read(self.fd, 1 << 16):
            self.total += len(chunk)
            if len(self.head) < self.keep:
                self.head += chunk[: self.keep - len(self.head)]

    def text(self) -> str:
        return self.head.decode("utf-8", "replace")


class WorkerProcess:
    """One sandboxed worker. ``request`` sends a message and waits for the reply."""

    def __init__(self, assignment_dir: Path, limits: Limits, isolate: bool, template: Template | None = None):
        self.assignment_dir = Path(assignment_dir)
        self.limits = limits
        self.isolate = isolate
        self.template = template  # a warm grader's sandbox template to fork from (warm.py); None: start cold
        self.proc: subprocess.Popen | Forked | None = None
        self.capture: OutputCapture | None = None
        self.channel: Channel | None = None  # its protocol pipes, once started
        self._dirs: list[str] = []
        self.extra_fds: tuple[int, ...] = ()  # descriptors the launcher passes on (a template's control socket)

    # --- life cycle -------------------------------------------------------------------

    def start(self, timeout: float | None = None) -> None:
        """Spawn the sandbox and wait until the worker says it is ready."""
        self.spawn()
        self.wait_ready(timeout)

    def spawn(self) -> None:
        """Start the launcher and set up its namespaces; doesn't wait for the worker.

        Call this from a thread that outlives the worker (normally the main thread):
        the launcher's parent-death signal fires when the spawning *thread* exits.
        """
        template = self.template
        if self.isolate and template is not None and template.serves(self.assignment_dir, self.limits.env):
            try:
                return self._spawn_from(template)
            except TemplateUnavailable as e:  # the cold way still works
                log.warning("sandbox template unavailable (%s); starting this sandbox cold", e)
                self.kill()
        try:
            spec = self._spec()
        except OSError as e:  # e.g. the memory cgroup could not be made: start nothing
            self.kill()
            self._startup_error = f"could not set up the sandbox: {e}"
            return
        sync = os.pipe(), os.pipe()  # (launcher -> us), (us -> launcher)
        spec["sync_w"], spec["sync_r"] = sync[0][1], sync[1][0]
        spec_r, spec_w = os.pipe()
        # The launcher needs only the standard library: run the real interpreter behind
        # the venv's link, so the command line of the sandbox's pid 1 names no venv path,
        # and without site (-S), which would only add start-up time (~10 ms here).
        self.proc = subprocess.Popen(
            [os.path.realpath(sys.executable), "-I", "-S", "-c", launch.LAUNCH_STUB.format(fd=spec_r)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            pass_fds=(spec_r, spec["sync_w"], spec["sync_r"], *self.extra_fds),
            start_new_session=True,
            env={"PATH": "/usr/bin:/bin"},
        )
        os.close(spec_r)
        os.close(sync[0][1])
        os.close(sync[1][0])
        self.capture = OutputCapture(self.proc.stderr.fileno(), self.limits.output_bytes)
        self.capture.start()
        self.channel = Channel(self.proc.stdin, self.proc.stdout.fileno(), self.kill, self.death_reason)
        try:
            try:
                wire.write_frame(spec_w, json.dumps(spec).encode() + b"\n" + launch.launcher_source())  # (all of it)
            finally:
                os.close(spec_w)
            if self.isolate:
                self._map_ids(sync[0][0], sync[1][1])
        except (WorkerDied, OSError) as e:
            self.kill()
            self._startup_error = f"{e}"
        finally:
            os.close(sync[0][0])
            os.close(sync[1][1])

    def _spawn_from(self, template: Template) -> None:
        """Fork this worker from a warm sandbox template (``warm.py``): the same confinement,
        a fresh /tmp, /dev/shm, /proc and pid namespace, and its own memory cgroup."""
        memory_spec = self._memory()
        spec = {
            "cwd": "/assignment",
            "limits": launch.rlimits(self.limits),
            "tmp_bytes": self.limits.tmp_bytes,
            "drop_to_nobody": os.geteuid() == 0,
            **memory_spec,
        }
        self.proc = template.fork(spec, self.limits.startup_timeout)
        if memory_spec["cgroup_procs"]:  # before "go": everything the worker does counts
            try:
                Path(memory_spec["cgroup_procs"]).write_text(str(self.proc.pid))
            except OSError as e:
                raise TemplateUnavailable(f"cannot move the worker into its memory cgroup: {e}") from None
        self.proc.go()
        self.capture = OutputCapture(self.proc.stderr.fileno(), self.limits.output_bytes)
        self.capture.start()
        self.channel = Channel(self.proc.stdin, self.proc.stdout.fileno(), self.kill, self.death_reason)

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait for the worker's first message; WorkerDied if it never comes."""
        error = getattr(self, "_startup_error", None)
        if error is None:
            try:
                limit = min(timeout, self.limits.startup_timeout) if timeout else self.limits.startup_timeout
                ready = self.channel.read(time.monotonic() + limit)
                if ready.get("op") == "ready":
                    return
                error = "the sandbox sent an unexpected first message"
            except (WorkerDied, WorkerTimeout) as e:
                error = str(e) or type(e).__name__
        self.kill()
        detail = self.capture.text().strip()[-300:] if self.capture else ""
        raise WorkerDied(f"the sandbox did not start: {error} {detail}".strip())

    def _map_ids(self, from_launcher: int, to_launcher: int) -> None:
        """Write the launcher's uid/gid maps: ns root, plus 'nobody' when we are root."""
        if os.read(from_launcher, 1) != b"u":
            raise WorkerDied("the launcher could not create namespaces")
        pid = self.proc.pid
        if os.geteuid() == 0:
            maps = {"uid_map": "0 0 1\n65534 65534 1\n", "gid_map": "0 0 1\n65534 65534 1\n"}
        else:
            Path(f"/proc/{pid}/setgroups").write_text("deny")
            maps = {"uid_map": f"0 {os.geteuid()} 1\n", "gid_map": f"0 {os.getegid()} 1\n"}
        for name, text in maps.items():
            Path(f"/proc/{pid}/{name}").write_text(text)
        os.write(to_launcher, b"g")

    def _memory(self) -> dict:
        """This sandbox's memory part of the spec (``launch.memory_spec``); ``kill`` removes its cgroup."""
        self._cgroup = None
        self._cgroup, part = launch.memory_spec(self.limits, self.isolate)
        return part

    def _spec(self) -> dict:
        """The launcher's spec for this worker (``launch.launch_spec``)."""
        return launch.launch_spec(self.assignment_dir, self.limits, self.isolate, self._memory(), self._dirs)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """Kill the worker and everything it started. Safe to call twice."""
        if self.proc is not None:
            try:
                # the whole session; with namespaces, killing the launcher (or a template's
                # keeper) takes init, and so the whole pid namespace, down with it via PDEATHSIG
                if isinstance(self.proc, Forked):
                    self.proc.kill()
                else:
                    os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
            if self.capture:
                self.capture.join(timeout=2)
            self.proc.stderr.close()
        cgroup, self._cgroup = getattr(self, "_cgroup", None), None
        if cgroup is not None:  # kills what is left (init, the worker, escaped children)
            cgroup.remove()
        for d in self._dirs:
            shutil.rmtree(d, ignore_errors=True)
        self._dirs.clear()

    close = kill

    # --- messages ---------------------------------------------------------------------

    def request(
        self,
        message: dict,
        timeout: float,
        on_callback: Callable[[dict], dict] | None = None,
    ) -> dict:
        """Send one request and return the reply, serving callbacks while we wait (``channel.py``)."""
        if not self.alive():
            raise WorkerDied(self.death_reason())
        return self.channel.request(message, time.monotonic() + timeout, on_callback)

    def death_reason(self) -> str:
        """Explain, for a student, why the worker process is gone."""
        if self.proc is None:
            return "the worker was never started"
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.kill()
            return "the worker stopped answering"
        if code >= 128 or code < 0:
            sig = code - 128 if code >= 128 else -code
            name = {
                signal.SIGSEGV: "a segmentation fault (SIGSEGV)",
                signal.SIGKILL: "SIGKILL (usually the memory or CPU limit)",
                signal.SIGXCPU: "the CPU-time limit (SIGXCPU)",
                signal.SIGXFSZ: "the file-size limit (SIGXFSZ)",
                signal.SIGABRT: "an abort (SIGABRT)",
                signal.SIGBUS: "a bus error (SIGBUS)",
                signal.SIGFPE: "a floating-point exception (SIGFPE)",
            }.get(sig, f"signal {sig}")
            return f"the process was killed by {name}"
        if code == 70:
            detail = self.capture.text().strip().splitlines()[-1:] if self.capture else []
            return "the sandbox failed to start" + (f": {detail[0]}" if detail else "")
        return f"the process exited with code {code} (os._exit or a crash)"

    def output(self) -> tuple[str, int]:
        """What student code printed (the first part only) and how many bytes in all."""
        if self.capture is None:
            return "", 0
        return self.capture.text(), self.capture.total

    def __enter__(self) -> WorkerProcess:
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.kill()
