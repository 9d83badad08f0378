"""Walking a folder a build step could have shaped: iteratively, relative to open folders.

A step can leave 3,000 nested folders, FIFOs and links behind. So the walk keeps
no recursion (Python 3.11's `os.walk` and `shutil.rmtree` recurse, and raise
RecursionError), builds no full path (they pass PATH_MAX), holds one folder open
at a time, opens no file and follows no link. It climbs back with `..` and
checks that it arrived where it came from, so a folder moved during the walk
is an `UnsafeTree`, not an escape.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import TYPE_CHECKING

from layercake_contracts.errors import UnsafeTree

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC


@dataclass(frozen=True)
class Found:
    """One entry of the walk; `folder` (an fd) holds it and is open only until the next entry."""

    folder: int
    name: str
    parents: tuple[str, ...]
    info: os.stat_result  # of the entry itself, never of what a link points to

    @property
    def path(self) -> str:
        """The entry's path below the walk's top, `/`-separated."""
        return "/".join((*self.parents, self.name))

    @property
    def is_folder(self) -> bool:
        """True for a real folder (a link to one is not)."""
        return stat.S_ISDIR(self.info.st_mode)


@dataclass
class _Level:
    """A folder being walked: where it is, what it is, and the names still to visit in it."""

    name: str
    info: os.stat_result
    pending: list[str]
    inside: tuple[str, ...]  # the path of what it holds: kept, so no step rebuilds it


def walk(
    top: int,
    *,
    enter: Callable[[Found], bool] = lambda _: True,
    folders_last: bool = False,
) -> Iterator[Found]:
    """Every entry under the open folder `top`, depth first, names in sorted order.

    A folder is entered when `enter` says so. With `folders_last`, a folder is
    yielded after what it holds (so it can be removed); else before.
    """
    fd = os.dup(top)
    levels = [_Level("", os.fstat(fd), _names(fd), ())]
    try:
        while levels:
            level = levels[-1]
            if not level.pending:
                levels.pop()
                if levels:  # back up into the parent, which must be the one we left
                    parent = os.open("..", FOLDER_FLAGS, dir_fd=fd)
                    os.close(fd)
                    fd = parent
                    _expect(fd, levels[-1].info, levels[-1].inside)
                    if folders_last:
                        yield Found(fd, level.name, levels[-1].inside, level.info)
                continue
            found = _found(fd, level.pending.pop(), level.inside)
            if found is None:
                continue
            if not (found.is_folder and folders_last):
                yield found
            child = _open_child(fd, found) if found.is_folder and enter(found) else None
            if child is not None:
                os.close(fd)
                fd = child
                levels.append(
                    _Level(found.name, found.info, _names(fd), (*level.inside, found.name))
                )
            elif found.is_folder and folders_last:
                yield found
    finally:
        os.close(fd)


def remove_entry(name: str, folder: int) -> None:
    """Remove `name` in `folder`, whatever it is: a folder with all it holds, a link unfollowed."""
    try:
        info = os.stat(name, dir_fd=folder, follow_symlinks=False)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(info.st_mode):
        os.unlink(name, dir_fd=folder)
        return
    inner = os.open(name, FOLDER_FLAGS, dir_fd=folder)
    try:
        _expect(inner, info, (name,))
        for found in walk(inner, folders_last=True):
            if found.is_folder:
                os.rmdir(found.name, dir_fd=found.folder)
            else:
                os.unlink(found.name, dir_fd=found.folder)
    finally:
        os.close(inner)
    os.rmdir(name, dir_fd=folder)


def _names(fd: int) -> list[str]:
    # Reversed, so that pop() takes them in sorted order.
    return sorted(os.listdir(fd), reverse=True)


def _found(fd: int, name: str, parents: tuple[str, ...]) -> Found | None:
    try:
        info = os.stat(name, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return None  # gone since the folder was listed
    return Found(fd, name, parents, info)


def _open_child(fd: int, found: Found) -> int | None:
    try:
        child = os.open(found.name, FOLDER_FLAGS, dir_fd=fd)
    except OSError:
        return None  # gone, or swapped for a link or a file since it was seen: not ours
    if _identity(os.fstat(child)) != _identity(found.info):
        os.close(child)
        return None
    return child


def _expect(fd: int, info: os.stat_result, parents: tuple[str, ...]) -> None:
    if _identity(os.fstat(fd)) != _identity(info):
        raise UnsafeTree("/".join(parents), "a folder was moved while the tree was walked")


def _identity(info: os.stat_result) -> tuple[int, int]:
    return info.st_dev, info.st_ino
