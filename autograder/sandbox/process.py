"""The grader's side of one sandboxed worker: start it, talk to it, time it, kill it."""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.sandbox import memory, warm
from autograder.sandbox.harness import wire

HARNESS_DIR = Path(__file__).parent / "harness"
LAUNCHER = Path(__file__).parent / "launcher.py"
GiB = 2**30
log = logging.getLogger(__name__)


@dataclass
class Limits:
    """Resource limits for one worker. Every one is a hard limit on student code."""

    call_timeout: float = 5.0  # seconds per call into student code
    # seconds for everything one submission's code does together (cells, calls, restarts);
    # every wait is clipped to what is left, so a submission that sleeps just under each
    # time-out costs at most this much (plus the grader's own fixed costs)
    budget_seconds: float = 60.0
    cell_timeout: float = 30.0  # seconds per notebook cell (cells may import heavy libraries)
    # address space of each process (RLIMIT_AS) and, where a memory cgroup is available,
    # every page the whole sandbox makes the host hold: shared memory and tmpfs too
    memory_bytes: int = 2 * GiB
    max_processes: int = 64  # processes and threads, together
    tmp_bytes: int = 64 * 2**20  # size of the writable /tmp
    shm_bytes: int = 16 * 2**20  # size of /dev/shm (POSIX shared memory)
    file_bytes: int = 32 * 2**20  # largest file the worker may write
    cpu_seconds: int = 900  # backstop for the whole worker life
    startup_timeout: float = 30.0
    output_bytes: int = 16 * 1024  # student stdout/stderr kept; the rest is counted and dropped
    env: dict = field(default_factory=dict)  # extra environment (e.g. TF_NUM_INTEROP_THREADS)
    # the trusted grader process's own memory (a cgroup, else RLIMIT_DATA beyond its imports):
    # what it holds grows with what a student sends it, so it is bounded too
    grader_memory_bytes: int = 1 * GiB


class WorkerDied(Exception):
    """The worker process ended while we waited for a reply."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class WorkerTimeout(Exception):
    """The worker did not reply in time; it has been killed."""


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


def worker_env(limits: Limits) -> dict:
    """A minimal environment: nothing from the grader's own environment leaks in."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    env.update(limits.env)
    return env


def python_paths() -> list[str]:
    """Directories the worker's Python needs: the interpreter and the venv.

    They are mounted into the sandbox, so they must not contain the graders: the
    package has to be installed in editable mode (the Makefile does), never copied
    into site-packages.
    """
    candidates = {sys.base_prefix, sys.prefix, os.path.dirname(os.path.realpath(sys.executable))}
    candidates = {p for p in candidates if not p.startswith("/usr/")}
    paths = sorted(p for p in candidates if not any(p != q and Path(p).is_relative_to(q) for q in candidates))
    graders = Path(__file__).resolve().parents[1] / "graders"
    for p in paths + ["/usr"]:
        if graders.is_relative_to(p):
            raise RuntimeError(
                f"the hidden graders ({graders}) are inside {p}, which the sandbox mounts; "
                "install this package in editable mode (pip install -e .)"
            )
    return paths


_VENV = "/venv"
# Run as `python -I -c _LAUNCH_STUB`: reads the spec (one JSON line), then the launcher's
# source, from a pipe, so neither the spec's host paths nor the launcher's path is in argv.
# The launcher imports its kernel calls from the harness (confine.py), found through the spec.
_LAUNCH_STUB = (
    "import json,sys;f=open({fd},'rb');spec=json.loads(f.readline());sys.path.insert(0,spec['harness']);"
    "g={{'__name__':'sandbox_launcher'}};"
    "exec(compile(f.read(),'launcher.py','exec'),g);f.close();g['main'](spec)"
)


