"""What a sandboxed worker is started with, as data: the launcher's spec (mounts, environment, rlimits, memory).

``process.py`` sends the spec to the launcher (``launcher.py``) as one JSON line; the
launcher applies it with the harness's kernel calls (``harness/confine.py``). A warm
worker gets the parts that are its own (``rlimits``, ``memory_spec``) from its template.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import tempfile
from pathlib import Path

from autograder.sandbox import memory
from autograder.sandbox.cgroups import SandboxCgroup, cgroup_parent
from autograder.sandbox.limits import Limits
from autograder.sandbox.seccomp_filter import KEYRING_CALLS, SECCOMP_BLOCKED, seccomp_program

HARNESS_DIR = Path(__file__).parent / "harness"
LAUNCHER = Path(__file__).parent / "launcher.py"


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
# Run as `python -I -c LAUNCH_STUB`: reads the spec (one JSON line), then the launcher's
# source, from a pipe, so neither the spec's host paths nor the launcher's path is in argv.
# The launcher imports its kernel calls from the harness (confine.py), found through the spec.
LAUNCH_STUB = (
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
def launcher_source() -> bytes:
    """The launcher's source, sent to the stub through its pipe."""
    return LAUNCHER.read_bytes()  # read once: two sandboxes start per submission


def rlimits(limits: Limits) -> dict:
    """The worker's resource limits, by ``harness/confine.py``'s names."""
    return {
        "as": limits.memory_bytes,
        # (no looser than "as"; set so that a grader's own RLIMIT_DATA, grader_memory.bound_grader, is not inherited)
        "data": limits.memory_bytes,
        "nproc": limits.max_processes,
        "fsize": limits.file_bytes,
        "core": 0,
        "cpu": limits.cpu_seconds,
        "nofile": 256,
    }


def memory_spec(limits: Limits, isolate: bool) -> tuple[SandboxCgroup | None, dict]:
    """One sandbox's memory mechanisms (``memory.py``): its own cgroup where the machine has them
    (made here; the caller removes it), the seccomp filter, and the size of /dev/shm.

    The seccomp filter also refuses the keyring calls, in every sandbox (``KEYRING_CALLS``).
    OSError if the cgroup can't be made.
    """
    parent, _ = cgroup_parent()
    group = None
    if parent is not None:
        try:
            group = SandboxCgroup.create(parent, limits.memory_bytes)
        except OSError as e:
            raise OSError(e.errno, f"cannot create its memory cgroup under {parent.path}: {e.strerror}") from e
    in_force = {m.name for m in memory.in_force(parent is not None, isolate)}
    return group, {
        "cgroup_procs": group.procs_file if group else None,
        "seccomp": seccomp_program(KEYRING_CALLS + (SECCOMP_BLOCKED if "seccomp" in in_force else ())),
        "shm_bytes": limits.shm_bytes,
    }


def launch_spec(assignment_dir: Path, limits: Limits, isolate: bool, memory_part: dict, dirs: list[str]) -> dict:
    """The launcher's spec for one cold worker, with ``memory_part`` (``memory_spec``'s dict).

    The folders it makes (the sandbox's root, or the fallback's private copy) are added to
    ``dirs``: the caller removes them when the worker ends.
    """
    if isolate:
        root = tempfile.mkdtemp(prefix="autograder-root-")
        dirs.append(root)
        python, aliases = _worker_python()
        return {
            "isolate": True,
            "harness": str(HARNESS_DIR),
            "root": root,
            "ro_binds": ["/usr", "/etc", *python_paths()],
            "ro_binds_at": [[str(HARNESS_DIR), "/harness"], [str(assignment_dir), "/assignment"]],
            "aliases": aliases,
            "tmp_bytes": limits.tmp_bytes,
            "cwd": "/assignment",
            "limits": rlimits(limits),
            "drop_to_nobody": os.geteuid() == 0,
            "argv": [python, "-I", "/harness/worker.py"],
            "env": worker_env(limits),
            **memory_part,
        }
    # Fallback: a private copy of the assignment, limits, and a new session only.
    work = tempfile.mkdtemp(prefix="autograder-work-")
    dirs.append(work)
    shutil.copytree(assignment_dir, work, dirs_exist_ok=True)
    shutil.copytree(HARNESS_DIR, os.path.join(work, ".harness"), dirs_exist_ok=True)
    env = worker_env(limits) | {"HOME": work, "MPLCONFIGDIR": os.path.join(work, ".mpl")}
    return {
        "isolate": False,
        "harness": str(HARNESS_DIR),
        "cwd": work,
        "limits": rlimits(limits),
        "argv": [sys.executable, "-I", os.path.join(work, ".harness", "worker.py")],
        "env": env,
        **memory_part,
    }
