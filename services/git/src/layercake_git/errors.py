"""The git service's errors: one root, each subclass carrying what was wrong."""

from __future__ import annotations


class GitServiceError(Exception):
    """Base of every error the git service raises."""


class Refused(GitServiceError):
    """Input from an event that the service will not hand to git; nothing was run."""

    what = "input"

    def __init__(self, value: str, reason: str) -> None:
        super().__init__(f"{self.what} {value!r} refused: {reason}")
        self.value = value
        self.reason = reason


class PathRefused(Refused):
    """A manifest path that would write into git's own folder; the whole commit is refused."""

    what = "manifest path"


class RemoteRefused(Refused):
    """A remote that is no release name nor a URL the settings allow, or could become an option."""

    what = "remote URL"


class ReleaseRefused(Refused):
    """A release whose folder or repository is a link or not the service's own: never pushed to."""

    what = "release"


class BranchRefused(Refused):
    """A branch name git would refuse, or read as an option."""

    what = "branch name"


class GitFailed(GitServiceError):
    """A git command exited with an error, or did not finish in time."""

    def __init__(self, command: str, returncode: int | None, detail: str) -> None:
        outcome = "timed out" if returncode is None else f"exit {returncode}"
        super().__init__(f"git {command} failed ({outcome}): {detail}")
        self.command = command
        self.returncode = returncode
        self.detail = detail


class RepositoryMissing(GitServiceError):
    """A project has no repository yet: nothing was ever committed for it."""

    def __init__(self, project_id: str) -> None:
        super().__init__(f"project {project_id!r} has no repository yet")
        self.project_id = project_id


class BranchMissing(GitServiceError):
    """A project's repository has no branch of the name asked for."""

    def __init__(self, branch: str) -> None:
        super().__init__(f"the project's repository has no branch {branch!r}")
        self.branch = branch
