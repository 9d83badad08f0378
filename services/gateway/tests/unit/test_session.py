"""The sign-in rules, with no request and no clock: codes, where `next` may lead, the cookie, CSRF."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from layercake_gateway.core.session import (
    DEFAULT_NEXT,
    UnsafeNext,
    cross_site_problem,
    safe_next,
    session_cookie,
)
from layercake_gateway.core.tokens import (
    MAX_SIGNIN_CODE_TTL_S,
    SIGNIN_CODE_TTL_S,
    TokenClaims,
    Unauthenticated,
    claims_for,
    signin_code_claims,
    valid_claims,
    valid_code,
)

NOW = 1_800_000_000
GATEWAY = "http://127.0.0.1:8080"


def test_a_sign_in_code_signs_in_for_two_minutes_and_no_longer():
    """Made at NOW: valid at NOW + 119, expired at NOW + 120."""
    claims = signin_code_claims("ada", "c1", NOW)
    assert valid_code(claims, NOW + SIGNIN_CODE_TTL_S - 1) == TokenClaims(
        "ada", "c1", NOW, NOW + SIGNIN_CODE_TTL_S
    )
    with pytest.raises(Unauthenticated, match="expired"):
        valid_code(claims, NOW + SIGNIN_CODE_TTL_S)


def test_a_bearer_token_is_not_a_sign_in_code_so_none_is_ever_put_in_a_url():
    """A normal 12-hour token offered as a code is refused, saying a link must be minted."""
    with pytest.raises(Unauthenticated, match="not a sign-in code"):
        valid_code(claims_for("ada", "t1", NOW, 12 * 3600), NOW)


def test_a_sign_in_code_is_not_a_bearer_token():
    """A code seen in a URL cannot be replayed as an Authorization header."""
    with pytest.raises(Unauthenticated, match="sign-in code is not a bearer token"):
        valid_claims(signin_code_claims("ada", "c1", NOW), NOW)


def test_a_code_minted_to_live_long_is_refused_though_its_signature_is_good():
    """A code that lives past the most a code may is not one the gateway mints: refused."""
    claims = signin_code_claims("ada", "c1", NOW, MAX_SIGNIN_CODE_TTL_S + 1)
    with pytest.raises(Unauthenticated, match="lives at most"):
        valid_code(claims, NOW)


@pytest.mark.parametrize("path", ["/projects", "/projects/p/design/option-a", "/a?b=c#d"])
def test_a_path_on_the_gateway_is_where_a_sign_in_may_lead(path):
    """A same-origin path is kept as given."""
    assert safe_next(path) == path


def test_no_next_leads_to_the_projects():
    """A link without `next` (or an empty one) leads to the list of one's projects."""
    assert safe_next(None) == safe_next("") == DEFAULT_NEXT


@pytest.mark.parametrize(
    ("attack", "named"),
    [
        ("https://evil.example/x", "a path on this site"),
        ("//evil.example/x", "a path on this site"),
        ("/\\evil.example", "backslash"),
        ("\\\\evil.example", "backslash"),
        ("/\t/evil.example", "'\\t'"),
        ("/\n/evil.example", "'\\n'"),
        ("javascript:alert(1)", "a path on this site"),
        ("evil.example", "a path on this site"),
        ("/ok/\u2215\u2215evil", "'\u2215'"),
        ("/" + "a" * 2_000, "over 2000 characters"),
    ],
)
def test_an_open_redirect_is_refused_naming_what_was_wrong(attack, named):
    """Absolute URLs, `//host`, backslashes, control and look-alike characters: refused."""
    with pytest.raises(UnsafeNext) as refused:
        safe_next(attack)
    assert named in refused.value.reason


@given(st.text(max_size=60))
def test_whatever_next_is_accepted_stays_on_the_gateway(path):
    """Any `next` that passes, followed by a browser from the gateway, stays on its host."""
    try:
        kept = safe_next(path)
    except UnsafeNext:
        return
    assert urlsplit(urljoin(GATEWAY + "/signin", kept)).netloc == "127.0.0.1:8080"


def test_the_session_cookie_is_http_only_strict_site_wide_and_secure_over_https():
    """Script cannot read it, no other site is sent it, every path gets it; Secure iff https."""
    plain = session_cookie("tok", 3600, https=False)
    assert (plain.httponly, plain.samesite, plain.path, plain.secure) == (
        True,
        "strict",
        "/",
        False,
    )
    assert plain.max_age == 3600
    assert session_cookie("tok", 3600, https=True).secure


def test_a_cookie_may_read_from_anywhere_but_write_only_from_the_gateways_origin():
    """GET passes; a POST from another origin, or with no Origin, is refused; ours passes."""
    assert cross_site_problem("GET", "https://evil.example", GATEWAY) is None
    assert cross_site_problem("POST", GATEWAY, GATEWAY) is None
    assert "evil.example" in (cross_site_problem("POST", "https://evil.example", GATEWAY) or "")
    assert "needs an Origin" in (cross_site_problem("DELETE", None, GATEWAY) or "")
    # Another port of the same host is the same site, but not the same origin.
    assert cross_site_problem("POST", "http://127.0.0.1:8081", GATEWAY) is not None
    assert cross_site_problem("POST", "null", GATEWAY) is not None
