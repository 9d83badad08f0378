"""Who holds a TCP port: so `layercake up` refuses a taken port, naming the holder.

Two LayerCakes on one machine must never meet: a second `up` that reached the
first's nats-server would join its consumers and take its work. Before it starts
anything, `up` tries each of its ports; a taken one is traced, through the kernel's
socket tables (`/proc/net/tcp`, `/proc/net/tcp6`) and each process's open files,
to the process listening on it, and, when that is part of another `layercake up`,
to that one's home folder. It only reads: it never connects to what it finds.
"""

from __future__ import annotations

import contextlib
import errno
import socket
from dataclasses import dataclass
from pathlib import Path

_LISTEN = "0A"  # the state column of a listening socket in /proc/net/tcp
_PROC = Path("/proc")
_TABLES = ("net/tcp", "net/tcp6")
_MAX_ANCESTORS = 16
_MAX_COMMAND = 200


class PortTaken(Exception):
    """A port `up` needs is in use; names what for and who holds it."""

    def __init__(self, port: int, purpose: str, holder: str, setting: str) -> None:
        self.port, self.purpose, self.holder = port, purpose, holder
        super().__init__(
            f"port {port} ({purpose}) is taken by {holder}: stop that, or set {setting} "
            "to a free port"
        )


class PortUnusable(Exception):
    """An address `up` cannot listen on at all (not this machine's, say)."""

    def __init__(self, host: str, port: int, reason: str) -> None:
        self.host, self.port = host, port
        super().__init__(f"cannot listen on {host}:{port}: {reason}")


@dataclass(frozen=True)
class Process:
    """A process on this machine, as far as this user may see it."""

    pid: int
    argv: tuple[str, ...]

    @property
    def command(self) -> str:
        """Its command line, shortened for a message."""
        line = " ".join(self.argv) or "?"
        return line if len(line) <= _MAX_COMMAND else line[: _MAX_COMMAND - 1] + "…"

    @property
    def is_layercake_up(self) -> bool:
        """Whether it is a `layercake up` (`…/layercake up` or `python -m layercake up`)."""
        return any(
            Path(arg).name == "layercake" and following == "up"
            for arg, following in zip(self.argv, self.argv[1:], strict=False)
        )


def is_taken(host: str, port: int) -> bool:
    """Whether binding `host:port` fails because the address is in use.

    `PortUnusable` if it fails for another reason: the host is not this machine's, say.
    """
    with socket.socket() as sock:
        # As the servers bind: a socket in TIME_WAIT does not count as taken.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise PortUnusable(host, port, exc.strerror or str(exc)) from exc
    return False


def listening_inodes(table: str, port: int) -> set[int]:
    """The socket inodes a /proc/net/tcp{,6} table lists as listening on `port`."""
    found = set()
    for line in table.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] != _LISTEN:  # noqa: PLR2004  # the inode is the 10th
            continue
        local_port = fields[1].rsplit(":", 1)[-1]
        if int(local_port, 16) == port:
            found.add(int(fields[9]))
    return found


def listener(port: int) -> Process | None:
    """The process listening on `port`, if this user may see it."""
    inodes: set[int] = set()
    for name in _TABLES:
        with contextlib.suppress(OSError):
            inodes |= listening_inodes((_PROC / name).read_text(), port)
    links = {f"socket:[{inode}]" for inode in inodes}
    for fd_folder in _PROC.glob("[0-9]*/fd"):
        with contextlib.suppress(OSError):
            if any(_readlink(fd) in links for fd in fd_folder.iterdir()):
                return process(int(fd_folder.parent.name))
    return None


def process(pid: int) -> Process | None:
    """The process `pid`, None once it has gone."""
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return None
    return Process(pid, tuple(part.decode(errors="replace") for part in raw.split(b"\0") if part))


def layercake_up_of(found: Process) -> Process | None:
    """The `layercake up` that `found` is, or runs under."""
    current: Process | None = found
    for _ in range(_MAX_ANCESTORS):
        if current is None:
            return None
        if current.is_layercake_up:
            return current
        parent = _parent_pid(current.pid)
        current = process(parent) if parent else None
    return None


def environment_of(pid: int) -> dict[str, str]:
    """The environment `pid` started with (empty if this user may not read it)."""
    try:
        raw = (_PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return {}
    pairs = (part.decode(errors="replace").partition("=") for part in raw.split(b"\0") if part)
    return {name: value for name, _, value in pairs}


def folder_of(pid: int) -> Path | None:
    """The current folder of `pid`, if this user may see it."""
    try:
        return (_PROC / str(pid) / "cwd").readlink()
    except OSError:
        return None


def children(pid: int) -> list[Process]:
    """The processes whose parent is `pid`."""
    found = []
    for stat in _PROC.glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError):
            if _parent_pid(int(stat.parent.name)) == pid and (
                child := process(int(stat.parent.name))
            ):
                found.append(child)
    return found


def _parent_pid(pid: int) -> int | None:
    try:
        # The command name in parentheses may hold spaces: the fields follow its last ")".
        fields = (_PROC / str(pid) / "stat").read_text().rsplit(")", 1)[-1].split()
    except OSError:
        return None
    return int(fields[1])


def _readlink(path: Path) -> str:
    try:
        return str(path.readlink())
    except OSError:
        return ""
