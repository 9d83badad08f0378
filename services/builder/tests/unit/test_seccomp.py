"""The seccomp program, run in a small classic-BPF interpreter over sample `seccomp_data`."""

from __future__ import annotations

import errno
import struct

from hypothesis import given
from hypothesis import strategies as st

from layercake_builder.core import seccomp
from layercake_builder.core.seccomp import (
    AUDIT_ARCH_AARCH64,
    AUDIT_ARCH_X86_64,
    RET_ALLOW,
    RET_ERRNO,
    RET_KILL_PROCESS,
)

AUDIT_ARCH_I386 = 0x40000003
CLONE_THREAD_FLAGS = 0x3D0F00  # what glibc's pthread_create passes
CLONE_NEWUSER = 0x10000000
EPERM = RET_ERRNO | errno.EPERM


def run(program: bytes, arch: int, nr: int, args: tuple[int, ...] = ()) -> int:
    """What the kernel would do: interpret the program's bytes over one seccomp_data."""
    padded = (*args, *(0,) * (6 - len(args)))
    data = struct.pack("=IIQ6Q", nr, arch, 0x401000, *padded)
    code = [struct.unpack_from("=HBBI", program, at) for at in range(0, len(program), 8)]
    accumulator, pc = 0, 0
    while True:
        op, jt, jf, k = code[pc]  # an IndexError: a path falls off the end
        pc += 1
        if op == 0x20:  # ld [k]
            accumulator = struct.unpack_from("=I", data, k)[0]
        elif op == 0x06:  # ret k
            return k
        elif op == 0x05:  # ja k
            pc += k
        else:
            taken = {0x15: accumulator == k, 0x35: accumulator >= k, 0x45: accumulator & k}[op]
            pc += jt if taken else jf


PROGRAM = seccomp.encode(seccomp.program())


def test_what_an_attacker_wants_is_refused_with_eperm_on_both_architectures():
    for name, numbers in seccomp.DENIED.items():
        for arch, nr in zip(seccomp.ARCHITECTURES, numbers, strict=True):
            if nr is not None:
                assert run(PROGRAM, arch, nr) == EPERM, (name, hex(arch))


def test_ordinary_syscalls_are_allowed():
    # read, write, openat, execve and sendfile on x86_64 (40 is mount on aarch64).
    for nr in (0, 1, 257, 59, 40):
        assert run(PROGRAM, AUDIT_ARCH_X86_64, nr) == RET_ALLOW, nr
    # read, write, openat, execve and statx on aarch64.
    for nr in (63, 64, 56, 221, 291):
        assert run(PROGRAM, AUDIT_ARCH_AARCH64, nr) == RET_ALLOW, nr


def test_clone_is_allowed_for_threads_and_forks_but_not_for_namespaces():
    for arch, nr in zip(seccomp.ARCHITECTURES, seccomp.CLONE, strict=True):
        assert run(PROGRAM, arch, nr, (CLONE_THREAD_FLAGS,)) == RET_ALLOW
        assert run(PROGRAM, arch, nr, (0x01200011,)) == RET_ALLOW  # fork()
        assert run(PROGRAM, arch, nr, (CLONE_NEWUSER | 0x11,)) == EPERM
        assert run(PROGRAM, arch, nr, (0x00000080,)) == EPERM  # CLONE_NEWTIME


def test_clone3_answers_enosys_so_that_libc_falls_back_to_clone():
    for arch, nr in zip(seccomp.ARCHITECTURES, seccomp.CLONE3, strict=True):
        assert run(PROGRAM, arch, nr) == RET_ERRNO | errno.ENOSYS


def test_personality_is_allowed_only_for_the_default_ones():
    for arch, nr in zip(seccomp.ARCHITECTURES, seccomp.PERSONALITY, strict=True):
        assert run(PROGRAM, arch, nr, (0,)) == RET_ALLOW
        assert run(PROGRAM, arch, nr, (0xFFFFFFFF,)) == RET_ALLOW
        assert run(PROGRAM, arch, nr, (0x0040000,)) == EPERM  # ADDR_NO_RANDOMIZE


def test_another_abi_is_killed():
    assert run(PROGRAM, AUDIT_ARCH_I386, 1) == RET_KILL_PROCESS
    assert run(PROGRAM, AUDIT_ARCH_X86_64, seccomp.X32_SYSCALL_BIT | 0) == RET_KILL_PROCESS


@given(
    arch=st.sampled_from([*seccomp.ARCHITECTURES, AUDIT_ARCH_I386, 0]),
    nr=st.integers(0, 2**32 - 1),
    args=st.tuples(*[st.integers(0, 2**64 - 1)] * 6),
)
def test_every_path_of_the_program_ends_in_a_verdict(arch, nr, args):
    assert run(PROGRAM, arch, nr, args) in {RET_ALLOW, RET_KILL_PROCESS, EPERM} | {
        RET_ERRNO | errno.ENOSYS
    }


def test_the_program_fits_the_kernel_limit():
    assert 8 * 100 < len(PROGRAM) <= 8 * 4096
