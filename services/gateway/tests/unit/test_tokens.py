"""The token rules of `core/tokens.py`, with the clock passed in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from layercake_gateway.core.tokens import (
    CLOCK_LEEWAY_S,
    Revocations,
    TokenClaims,
    Unauthenticated,
    claims_for,
    valid_claims,
)

NOW = 1_800_000_000


def test_a_new_tokens_claims_end_after_its_lifetime_and_are_valid_until_then():
    """Made at NOW for 60 s: valid at NOW + 59, expired at NOW + 60."""
    claims = claims_for("ada", "j1", NOW, 60)
    assert valid_claims(claims, NOW + 59) == TokenClaims("ada", "j1", NOW, NOW + 60)
    with pytest.raises(Unauthenticated, match="expired at 2027-01-15T08:01:00Z"):
        valid_claims(claims, NOW + 60)


def test_a_clock_a_little_behind_the_issuers_is_forgiven_a_lot_is_not():
    """Issued up to the leeway ahead of our clock is valid; one second more is not."""
    claims = claims_for("ada", "j1", NOW + CLOCK_LEEWAY_S, 60)
    assert valid_claims(claims, NOW).user == "ada"
    later = claims_for("ada", "j1", NOW + CLOCK_LEEWAY_S + 1, 60)
    with pytest.raises(Unauthenticated, match="not valid before"):
        valid_claims(later, NOW)


@pytest.mark.parametrize(
    ("changed", "named"),
    [({"exp": True}, "'exp' is not a time"), ({"iat": "now"}, "'iat' is not a time"),
     ({"sub": ""}, "no user"), ({"jti": 7}, "'jti'"), ({"nbf": None}, "'nbf' is not a time")],
)  # fmt: skip
def test_a_claim_of_the_wrong_kind_is_refused_by_name(changed, named):
    """A boolean is no time, an empty subject no user, a number no id."""
    with pytest.raises(Unauthenticated, match=named):
        valid_claims({**claims_for("ada", "j1", NOW, 60), **changed}, NOW)


def test_a_token_is_revoked_once_and_revoking_it_again_changes_nothing():
    """The second revocation of the same id records no event."""
    revocations = Revocations()
    assert revocations.revoke("j1", by="ops") is True
    assert revocations.revoke("j1", by="root") is False
    recorded = [type(e).__name__ for e in revocations.collect_events()]
    assert recorded == ["DenyListStarted", "TokenRevoked"]
    assert revocations.revoked == {"j1": "ops"}


VALUE = st.floats() | st.integers() | st.text(max_size=3) | st.booleans() | st.none()
CLAIMS = st.fixed_dictionaries(
    {"sub": st.just("ada") | VALUE, "jti": st.just("j1") | VALUE, "iat": VALUE, "exp": VALUE},
    optional={"nbf": VALUE},
)


@given(CLAIMS)
def test_any_claims_either_make_a_token_or_are_refused_by_name(claims):
    """Never a crash (a 500): an `exp` of 1e999 (JSON's infinity) or NaN is refused like any other."""
    try:
        outcome = valid_claims(claims, NOW).user
    except Unauthenticated as exc:
        outcome = exc.reason
    assert outcome


def test_an_endless_token_is_refused_as_having_no_time():
    """`{"exp": 1e999}` is infinity to Python's JSON: a token that never ends is not one."""
    endless = {**claims_for("ada", "j1", NOW, 60), "exp": float("inf")}
    with pytest.raises(Unauthenticated, match="'exp' is not a time"):
        valid_claims(endless, NOW)
