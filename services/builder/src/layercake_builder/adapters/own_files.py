"""The builder's own files on the host: install keys, reports, build records.

The builder runs as root, and a sandboxed step may have planted links, FIFOs
or devices wherever it could write (issue #14). So what the builder keeps
lives in folders the sandbox never sees (`private_folder`), is replaced
atomically (`write_atomically`), and is read only as a regular file reached
without following any link, without blocking, and up to a size
(`read_regular`). These functions block: callers on the event loop run them
with `asyncio.to_thread`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import uuid
from typing import TYPE_CHECKING

from layercake_builder.errors import PrivateFolderUnsafe

if TYPE_CHECKING:
    from pathlib import Path

_NOT_THERE = {errno.ENOENT, errno.ELOOP, errno.ENOTDIR}


def private_folder(path: Path, mode: int = 0o700) -> Path:
    """`path` as a real folder of ours with exactly `mode`; refuses a link or anyone else's."""
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=mode, parents=True)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode):
        raise PrivateFolderUnsafe(path, "not a folder (a link or a file)")
    if info.st_uid != os.geteuid():
        raise PrivateFolderUnsafe(path, f"owned by uid {info.st_uid}")
    os.chmod(path, mode, follow_symlinks=False)  # noqa: PTH101  # not through a link
    return path


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` at once; a link at `path` is replaced, never followed."""
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        temp.replace(path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def read_regular(folder: Path, relative: str, max_bytes: int) -> bytes | None:
    """At most `max_bytes` of the regular file `folder/relative`, or None if there is none.

    No part of `relative` may be a link, and the file must be a regular file:
    a FIFO, a device or a link to one reads as None instead of blocking or
    reading forever.
    """
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError as exc:
        if exc.errno in _NOT_THERE:
            return None
        raise
    try:
        *folders, name = relative.split("/")
        for part in folders:
            next_fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = next_fd
        file_fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=fd)
    except OSError as exc:
        if exc.errno in _NOT_THERE:
            return None
        raise
    finally:
        os.close(fd)
    with os.fdopen(file_fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            return None
        return handle.read(max_bytes)
