"""A build's files: no setuid bits left behind, and how much disk its steps may take.

Shell: walks the tree as root, never through a link the project planted.
"""

from __future__ import annotations

import asyncio
import errno
import os
import stat
from typing import TYPE_CHECKING

import structlog

from layercake_builder.errors import TreeMoved

if TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable, Iterator
    from pathlib import Path

    from layercake_builder.adapters.disks import DiskQuota

log = structlog.get_logger(__name__)

_WATCH_INTERVAL_S = 0.1
_MB = 1024 * 1024
_SETID = stat.S_ISUID | stat.S_ISGID
_VANISHED = {errno.ENOENT, errno.ENOTDIR, errno.ELOOP}


def strip_setid(folders: Iterable[Path]) -> int:
    """Clear the setuid and setgid bits under `folders`; how many files had one.

    Run when no process of the build is left, so nothing swaps a folder for a
    link under us; folders are opened relative to their parent's descriptor
    anyway, so neither a link nor a path too long to name leads elsewhere.
    """
    return sum(
        _strip(entry.name, parent)
        for parent, entry in _walk(folders)
        if entry.is_file(follow_symlinks=False)
    )


def _walk(folders: Iterable[Path]) -> Iterator[tuple[int, os.DirEntry[str]]]:
    """Every entry under `folders` with its folder's descriptor.

    Iterative, with one folder open at a time (it climbs back through ".."), so
    neither the depth of a tree nor the width of node_modules runs out of
    descriptors or of path length. Each climb lands where it left, or the walk
    stops: a folder moved meanwhile must not lead ".." out of the tree.
    """
    for folder in folders:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
        try:
            # Per depth: the folder's identity and its subfolders still to visit.
            levels = [(_identity(fd), (yield from _listed(fd)))]
            while levels:
                if not levels[-1][1]:
                    levels.pop()
                    if levels:
                        fd = _swap(fd, os.open("..", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd))
                        if _identity(fd) != levels[-1][0]:
                            raise TreeMoved(folder)
                    continue
                try:
                    child = _open_at(levels[-1][1].pop(), fd, os.O_DIRECTORY)
                except OSError as exc:  # gone, or swapped for a file or a link meanwhile
                    if exc.errno not in _VANISHED:
                        raise
                    continue
                fd = _swap(fd, child)
                levels.append((_identity(fd), (yield from _listed(fd))))
        finally:
            os.close(fd)


def _identity(fd: int) -> tuple[int, int]:
    info = os.fstat(fd)
    return info.st_dev, info.st_ino


def _listed(fd: int) -> Generator[tuple[int, os.DirEntry[str]], None, list[str]]:
    """Yield the entries of the folder `fd`; return the names of its subfolders."""
    with os.scandir(fd) as found:  # reads a duplicate; `fd` stays ours to close
        entries = list(found)
    for entry in entries:
        yield fd, entry
    return [e.name for e in entries if e.is_dir(follow_symlinks=False)]


def _swap(old: int, new: int) -> int:
    os.close(old)
    return new


def _open_at(name: str, parent: int, flags: int) -> int:
    return os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | flags, dir_fd=parent)


def _strip(name: str, parent: int) -> int:
    try:
        if not os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode & _SETID:
            return 0
        fd = _open_at(name, parent, 0)
    except FileNotFoundError:
        return 0
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


class DiskWatch:
    """Ends a step that takes more than a quota of its folders' file systems while it runs.

    The fallback where a project has no file system of its own (not root, no
    loop devices): it watches the free space and inodes, which statvfs reads at
    no cost, so it bounds what one step takes from the disk the bus and the
    ledger share, to within what the step writes in one interval. Others writing
    to the same disk meanwhile count against the step.
    """

    def __init__(self, quota: DiskQuota, folders: Iterable[Path]) -> None:
        self._quota = quota
        self._start = {folder: _free(folder) for folder in folders}
        self.tripped = False

    async def watch(self, stop: Callable[[], None]) -> None:
        """Call `stop` (once) when the step has taken more than the quota; runs until cancelled."""
        while True:
            await asyncio.sleep(_WATCH_INTERVAL_S)
            for folder, (space, inodes) in self._start.items():
                space_now, inodes_now = _free(folder)
                taken, files = space - space_now, inodes - inodes_now
                if taken > self._quota.size_mb * _MB or files > self._quota.inodes:
                    log.warning("disk_quota_exceeded", folder=str(folder), taken=taken, files=files)
                    self.tripped = True
                    stop()
                    return


def _free(folder: Path) -> tuple[int, int]:
    info = os.statvfs(folder)
    return info.f_bavail * info.f_frsize, info.f_favail