def _worker_python() -> tuple[str, list[list[str]]]:
    """The worker's interpreter under a neutral name, and the alias that provides it.

    Inside the sandbox /venv is a symlink to the venv, which stays mounted at its own
    path: its pyvenv.cfg, scripts and editable-install finder name that path. The
    worker's command line (and sys.executable, sys.prefix) then say only /venv.
    """
    if sys.prefix != sys.base_prefix and os.path.dirname(sys.executable) == os.path.join(sys.prefix, "bin"):
        return f"{_VENV}/bin/{os.path.basename(sys.executable)}", [[_VENV, sys.prefix]]
    return sys.executable, []  # not a venv: the interpreter keeps its own path


@functools.cache
def _launcher_source() -> bytes:
    return LAUNCHER.read_bytes()  # read once: two sandboxes start per submission


class WorkerProcess:
    """One sandboxed worker. ``request`` sends a message and waits for the reply."""

    def __init__(self, assignment_dir: Path, limits: Limits, isolate: bool):
        self.assignment_dir = Path(assignment_dir)
        self.limits = limits
        self.isolate = isolate
        self.proc: subprocess.Popen | warm.Forked | None = None
        self.capture: OutputCapture | None = None
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
        template = warm.current_template()
        if self.isolate and template is not None and template.serves(self.assignment_dir, self.limits.env):
            try:
                return self._spawn_from(template)
            except warm.TemplateUnavailable as e:  # the cold way still works
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
            [os.path.realpath(sys.executable), "-I", "-S", "-c", _LAUNCH_STUB.format(fd=spec_r)],
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
        self.reader = wire.FrameReader(self.proc.stdout.fileno())
        try:
            try:
                wire.write_frame(spec_w, json.dumps(spec).encode() + b"\n" + _launcher_source())  # (all of it)
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

    def _spawn_from(self, template: warm.SandboxTemplate) -> None:
        """Fork this worker from a warm sandbox template (``warm.py``): the same confinement,
        a fresh /tmp, /dev/shm, /proc and pid namespace, and its own memory cgroup."""
        memory_spec = self._memory()
        spec = {
            "cwd": "/assignment",
            "limits": self._rlimits(),
            "tmp_bytes": self.limits.tmp_bytes,
            "drop_to_nobody": os.geteuid() == 0,
            **memory_spec,
        }
        self.proc = template.fork(spec, self.limits.startup_timeout)
        if memory_spec["cgroup_procs"]:  # before "go": everything the worker does counts
            try:
                Path(memory_spec["cgroup_procs"]).write_text(str(self.proc.pid))
            except OSError as e:
                raise warm.TemplateUnavailable(f"cannot move the worker into its memory cgroup: {e}") from None
        self.proc.go()
        self.capture = OutputCapture(self.proc.stderr.fileno(), self.limits.output_bytes)
        self.capture.start()
        self.reader = wire.FrameReader(self.proc.stdout.fileno())

    def wait_ready(self, timeout: float | None = None) -> None:
        """Wait for the worker's first message; WorkerDied if it never comes."""
        error = getattr(self, "_startup_error", None)
        if error is None:
            try:
                limit = min(timeout, self.limits.startup_timeout) if timeout else self.limits.startup_timeout
                ready = self._read(time.monotonic() + limit)
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
        """This sandbox's memory mechanisms (see memory.py): its cgroup, seccomp, /dev/shm.
        The seccomp filter also refuses the keyring calls, in every sandbox (memory.KEYRING_CALLS)."""
        parent, _ = memory.cgroup_parent()
        self._cgroup = None
        if parent is not None:
            try:
                self._cgroup = memory.SandboxCgroup.create(parent, self.limits.memory_bytes)
            except OSError as e:
                raise OSError(e.errno, f"cannot create its memory cgroup under {parent.path}: {e.strerror}") from e
        in_force = {m.name for m in memory.in_force(parent is not None, self.isolate)}
        return {
            "cgroup_procs": self._cgroup.procs_file if self._cgroup else None,
            "seccomp": memory.seccomp_program(
                memory.KEYRING_CALLS + (memory.SECCOMP_BLOCKED if "seccomp" in in_force else ())
            ),
            "shm_bytes": self.limits.shm_bytes,
        }

    def _rlimits(self) -> dict:
        limits = self.limits
        return {
            "as": limits.memory_bytes,
            # (no looser than "as"; set so that a grader's own RLIMIT_DATA, memory.bound_grader, is not inherited)
            "data": limits.memory_bytes,
            "nproc": limits.max_processes,
            "fsize": limits.file_bytes,
            "core": 0,
            "cpu": limits.cpu_seconds,
            "nofile": 256,
        }

    def _spec(self) -> dict:
        limits = self.limits
        rlimits = self._rlimits()
        if self.isolate:
            root = tempfile.mkdtemp(prefix="autograder-root-")
            self._dirs.append(root)
            python, aliases = _worker_python()
            return {
                "isolate": True,
                "harness": str(HARNESS_DIR),
                "root": root,
                "ro_binds": ["/usr", "/etc", *python_paths()],
                "ro_binds_at": [[str(HARNESS_DIR), "/harness"], [str(self.assignment_dir), "/assignment"]],
                "aliases": aliases,
                "tmp_bytes": limits.tmp_bytes,
                "cwd": "/assignment",
                "limits": rlimits,
                "drop_to_nobody": os.geteuid() == 0,
                "argv": [python, "-I", "/harness/worker.py"],
                "env": worker_env(limits),
                **self._memory(),
            }
        # Fallback: a private copy of the assignment, limits, and a new session only.
        work = tempfile.mkdtemp(prefix="autograder-work-")
        self._dirs.append(work)
        shutil.copytree(self.assignment_dir, work, dirs_exist_ok=True)
        shutil.copytree(HARNESS_DIR, os.path.join(work, ".harness"), dirs_exist_ok=True)
        env = worker_env(limits) | {"HOME": work, "MPLCONFIGDIR": os.path.join(work, ".mpl")}
        return {
            "isolate": False,
            "harness": str(HARNESS_DIR),
            "cwd": work,
            "limits": rlimits,
            "argv": [sys.executable, "-I", os.path.join(work, ".harness", "worker.py")],
            "env": env,
            **self._memory(),
        }

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """Kill the worker and everything it started. Safe to call twice."""
        if self.proc is not None:
            try:
                # the whole session; with namespaces, killing the launcher (or a template's
                # keeper) takes init, and so the whole pid namespace, down with it via PDEATHSIG
                if isinstance(self.proc, warm.Forked):
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
        """Send one request and return the reply, serving callbacks while we wait."""
        if not self.alive():
            raise WorkerDied(self.death_reason())
        deadline = time.monotonic() + timeout
        self._send(message, deadline)
        while True:
            reply = self._read(deadline)
            if reply.get("op") != "callback":
                return reply
            answer = on_callback(reply) if on_callback else {"ok": False, "message": "no helpers here"}
            self._send(answer, deadline)

    def _send(self, message: dict, deadline: float) -> None:
        """Write within the same deadline as the reply: a worker that stops reading
        (say, after asking for a large helper answer) can't block the grader."""
        try:
            wire.write_frame(self.proc.stdin.fileno(), wire.encode_frame(message), deadline)
        except wire.FrameTimeout:
            self.kill()
            raise WorkerTimeout() from None
        except (BrokenPipeError, OSError):
            raise WorkerDied(self.death_reason()) from None

    def _read(self, deadline: float) -> dict:
        try:
            return wire.decode_payload(self.reader.read(deadline))
        except wire.FrameTimeout:
            self.kill()
            raise WorkerTimeout() from None
        except (wire.StreamClosed, ConnectionResetError):  # (a warm worker's socket resets if it died unread)
            raise WorkerDied(self.death_reason()) from None
        except wire.TooLarge as e:  # over what the grader reads in one message: never decoded, never kept
            self.kill()
            raise WorkerDied(f"your code sent the grader {e}, more than it accepts; the worker was stopped") from None
        except wire.WireError as e:  # garbage on the protocol pipe: treat as a crash
            self.kill()
            raise WorkerDied(f"the worker sent malformed data ({e})") from None

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


class TemplateProcess(WorkerProcess):
    """The launcher's usual sandbox, running harness/template.py instead of the worker
    (``warm.py``): it keeps its capabilities in its user namespace and sets no limits,
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
