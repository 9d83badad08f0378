"""Tree planning: blob ids, the .gitignore, change counts, and where commits and refs go."""

from __future__ import annotations

import pytest

from layercake_contracts.values import Gate
from layercake_git.core.tree import (
    MAIN_REF,
    ApprovalPlan,
    RefUpdate,
    Relation,
    TreeEntry,
    approval_updates,
    blob_id,
    build_parent,
    count_changes,
    gitignore_for,
    index_info,
    layered,
    parse_ls_tree,
    plan_approval,
)

A, B = TreeEntry("100644", "a" * 40), TreeEntry("100644", "b" * 40)


def test_blob_ids_are_the_ones_git_computes():
    """`git hash-object` of 'hello' and of nothing."""
    assert blob_id(b"hello") == "b6fc4c620b67d95f953a5c1c1230aaab5db5a1b0"
    assert blob_id(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        ([], ".layercake/\n"),
        (["web/package.json"], "node_modules/\ndist/\ncoverage/\n.layercake/\n"),
        (["requirements.txt"], ".venv/\n__pycache__/\ndist/\n.layercake/\n"),
        (["package.json", "api/pyproject.toml"],
         "node_modules/\ndist/\ncoverage/\n.venv/\n__pycache__/\n.layercake/\n"),
    ],
)  # fmt: skip
def test_the_gitignore_follows_the_toolchains_the_paths_show(paths, expected):
    """Node entries for package.json, Python ones for pyproject/requirements, dist/ once."""
    assert gitignore_for(paths).decode() == expected


def test_changes_count_additions_deletions_content_and_mode():
    """One added, one deleted, one changed in content, one in mode, one unchanged."""
    old = {"same": A, "gone": A, "content": A, "mode": A}
    new = {"same": A, "content": B, "mode": TreeEntry("100755", A.oid), "added": A}
    assert count_changes(old, new) == 4
    assert count_changes(old, old) == 0


def test_later_layers_win():
    """The manifest's own file replaces a generated or carried one."""
    assert layered({"x": A, "y": A}, {"y": B}) == {"x": A, "y": B}


def test_ls_tree_output_and_index_info_describe_the_same_tree():
    """Parsing `ls-tree -z` and writing `--index-info -z` round-trip paths with spaces and UTF-8."""
    tree = {"dir/a b.txt": A, "é.py": TreeEntry("100755", "b" * 40)}
    listing = b"".join(
        f"{e.mode} blob {e.oid}\t".encode() + p.encode() + b"\0" for p, e in tree.items()
    )
    assert parse_ls_tree(listing) == tree
    assert index_info(tree) == (
        b"100644 " + b"a" * 40 + b"\tdir/a b.txt\0" + b"100755 " + b"b" * 40 + "\té.py\0".encode()
    )


@pytest.mark.parametrize(
    ("relation", "expected"),
    [(Relation.MERGED, "main"), (Relation.AHEAD, "tip"), (Relation.DIVERGED, "tip")],
)
def test_a_build_continues_its_branch_unless_the_branch_is_merged(relation, expected):
    """A merged (or missing) branch starts a new run at main."""
    assert build_parent("main", "tip", relation) == expected


def test_approval_plans_fast_forward_build_on_main_or_merge():
    """Ahead: on the tip; merged: on main; diverged: a merge of both; nothing yet: a root commit."""
    assert plan_approval("m", "t", Relation.AHEAD) == ApprovalPlan(("t",), merge=False)
    assert plan_approval("m", "t", Relation.MERGED) == ApprovalPlan(("m",), merge=False)
    assert plan_approval("m", "t", Relation.DIVERGED) == ApprovalPlan(("m", "t"), merge=True)
    assert plan_approval(None, None, Relation.MERGED).start is None
    assert plan_approval("m", "t", Relation.DIVERGED).start is None


def test_an_approval_moves_main_branch_and_tag_or_only_adds_a_missing_tag():
    """Each update checks the ref's old value; an existing tag is left alone when main stays."""
    moved = approval_updates(Gate.G5, "n", main="m", tip="t", tag=None, main_moves=True)
    assert moved == (
        RefUpdate(MAIN_REF, "n", "m"),
        RefUpdate("refs/heads/gate/g5", "n", "t"),
        RefUpdate("refs/tags/g5-approved", "n", None),
    )
    assert approval_updates(Gate.G5, "n", main="m", tip="t", tag=None, main_moves=False) == (
        RefUpdate("refs/tags/g5-approved", "n", None),
    )
    assert approval_updates(Gate.G5, "n", main="m", tip="t", tag="x", main_moves=False) == ()


def test_an_approval_that_leaves_files_out_keeps_the_branch_where_it_is():
    """G4's approval left the unchosen designs out: main and the tag move, gate/g4 does not."""
    moved = approval_updates(
        Gate.G4, "n", main="m", tip="t", tag=None, main_moves=True, branch_moves=False
    )
    assert moved == (RefUpdate(MAIN_REF, "n", "m"), RefUpdate("refs/tags/g4-approved", "n", None))
