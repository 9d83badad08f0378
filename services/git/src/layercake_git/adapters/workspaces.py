"""The workspaces root: per project, a bare repository and its record file side by side."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from layercake_git.adapters.record import RecordFile
from layercake_git.adapters.repository import Repository

if TYPE_CHECKING:
    from pathlib import Path

    from layercake_git.adapters.git import Git


class Workspaces:
    """`<root>/<project>.git` and `<root>/<project>.json` for each project."""

    def __init__(self, root: Path, git: Git) -> None:
        self.root = root
        self.git = git

    def repository(self, project_id: str) -> Repository:
        """The project's repository (made on its first commit)."""
        return Repository(self.root / f"{project_id}.git", self.git)

    def called(self, name: str) -> list[str]:
        """The projects with a repository here that their owner calls `name`.

        A bus id is the owner's name for the project, a dash and a hex tag of the owner.
        """
        tagged = re.compile(re.escape(name) + r"-[0-9a-f]{6,}")
        return sorted(
            found.name.removesuffix(".git")
            for found in self.root.glob(f"{glob_escape(name)}-*.git")
            if tagged.fullmatch(found.name.removesuffix(".git"))
        )

    def projects(self) -> list[str]:
        """Every project with a repository or a record here (not the temporary files)."""
        return sorted(
            {
                found.name.removesuffix(found.suffix)
                for found in self.root.glob("*")
                if found.suffix in {".git", ".json"} and not found.name.startswith(".")
            }
        )

    def record(self, project_id: str) -> RecordFile:
        """The project's record file."""
        return RecordFile(self.root / f"{project_id}.json")


def glob_escape(text: str) -> str:
    """`text` matched literally by a glob pattern."""
    return re.sub(r"([*?\[])", r"[\1]", text)
