"""Checks on what events hand the git service, before git sees any of it.

Pure: each check returns quietly (or the value) or raises a `Refused` error that
names what was wrong, so a refused path, remote or branch never reaches a git
command, and nothing from an event can become a git option (`--upload-pack=…`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from layercake_contracts.paths import project_path_problem
from layercake_git.errors import BranchRefused, PathRefused, Refused, RemoteRefused

if TYPE_CHECKING:
    from collections.abc import Iterable

ALLOWED_REMOTES = "https://…, ssh://… or user@host:path"
_ALLOWED_SCHEMES = frozenset({"https", "ssh"})
# git pushes to a local repository by running `git-receive-pack` in it, which
# reads that repository's own config and hooks (our `-c` settings are dropped
# for a local transport): a folder an event names could run anything as us.
LOCAL_REFUSED = (
    "a local path or file:// URL is never pushed to (its own config and hooks would run); "
    "name one of the project's releases instead"
)
_TRANSPORT_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*::")  # ext::, fd::, anything::
_SCP_LIKE = re.compile(r"^(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9][A-Za-z0-9.-]*:(?!-).+$")
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/?#]*@")
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")
_REF_FORBIDDEN = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]")
MAX_BRANCH_LENGTH = 200


def check_tree_paths(paths: Iterable[str]) -> None:
    """Refuse the tree if any path breaks the one path rule (git's folder in any spelling, ...).

    The same rule the parser, the API and every manifest apply, so a tree that
    reached us was already checked; refusing it here as well costs nothing.
    """
    for path in paths:
        if (problem := project_path_problem(path)) is not None:
            raise PathRefused(path, problem)


def check_remote(url: str) -> str:
    """`url` if it is a well-formed network remote; else `RemoteRefused` saying why.

    The refusal shows the URL without its user part, which may be a credential.
    """
    problem = _remote_problem(url)
    if problem is not None:
        raise RemoteRefused(shown_remote(url), problem)
    return url


def shown_remote(url: str) -> str:
    """`url` as logs and events may show it: the user part of `scheme://user:pw@…` is `***`."""
    return _USERINFO.sub(r"\1***@", url)


def _remote_problem(url: str) -> str | None:
    rules = (
        (not url, "it is empty"),
        (url.startswith("-"), "it starts with '-', which git would read as an option"),
        (
            bool(_TRANSPORT_PREFIX.match(url)),
            "the '<transport>::<address>' form (such as ext::) runs commands",
        ),
        (
            bool(_CONTROL_OR_SPACE.search(url)) or not _encodable(url),
            "it holds a space, a control character or invalid text",
        ),
    )
    problem = next((problem for broken, problem in rules if broken), None)
    if problem is not None:
        return problem
    if url.startswith("/"):
        return LOCAL_REFUSED
    if "://" in url:
        return _url_problem(url)
    if not _SCP_LIKE.match(url):
        return f"it is none of the allowed forms ({ALLOWED_REMOTES})"
    return _path_problem(url.partition(":")[2])


def _url_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # raises on a port that is no number
    except ValueError:
        return "its host or port cannot be read"
    scheme = parts.scheme.lower()
    rules = (
        (scheme == "file", LOCAL_REFUSED),
        (scheme not in _ALLOWED_SCHEMES, f"scheme {scheme!r} is not allowed ({ALLOWED_REMOTES})"),
        (not parts.hostname, "it names no host"),
        (
            any(part.startswith("-") for part in (parts.hostname or "", parts.username or "")),
            "its host or user starts with '-', which ssh would read as an option",
        ),
        (
            parts.password is not None or (scheme == "https" and parts.username is not None),
            "it carries credentials; the token comes from LAYERCAKE_GIT_TOKEN",
        ),
    )
    problem = next((problem for broken, problem in rules if broken), None)
    return problem if problem is not None else _path_problem(parts.path)


def _path_problem(path: str) -> str | None:
    if any(segment in {".", ".."} for segment in unquote(path).split("/")):
        return "its path has a '.' or '..' segment, which could lead out of an allowed prefix"
    return None


def check_branch(name: str) -> str:
    """`name` if `git check-ref-format --branch` would accept it; else `BranchRefused`."""
    return _unless(_branch_problem(name), name, BranchRefused)


def _unless(problem: str | None, value: str, refusal: type[Refused]) -> str:
    if problem is not None:
        raise refusal(value, problem)
    return value


def _branch_problem(name: str) -> str | None:
    components = name.split("/")
    rules = (
        (not name, "it is empty"),
        (name.startswith("-"), "it starts with '-', which git would read as an option"),
        (len(name) > MAX_BRANCH_LENGTH, f"it is longer than {MAX_BRANCH_LENGTH} characters"),
        (name in {"HEAD", "@"}, "it is a name git reserves"),
        (not _encodable(name), "it is not valid text"),
        (
            bool(_REF_FORBIDDEN.search(name)),
            "it holds a space, a control character or one of ~ ^ : ? * [ \\",
        ),
        ("@{" in name, "it holds '@{'"),
        (".." in name, "it holds '..'"),
        ("" in components, "it has an empty component (a leading, trailing or double '/')"),
        (name.endswith("."), "it ends with '.'"),
        (
            any(c.startswith(".") or c.endswith(".lock") for c in components),
            "a component starts with '.' or ends with '.lock'",
        ),
    )
    return next((problem for broken, problem in rules if broken), None)


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True
