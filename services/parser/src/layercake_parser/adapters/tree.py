"""Reading a project folder as the base tree that edits apply to."""

from __future__ import annotations

import os
from pathlib import Path

from layercake_contracts.values import project_path_problem

# Folders of tools and dependencies: never part of what a model edits.
SKIPPED_FOLDERS = frozenset(
    {".git", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache", ".ruff_cache"}
)
MAX_BASE_FILE_BYTES = 2 * 1024 * 1024


def read_tree(root: Path) -> dict[str, str]:
    """`path -> text` for each UTF-8 file under `root` (links, binaries and big files skipped)."""
    tree: dict[str, str] = {}
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_FOLDERS)
        for name in sorted(files):
            full = Path(folder, name)
            relative = full.relative_to(root).as_posix()
            if full.is_symlink() or project_path_problem(relative) is not None:
                continue
            if full.stat().st_size > MAX_BASE_FILE_BYTES:
                continue
            try:
                tree[relative] = full.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
    return tree
