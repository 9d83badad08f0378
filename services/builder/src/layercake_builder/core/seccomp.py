"""The seccomp filter every step runs under: a classic-BPF program we assemble ourselves.

Pure: returns the program's bytes (`struct sock_filter[]`, native byte order), which
bwrap loads with `--seccomp FD` and the unshare back-end's trampoline with prctl. We
build it here rather than through libseccomp, which not every host has.

It refuses what a build never needs and an attacker wants (after Docker's default
profile): mounts, tracing other processes, kernel modules and kexec, BPF and perf,
the kernel keyring, userfaultfd and io_uring, new namespaces, clocks, swap, reboot.
Refusals answer EPERM rather than kill, so a tool that probes a feature degrades
instead of dying. `clone3` answers ENOSYS: its flags sit behind a pointer BPF cannot
read, and on ENOSYS libc falls back to `clone`, whose flags we can check. A syscall of
another ABI (i386, x32, a foreign architecture) kills the process: its numbers mean
other calls than the ones this table names.
"""

from __future__ import annotations

import errno
import struct
from dataclasses import dataclass

AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_AARCH64 = 0xC00000B7
X32_SYSCALL_BIT = 0x40000000

RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
RET_ALLOW = 0x7FFF0000

# Offsets in `struct seccomp_data`: nr, arch, instruction pointer, args[6] (the low half of
# each argument first: both architectures we accept are little-endian).
_NR = 0
_ARCH = 4
_ARG0 = 16

_LD_W_ABS = 0x20
_JA = 0x05
_JEQ = 0x15
_JGE = 0x35
_JSET = 0x45
_RET = 0x06

CLONE_NEW_FLAGS = (
    0x00000080  # CLONE_NEWTIME
    | 0x00020000  # CLONE_NEWNS
    | 0x02000000  # CLONE_NEWCGROUP
    | 0x04000000  # CLONE_NEWUTS
    | 0x08000000  # CLONE_NEWIPC
    | 0x10000000  # CLONE_NEWUSER
    | 0x20000000  # CLONE_NEWPID
    | 0x40000000  # CLONE_NEWNET
)
# PER_LINUX, PER_LINUX32, PER_LINUX32 | UNAME26, and the query: what Docker allows.
PERSONALITIES = (0x0, 0x8, 0x20008, 0xFFFFFFFF)

# name: (x86_64 number, aarch64 number); None where the architecture has no such call.
DENIED: dict[str, tuple[int | None, int | None]] = {
    "mount": (165, 40),
    "umount2": (166, 39),
    "pivot_root": (155, 41),
    "move_mount": (429, 429),
    "open_tree": (428, 428),
    "fsopen": (430, 430),
    "fsconfig": (431, 431),
    "fsmount": (432, 432),
    "fspick": (433, 433),
    "mount_setattr": (442, 442),
    "ptrace": (101, 117),
    "process_vm_readv": (310, 270),
    "process_vm_writev": (311, 271),
    "kcmp": (312, 272),
    "pidfd_getfd": (438, 438),
    "kexec_load": (246, 104),
    "kexec_file_load": (320, 294),
    "init_module": (175, 105),
    "finit_module": (313, 273),
    "delete_module": (176, 106),
    "create_module": (174, None),
    "get_kernel_syms": (177, None),
    "query_module": (178, None),
    "bpf": (321, 280),
    "perf_event_open": (298, 241),
    "keyctl": (250, 219),
    "add_key": (248, 217),
    "request_key": (249, 218),
    "userfaultfd": (323, 282),
    "unshare": (272, 97),
    "setns": (308, 268),
    "io_uring_setup": (425, 425),
    "io_uring_enter": (426, 426),
    "io_uring_register": (427, 427),
    "acct": (163, 89),
    "swapon": (167, 224),
    "swapoff": (168, 225),
    "reboot": (169, 142),
    "settimeofday": (164, 170),
    "clock_settime": (227, 112),
    "clock_adjtime": (305, 266),
    "adjtimex": (159, 171),
    "quotactl": (179, 60),
    "quotactl_fd": (443, 443),
    "lookup_dcookie": (212, 18),
    "open_by_handle_at": (304, 265),
    "name_to_handle_at": (303, 264),
    "iopl": (172, None),
    "ioperm": (173, None),
    "vhangup": (153, 58),
    "syslog": (103, 116),
    "nfsservctl": (180, 42),
    "uselib": (134, None),
    "_sysctl": (156, None),
}
CLONE = (56, 220)
CLONE3 = (435, 435)
PERSONALITY = (135, 92)
ARCHITECTURES = (AUDIT_ARCH_X86_64, AUDIT_ARCH_AARCH64)  # the index into each number pair


