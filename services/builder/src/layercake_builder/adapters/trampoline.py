"""The unshare back-end's jail builder: runs inside fresh namespaces, then becomes the step.

`unshare --user --map-root-user --mount --pid ...` starts this script with the
namespaces' capabilities and the descriptor of its spec (JSON; a descriptor, not
an argument, so that no host path is in a command line). It builds a new root on a
tmpfs (the host's /usr and toolchains read-only, the project and cache read-write,
our /etc files written from the spec, a private /tmp and /proc, a few device
nodes), brings up the network namespace's own loopback, pivots into it, drops
every capability (the bounding set is emptied, so the step's exec gains none),
forbids new privileges, loads the seccomp filter (last: building the jail needs
mount) and execs the step. It must stay importable
by a bare interpreter (`python3 -I -S`): standard library only, no LayerCake
imports.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import os
import platform
import socket
import struct
import sys

MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MNT_DETACH = 2
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
_SOCK_FILTER_SIZE = 8
_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}
_DEVICES = ("null", "zero", "full", "random", "urandom", "tty")
_LAST_CAPABILITY = 63
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
# The root holds only mount points, links and device nodes, and is read-only once built.
_ROOT_TMPFS = "size=4m,nr_inodes=4096,mode=755"
_TMPFS_INODES = 65536

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(
    source: str | None, target: str, fstype: str | None, flags: int, options: str = ""
) -> None:
    _check(
        _libc.mount(
            source.encode() if source else None,
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            options.encode() if options else None,
        ),
        f"mount {source} on {target}",
    )


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


def _read_input(fd: int) -> bytes:
    """All of an inherited descriptor's content; then it is closed, so the step cannot read it."""
    with os.fdopen(fd, "rb") as stream:
        return stream.read()


def _bind(source: str, target: str, *, read_only: bool) -> None:
    if os.path.isdir(source):  # noqa: PTH112  # standard library only, kept minimal
        os.makedirs(target, exist_ok=True)  # noqa: PTH103
    else:
        os.makedirs(os.path.dirname(target), exist_ok=True)  # noqa: PTH103, PTH120
        open(target, "a").close()  # noqa: PTH123
    _mount(source, target, None, MS_BIND | MS_REC)
    if read_only:
        _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_REC | MS_NOSUID)


def build_root(spec: dict[str, object], new_root: str) -> None:
    """Mount the jail's file system under `new_root` (a folder that exists)."""
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", new_root, "tmpfs", MS_NOSUID | MS_NODEV, _ROOT_TMPFS)
    _bind("/usr", f"{new_root}/usr", read_only=True)
    for link, target in dict(spec["symlinks"]).items():  # type: ignore[call-overload]
        os.symlink(target, f"{new_root}{link}")  # noqa: PTH211  # standard library only, kept minimal
    for source, target, read_only, optional in spec["binds"]:  # type: ignore[attr-defined]
        if optional and not os.path.exists(source):  # noqa: PTH110
            continue
        _bind(source, f"{new_root}{target}", read_only=read_only)
    for target, fd in spec["files"]:  # type: ignore[attr-defined]
        path = f"{new_root}{target}"
        os.makedirs(os.path.dirname(path), exist_ok=True)  # noqa: PTH103, PTH120
        with open(path, "wb") as file:  # noqa: PTH123
            file.write(_read_input(fd))
        os.chmod(path, 0o444)  # noqa: PTH101
    for device in _DEVICES:
        if os.path.exists(f"/dev/{device}"):  # noqa: PTH110
            _bind(f"/dev/{device}", f"{new_root}/dev/{device}", read_only=False)
    os.makedirs(f"{new_root}/proc")  # noqa: PTH103
    _mount("proc", f"{new_root}/proc", "proc", MS_NOSUID | MS_NODEV)
    # The jail's own /tmp and /dev/shm, sized: tmpfs pages are memory no rlimit counts.
    sized = f"size={int(spec['tmpfs_bytes'])},nr_inodes={_TMPFS_INODES}"  # type: ignore[call-overload]
    for private in (f"{new_root}/tmp", f"{new_root}/dev/shm"):  # noqa: S108  # the jail's own
        os.makedirs(private)  # noqa: PTH103
        _mount("tmpfs", private, "tmpfs", MS_NOSUID | MS_NODEV, sized)


def loopback_up() -> None:
    """Bring up the new network namespace's `lo` (bwrap does this itself): all it has."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH", b"lo", 0)
        (flags,) = struct.unpack_from("H", fcntl.ioctl(sock, _SIOCGIFFLAGS, request), 16)
        fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | _IFF_UP))


def enter(new_root: str) -> None:
    """Make `new_root` the root, forget the host's, and make the root read-only."""
    os.makedirs(f"{new_root}/.old-root")  # noqa: PTH103
    number = _PIVOT_ROOT.get(platform.machine())
    if number is None:
        raise OSError(f"pivot_root: unknown machine {platform.machine()}")
    _check(_libc.syscall(number, new_root.encode(), f"{new_root}/.old-root".encode()), "pivot_root")
    os.chdir("/")
    _check(_libc.umount2(b"/.old-root", MNT_DETACH), "umount old root")
    os.rmdir("/.old-root")  # noqa: PTH106
    _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)


def drop_privileges() -> None:
    """Empty the capability bounding set and forbid gaining privileges."""
    for capability in range(_LAST_CAPABILITY + 1):
        _libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0)
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")


def load_filter(program: bytes) -> None:
    """Confine every later syscall of this process and its children (needs no_new_privs)."""
    code = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // _SOCK_FILTER_SIZE, ctypes.cast(code, ctypes.c_void_p))
    _check(_libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0), "seccomp")


def main() -> None:
    """Read the spec, build the jail, exec the step."""
    spec = json.loads(_read_input(int(sys.argv[1])))
    program = _read_input(int(spec["seccomp"]))
    new_root = str(spec["new_root"])
    build_root(spec, new_root)
    loopback_up()
    enter(new_root)
    drop_privileges()
    os.chdir(str(spec["cwd"]))
    command = [str(part) for part in spec["command"]]
    env = {str(k): str(v) for k, v in dict(spec["env"]).items()}
    load_filter(program)
    os.execvpe(command[0], command, env)  # noqa: S606  # the step, inside the jail


if __name__ == "__main__":
    main()
