"""Trees a step leaves behind: 3,000 nested folders or a FIFO never stop the next step's slot."""

from __future__ import annotations

import os

import pytest

from layercake_builder.adapters.sandbox import MAX_SLOTS, SLOT_UID_BASE
from layercake_contracts.walk import remove_entry

NEST = (
    "import os\n"
    "for _ in range(3000):\n"
    "    os.mkdir('a')\n"
    "    os.chdir('a')\n"
    "os.mkfifo('deepest.fifo')\n"
)


@pytest.fixture
def cleared(jail):
    """The jail, whose project is emptied iteratively afterwards (its own rmtree recurses)."""
    yield jail
    top = os.open(jail.project, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for name in os.listdir(top):
            remove_entry(name, top)
    finally:
        os.close(top)


def deepest(project, depth: int) -> int:
    fd = os.open(project, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(depth):
        deeper = os.open("a", os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        os.close(fd)
        fd = deeper
    return fd


async def test_three_thousand_nested_folders_made_by_a_step_are_handed_to_the_next_slot(cleared):
    """The slot's chown walks the whole tree without recursion; a root-owned file deep down is handed over."""
    made = await cleared.run("python3", cleared.script("nest.py", NEST))
    assert made.exit_code == 0, made.output
    fd = deepest(cleared.project, 3000)
    try:
        os.close(os.open("planted", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
        os.chown("deepest.fifo", 0, 0, dir_fd=fd, follow_symlinks=False)
    finally:
        os.close(fd)

    again = await cleared.run("python3", "-c", "print('still builds')")

    assert again.exit_code == 0, again.output
    assert "still builds" in again.output
    owner = os.stat(cleared.project).st_uid
    assert SLOT_UID_BASE <= owner < SLOT_UID_BASE + MAX_SLOTS
    fd = deepest(cleared.project, 3000)
    try:
        for name in ("planted", "deepest.fifo"):
            assert os.stat(name, dir_fd=fd, follow_symlinks=False).st_uid == owner, name
    finally:
        os.close(fd)
