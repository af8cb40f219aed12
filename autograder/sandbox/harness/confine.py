"""The kernel calls that confine a sandbox process: mounts, privileges, limits, seccomp.

Standard library only (ctypes), and importable on both sides of the boundary: the
launcher (``launcher.py``, on the host, before the sandbox exists) and the sandbox
template (``template.py``, inside it, before each submission's worker) both confine
with these, so the two paths into a sandbox cannot drift apart.
"""

from __future__ import annotations

import ctypes
import os
import platform
import resource

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
CLONE_NEWCGROUP = 0x02000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_NOATIME, MS_NODIRATIME, MS_BIND = 32, 1024, 2048, 4096
MS_REC, MS_PRIVATE, MS_RELATIME = 16384, 1 << 18, 1 << 21
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_SECCOMP, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 22, 24, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
KEYCTL_JOIN_SESSION_KEYRING = 1
_SYS_KEYCTL = {"x86_64": 250, "aarch64": 219}  # (glibc has no keyctl wrapper)
# Kernel key lists that name keys of every namespace: keys are checked by uid, not by namespace
MASKED_PROC = ("keys", "key-users")
SECCOMP_MODE_FILTER = 2
NOBODY = 65534

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def mount(src: str | None, dst: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    def enc(s):
        return s.encode() if s is not None else None

    check(libc.mount(enc(src), enc(dst), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {dst}")


# statvfs flags that a bind remount inside a user namespace must keep ("locked" flags)
_LOCKED = {2: MS_NOSUID, 4: MS_NODEV, 8: MS_NOEXEC, 1024: MS_NOATIME, 2048: MS_NODIRATIME, 4096: MS_RELATIME}
MS_MOVE = 8192


def bind_readonly(src: str, dst: str) -> None:
    if os.path.isdir(src):
        os.makedirs(dst, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        open(dst, "a").close()
    mount(src, dst, None, MS_BIND | MS_REC)
    locked = sum(ms for st, ms in _LOCKED.items() if os.statvfs(dst).f_flag & st)
    mount(None, dst, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | locked)


def mount_points(under: str) -> list[str]:
    """The mount points below ``under`` (not itself), outermost first, from /proc/self/mounts."""
    points = []
    with open("/proc/self/mounts") as f:
        for line in f:
            point = line.split()[1]
            for code in ("\\040", "\\011", "\\012", "\\134"):  # mounts escapes space, tab, newline, backslash
                point = point.replace(code, chr(int(code[1:], 8)))
            if point.startswith(under.rstrip("/") + "/"):
                points.append(point)
    return sorted(set(points), key=lambda p: p.count("/"))


def fresh_tmpfs(path: str, options: str) -> None:
    """A new, empty tmpfs on ``path``, keeping the read-only binds that lived below the old one
    (the launcher puts /tmp's tmpfs first, so a venv in a clone under /tmp is bound on top)."""
    staging = path.rstrip("/") + "/.fresh"  # on the old tmpfs, hidden once the new one is moved over it
    os.makedirs(staging, exist_ok=True)
    mount("tmpfs", staging, "tmpfs", MS_NOSUID | MS_NODEV, options)
    kept: list[str] = []
    for point in mount_points(path):
        if point == staging or point.startswith(staging + "/") or any(point.startswith(k + "/") for k in kept):
            continue  # (a bind below one already kept came along with it: MS_REC)
        bind_readonly(point, staging + point[len(path.rstrip("/")) :])
        kept.append(point)
    mount(staging, path, None, MS_MOVE)


def unshare(flags: int) -> None:
    check(libc.unshare(flags), "unshare")


def die_with_parent(sig: int) -> None:
    check(libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0), "pdeathsig")


def dumpable() -> None:
    """Undo the kernel's "not dumpable" mark that leaving root sets, as an execve does: a
    worker forked (not exec'd) after the uid change can then read its own /proc entries."""
    check(libc.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0), "dumpable")


def drop_privileges(to_nobody: bool) -> None:
    """Lose every capability for good, and become 'nobody' when the map allows it."""
    for cap in range(64):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)  # fails harmlessly past the last cap
    if to_nobody:
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)  # leaving uid 0 clears all capabilities
    # Staying uid 0 (a non-root grader) keeps them until an exec; a warm worker is never exec'd.
    header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
    check(libc.capset(header, (ctypes.c_uint32 * 6)()), "capset")
    check(libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0), "ambient capabilities")
    check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def fresh_session_keyring() -> None:
    """Leave the session keyring inherited from the grader (and from the template) for a new,
    empty one. Student code can't reach keyrings at all (seccomp refuses add_key, request_key
    and keyctl); this holds where that filter is missing (an architecture we have no table for)."""
    number = _SYS_KEYCTL.get(platform.machine())
    if number is not None:
        if libc.syscall(ctypes.c_long(number), ctypes.c_long(KEYCTL_JOIN_SESSION_KEYRING), None) < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"a new session keyring: {os.strerror(err)}")


def mask_proc(proc: str) -> None:
    """Hide /proc's lists of kernel keys (every key the sandbox's uid may view, in any
    namespace: another sandbox's, or a non-root grader's own) behind /dev/null, as Docker does."""
    for name in MASKED_PROC:
        if os.path.exists(f"{proc}/{name}"):
            mount("/dev/null", f"{proc}/{name}", None, MS_BIND)


def set_limits(limits: dict) -> None:
    for name, value in limits.items():
        resource.setrlimit(getattr(resource, "RLIMIT_" + name.upper()), (value, value))


class SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32)]


class SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(SockFilter))]


def load_seccomp(program: list | None) -> None:
    """Install the grader's classic BPF filter (seccomp_filter.seccomp_program); needs no_new_privs."""
    if program:
        rows = (SockFilter * len(program))(*(SockFilter(*row) for row in program))
        prog = SockFprog(len(program), rows)
        check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0), "seccomp")


def reap_until(pid: int) -> None:
    """As a pid namespace's init: reap every child, and when ``pid`` (the worker) is gone,
    exit with its status (128 + the signal that killed it), which kills the namespace."""
    while True:
        try:
            child, status = os.wait()
        except ChildProcessError:
            os._exit(70)
        if child == pid:
            code = os.waitstatus_to_exitcode(status)
            os._exit(128 - code if code < 0 else code)
