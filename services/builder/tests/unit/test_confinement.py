"""The confined command line: no folder of ours in it, every descriptor it names handed over."""

from __future__ import annotations

import dataclasses
import json

import pytest

from layercake_builder.core import seccomp
from layercake_builder.core.confinement import (
    Backend,
    Confinement,
    Descriptors,
    Limits,
    Mounts,
    confine,
    folder_problem,
    own_etc,
    workdir,
)

FOLDERS = "/srv/builder-root"
PROGRAM = seccomp.encode(seccomp.program())
FDS = Descriptors(args=7, seccomp=8, files=(9, 10, 11))


def confinement(backend: Backend) -> Confinement:
    mounts = Mounts(project=f"{FOLDERS}/trees/p1", cache=f"{FOLDERS}/cache/p1")
    return Confinement(
        backend=backend,
        mounts=mounts,
        limits=Limits(),
        run_as=(61000, 61000),
        trampoline=("/usr/bin/python3", "-I", "-S", "/opt/lc/trampoline.py"),
        new_root=f"{FOLDERS}/support/jail",
        files=own_etc(1000, 61000, 4),
        seccomp=PROGRAM,
    )


@pytest.mark.parametrize("backend", [Backend.BWRAP, Backend.UNSHARE])
def test_no_folder_of_ours_is_in_the_command_line_but_in_a_descriptor(backend):
    launch = confine(
        ("npm", "test"), {"PATH": "/usr/bin"}, confinement(backend), FDS, network=False
    )
    assert [part for part in launch.argv if FOLDERS in part] == []
    assert launch.argv[-2:] == (
        ["npm", "test"] if backend is Backend.BWRAP else ["/opt/lc/trampoline.py", "7"]
    )
    inputs = dict(launch.inputs)
    assert f"{FOLDERS}/trees/p1".encode() in inputs[FDS.args]


def test_bwrap_reads_its_filter_and_our_etc_files_from_the_descriptors_it_is_handed():
    launch = confine(("true",), {}, confinement(Backend.BWRAP), FDS, network=False)
    inputs = dict(launch.inputs)
    options = inputs[FDS.args].decode().split("\0")
    assert options[options.index("--seccomp") + 1] == "8"
    assert inputs[FDS.seccomp] == PROGRAM
    data = [options[i + 1 : i + 3] for i, o in enumerate(options) if o == "--ro-bind-data"]
    assert data == [["9", "/etc/passwd"], ["10", "/etc/group"], ["11", "/etc/hosts"]]
    assert b"builder3:x:61003:61003:" in inputs[9]
    assert "--disable-userns" in options
    assert launch.argv[launch.argv.index("bwrap") :][:3] == ["bwrap", "--args", "7"]


def test_the_trampoline_spec_names_the_descriptors_of_its_filter_and_files():
    launch = confine(("true",), {}, confinement(Backend.UNSHARE), FDS, network=False)
    inputs = dict(launch.inputs)
    spec = json.loads(inputs[FDS.args])
    assert spec["seccomp"] == 8
    assert spec["files"] == [["/etc/passwd", 9], ["/etc/group", 10], ["/etc/hosts", 11]]
    assert inputs[10] == b"root:x:0:\n"
    assert all(target != "/etc/passwd" for _, target, *_ in spec["binds"])


def test_running_bare_hands_over_no_descriptor():
    launch = confine(("true",), {}, confinement(Backend.NONE), FDS, network=False)
    assert launch.inputs == ()
    assert launch.argv[-1] == "true"


def test_a_command_of_a_toolchain_in_a_folder_starts_there_on_both_back_ends():
    """`Mounts.workdir` is bwrap's `--chdir` and the trampoline's `cwd`."""
    how = confinement(Backend.BWRAP)
    how = dataclasses.replace(how, mounts=dataclasses.replace(how.mounts, workdir=workdir("web")))
    options = dict(confine(("true",), {}, how, FDS, network=False).inputs)[FDS.args].split(b"\0")
    assert options[options.index(b"--chdir") + 1] == b"/workspace/web"
    how = dataclasses.replace(how, backend=Backend.UNSHARE)
    spec = json.loads(dict(confine(("true",), {}, how, FDS, network=False).inputs)[FDS.args])
    assert spec["cwd"] == "/workspace/web"


@pytest.mark.parametrize("folder", ["../outside", "/etc", "web/../..", "web/"])
def test_a_folder_that_is_no_plain_relative_folder_of_the_project_is_named_a_problem(folder):
    assert folder_problem(folder)
    assert folder_problem("apps/web") is None
    assert folder_problem("") is None
