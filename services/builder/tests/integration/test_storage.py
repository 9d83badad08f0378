"""Stripping setuid bits from a finished build's tree: any depth, any width, never through a link."""

from __future__ import annotations

import os
import stat

import pytest

from layercake_builder.adapters.storage import strip_setid


@pytest.fixture
def tree(tmp_path):
    """A tree folder; its deep chain goes level by level after the test, pass or fail
    (shutil.rmtree, and so pytest's cleanup of old temp folders, recurses per folder and cannot)."""
    folder = tmp_path / "tree"
    folder.mkdir()
    yield folder
    if (folder / "d").exists():
        _remove_deep(folder)


def test_setuid_bits_go_at_any_depth_and_width_but_not_through_a_link(tree, tmp_path):
    """A setuid file 3000 folders deep (past PATH_MAX) and another among 2000 folders lose the
    bit; the file a planted link points to, outside the tree, keeps its own."""
    outside = tmp_path / "outside"
    outside.mkdir()
    fd = os.open(tree, os.O_RDONLY)
    for _ in range(3000):
        os.mkdir("d", dir_fd=fd)
        fd = _swap(fd, os.open("d", os.O_RDONLY, dir_fd=fd))
    deep = os.open("suid", os.O_CREAT | os.O_WRONLY, 0o755, dir_fd=fd)
    os.fchmod(deep, 0o4755)
    os.close(deep)
    for n in range(2000):
        (tree / "wide" / str(n)).mkdir(parents=True)
    (tree / "wide" / "1999" / "sgid").write_text("")
    (tree / "wide" / "1999" / "sgid").chmod(0o2755)
    target = outside / "keeps"
    target.write_text("")
    target.chmod(0o4755)
    (tree / "link").symlink_to(target)
    (tree / "folder-link").symlink_to(outside)

    assert strip_setid([tree]) == 2

    assert os.stat("suid", dir_fd=fd).st_mode & 0o7777 == 0o755
    os.close(fd)
    assert stat.S_IMODE((tree / "wide" / "1999" / "sgid").stat().st_mode) == 0o755
    assert stat.S_IMODE(target.stat().st_mode) == 0o4755
    assert strip_setid([tree]) == 0


def _remove_deep(tree) -> None:
    fd, depth = os.open(tree, os.O_RDONLY), 0
    while "d" in os.listdir(fd):
        fd, depth = _swap(fd, os.open("d", os.O_RDONLY, dir_fd=fd)), depth + 1
    for name in os.listdir(fd):
        os.unlink(name, dir_fd=fd)
    for _ in range(depth):
        fd = _swap(fd, os.open("..", os.O_RDONLY, dir_fd=fd))
        os.rmdir("d", dir_fd=fd)
    os.close(fd)


def _swap(old: int, new: int) -> int:
    os.close(old)
    return new
