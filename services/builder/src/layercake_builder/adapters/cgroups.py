"""Memory cgroups of builds: one per build slot with the build's bound, one per step below it.

RLIMIT_DATA counts one process, and tmpfs pages count for no process at all: a
build's memory is bounded as a whole only by a cgroup (tmpfs pages are charged
to the writer's cgroup). The step's own cgroup tells whose process the OOM
killer ended, when steps of a build run side by side. Only root makes cgroups;
where none can be made, builds run without one and the sized tmpfs mounts and
rlimits are their bound. On v2 our own cgroup must hand memory down (systemd's
Delegate=yes with the builder in a leaf of its own); else builds run without one
and the start says so. Shell over `core/cgroups.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from layercake_builder.core.cgroups import (
    CgroupVersion,
    MemoryHierarchy,
    find_memory_hierarchy,
    oom_kills,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

log = structlog.get_logger(__name__)

_REMOVE_TIMEOUT_S = 10.0


class BuildMemory:
    """The memory cgroups of this builder's builds (none when `hierarchy` is None)."""

    def __init__(self, hierarchy: MemoryHierarchy | None, memory_bytes: int) -> None:
        self.hierarchy = hierarchy
        self._bytes = memory_bytes
        self._builds: dict[int, Path] = {}

    @classmethod
    def detect(cls, memory_bytes: int) -> BuildMemory:
        """Our memory cgroup if we may make children there (as root, v1 or delegated v2)."""
        hierarchy = None
        if os.geteuid() == 0:
            with contextlib.suppress(OSError):
                hierarchy = find_memory_hierarchy(
                    Path("/proc/self/mountinfo").read_text(), Path("/proc/self/cgroup").read_text()
                )
        if hierarchy is not None and not _delegates_memory(hierarchy):
            hierarchy = None
        if hierarchy is None:
            log.warning("memory_cgroup_unavailable", bound="rlimits and sized tmpfs only")
        return cls(hierarchy, memory_bytes)

    def open_build(self, slot: int) -> None:
        """A fresh cgroup for the build in `slot`, bounded; one a killed builder left goes first."""
        if self.hierarchy is None:
            return
        folder = Path(self.hierarchy.own) / f"layercake-build-{slot}"
        if folder.exists():
            _remove(folder)
        folder.mkdir()
        for name, value in self.hierarchy.limit_files(self._bytes):
            if (folder / name).exists():  # no memsw file where swap accounting is off
                (folder / name).write_text(value)
        self._builds[slot] = folder

    def close_build(self, slot: int) -> None:
        """Remove the build's cgroup, killing whatever is still inside it."""
        folder = self._builds.pop(slot, None)
        if folder is not None:
            _remove(folder)

    @contextlib.asynccontextmanager
    async def step(self, slot: int) -> AsyncIterator[Path | None]:
        """A cgroup for one step of the build in `slot`, removed after it (None: no cgroups)."""
        build = self._builds.get(slot)
        if build is None:
            yield None
            return
        folder = build / f"step-{uuid.uuid4().hex[:12]}"
        folder.mkdir()
        try:
            yield folder
        finally:
            await asyncio.to_thread(_remove, folder)

    def oom_killed(self, step: Path | None) -> bool:
        """Whether the OOM killer ended a process of `step`."""
        if step is None or self.hierarchy is None:
            return False
        return oom_kills((step / self.hierarchy.oom_counter).read_text()) > 0


def _delegates_memory(hierarchy: MemoryHierarchy) -> bool:
    own = Path(hierarchy.own)
    if hierarchy.version is CgroupVersion.V1:
        return os.access(own, os.W_OK)
    try:
        if "memory" not in (own / "cgroup.controllers").read_text().split():
            return False
        if "memory" not in (own / "cgroup.subtree_control").read_text().split():
            # Refused (EBUSY) while our own cgroup holds processes: v2 wants us in a leaf.
            (own / "cgroup.subtree_control").write_text("+memory")
    except OSError as exc:
        log.warning("memory_cgroup_not_delegated", cgroup=str(own), error=str(exc))
        return False
    return True


def _remove(folder: Path) -> None:
    """Kill the processes of `folder` and its children, then remove them, deepest first."""
    for child in [p for p in folder.iterdir() if p.is_dir()]:
        _remove(child)
    deadline = time.monotonic() + _REMOVE_TIMEOUT_S
    while True:
        for pid in (folder / "cgroup.procs").read_text().split():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        try:
            folder.rmdir()
        except OSError:  # EBUSY until the killed processes have left
            if time.monotonic() > deadline:
                log.exception("memory_cgroup_not_removed", cgroup=str(folder))
                return
            time.sleep(0.02)
        else:
            return
