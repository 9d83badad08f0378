"""Finding our memory cgroup in /proc text, and what bounds a build there, on cgroup v1 and v2."""

from __future__ import annotations

from layercake_builder.core.cgroups import (
    CgroupVersion,
    MemoryHierarchy,
    find_memory_hierarchy,
    oom_kills,
)
from layercake_builder.core.findings import sandbox_findings

HYBRID_MOUNTS = """\
30 25 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
34 30 0:30 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 30 0:36 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""
HYBRID_CGROUP = "9:name=systemd:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n"
UNIFIED_MOUNTS = "29 24 0:25 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
UNIFIED_CGROUP = "0::/system.slice/layercake-builder.service\n"


def test_a_hybrid_host_uses_the_v1_memory_controller_under_our_own_cgroup():
    """/proc/self/cgroup's memory line, under the memory controller's mount."""
    assert find_memory_hierarchy(HYBRID_MOUNTS, HYBRID_CGROUP) == MemoryHierarchy(
        CgroupVersion.V1, "/sys/fs/cgroup/memory/process_api/abc"
    )


def test_a_unified_host_uses_v2_under_our_own_cgroup():
    """The "0::" line, under the cgroup2 mount."""
    assert find_memory_hierarchy(UNIFIED_MOUNTS, UNIFIED_CGROUP) == MemoryHierarchy(
        CgroupVersion.V2, "/sys/fs/cgroup/system.slice/layercake-builder.service"
    )


def test_a_host_without_cgroup_mounts_has_no_memory_hierarchy():
    """No cgroup file system mounted: builds run without a cgroup."""
    assert find_memory_hierarchy("22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", HYBRID_CGROUP) is None


def test_the_limit_counts_swap_too_on_both_versions():
    """v1 bounds memory and memory+swap (in that order); v2 bounds memory, forbids swap, and
    hands the controller down to the steps' cgroups."""
    assert MemoryHierarchy(CgroupVersion.V1, "/x").limit_files(256) == (
        ("memory.limit_in_bytes", "256"),
        ("memory.memsw.limit_in_bytes", "256"),
    )
    assert MemoryHierarchy(CgroupVersion.V2, "/x").limit_files(256) == (
        ("memory.max", "256"),
        ("memory.swap.max", "0"),
        ("cgroup.subtree_control", "+memory"),
    )


def test_oom_kills_are_read_from_oom_control_and_from_memory_events():
    """The `oom_kill N` line of either file; none is zero."""
    assert oom_kills("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n") == 2
    assert oom_kills("low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\noom_group_kill 0\n") == 1
    assert oom_kills("oom_kill_disable 0\nunder_oom 0\n") == 0


def test_a_process_the_cgroup_killed_is_out_of_memory_not_a_cpu_limit():
    """SIGKILL by the OOM killer is reported as memory, whatever the step printed."""
    found = sandbox_findings(
        exit_code=-9, signal_number=9, timed_out=False, timeout_s=5, output="",
        dropped_bytes=0, oom_killed=True,
    )  # fmt: skip
    assert [d.code for d in found] == ["out_of_memory"]


def test_a_failed_step_on_a_full_disk_has_a_disk_quota_finding():
    """A full project disk (or ENOSPC in the output) on a failed step says so; a passing one not."""
    full = {"exit_code": 1, "signal_number": None, "timed_out": False, "timeout_s": 5,
            "dropped_bytes": 0}  # fmt: skip
    assert [d.code for d in sandbox_findings(**full, output="", disk_full=True)] == ["disk_quota"]
    said = sandbox_findings(**full, output="OSError: [Errno 28] No space left on device")
    assert [d.code for d in said] == ["disk_quota"]
    assert sandbox_findings(**{**full, "exit_code": 0}, output="", disk_full=True) == ()
