"""Where exports and the token may go: rules match on form, host, port and whole path segments."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from layercake_git.core.remotes import Release, address_of, export_target, token_rule, token_scope
from layercake_git.errors import RemoteRefused

ALLOWED = (address_of("https://github.com/acme/"), address_of("git@github.com:acme/"))


@pytest.mark.parametrize("name", ["v1", "tally-1.0", "release_2"])
def test_a_bare_name_is_one_of_the_projects_releases(name):
    """No '/' and no ':': a name can only mean a release."""
    assert export_target(name, ALLOWED) == Release(name)


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/shop.git",
        "HTTPS://GitHub.com:443/acme/shop.git",
        "git@github.com:acme/shop.git",
        "github.com:acme/shop.git",
    ],
)
def test_a_remote_under_an_allowed_one_is_pushed_to_as_given(url):
    """Case of scheme and host and the default port do not matter."""
    assert export_target(url, ALLOWED) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme-evil/shop.git",
        "https://github.com/acme",
        "https://github.com:8443/acme/shop.git",
        "https://github.com.evil.example/acme/shop.git",
        "ssh://github.com@evil.example/acme/shop.git",
        "ssh://git@github.com/acme/shop.git",
        "git@evil.example:acme/shop.git",
        "https://gitlab.com/acme/shop.git",
    ],
)
def test_a_remote_under_no_allowed_one_is_refused_naming_the_setting(url):
    """A look-alike host, another port, a sibling path or another form is not allowed."""
    with pytest.raises(RemoteRefused, match="LAYERCAKE_GIT_REMOTES"):
        export_target(url, ALLOWED)


def test_nothing_but_releases_is_allowed_without_configured_remotes():
    """The default: no network remote at all."""
    with pytest.raises(RemoteRefused, match="under none of the remotes"):
        export_target("https://github.com/acme/shop.git", ())


@pytest.mark.parametrize(
    ("url", "bound"),
    [
        ("https://github.com/acme/shop.git", True),
        ("https://github.com/acmeX/shop.git", False),
        ("https://github.com/other/shop.git", False),
        ("https://api.github.com/acme/shop.git", False),
        ("ssh://github.com/acme/shop.git", False),
    ],
)
def test_the_token_is_bound_to_its_host_and_path_prefix(url, bound):
    """`github.com/acme` covers acme's repositories on github.com and nothing else."""
    scope = token_rule("github.com/acme")
    assert (token_scope(url, (scope,)) == scope) is bound


@given(st.text())
def test_the_export_target_never_crashes(text):
    """Any text is a release, an allowed remote, or refused with our error."""
    try:
        verdict = export_target(text, ALLOWED) in {Release(text), text}
    except RemoteRefused as exc:
        verdict = bool(exc.reason)
    assert verdict
