"""The tree walk climbs back only to where it came from, and opens nothing but folders."""

from __future__ import annotations

import os

import pytest

from layercake_contracts.errors import UnsafeTree
from layercake_contracts.walk import walk


def test_a_folder_moved_out_of_the_tree_during_the_walk_stops_it(tmp_path):
    """Climbing `..` from a folder moved elsewhere would walk outside: UnsafeTree instead."""
    top, outside = tmp_path / "top", tmp_path / "outside"
    (top / "a" / "b").mkdir(parents=True)
    (top / "a" / "b" / "file").write_text("x")
    (outside / "secret").mkdir(parents=True)
    seen: list[str] = []

    def walk_moving_b_away(fd: int) -> None:
        for found in walk(fd):
            seen.append(found.path)
            if found.path == "a/b/file":
                os.rename(top / "a" / "b", outside / "secret" / "b")

    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    try:
        with pytest.raises(UnsafeTree, match="moved"):
            walk_moving_b_away(fd)
    finally:
        os.close(fd)
    assert seen == ["a", "a/b", "a/b/file"]


def test_links_and_fifos_are_listed_not_opened_or_followed(tmp_path):
    """A link to a folder is an entry, never entered; a FIFO is listed without blocking."""
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "inside").write_text("x")
    os.symlink(tmp_path / "real", tmp_path / "link")
    os.mkfifo(tmp_path / "fifo")
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        found = {f.path: f.is_folder for f in walk(fd)}
    finally:
        os.close(fd)
    assert found == {"fifo": False, "link": False, "real": True, "real/inside": False}
