"""Reading a project folder as the base tree that edits apply to."""

from __future__ import annotations

from typing import TYPE_CHECKING

from layercake_contracts.materialise import project_files

if TYPE_CHECKING:
    from pathlib import Path

MAX_BASE_FILE_BYTES = 2 * 1024 * 1024


def read_tree(root: Path) -> dict[str, str]:
    """`path -> text` for each UTF-8 file of the project (binaries and big files skipped)."""
    tree: dict[str, str] = {}
    for relative, full in project_files(root):
        if full.stat().st_size > MAX_BASE_FILE_BYTES:
            continue
        try:
            tree[relative] = full.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
    return tree
