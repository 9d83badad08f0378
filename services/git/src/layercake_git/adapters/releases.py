"""The release folder: `<root>/<project>/<name>.git`, the only local repositories git pushes to.

A push to a local repository runs `git-receive-pack` in it, under that
repository's own config and hooks, so the service pushes only to repositories
it made itself (bare, its own config, no hooks) in folders only it can write.
Every step from the root down must be a real folder, not a link, owned by the
service's user and writable by no one else; otherwise the release is refused.
The path is built from the project id and a checked name, never taken from an
event, so one project cannot name another's release.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING

from layercake_git.adapters.repository import Repository
from layercake_git.errors import ReleaseRefused

if TYPE_CHECKING:
    from pathlib import Path

    from layercake_git.adapters.git import Git

_PRIVATE = 0o700


def release_path(root: Path, project_id: str, name: str) -> Path:
    """Where the project's release `name` lives under the release folder `root`."""
    return root / project_id / f"{name}.git"


class Releases:
    """The release folder at `root`, whose repositories a hardened `Git` makes."""

    def __init__(self, root: Path, git: Git) -> None:
        self.root = root
        self._git = git

    def repository(self, project_id: str, name: str) -> Repository:
        """The project's release `name`, made if new; `ReleaseRefused` if a step is not ours."""
        path = release_path(self.root, project_id, name)
        for folder in (self.root, path.parent):
            if not os.path.lexists(folder):  # a link, even a dangling one, is refused below
                folder.mkdir(mode=_PRIVATE, parents=True, exist_ok=True)
            self._check(name, folder)
        repo = Repository(path, self._git)
        if not os.path.lexists(path):
            repo.create()
            path.chmod(_PRIVATE)
        self._check(name, path)
        return repo

    def _check(self, name: str, folder: Path) -> None:
        where = folder.relative_to(self.root).as_posix()
        shown = "the release folder" if where == "." else f"its folder {where!r}"
        info = folder.lstat()
        problem = (
            "is a link or no folder" if not stat.S_ISDIR(info.st_mode)
            else f"belongs to uid {info.st_uid}" if info.st_uid != os.geteuid()
            else "is writable by others" if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
            else None
        )  # fmt: skip
        if problem is not None:
            raise ReleaseRefused(name, f"{shown} {problem}")
