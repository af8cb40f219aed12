"""The seccomp filter a sandbox loads, as data: classic BPF that fails the listed system calls with EPERM.

Built here, in the grader, and sent to the launcher in its spec (``harness/confine.py``
installs it); which calls it lists is decided by ``memory.py``'s mechanisms and, for the
keyrings, in every sandbox.
"""

from __future__ import annotations

import errno
import platform

SECCOMP_BLOCKED = ("memfd_create", "memfd_secret", "shmget", "msgget")
# Refused in every sandbox, whatever the memory mechanism: the kernel's keyrings check access
# by uid, not by namespace, so a keyring is a channel between sandboxes (docs/sandbox.md)
KEYRING_CALLS = ("add_key", "request_key", "keyctl")
_ARCHES = {  # machine -> (AUDIT_ARCH_*, syscall numbers, x32 syscall bit or 0)
    "x86_64": (
        0xC000003E,
        {"memfd_create": 319, "memfd_secret": 447, "shmget": 29, "msgget": 68}
        | {"add_key": 248, "request_key": 249, "keyctl": 250},
        0x40000000,
    ),
    "aarch64": (
        0xC00000B7,
        {"memfd_create": 279, "memfd_secret": 447, "shmget": 194, "msgget": 186}
        | {"add_key": 217, "request_key": 218, "keyctl": 219},
        0,
    ),
}
_LD_ABS_W, _JEQ_K, _JGE_K, _RET_K = 0x20, 0x15, 0x35, 0x06  # BPF_LD|W|ABS, BPF_JMP|JEQ|K, BPF_JMP|JGE|K, BPF_RET|K
_ALLOW, _EPERM = 0x7FFF0000, 0x00050000 | errno.EPERM  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM


def seccomp_program(blocked: tuple[str, ...] = SECCOMP_BLOCKED) -> list[list[int]] | None:
    """A classic BPF filter, as [code, jt, jf, k] rows, that fails ``blocked`` with EPERM.

    It first checks the audit arch: a system call made through another ABI (i386 via
    int 0x80, x32) would use other numbers, so any of those fails with EPERM too.
    None on an architecture we have no syscall table for.
    """
    if platform.machine() not in _ARCHES:
        return None
    arch, numbers, x32_bit = _ARCHES[platform.machine()]
    checks = [(_JGE_K, x32_bit)] if x32_bit else []
    checks += [(_JEQ_K, numbers[name]) for name in blocked]
    program = [
        [_LD_ABS_W, 0, 0, 4],  # seccomp_data.arch
        [_JEQ_K, 1, 0, arch],
        [_RET_K, 0, 0, _EPERM],
        [_LD_ABS_W, 0, 0, 0],  # seccomp_data.nr
    ]
    for i, (code, k) in enumerate(checks):
        program.append([code, len(checks) - i, 0, k])  # true: jump to the EPERM at the end
    return program + [[_RET_K, 0, 0, _ALLOW], [_RET_K, 0, 0, _EPERM]]
