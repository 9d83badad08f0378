"""What a step can learn of the host's folders, on both sandbox back-ends: no command line and
no mount of ours (but the project's and cache's own binds) names the builder's folders."""

from __future__ import annotations

import os

import pytest

from layercake_builder.adapters.sandbox import SLOT_UID_BASE

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="slot users need root; see the sandbox README"
)

EVERY_COMMAND_LINE = """import glob
for path in sorted(glob.glob("/proc/[0-9]*/cmdline")):
    try:
        print(path, open(path, "rb").read().replace(b"\\0", b" ").decode())
    except OSError as error:
        print(path, "unreadable", error.errno)
"""


def host_names(jail) -> set[str]:
    """The base folder the fixture made, and its name (a mount's root shows it relative to
    the file system the folder lives on)."""
    base = jail.project.parent
    return {str(base), base.name}


async def test_no_command_line_inside_names_a_host_folder(jail):
    """`/proc/1/cmdline` and every other readable `/proc/*/cmdline` hold no host path."""
    done = await jail.run("python3", jail.script("cmdlines.py", EVERY_COMMAND_LINE))
    assert done.exit_code == 0, done.output
    assert "/proc/1/cmdline" in done.output
    assert [name for name in host_names(jail) if name in done.output] == [], done.output


async def test_no_mount_but_the_project_and_cache_names_a_host_folder(jail):
    """`/proc/self/mountinfo` shows our own etc files as data, not as binds of our folders.

    The project and cache binds keep their source's path as the mount's root until each
    is a file system of its own.
    """
    done = await jail.run("cat", "/proc/self/mountinfo")
    lines = done.output.splitlines()
    assert any(line.split()[4] == "/workspace" for line in lines), done.output
    others = [line for line in lines if line.split()[4] not in {"/workspace", "/cache"}]
    assert [line for line in others if any(n in line for n in host_names(jail))] == []


async def test_the_sandbox_users_are_still_named_inside(jail):
    """The step still finds its user, group and localhost in its /etc."""
    done = await jail.run("sh", "-c", "id -u; id -un; grep -c localhost /etc/hosts")
    uid, name, localhosts = done.output.splitlines()
    # bwrap keeps the slot's uid; unshare maps it to root in the step's user namespace.
    assert name == ("root" if uid == "0" else f"builder{int(uid) - SLOT_UID_BASE}"), done.output
    assert localhosts == "2"


async def test_no_descriptor_of_the_builder_is_left_open_inside(jail):
    """The data handed over at start (arguments, files, the filter) is not readable later,
    neither from the step nor from pid 1 (bwrap's own, or the step's)."""
    done = await jail.run("sh", "-c", "ls -l /proc/1/fd /proc/self/fd 2>&1")
    assert "memfd" not in done.output, done.output
    assert done.output.count("/dev/null") == 2, done.output
