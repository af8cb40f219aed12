"""Start one sandboxed worker: namespaces, a minimal read-only root, limits, then exec.

``process.py`` runs it as ``python -I -c STUB`` (``launch.py``): the stub reads the spec (one JSON line)
and then this source from a pipe, so no command line visible in the sandbox's /proc
holds a host path. Standard library only; it imports nothing from the package.
With ``"isolate": true`` it needs no root and no setuid helper: just unprivileged user
namespaces, which util-linux ``unshare`` and bubblewrap rely on too.

    grader ──spawns──> launcher: joins the sandbox's memory cgroup (when there is one),
                          then new user, mount, net, ipc, uts, pid namespaces
                          │ waits for the grader to write its uid/gid maps
                          └─fork─> init (pid 1): mounts a tmpfs root with read-only
                                     binds of /usr, /etc, Python and the venv, a read-only
                                     /dev, chroots, joins a new session keyring, drops every
                                     capability and becomes "nobody", loads the seccomp
                                     filter (the keyring calls, and memory's when needed)
                                     └─fork─> worker (exec /venv/bin/python harness/worker.py)

A warm grader's sandbox template (``"template": true``; ``warm.py``, ``harness/template.py``)
is built the same way, except that init keeps its capabilities inside the new user
namespace and sets no limits: the template confines each worker it forks.

The worker sees no graders, no reference solutions, no gradebook and no network (its
network namespace has only a loopback device that is down). When init exits, the
kernel kills every process left in the pid namespace, so nothing outlives grading.
With ``"isolate": false`` (the loud fallback) only the cgroup, seccomp, the limits and
a new session apply. Which memory mechanisms apply, and why: ``memory.py``.
"""

from __future__ import annotations

import os
import signal
import sys

# The confinement primitives, shared with the sandbox template (harness/template.py);
# launch.py's stub puts the harness folder on the launcher's path (from the spec, not argv).
from confine import (
    CLONE_NEWCGROUP,
    CLONE_NEWIPC,
    CLONE_NEWNET,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CLONE_NEWUSER,
    CLONE_NEWUTS,
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    PR_SET_NO_NEW_PRIVS,
    PR_SET_PDEATHSIG,
    bind_readonly,
    check,
    drop_privileges,
    fresh_session_keyring,
    libc,
    load_seccomp,
    mask_proc,
    mount,
    reap_until,
    set_limits,
)  # fmt: skip


def build_root(spec: dict) -> None:
    """Assemble the sandbox's file system under spec['root'] and chroot into it."""
    root = spec["root"]
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we mount leaks to the host
    mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16m")
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = "/" + name
        if os.path.islink(host):  # merged-/usr systems: /bin -> usr/bin
            os.symlink(os.readlink(host), os.path.join(root, name))
        elif os.path.isdir(host):
            bind_readonly(host, root + host)
    # tmpfs first, so read-only binds that live under /tmp (a CI clone) land on top
    os.makedirs(root + "/tmp")
    mount("tmpfs", root + "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={spec['tmp_bytes']}")
    for path in sorted(set(spec["ro_binds"]), key=lambda p: p.count("/")):
        if os.path.exists(path):
            bind_readonly(path, root + path)
    for src, dst in spec["ro_binds_at"]:
        bind_readonly(src, root + dst)
    for alias, target in spec.get("aliases", []):  # neutral names, e.g. /venv for the venv
        os.symlink(target, root + alias)
    dev = root + "/dev"
    os.makedirs(dev)
    mount("tmpfs", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k")
    for node in ("null", "zero", "full", "random", "urandom"):
        open(f"{dev}/{node}", "w").close()
        mount(f"/dev/{node}", f"{dev}/{node}", None, MS_BIND)
    os.symlink("/proc/self/fd", dev + "/fd")
    for i, name in enumerate(("stdin", "stdout", "stderr")):
        os.symlink(f"/proc/self/fd/{i}", f"{dev}/{name}")
    os.makedirs(dev + "/shm")
    mount("tmpfs", dev + "/shm", "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={spec['shm_bytes']}")
    # read-only: a non-root grader's student owns it, and a warm template's workers all share it
    mount(None, dev, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC)
    os.makedirs(root + "/proc")
    try:
        mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except OSError:
        pass  # some container hosts forbid a fresh /proc; Python runs without one
    else:
        mask_proc(root + "/proc")
    mount(None, root, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.chroot(root)
    os.chdir(spec["cwd"])


def join_cgroup(spec: dict) -> None:
    """Enter the sandbox's memory cgroup before anything is forked, so all of it counts."""
    if spec.get("cgroup_procs"):
        try:
            with open(spec["cgroup_procs"], "w") as f:
                f.write(str(os.getpid()))
        except OSError as e:
            print(f"sandbox setup failed: joining the memory cgroup: {e}", file=sys.stderr, flush=True)
            os._exit(70)


def exec_worker(spec: dict) -> None:
    os.execve(spec["argv"][0], spec["argv"], spec["env"])


def run_init(spec: dict) -> None:
    """pid 1 of the sandbox: build it, start the worker, reap, exit with its status."""
    try:
        check(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")
        build_root(spec)
        libc.sethostname(b"sandbox", 7)
        fresh_session_keyring()  # not the grader's: its keys are no student's business
        if not spec.get("template"):
            drop_privileges(spec["drop_to_nobody"])
            check(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")
            set_limits(spec["limits"])
            load_seccomp(spec.get("seccomp"))
        # else: a sandbox template (harness/template.py) keeps its capabilities in this user
        # namespace, to give each submission's worker fresh mounts; it confines each worker
        # itself, with the same calls, before any student code runs.
    except BaseException as e:  # report set-up failures on stderr, which the grader shows
        print(f"sandbox setup failed: {e}", file=sys.stderr, flush=True)
        os._exit(70)
    worker = os.fork()
    if worker == 0:
        exec_worker(spec)
    reap_until(worker)  # exiting kills the whole namespace


def main(spec: dict) -> None:
    """Called by the stub with the spec it read from the pipe."""
    join_cgroup(spec)
    if not spec["isolate"]:  # already a new session (the grader starts us that way)
        try:
            set_limits(spec["limits"])
            os.chdir(spec["cwd"])
            if spec.get("seccomp"):
                check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
                load_seccomp(spec["seccomp"])
        except OSError as e:
            print(f"sandbox setup failed: {e}", file=sys.stderr, flush=True)
            os._exit(70)
        exec_worker(spec)
    check(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "pdeathsig")
    flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID
    try:
        check(libc.unshare(flags | CLONE_NEWCGROUP), "unshare")
    except OSError:
        check(libc.unshare(flags), "unshare")
    # The grader writes our uid/gid maps from outside (only it may map "nobody").
    os.write(spec["sync_w"], b"u")
    if os.read(spec["sync_r"], 1) != b"g":
        os._exit(71)
    os.setresgid(0, 0, 0)
    os.setresuid(0, 0, 0)
    init = os.fork()
    if init == 0:
        run_init(spec)
    _, status = os.waitpid(init, 0)
    code = os.waitstatus_to_exitcode(status)
    os._exit(128 - code if code < 0 else code)
