"""The command lines that bound a step's memory: its cgroup joined first, every tmpfs sized."""

from __future__ import annotations

import json

from layercake_builder.core.confinement import (
    Backend,
    Confinement,
    Descriptors,
    Launch,
    Limits,
    Mounts,
    confine,
)

MOUNTS = Mounts(project="/p/volume/tree", cache="/p/volume/cache")
FDS = Descriptors(args=7, seccomp=8, files=())
LIMITS = Limits(tmpfs_mb=64)
PROCS = "/sys/fs/cgroup/memory/builder/layercake-build-3/step-1/cgroup.procs"


def launch(backend: Backend, cgroup_procs: str = "") -> Launch:
    how = Confinement(
        backend=backend, mounts=MOUNTS, limits=LIMITS, run_as=(61003, 61003),
        trampoline=("python3", "trampoline.py"), new_root="/s/jail", cgroup_procs=cgroup_procs,
    )  # fmt: skip
    return confine(("npm", "test"), {"PATH": "/usr/bin"}, how, FDS, network=False)


def argv(backend: Backend, cgroup_procs: str = "") -> list[str]:
    return launch(backend, cgroup_procs).argv


def bwrap_options() -> list[str]:
    """What bwrap reads from `--args`: its options, NUL-separated."""
    return dict(launch(Backend.BWRAP).inputs)[FDS.args].decode().split("\0")[:-1]


def test_a_step_joins_its_cgroup_as_root_before_it_drops_privileges():
    """The wrapper writes its own pid to cgroup.procs and execs setpriv: nothing runs outside."""
    line = argv(Backend.BWRAP, PROCS)
    assert line[:4] == ["sh", "-c", 'echo $$ > "$0" && exec "$@"', PROCS]
    assert line[4] == "setpriv"


def test_without_a_cgroup_the_step_starts_with_setpriv():
    """No memory cgroup here: no wrapper."""
    assert argv(Backend.BWRAP)[0] == "setpriv"


def test_bwrap_sizes_tmp_and_dev_shm_and_makes_its_root_and_dev_read_only():
    """Each tmpfs the step may write has --size first; the unsizable ones are remounted read-only."""
    line = bwrap_options()
    size = ["--size", str(64 * 1024 * 1024), "--tmpfs"]
    for target in ("/tmp", "/dev/shm"):  # noqa: S108  # paths inside the sandbox
        at = line.index(target, line.index("--dev"))
        assert line[at - 3 : at] == size, target
    first = line.index("--remount-ro")
    assert line[first : first + 4] == ["--remount-ro", "/dev", "--remount-ro", "/"]


def test_the_unshare_jail_is_told_the_size_of_its_tmpfs():
    """The trampoline's spec carries the bytes of /tmp and /dev/shm."""
    spec = json.loads(dict(launch(Backend.UNSHARE).inputs)[FDS.args])
    assert spec["tmpfs_bytes"] == 64 * 1024 * 1024
