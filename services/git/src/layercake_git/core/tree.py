"""Trees and refs as the git service plans them: entries, blob ids, .gitignore, where commits go.

Pure: the shell reads refs and trees from the repository, these functions
decide what the next tree is, which commit it goes on and which refs move.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from layercake_contracts.values import Gate

MAIN = "main"
MAIN_REF = f"refs/heads/{MAIN}"
GIT_MODES = {0o644: "100644", 0o755: "100755"}
REGULAR = GIT_MODES[0o644]
GITIGNORE = ".gitignore"

_ALWAYS_IGNORED = (".layercake/",)
_NODE_IGNORED = ("node_modules/", "dist/", "coverage/")
_PYTHON_IGNORED = (".venv/", "__pycache__/", "dist/")
_PYTHON_MARKERS = frozenset({"pyproject.toml", "requirements.txt"})


@dataclass(frozen=True)
class TreeEntry:
    """One file of a git tree: its mode (`100644`, `100755`) and blob id."""

    mode: str
    oid: str


Tree = dict[str, TreeEntry]


class Relation(Enum):
    """Where a gate branch stands against main."""

    MERGED = "merged"  # no branch, or everything on it is in main already: a new run starts at main
    AHEAD = "ahead"  # main (if any) is in the branch: approval fast-forwards
    DIVERGED = "diverged"  # main moved on since the branch began: approval merges


@dataclass(frozen=True)
class RefUpdate:
    """Move `ref` to `new`, only if it still points at `old` (None: only if it does not exist)."""

    ref: str
    new: str
    old: str | None


@dataclass(frozen=True)
class ApprovalPlan:
    """An approval's commit: its parents, and whether its tree is main and the branch merged."""

    parents: tuple[str, ...]
    merge: bool

    @property
    def start(self) -> str | None:
        """The commit whose tree the approval builds on (None: a merge, or no commit yet)."""
        return None if self.merge or not self.parents else self.parents[0]


def blob_id(data: bytes) -> str:
    """The id git gives a blob holding `data` (sha1 object format)."""
    header = b"blob %d\0" % len(data)
    return hashlib.sha1(header + data, usedforsecurity=False).hexdigest()


def branch_ref(gate: Gate) -> str:
    """The branch a gate's runs commit on."""
    return f"refs/heads/gate/{gate.lower()}"


def tag_ref(gate: Gate) -> str:
    """The tag that marks a gate's approval."""
    return f"refs/tags/{gate.lower()}-approved"


def short_name(ref: str) -> str:
    """`gate/g5` for `refs/heads/gate/g5`."""
    return ref.removeprefix("refs/heads/")


def gitignore_for(paths: Iterable[str]) -> bytes:
    """A .gitignore for the toolchains the paths show (package.json: Node; pyproject: Python)."""
    names = {path.rsplit("/", 1)[-1] for path in paths}
    entries: list[str] = []
    if "package.json" in names:
        entries += _NODE_IGNORED
    if names & _PYTHON_MARKERS:
        entries += _PYTHON_IGNORED
    entries += _ALWAYS_IGNORED
    return "".join(f"{entry}\n" for entry in dict.fromkeys(entries)).encode()


def layered(*layers: Mapping[str, TreeEntry]) -> Tree:
    """One tree from several; a later layer's entry wins over an earlier one's."""
    tree: Tree = {}
    for layer in layers:
        tree.update(layer)
    return tree


def count_changes(old: Mapping[str, TreeEntry], new: Mapping[str, TreeEntry]) -> int:
    """How many paths were added, deleted, or changed in content or mode."""
    return len(old.keys() ^ new.keys()) + sum(
        1 for p in old.keys() & new.keys() if old[p] != new[p]
    )


def parse_ls_tree(output: bytes) -> Tree:
    """The entries of `git ls-tree -r -z --full-tree` output."""
    tree: Tree = {}
    for record in output.split(b"\0"):
        if record:
            info, _, path = record.partition(b"\t")
            mode, _kind, oid = info.decode().split(" ")
            tree[path.decode(errors="surrogateescape")] = TreeEntry(mode, oid)
    return tree


def index_info(tree: Mapping[str, TreeEntry]) -> bytes:
    """`tree` as `git update-index -z --index-info` input."""
    return b"".join(
        f"{entry.mode} {entry.oid}\t".encode() + path.encode(errors="surrogateescape") + b"\0"
        for path, entry in sorted(tree.items())
    )


def build_parent(main: str | None, tip: str | None, relation: Relation) -> str | None:
    """The commit a build goes on: the branch's tip, or main's when a new run starts."""
    return main if relation is Relation.MERGED else tip


def plan_approval(main: str | None, tip: str | None, relation: Relation) -> ApprovalPlan:
    """Where an approval's commit (if it needs one) goes, given main and the branch tip."""
    if relation is Relation.DIVERGED and main is not None and tip is not None:
        return ApprovalPlan(parents=(main, tip), merge=True)
    start = main if relation is Relation.MERGED else tip
    return ApprovalPlan(parents=() if start is None else (start,), merge=False)


def approval_updates(
    gate: Gate,
    target: str,
    *,
    main: str | None,
    tip: str | None,
    tag: str | None,
    main_moves: bool,
    branch_moves: bool = True,
) -> tuple[RefUpdate, ...]:
    """The refs an approval moves: main, the gate branch and its tag, or only a missing tag.

    The branch stays where it is when `branch_moves` is false (main left some of it out).
    """
    if main_moves:
        branch = (RefUpdate(branch_ref(gate), target, tip),) if branch_moves else ()
        return (RefUpdate(MAIN_REF, target, main), *branch, RefUpdate(tag_ref(gate), target, tag))
    if tag is None:
        return (RefUpdate(tag_ref(gate), target, None),)
    return ()
