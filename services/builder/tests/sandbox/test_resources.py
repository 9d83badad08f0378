"""Memory through tmpfs, setuid files and readable trees, on both sandbox back-ends (issue #14: 7, 11)."""

from __future__ import annotations

import dataclasses
import os
import stat
from pathlib import Path

import pytest

from layercake_builder.adapters.cgroups import BuildMemory
from layercake_builder.adapters.sandbox import SLOT_UID_BASE, Sandbox

from .conftest import LIMITS, Background, codes

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="slot users need root; see the sandbox README"
)

MB = 1024 * 1024
MEMORY_LIMIT = 256 * MB  # the jail fixture's Limits.memory_mb
# Other tests share this machine's memory: a little of their Shmem may land in the window.
NOISE = 64 * MB

# 100 MB (in 10 MB files, under the file-size limit) in each tmpfs a step can write,
# 600 MB in all, held until the host has looked; a clean exit only if every write worked.
FILL_TMPFS = """import os, sys, time
failed = []
for place in ('/tmp/a', '/tmp/b', '/dev/shm/c', '/dev/shm/d', '/e', '/dev/f'):
    try:
        for n in range(10):
            with open(f'{place}{n}', 'wb') as f:
                for _ in range(10):
                    f.write(b'x' * (1024 * 1024))
    except OSError as e:
        failed.append(place)
        print('FAILED', place, e, flush=True)
print('WROTE', flush=True)
time.sleep(1)
sys.exit(1 if failed else 0)
"""

# Three processes of 200 MB each: every one is under the per-process RLIMIT_DATA,
# together they are far over the build's memory.
MANY_PROCESSES = """import multiprocessing, time
def hold():
    block = bytearray(200 * 1024 * 1024)
    for i in range(0, len(block), 4096):
        block[i] = 1
    time.sleep(3)
if __name__ == '__main__':
    workers = [multiprocessing.Process(target=hold) for _ in range(3)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    raise SystemExit(max(w.exitcode != 0 for w in workers))
"""


class ShmemPeak(Background):
    """The highest Shmem of /proc/meminfo while it runs, sampled in a thread."""

    interval = 0.01

    def __init__(self) -> None:
        super().__init__()
        self.start = self.peak = _shmem()

    def tick(self) -> None:
        self.peak = max(self.peak, _shmem())


def _shmem() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("Shmem:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no Shmem line in /proc/meminfo")


@pytest.fixture(params=["memory cgroup", "tmpfs sizes alone"])
def bounded(request, jail):
    """The jail as it is (a memory cgroup per build), or without a cgroup, tmpfs sized 64 MB."""
    if request.param == "memory cgroup":
        assert BuildMemory.detect(MEMORY_LIMIT).hierarchy is not None, "this host has cgroups"
        return jail
    limits = dataclasses.replace(LIMITS, tmpfs_mb=64)
    sandbox = Sandbox(
        jail.sandbox.backend, limits, jail.support, slots=1, output_cap_bytes=1024 * 1024,
        memory=BuildMemory(None, 0),
    )  # fmt: skip
    return dataclasses.replace(jail, sandbox=sandbox)


async def test_files_in_tmpfs_cannot_take_more_host_memory_than_the_limit(bounded):
    """600 MB of files in /tmp, /dev/shm, / and /dev against a 256 MB limit: the step
    fails (out of memory or no space), and the host's shared memory never grows past the limit."""
    jail = bounded
    script = jail.script("fill.py", FILL_TMPFS)
    with ShmemPeak() as shmem:
        done = await jail.run("python3", script, timeout_s=60)
    assert done.exit_code != 0, done.output[-2000:]
    assert "out_of_memory" in codes(done) or "No space left on device" in done.output, done.output
    assert shmem.peak - shmem.start < MEMORY_LIMIT + NOISE, (shmem.start, shmem.peak)


async def test_processes_together_over_the_memory_limit_are_reported_as_out_of_memory(jail):
    """A build's processes share one memory bound: three of 200 MB each against 256 MB are
    stopped, and the finding says out of memory (not a CPU limit)."""
    script = jail.script("many.py", MANY_PROCESSES)
    done = await jail.run("python3", script, timeout_s=60)
    assert done.exit_code != 0, done.output[-2000:]
    assert "out_of_memory" in codes(done), done.output[-2000:]
    assert "cpu_limit" not in codes(done)


async def test_a_setuid_copy_made_by_a_step_is_not_setuid_on_the_host(jail):
    """A step's `chmod 4755` (and 2755) copy of `id` has neither bit once the step is over."""
    done = await jail.run(
        "sh", "-c", "cp /usr/bin/id ./suid && chmod 4755 ./suid && mkdir -p deep/er"
        " && cp /usr/bin/id deep/er/sgid && chmod 2755 deep/er/sgid && ls -l suid deep/er/sgid",
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "rws" in done.output, "inside, the step did set the bit"
    for made in (jail.project / "suid", jail.project / "deep" / "er" / "sgid"):
        mode = made.stat().st_mode
        assert not mode & (stat.S_ISUID | stat.S_ISGID), oct(mode)
        assert mode & 0o777 == 0o755


async def test_a_project_folder_is_private_to_the_slot_user_that_builds_it(jail):
    """While a build holds its slot, its tree and cache are 0700 and owned by the slot's user:
    another uid (the next project's slot user reuses a uid later) cannot read them."""
    (jail.project / "src").mkdir()
    (jail.project / "src" / "secret.py").write_text("KEY = 1\n")
    async with jail.sandbox.slot(jail.project, jail.cache) as slot:
        uid = SLOT_UID_BASE + slot
        for folder in (jail.project, jail.cache):
            info = folder.stat()
            assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o700, uid), folder
        assert (jail.project / "src" / "secret.py").stat().st_uid == uid
