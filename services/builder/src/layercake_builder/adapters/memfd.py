"""Anonymous in-memory files that hand a sandbox its inputs at start.

What they hold is at no path the sandbox could find, and, unlike a pipe's, their
content is not bounded by a buffer the reader must drain while we write.
"""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator


@contextlib.contextmanager
def memfds(count: int) -> Iterator[tuple[int, ...]]:
    """`count` empty memfds, closed on exit (close-on-exec: only `pass_fds` hands them on)."""
    fds: list[int] = []
    try:
        fds.extend(os.memfd_create("layercake-sandbox-input", os.MFD_CLOEXEC) for _ in range(count))
        yield tuple(fds)
    finally:
        for fd in fds:
            os.close(fd)


def fill(fd: int, data: bytes) -> None:
    """Write all of `data` and rewind, so that the reader starts at its beginning."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    os.lseek(fd, 0, os.SEEK_SET)
