"""The branch check against git itself: the same verdicts as `git check-ref-format --branch`."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from layercake_git.adapters.git import Git
from layercake_git.core.checks import check_branch
from layercake_git.errors import BranchRefused, GitFailed

NAMES = st.text(alphabet="ab./-@{}~^:?*[\\ .lockHEAD\x01é", max_size=12)


@pytest.fixture(scope="module")
def git(tmp_path_factory):
    """A hardened git outside any repository."""
    return Git(tmp_path_factory.mktemp("home"), timeout_s=10)


def git_accepts(git: Git, name: str) -> bool:
    try:
        git.run("check-ref-format", "--branch", name)
    except GitFailed:
        return False
    return True


@settings(max_examples=150)
@given(NAMES)
@example("gate/g5")
@example("feature/a.b")
@example("a/@")
def test_our_check_and_git_agree_on_branch_names(git, name):
    """We accept exactly what git accepts, except '@' (HEAD's alias) and names starting with '-'."""
    try:
        check_branch(name)
    except BranchRefused:
        ours = False
    else:
        ours = True
    if name.startswith("-") or name == "@":
        assert not ours
    else:
        assert ours == git_accepts(git, name), name
