"""What the one path rule accepts, real git accepts too, with its NTFS and HFS+ guards on."""

from __future__ import annotations

import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from layercake_contracts.paths import project_path_problem

PIECES = st.sampled_from([*"ab./ ~:-_\u00e9\u4e2d", ".git", ".gitx", "git~2", "GIT", "..", "a."])
EMPTY_BLOB = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


@pytest.fixture(scope="module")
def git(tmp_path_factory):
    """Run git in a fresh repository that guards against NTFS and HFS+ spellings of `.git`."""
    folder = tmp_path_factory.mktemp("paths-repo")

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(  # noqa: S603  # fixed git, arguments from the test
            ["git", "-C", str(folder), *args],  # noqa: S607
            input=b"", capture_output=True, check=check,
        )  # fmt: skip

    run("init", "-q")
    run("config", "core.protectNTFS", "true")
    run("config", "core.protectHFS", "true")
    run("hash-object", "-w", "--stdin")
    return run


def added(git, path: str) -> bool:
    return (
        git(
            "update-index", "--add", "--cacheinfo", f"100644,{EMPTY_BLOB},{path}", check=False
        ).returncode
        == 0
    )


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(PIECES, min_size=1, max_size=12).map("".join))
def test_a_path_the_rule_accepts_is_one_git_accepts(git, path):
    """No path passes the parser or the API that git's index would then refuse."""
    if project_path_problem(path) is not None:
        return
    assert added(git, path), path
    git("update-index", "--force-remove", "--", path)


def test_git_itself_refuses_the_spellings_the_rule_refuses(git):
    """The rule is not stricter than needed about git's folder: git refuses each of these too."""
    for path in (".git./config", ".git /config", "git~1/config", ".GIT/config", "a/.git/x"):
        assert project_path_problem(path) is not None
        assert not added(git, path), path
