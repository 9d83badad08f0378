"""One project's bare repository, written through git plumbing only.

Blobs go in through `git fast-import`, trees through a throw-away index
(`update-index --index-info`, `write-tree`), commits through `commit-tree`, and
refs move in one `update-ref --stdin` transaction that checks their old values.
No work tree, no checkout, no `git add`: nothing is materialised to commit it.
"""

from __future__ import annotations

import shutil
import uuid
from typing import TYPE_CHECKING

from layercake_git.adapters.git import ALLOW_FILE
from layercake_git.core.history import EVENT_TRAILER, LOG_FORMAT, LogEntry, parse_log
from layercake_git.core.tree import Relation, Tree, index_info, parse_ls_tree

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from datetime import datetime
    from pathlib import Path

    from layercake_git.adapters.git import Completed, Git
    from layercake_git.core.history import Identity
    from layercake_git.core.tree import RefUpdate, TreeEntry

ZERO_OID = "0" * 40
# Set in each repository too, so a person's own git in it runs no hooks either.
REPOSITORY_CONFIG = (("core.hooksPath", "/dev/null"), ("core.fsmonitor", "false"))


class Repository:
    """A bare repository at `path`, driven by a hardened `Git`."""

    def __init__(self, path: Path, git: Git) -> None:
        self.path = path
        self._git = git

    @property
    def exists(self) -> bool:
        """True once the project's first commit made the repository."""
        return self.path.is_dir()

    def create(self) -> None:
        """Make the repository if it is not there: init beside it, configure, then rename."""
        if self.exists:
            return
        temp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}")
        try:
            # No template: no hooks folder, not even the samples.
            self._git.run(
                "init", "--quiet", "--bare", "--template=", "--initial-branch=main", str(temp)
            )
            for key, value in REPOSITORY_CONFIG:
                self._git.run("config", key, value, git_dir=temp)
            temp.rename(self.path)
        finally:
            shutil.rmtree(temp, ignore_errors=True)

    def resolve(self, ref: str) -> str | None:
        """The commit `ref` points at, or None when it does not exist."""
        done = self._run("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", accept=(0, 1))
        return done.stdout.decode().strip() or None

    def refs(self) -> set[str]:
        """The full names of its branches and tags (such as `refs/tags/g2-approved`)."""
        done = self._run("for-each-ref", "--format=%(refname)", "refs/heads", "refs/tags")
        return set(done.stdout.decode().split())

    def is_ancestor(self, older: str, newer: str) -> bool:
        """True when `older` is `newer` or in its history."""
        done = self._run("merge-base", "--is-ancestor", older, newer, accept=(0, 1))
        return done.returncode == 0

    def relation(self, main: str | None, tip: str | None) -> Relation:
        """Where a gate branch's tip stands against main."""
        if tip is None or (main is not None and self.is_ancestor(tip, main)):
            return Relation.MERGED
        if main is None or self.is_ancestor(main, tip):
            return Relation.AHEAD
        return Relation.DIVERGED

    def tree(self, treeish: str | None) -> Tree:
        """Every file of a commit or tree (nothing for None)."""
        if treeish is None:
            return {}
        return parse_ls_tree(self._run("ls-tree", "-r", "-z", "--full-tree", treeish).stdout)

    def write_blobs(self, contents: Iterable[bytes]) -> None:
        """Store contents as blobs, in one `fast-import` process."""
        stream = b"".join(b"blob\ndata %d\n%s\n" % (len(data), data) for data in contents)
        self._run("fast-import", "--quiet", "--done", stdin=stream + b"done\n")

    def write_tree(self, tree: Mapping[str, TreeEntry]) -> str:
        """The id of a tree holding exactly `tree`'s entries (their blobs must be stored)."""
        index = self.path / f"lc-index-{uuid.uuid4().hex}"
        env = {"GIT_INDEX_FILE": str(index)}
        try:
            self._run(
                "update-index", "--add", "-z", "--index-info", stdin=index_info(tree), env=env
            )
            return self._run("write-tree", env=env).stdout.decode().strip()
        finally:
            index.unlink(missing_ok=True)

    def merge_trees(self, ours: str, theirs: str) -> str:
        """The tree of merging two commits; a conflict raises `GitFailed`."""
        done = self._run("merge-tree", "--write-tree", "--no-messages", ours, theirs)
        return done.stdout.decode().split("\n", 1)[0].strip()

    def commit(
        self,
        tree: str,
        parents: tuple[str, ...],
        message: str,
        *,
        author: Identity,
        committer: Identity,
        when: datetime,
    ) -> str:
        """A new commit of `tree` on `parents`; its date is `when`, so it is reproducible."""
        date = f"@{int(when.timestamp())} +0000"
        env = {
            "GIT_AUTHOR_NAME": author.name,
            "GIT_AUTHOR_EMAIL": author.email,
            "GIT_AUTHOR_DATE": date,
            "GIT_COMMITTER_NAME": committer.name,
            "GIT_COMMITTER_EMAIL": committer.email,
            "GIT_COMMITTER_DATE": date,
        }
        args = [arg for parent in parents for arg in ("-p", parent)]
        done = self._run("commit-tree", tree, *args, "-F", "-", stdin=message.encode(), env=env)
        return done.stdout.decode().strip()

    def update_refs(self, updates: Iterable[RefUpdate]) -> None:
        """Move refs all together, each only if it still points where it did."""
        lines = "".join(f"update {u.ref} {u.new} {u.old or ZERO_OID}\n" for u in updates)
        if lines:
            self._run("update-ref", "--stdin", stdin=lines.encode())

    def find(self, event_id: uuid.UUID) -> LogEntry | None:
        """The commit whose trailer names `event_id`, if one was made."""
        # Anchored: a trailer line, not a mention of the event anywhere in a message.
        entries = self._log(f"--grep=^{EVENT_TRAILER}: {event_id}$")
        return entries[0] if entries else None

    def log(self) -> list[LogEntry]:
        """Every commit on every branch, newest first."""
        return self._log()

    def patch(self, sha: str) -> str:
        """The commit's changes as a unified patch against its first parent (all added if none).

        No external diff or text conversion runs: a tree's own `.gitattributes` names none.
        """
        done = self._run(
            "show", "--format=", "--patch", "--no-color", "--no-ext-diff", "--no-textconv",
            "--diff-merges=first-parent", sha,
        )  # fmt: skip
        return done.stdout.decode(errors="replace")

    def push(self, url: str, refspecs: tuple[str, ...], env: Mapping[str, str]) -> None:
        """Push `refspecs` to `url` (a checked network remote), with `env` for credentials."""
        self._push(url, refspecs, env=env)

    def push_to_release(self, release: Repository, refspecs: tuple[str, ...]) -> None:
        """Push `refspecs` to a release repository the service made: file protocol, this once."""
        self._push(str(release.path), refspecs, config=ALLOW_FILE)

    def _push(
        self,
        target: str,
        refspecs: tuple[str, ...],
        *,
        env: Mapping[str, str] | None = None,
        config: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self._git.run(
            "push", "--porcelain", "--no-verify", "--", target, *refspecs,
            git_dir=self.path, env=env, config=config,
        )  # fmt: skip

    def _log(self, *args: str) -> list[LogEntry]:
        done = self._run("log", "--all", "--date-order", f"--format={LOG_FORMAT}", *args)
        return parse_log(done.stdout.decode(errors="replace"))

    def _run(
        self,
        *args: str,
        stdin: bytes = b"",
        env: Mapping[str, str] | None = None,
        accept: tuple[int, ...] = (0,),
    ) -> Completed:
        return self._git.run(*args, git_dir=self.path, stdin=stdin, env=env, accept=accept)
