"""A project's own file system: bounded in bytes and inodes, nosuid, mounted only while it is built.

Each project gets a file-system image (a sparse file, ext4 with a fixed inode
count) that is loop-mounted nosuid,nodev over its volume while it is built and
unmounted after, so a build can fill neither the disk the bus and the ledger
share nor its inode table, a setuid file it leaves is inert, and the sandbox's
mountinfo shows the volume's own root, not the host's path. Where we are not
root or the host has no loop devices, the volume is a plain folder and the
sandbox's watchdog ends a step whose tree outgrows the same bounds.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from layercake_builder.errors import DiskUnavailable

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

log = structlog.get_logger(__name__)

IMAGE = "disk.ext4"
VOLUME = "volume"
_MB = 1024 * 1024
_MOUNT_OPTIONS = "loop,nosuid,nodev,noatime,discard"  # discard: freed blocks leave the image
_TOOL_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class DiskQuota:
    """How much one project may store: bytes and files (inodes)."""

    size_mb: int = 2048
    inodes: int = 262144


class ProjectDisks:
    """Mounts each project's own file system over its volume for the length of a build."""

    def __init__(self, quota: DiskQuota, *, loop: bool) -> None:
        self.quota = quota
        self.loop = loop

    @classmethod
    def detect(cls, quota: DiskQuota) -> ProjectDisks:
        """Loop-mounted images as root where the tools and loop devices are, else plain folders."""
        tools = all(shutil.which(t) for t in ("mkfs.ext4", "mount", "umount"))
        loop = os.geteuid() == 0 and tools and Path("/dev/loop-control").exists()
        if not loop:
            log.warning("project_disks_unavailable", bound="a watchdog of each step's disk use")
        return cls(quota, loop=loop)

    @contextlib.asynccontextmanager
    async def mounted(self, folder: Path) -> AsyncIterator[Path]:
        """`folder`'s volume, on the project's own file system until the context ends."""
        volume = folder / VOLUME
        await asyncio.to_thread(self._mount, folder, volume)
        try:
            yield volume
        finally:
            if self.loop:
                await asyncio.to_thread(_unmount, volume)

    def _mount(self, folder: Path, volume: Path) -> None:
        volume.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o711)  # the slot user passes through to its 0700 tree; nobody lists
        if self.loop:
            if volume.is_mount():  # left by a builder killed mid-build
                _unmount(volume)
            image = folder / IMAGE
            if not image.exists():
                self._make_image(image)
            _tool("mount", "-o", _MOUNT_OPTIONS, str(image), str(volume), image=image)
        volume.chmod(0o711)

    def _make_image(self, image: Path) -> None:
        partial = image.with_name(f".{image.name}.partial")
        with partial.open("wb") as handle:  # sparse: the host's disk fills only as the project does
            os.fchmod(handle.fileno(), 0o600)
            handle.truncate(self.quota.size_mb * _MB)
        # -m 1: the builder (root) can still write the build's records on a full disk;
        # -J size=4: a journal of 4 MB, not 64, on the host's disk for each project.
        _tool("mkfs.ext4", "-q", "-F", "-m", "1", "-J", "size=4", "-N", str(self.quota.inodes),
              "-E", "root_owner=0:0", str(partial), image=image)  # fmt: skip
        partial.replace(image)
        log.info("project_disk_created", image=str(image), size_mb=self.quota.size_mb)


def _unmount(volume: Path) -> None:
    """Unmount `volume`; the loop device goes with it (mount -o loop sets autoclear)."""
    try:
        _tool("umount", str(volume), image=volume)
    except DiskUnavailable:
        log.exception("project_disk_busy", volume=str(volume))
        _tool("umount", "--lazy", str(volume), image=volume)


def _tool(*argv: str, image: Path) -> None:
    try:
        done = subprocess.run(  # noqa: S603  # our own argv
            argv, capture_output=True, text=True, timeout=_TOOL_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DiskUnavailable(image, f"{argv[0]}: {exc}") from exc
    if done.returncode != 0:
        raise DiskUnavailable(image, f"{argv[0]} (exit {done.returncode}): {done.stderr.strip()}")
