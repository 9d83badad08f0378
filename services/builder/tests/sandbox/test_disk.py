"""A project's disk and inode quota, its nosuid file system, and what the sandbox sees of its path
(issue #14: 8, 11), on both sandbox back-ends."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path

import pytest

from layercake_builder.adapters.cgroups import BuildMemory
from layercake_builder.adapters.disks import IMAGE, DiskQuota, ProjectDisks
from layercake_builder.adapters.sandbox import Sandbox

from .conftest import LIMITS, codes

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="slot users and loop mounts need root; see the sandbox README"
)

QUOTA = DiskQuota(size_mb=32, inodes=2048)
MB = 1024 * 1024


@pytest.fixture
async def on_disk(jail):
    """The jail with its tree and cache on a project disk of 32 MB and 2048 inodes."""
    folder = jail.project.parent / "a-project"
    async with ProjectDisks(QUOTA, loop=True).mounted(folder) as volume:
        tree, cache = volume / "tree", volume / "cache"
        tree.mkdir()
        cache.mkdir()
        yield dataclasses.replace(jail, project=tree, cache=cache)
    assert not (folder / "volume").is_mount()


def loop_devices_of(image: Path) -> str:
    argv = ["losetup", "--associated", str(image)]
    return subprocess.run(  # noqa: S603  # fixed arguments
        argv, capture_output=True, text=True, check=True
    ).stdout.strip()


def mount_options(point: Path) -> set[str]:
    [line] = [m for m in Path("/proc/self/mountinfo").read_text().splitlines()
              if m.split()[4] == str(point)]  # fmt: skip
    return set(line.split()[5].split(","))


async def test_a_step_cannot_fill_the_host_disk_past_the_project_quota(on_disk):
    """100 MB written against a 32 MB quota: the step fails with disk_quota, and the host
    holds at most the image's 32 MB of it."""
    script = on_disk.script(
        "fill.py",
        "for n in range(100):\n    with open(f'f{n}', 'wb') as f:\n"
        "        f.write(b'x' * (1024 * 1024))\n",
    )
    done = await on_disk.run("python3", script)
    assert done.exit_code != 0, done.output
    assert "disk_quota" in codes(done), done.output[-1000:]
    image = on_disk.project.parent.parent / IMAGE
    assert image.stat().st_blocks * 512 <= QUOTA.size_mb * MB
    written = sum(p.stat().st_size for p in on_disk.project.glob("f*"))
    assert 16 * MB < written < QUOTA.size_mb * MB


async def test_a_step_cannot_create_files_past_the_inode_quota(on_disk):
    """5000 empty files against 2048 inodes: the step fails with disk_quota, fewer than 2048 exist."""
    script = on_disk.script(
        "many.py",
        "import os\nos.mkdir('d')\nfor n in range(5000):\n    open(f'd/{n}', 'w').close()\n",
    )
    done = await on_disk.run("python3", script)
    assert done.exit_code != 0, done.output
    assert "disk_quota" in codes(done), done.output[-1000:]
    assert 1000 < len(os.listdir(on_disk.project / "d")) < QUOTA.inodes


async def test_the_project_disk_is_mounted_nosuid_and_nodev_and_released_after_the_build(jail):
    """While built, the volume is its own nosuid,nodev file system on a loop device; after, it is
    unmounted and the loop device is free again (this host has only eight)."""
    folder = jail.project.parent / "a-project"
    async with ProjectDisks(QUOTA, loop=True).mounted(folder) as volume:
        assert {"nosuid", "nodev"} <= mount_options(volume)
        assert loop_devices_of(folder / IMAGE) != ""
    assert not volume.is_mount()
    assert loop_devices_of(folder / IMAGE) == ""


async def test_the_sandbox_does_not_see_the_host_path_of_its_project(on_disk):
    """/proc/self/mountinfo inside shows the project's file system from its own root."""
    done = await on_disk.run("cat", "/proc/self/mountinfo")
    assert done.exit_code == 0, done.output
    [workspace] = [m for m in done.output.splitlines() if m.split()[4] == "/workspace"]
    assert str(on_disk.project.parent.parent) not in done.output
    assert workspace.split()[3] == "/tree"


async def test_without_a_project_disk_a_watchdog_ends_a_step_that_takes_more_than_the_quota(jail):
    """The fallback (no root, no loop device): a step writing 200 MB into a plain folder,
    against 32 MB, is stopped well before the end with disk_quota, and not called a CPU limit."""
    sandbox = Sandbox(
        jail.sandbox.backend, LIMITS, jail.support, slots=1, output_cap_bytes=1024 * 1024,
        memory=BuildMemory(None, 0), disk_quota=QUOTA,
    )  # fmt: skip
    watched = dataclasses.replace(jail, sandbox=sandbox)
    script = watched.script(
        "fill.py",
        "import os, time\nfor n in range(200):\n    with open(f'f{n}', 'wb') as f:\n"
        "        f.write(b'x' * (1024 * 1024))\n        f.flush()\n        os.fsync(f.fileno())\n"
        "    time.sleep(0.01)\n",
    )
    done = await watched.run("python3", script)
    assert done.exit_code != 0, done.output
    assert "disk_quota" in codes(done)
    assert "cpu_limit" not in codes(done)
    written = sum(p.stat().st_size for p in jail.project.glob("f*"))
    assert written < 100 * MB  # the disk's free space also counts others' writes: no lower bound
