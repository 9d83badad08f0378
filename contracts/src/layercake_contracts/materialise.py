"""Turn a manifest into files in a folder, incrementally and without leaving it.

Only files whose content or mode differ are written; files the previous
manifest had and the new one lacks are removed; files neither manifest names
(node_modules, build output) are left alone. Every path is walked with
`O_NOFOLLOW` relative to an open directory, so a symlink planted in the folder
is replaced, never followed; a FIFO or device is never opened, and folders are
walked and removed without recursion (see `walk`), however deep a build step
nested them. Each file is written whole: temp file, then rename.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import stat
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, Self

from layercake_contracts.errors import UnsafeTree
from layercake_contracts.paths import MAX_DEPTH, project_path_problem
from layercake_contracts.walk import FOLDER_FLAGS, Found, remove_entry, walk

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping
    from pathlib import Path

    from layercake_contracts.values import FileEntry, Manifest

_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
_HASH_CHUNK = 1 << 20


# Folders of tools and dependencies: never part of a project's manifest.
TOOL_FOLDERS = frozenset(
    {".git", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache", ".ruff_cache",
     ".pytest_cache", ".layercake"}
)  # fmt: skip


def project_files(root: Path) -> Iterator[tuple[str, Path]]:
    """Each regular file of a project folder as (manifest path, host path), in path order.

    Links, FIFOs and the like are skipped (never opened or followed), and so are
    tool folders and paths a manifest could not hold: deeper folders are not
    even entered, however deep a build step nested them.
    """
    try:
        top = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    except (FileNotFoundError, NotADirectoryError):
        return  # as with os.walk: no folder, no files
    try:
        for found in walk(top, enter=_may_hold_project_files):
            if stat.S_ISREG(found.info.st_mode) and project_path_problem(found.path) is None:
                yield found.path, root.joinpath(*found.parents, found.name)
    finally:
        os.close(top)


def _may_hold_project_files(folder: Found) -> bool:
    # A file in this folder has one segment more than the folder's own path.
    return folder.name not in TOOL_FOLDERS and len(folder.parents) + 2 <= MAX_DEPTH


class BlobSource(Protocol):
    """Where file contents come from (the blob store, or a fake in a unit test)."""

    async def get(self, digest: str) -> bytes:
        """The bytes stored under `digest`."""
        ...


@dataclass(frozen=True)
class MaterialiseReport:
    """What materialising did: paths written, removed and left as they were."""

    written: tuple[str, ...]
    removed: tuple[str, ...]
    unchanged: tuple[str, ...]


async def materialise(
    manifest: Manifest,
    root: Path,
    blobs: BlobSource,
    previous: Manifest | None = None,
) -> MaterialiseReport:
    """Make `root` hold exactly `manifest`'s files, writing only what differs."""
    removed = tuple(sorted(previous.diff(manifest).deleted)) if previous else ()
    stale = await asyncio.to_thread(_stale_paths, root, manifest)
    contents = dict(
        zip(
            stale,
            await asyncio.gather(*(blobs.get(manifest[p].sha256) for p in stale)),
            strict=True,
        )
    )
    await asyncio.to_thread(_apply, root, manifest, contents, removed)
    unchanged = tuple(p for p in sorted(manifest) if p not in contents)
    return MaterialiseReport(tuple(stale), removed, unchanged)


def _stale_paths(root: Path, manifest: Manifest) -> list[str]:
    root.mkdir(parents=True, exist_ok=True)
    with _RootDir(root) as top:
        return [path for path, entry in manifest.items() if not top.holds(path, entry)]


def _apply(
    root: Path, manifest: Manifest, contents: dict[str, bytes], removed: tuple[str, ...]
) -> None:
    write_tree(
        root, {path: (data, manifest[path].mode) for path, data in contents.items()}, removed
    )


def write_tree(
    root: Path, files: Mapping[str, tuple[bytes, int]], removed: Iterable[str] = ()
) -> None:
    """Remove `removed`, then write each `path -> (content, mode)` whole under `root`.

    Every path is checked against the one path rule first (`UnsafeTree` if it
    fails, before anything is written); links in `root` are replaced, never
    followed, and anything else in the way (a FIFO, a folder) is removed unopened.
    """
    for path in (*removed, *files):
        if (problem := project_path_problem(path)) is not None:
            raise UnsafeTree(path, problem)
    root.mkdir(parents=True, exist_ok=True)
    with _RootDir(root) as top:
        for path in removed:
            top.remove(path)
        for path, (data, mode) in files.items():
            top.write(path, data, mode)