@dataclass(frozen=True)
class Instruction:
    """One `struct sock_filter`: opcode, jump offsets if true / if false, constant."""

    code: int
    jt: int
    jf: int
    k: int


def _ld(offset: int) -> Instruction:
    return Instruction(_LD_W_ABS, 0, 0, offset)


def _ret(action: int) -> Instruction:
    return Instruction(_RET, 0, 0, action)


def _skip_unless(nr: int, length: int) -> Instruction:
    """Go on to the next `length` instructions for syscall `nr`, else jump past them."""
    return Instruction(_JEQ, 0, length, nr)


EPERM = _ret(RET_ERRNO | errno.EPERM)
ALLOW = _ret(RET_ALLOW)


def _deny(nr: int) -> list[Instruction]:
    return [_skip_unless(nr, 1), EPERM]


def _deny_flags(nr: int, mask: int) -> list[Instruction]:
    """Refuse `nr` when its first argument has any bit of `mask` (the accumulator is spent)."""
    return [_skip_unless(nr, 4), _ld(_ARG0), Instruction(_JSET, 0, 1, mask), EPERM, ALLOW]


def _allow_only(nr: int, values: tuple[int, ...]) -> list[Instruction]:
    """Allow `nr` only with one of `values` as its first argument."""
    checks = [Instruction(_JEQ, len(values) - i, 0, value) for i, value in enumerate(values)]
    return [_skip_unless(nr, len(checks) + 3), _ld(_ARG0), *checks, EPERM, ALLOW]


def _rules(arch: int) -> list[Instruction]:
    """The checks of one architecture, with the syscall number in the accumulator."""
    pick = ARCHITECTURES.index(arch)
    rules = [_ld(_NR)]
    if arch == AUDIT_ARCH_X86_64:
        rules += [Instruction(_JGE, 0, 1, X32_SYSCALL_BIT), _ret(RET_KILL_PROCESS)]
    for numbers in DENIED.values():
        if (nr := numbers[pick]) is not None:
            rules += _deny(nr)
    rules += [_skip_unless(CLONE3[pick], 1), _ret(RET_ERRNO | errno.ENOSYS)]
    rules += _deny_flags(CLONE[pick], CLONE_NEW_FLAGS)
    rules += _allow_only(PERSONALITY[pick], PERSONALITIES)
    return [*rules, ALLOW]


def program() -> tuple[Instruction, ...]:
    """The whole filter: dispatch on the architecture, then that architecture's rules."""
    blocks = [_rules(arch) for arch in ARCHITECTURES]
    # Per architecture a compare and a long jump (`ja` has a 32-bit offset; the rules of
    # one architecture are longer than a conditional jump's 8 bits reach).
    head = [_ld(_ARCH)]
    start = 2 + 2 * len(blocks)  # the first block follows the head and its final kill
    for arch, block in zip(ARCHITECTURES, blocks, strict=True):
        after_jump = len(head) + 2
        head += [Instruction(_JEQ, 0, 1, arch), Instruction(_JA, 0, 0, start - after_jump)]
        start += len(block)
    head.append(_ret(RET_KILL_PROCESS))
    return (*head, *(rule for block in blocks for rule in block))


def encode(instructions: tuple[Instruction, ...]) -> bytes:
    """The bytes of `struct sock_filter[]` the kernel reads."""
    return b"".join(struct.pack("=HBBI", i.code, i.jt, i.jf, i.k) for i in instructions)
