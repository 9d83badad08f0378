"""The builder's own files against a hostile install, on both sandbox back-ends.

A preinstall script plants a link or a FIFO where the builder used to keep its
install key (`/cache/node.install.key`). Builds go through the real
`BuildService` and `StepRunner` on a real nats-server; the builder (root here)
must neither write the host file a link names, nor hang on a FIFO, nor read
`/dev/zero` until its memory is gone.
"""

from __future__ import annotations

import contextlib
import errno
import os
import resource
from typing import TYPE_CHECKING

import pytest

from layercake_contracts.events import BuildSucceeded
from layercake_contracts.values import Step

from .conftest import Background, preinstalling

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [
    pytest.mark.nats,
    pytest.mark.timeout(900),
    pytest.mark.skipif(os.geteuid() != 0, reason="slot users need root"),
]

PLANTED = "/cache/node.install.key"  # where the install key lived, writable by the step


def planting(preinstall: str) -> dict[str, bytes]:
    """A Node project with no dependencies whose install runs `preinstall` in the sandbox."""
    return {"package.json": preinstalling(preinstall).encode()}


class FifoWatch(Background):
    """Notices the builder opening a FIFO (and lets it go on, so a failing test ends).

    Nothing in the sandbox opens the FIFO; only the builder could. A writer
    blocked in open() shows up as data on our read side; a blocked reader as a
    write-side open that succeeds (it fails with ENXIO while nobody reads).
    """

    def __init__(self, fifo: Path) -> None:
        super().__init__()
        self._fifo = fifo
        self.opened_by_builder = False

    def tick(self) -> None:
        if self._fifo.exists():
            with contextlib.suppress(OSError):
                reader = os.open(self._fifo, os.O_RDONLY | os.O_NONBLOCK)
                try:
                    self._stop.wait(0.3)
                    with contextlib.suppress(BlockingIOError):
                        self.opened_by_builder |= bool(os.read(reader, 4096))
                finally:
                    os.close(reader)
            try:
                os.close(os.open(self._fifo, os.O_WRONLY | os.O_NONBLOCK))
                self.opened_by_builder = True
            except OSError as exc:
                if exc.errno not in {errno.ENXIO, errno.ENOENT}:  # ENOENT: the disk went
                    raise


@contextlib.contextmanager
def data_limit(max_bytes: int):
    """Cap this process's heap, so a read without end fails at once instead of eating the host."""
    soft, hard = resource.getrlimit(resource.RLIMIT_DATA)
    resource.setrlimit(resource.RLIMIT_DATA, (max_bytes, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_DATA, (soft, hard))


async def test_an_install_key_linked_to_a_host_file_leaves_that_file_unchanged(builds):
    """The install plants a link to a host file at the key's old place; the file keeps its bytes."""
    victim = builds.outside / "victim.conf"
    victim.write_text("precious\n")
    files = planting(f"ln -sfn {victim} {PLANTED}")

    first = await builds.build("link-victim", files)
    second = await builds.build("link-victim", files)

    assert isinstance(first, BuildSucceeded), first.results[0].output
    assert isinstance(second, BuildSucceeded), second.results[0].output
    assert victim.read_text() == "precious\n"
    assert not victim.is_symlink()


async def test_an_install_key_made_a_fifo_does_not_hang_the_builder(builds):
    """The install makes the key's old place a FIFO; the builder never opens it and the next build completes."""
    # Seen from the host only while the build runs (the project's disk is mounted then).
    fifo = builds.root / "fifo-key" / "volume" / "cache" / "node.install.key"
    files = planting(f"[ -p {PLANTED} ] || mkfifo {PLANTED}; [ -p {PLANTED} ] && echo planted-fifo")

    with FifoWatch(fifo) as watch:
        first = await builds.build("fifo-key", files)
        second = await builds.build("fifo-key", files)

    assert "planted-fifo" in first.results[0].output, "the attack planted its FIFO"
    assert not watch.opened_by_builder, "the builder opened the FIFO and blocked on it"
    assert isinstance(first, BuildSucceeded), first.results[0].output
    assert isinstance(second, BuildSucceeded), second.results[0].output


async def test_an_install_key_linked_to_dev_zero_is_not_read_without_end(builds):
    """The install links the key's old place to /dev/zero; the next build reads no more than a key."""
    files = planting(f"ln -sfn /dev/zero {PLANTED}")

    first = await builds.build("zero-key", files)
    with data_limit(3 * 1024**3):  # far above what a build needs, far below reading /dev/zero dry
        second = await builds.build("zero-key", files)

    assert isinstance(first, BuildSucceeded), first.results[0].output
    assert isinstance(second, BuildSucceeded), second.results[0].output
    assert second.results[0].step is Step.INSTALL