class _RootDir:
    """An open directory that every path is resolved against, one segment at a time."""

    def __init__(self, root: Path) -> None:
        self._fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        os.close(self._fd)

    def holds(self, path: str, entry: FileEntry) -> bool:
        """True when `path` is a regular file (not a link) with this content and mode.

        Anything else is looked at, never opened: opening a FIFO a build step
        left there would block until someone wrote to it.
        """
        *parents, name = path.split("/")
        dir_fd = self._descend(parents, create=False)
        if dir_fd is None:
            return False
        try:
            seen = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            if not _regular_as_listed(seen, entry):
                return False
            fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
        except OSError:
            return False
        finally:
            os.close(dir_fd)
        with os.fdopen(fd, "rb") as handle:
            info = os.fstat(handle.fileno())
            if (info.st_dev, info.st_ino) != (seen.st_dev, seen.st_ino):
                return False  # swapped since it was looked at
            digest = hashlib.sha256()
            for chunk in iter(lambda: handle.read(_HASH_CHUNK), b""):
                digest.update(chunk)
        return digest.hexdigest() == entry.sha256

    def write(self, path: str, data: bytes, mode: int) -> None:
        """Write `path` whole, replacing whatever (file, link, folder) stood there."""
        *parents, name = path.split("/")
        dir_fd = self._descend(parents, create=True)
        if dir_fd is None:  # pragma: no cover - create=True always yields a folder
            raise UnsafeTree(path, "parent folder could not be made")
        temp = f".{name[:200]}.{uuid.uuid4().hex}.lc-tmp"
        try:
            fd = os.open(
                temp,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                0o600,
                dir_fd=dir_fd,
            )
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                os.fchmod(handle.fileno(), mode)
            _clear_folder(name, dir_fd)
            os.replace(temp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        except BaseException:
            remove_entry(temp, dir_fd)
            raise
        finally:
            os.close(dir_fd)

    def remove(self, path: str) -> None:
        """Remove `path` if it is there, then any folders it leaves empty."""
        *parents, name = path.split("/")
        dir_fd = self._descend(parents, create=False)
        if dir_fd is None:
            return
        try:
            remove_entry(name, dir_fd)
        finally:
            os.close(dir_fd)
        for depth in range(len(parents), 0, -1):
            parent_fd = self._descend(parents[: depth - 1], create=False)
            if parent_fd is None:
                return
            try:
                os.rmdir(parents[depth - 1], dir_fd=parent_fd)
            except OSError:
                return
            finally:
                os.close(parent_fd)

    def _descend(self, parts: list[str], *, create: bool) -> int | None:
        """Open the folder `parts` under the root without following any link."""
        fd = os.dup(self._fd)
        for part in parts:
            try:
                next_fd = _open_folder(part, fd, create=create)
            finally:
                os.close(fd)
            if next_fd is None:
                return None
            fd = next_fd
        return fd


def _open_folder(name: str, dir_fd: int, *, create: bool) -> int | None:
    try:
        return os.open(name, FOLDER_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        if not create:
            return None
    except OSError as exc:
        # ELOOP: a symlink; ENOTDIR: a file or a FIFO. Either way it is not our folder.
        if exc.errno not in {errno.ELOOP, errno.ENOTDIR} or not create:
            return None
        os.unlink(name, dir_fd=dir_fd)
    os.mkdir(name, 0o755, dir_fd=dir_fd)
    return os.open(name, FOLDER_FLAGS, dir_fd=dir_fd)


def _regular_as_listed(info: os.stat_result, entry: FileEntry) -> bool:
    return (
        stat.S_ISREG(info.st_mode)
        and info.st_size == entry.size
        and stat.S_IMODE(info.st_mode) == entry.mode
    )


def _clear_folder(name: str, dir_fd: int) -> None:
    """A folder where a file must go is removed, however deep (links inside are not followed)."""
    try:
        info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return
    if stat.S_ISDIR(info.st_mode):
        remove_entry(name, dir_fd)
