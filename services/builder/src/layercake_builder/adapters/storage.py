"""A finished build's files: no setuid bits left behind, and whether a step filled its disk.

Shell: walks the tree as root, never through a link the project planted.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

_SETID = stat.S_ISUID | stat.S_ISGID


def strip_setid(folders: Iterable[Path]) -> int:
    """Clear the setuid and setgid bits under `folders`; how many files had one.

    Run when no process of the build is left, so nothing swaps a folder for a
    link under us; folders are opened relative to their parent's descriptor
    anyway, so neither a link nor a path too long to name leads elsewhere.
    """
    stripped = 0
    for folder in folders:
        pending = [os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)]
        while pending:
            fd = pending.pop()
            try:
                for entry in _entries(fd):
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(_open_at(entry.name, fd, os.O_DIRECTORY))
                    elif entry.is_file(follow_symlinks=False):
                        stripped += _strip(entry.name, fd)
            finally:
                os.close(fd)
    return stripped


def _entries(fd: int) -> list[os.DirEntry[str]]:
    with os.scandir(fd) as entries:  # reads a duplicate; `fd` stays ours to close
        return list(entries)


def _open_at(name: str, parent: int, flags: int) -> int:
    return os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | flags, dir_fd=parent)


def _strip(name: str, parent: int) -> int:
    if not os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode & _SETID:
        return 0
    fd = _open_at(name, parent, 0)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            return 0
        os.fchmod(fd, stat.S_IMODE(mode) & ~_SETID)
    finally:
        os.close(fd)
    return 1


def disk_exhausted(folder: Path) -> bool:
    """Whether the file system of `folder` has (almost) no space or inodes left for a step."""
    try:
        info = os.statvfs(folder)
    except OSError:
        return False
    return info.f_bavail * 100 < info.f_blocks or info.f_favail * 100 < info.f_files
