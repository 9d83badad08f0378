"""Where this process's memory cgroup is, and what to write there to bound a build.

Pure: the text of /proc/self/mountinfo and /proc/self/cgroup in, the folder of
our memory cgroup and the files of a limit out, for cgroup v1 (the memory
controller's own hierarchy) and v2 (the unified one). Reading and writing those
files is the adapter's job (`adapters/cgroups.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


class CgroupVersion(StrEnum):
    """Which cgroup interface holds the memory controller."""

    V1 = "v1"
    V2 = "v2"


@dataclass(frozen=True)
class MemoryHierarchy:
    """Our own memory cgroup: builds get child cgroups of it."""

    version: CgroupVersion
    own: str  # the host path of our cgroup's folder

    @property
    def oom_counter(self) -> str:
        """The file whose `oom_kill N` line counts the OOM killer's victims in a cgroup."""
        return "memory.oom_control" if self.version is CgroupVersion.V1 else "memory.events"

    def limit_files(self, memory_bytes: int) -> tuple[tuple[str, str], ...]:
        """The files (in write order) that bound a build's cgroup, swap included.

        On v2 the build's children (one per step) get memory files of their own,
        their OOM count among them, only where the build hands the controller down.
        """
        if self.version is CgroupVersion.V1:
            # memsw (memory + swap) may not be below the memory limit, so it comes second.
            return (
                ("memory.limit_in_bytes", str(memory_bytes)),
                ("memory.memsw.limit_in_bytes", str(memory_bytes)),
            )
        return (
            ("memory.max", str(memory_bytes)),
            ("memory.swap.max", "0"),
            ("cgroup.subtree_control", "+memory"),
        )


_MOUNTINFO_FIELDS = 5  # id, parent, device, root, mount point (then options)
_FS_FIELDS = 3  # after " - ": type, source, super options
_OOM_KILL = re.compile(r"^oom_kill (\d+)$", re.MULTILINE)


def find_memory_hierarchy(mountinfo: str, proc_cgroup: str) -> MemoryHierarchy | None:
    """Our memory cgroup, v1 first (a hybrid host's unified hierarchy has no memory controller)."""
    v1 = _mount_of(mountinfo, lambda fstype, options: fstype == "cgroup" and "memory" in options)
    own_v1 = _own_path(proc_cgroup, lambda controllers: "memory" in controllers.split(","))
    if v1 is not None and own_v1 is not None:
        return MemoryHierarchy(CgroupVersion.V1, _join(v1, own_v1))
    v2 = _mount_of(mountinfo, lambda fstype, _options: fstype == "cgroup2")
    own_v2 = _own_path(proc_cgroup, lambda controllers: controllers == "")
    if v2 is not None and own_v2 is not None:
        return MemoryHierarchy(CgroupVersion.V2, _join(v2, own_v2))
    return None


def oom_kills(counter_text: str) -> int:
    """How many processes the OOM killer ended, from `memory.oom_control` or `memory.events`."""
    found = _OOM_KILL.search(counter_text)
    return int(found.group(1)) if found else 0


def _mount_of(mountinfo: str, wanted: Callable[[str, list[str]], bool]) -> tuple[str, str] | None:
    """(mount root, mount point) of the first mount `wanted(fstype, super options)` accepts."""
    for line in mountinfo.splitlines():
        mine, _, theirs = line.partition(" - ")
        fields, extra = mine.split(), theirs.split()
        if (
            len(fields) >= _MOUNTINFO_FIELDS
            and len(extra) >= _FS_FIELDS
            and wanted(extra[0], extra[2].split(","))
        ):
            return fields[3], fields[4]
    return None


def _own_path(proc_cgroup: str, wanted: Callable[[str], bool]) -> str | None:
    for line in proc_cgroup.splitlines():
        _, controllers, path = line.split(":", 2)
        if wanted(controllers):
            return path
    return None


def _join(mount: tuple[str, str], own: str) -> str:
    root, point = mount
    if root != "/" and own.startswith(root):  # a host that mounted only a subtree
        own = own[len(root) :]
    return point.rstrip("/") + "/" + own.strip("/") if own.strip("/") else point
