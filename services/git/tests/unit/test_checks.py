"""The checks on paths, remotes and branches: refusals name what was wrong; safe input passes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from layercake_git.core.checks import check_branch, check_remote, check_tree_paths, shown_remote
from layercake_git.errors import BranchRefused, PathRefused, RemoteRefused
from layercake_testing.hostile_paths import HOSTILE_PATHS

REFUSED_REMOTES = [
    ("--upload-pack=touch /tmp/x", "it starts with '-', which git would read as an option"),
    ("ext::sh -c touch% /tmp/pwned", "the '<transport>::<address>' form (such as ext::) runs"),
    ("ext::sh%20-c%20id", "the '<transport>::<address>' form (such as ext::) runs commands"),
    ("fd::3", "the '<transport>::<address>' form (such as ext::) runs commands"),
    ("http://example.com/x.git", "scheme 'http' is not allowed"),
    ("git://example.com/x.git", "scheme 'git' is not allowed"),
    ("https://user:pw@example.com/x.git", "it carries credentials"),
    ("https://ghp_token@example.com/x.git", "it carries credentials"),
    ("ssh://git:pw@example.com/x.git", "it carries credentials"),
    ("https://example.com/acme/../evil/x.git", "a '.' or '..' segment"),
    ("https://example.com/acme/%2e%2e/evil/x.git", "a '.' or '..' segment"),
    ("git@example.com:acme/../evil/x.git", "a '.' or '..' segment"),
    ("https://example.com:99999/x.git", "its host or port cannot be read"),
    ("https://[::1/x.git", "its host or port cannot be read"),
    ("/srv/git/shop.git", "a local path or file:// URL is never pushed to"),
    ("file:///srv/git/shop.git", "a local path or file:// URL is never pushed to"),
    ("https:///x.git", "it names no host"),
    ("ssh://-oProxyCommand=id/x", "its host or user starts with '-'"),
    ("ssh://-oProxyCommand=id@host/x", "its host or user starts with '-'"),
    ("file://host/x.git", "a local path or file:// URL is never pushed to"),
    ("git@-oProxyCommand=id:x", "it is none of the allowed forms"),
    ("git@host:-x", "it is none of the allowed forms"),
    ("../x.git", "it is none of the allowed forms"),
    ("", "it is empty"),
    ("https://example.com/x\n.git", "it holds a space, a control character or invalid text"),
]
REFUSED_BRANCHES = [
    ("-f", "it starts with '-', which git would read as an option"),
    ("--force", "it starts with '-', which git would read as an option"),
    ("HEAD", "it is a name git reserves"),
    ("a..b", "it holds '..'"),
    ("a b", "it holds a space"),
    ("a~1", "one of ~ ^ : ? * [ \\"),
    ("refs/heads/*", "one of ~ ^ : ? * [ \\"),
    ("a@{1}", "it holds '@{'"),
    ("/a", "it has an empty component"),
    ("a//b", "it has an empty component"),
    ("a.", "it ends with '.'"),
    ("a/.hidden", "a component starts with '.' or ends with '.lock'"),
    ("a.lock", "a component starts with '.' or ends with '.lock'"),
    ("", "it is empty"),
]


@pytest.mark.parametrize(("path", "reason"), HOSTILE_PATHS)
def test_any_spelling_of_the_git_folder_in_any_segment_is_refused(path, reason):
    """Case, trailing dots and spaces, ignorable characters, the NTFS short name: the shared rule."""
    with pytest.raises(PathRefused) as refused:
        check_tree_paths(["README.md", path])
    assert refused.value.value == path
    assert str(refused.value).startswith(f"manifest path {path!r} refused: ")
    assert reason in refused.value.reason


@pytest.mark.parametrize(
    ("check", "refusal", "value", "reason"),
    [(check_remote, RemoteRefused, *case) for case in REFUSED_REMOTES]
    + [(check_branch, BranchRefused, *case) for case in REFUSED_BRANCHES],
)
def test_remotes_and_branches_git_would_misread_are_refused_with_the_reason(
    check, refusal, value, reason
):
    """Each refusal says what was wrong with the URL or branch name."""
    with pytest.raises(refusal) as refused:
        check(value)
    assert reason in refused.value.reason


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/team/shop.git", "HTTPS://example.com:8443/x", "ssh://git@host:22/x.git",
        "git@github.com:team/shop.git", "host.example:shop.git", "ssh://git@host/x.git",
    ],
)  # fmt: skip
def test_the_allowed_remote_forms_pass_unchanged(url):
    """https, ssh and scp-like remotes are returned as given."""
    assert check_remote(url) == url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://ada:pw@example.com/x.git", "https://***@example.com/x.git"),
        ("ssh://git:pw@host:22/x.git", "ssh://***@host:22/x.git"),
        ("https://a@b:c@example.com/x@y", "https://***@example.com/x@y"),
        ("https://example.com/x.git", "https://example.com/x.git"),
        ("git@github.com:team/shop.git", "git@github.com:team/shop.git"),
    ],
)
def test_a_remote_is_shown_without_its_user_part(url, shown):
    """The user part of a URL may be a credential: logs and events show `***` instead."""
    assert shown_remote(url) == shown


@given(st.text())
def test_the_remote_and_branch_checks_never_crash(text):
    """Any text is accepted as itself or refused with our error, never anything else."""
    for check, refusal in ((check_remote, RemoteRefused), (check_branch, BranchRefused)):
        try:
            verdict = check(text) == text
        except refusal as exc:
            verdict = bool(exc.reason)
        assert verdict
