"""API tokens that end: the claims a token must carry, and the deny list of revoked ones.

Core: no clock, no key, no store. The shell verifies the signature and passes
the time in; here we decide whether the claims make a valid token (issue #15:
tokens of only `{"sub": …}` lived forever). A refusal names which check failed
and nothing else, so a 401 never carries the key or the token.
`Revocations` is the ledger's aggregate of revoked token ids: one per store,
so every gateway process on that store (and one started later) refuses them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from eventsourcing.domain import Aggregate, event

from layercake_gateway.core.project import LedgerError

if TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_TOKEN_TTL_S = 12 * 3600
# Clocks of the issuer and the gateway differ a little; a token "from the future" by
# more than this was not made by a clock we trust.
CLOCK_LEEWAY_S = 30
REQUIRED_CLAIMS = ("sub", "exp", "iat", "jti")
# A sign-in code travels in a URL (browser history, logs): it is marked as one, lives
# seconds, opens once, and is never a bearer token; a bearer token is never a code.
SIGNIN_USE = "signin"
SIGNIN_CODE_TTL_S = 120
MAX_SIGNIN_CODE_TTL_S = 600
_Y10K = 253_402_300_800  # 10000-01-01T00:00:00Z, past what `datetime` holds
REVOCATIONS_ID = uuid.UUID("3c6e2a9d-51f4-4b8e-a7d0-9e2f1c4b6a83")


class Refused(LedgerError):
    """A request the gateway's door refuses; `reason` says why, to the one who asked."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unauthenticated(Refused):
    """A request without a valid bearer token (or session); `reason` says what was wrong."""


@dataclass(frozen=True)
class TokenClaims:
    """What a valid token says: whose it is, its id, when it was made and when it ends."""

    user: str
    jti: str
    issued_at: int
    expires_at: int


def claims_for(user: str, jti: str, now: int, lifetime_s: int) -> dict[str, object]:
    """The claims of a new token for `user`, made at `now`, valid for `lifetime_s` seconds."""
    return {"sub": user, "jti": jti, "iat": now, "exp": now + lifetime_s}


def signin_code_claims(
    user: str, jti: str, now: int, lifetime_s: int = SIGNIN_CODE_TTL_S
) -> dict[str, object]:
    """The claims of a one-time sign-in code for `user`, made at `now`."""
    return {**claims_for(user, jti, now, lifetime_s), "use": SIGNIN_USE}


def valid_claims(claims: Mapping[str, object], now: float) -> TokenClaims:
    """The claims of a bearer token whose signature was checked, if they are valid at `now`."""
    if "use" in claims:
        raise Unauthenticated("a sign-in code is not a bearer token (open its link instead)")
    return _valid(claims, now)


def valid_code(claims: Mapping[str, object], now: float) -> TokenClaims:
    """The claims of a sign-in code whose signature was checked, if it may sign in at `now`."""
    if claims.get("use") != SIGNIN_USE:
        msg = "not a sign-in code (a bearer token never goes in a URL; mint a sign-in link)"
        raise Unauthenticated(msg)
    valid = _valid(claims, now)
    if valid.expires_at - valid.issued_at > MAX_SIGNIN_CODE_TTL_S:
        msg = f"a sign-in code lives at most {MAX_SIGNIN_CODE_TTL_S} s; this one lives longer"
        raise Unauthenticated(msg)
    return valid


def _valid(claims: Mapping[str, object], now: float) -> TokenClaims:
    for name in REQUIRED_CLAIMS:
        if name not in claims:
            need = ", ".join(REQUIRED_CLAIMS)
            msg = f"the token has no {name!r} claim (a token must carry {need})"
            raise Unauthenticated(msg)
    user, jti = claims["sub"], claims["jti"]
    if not isinstance(user, str) or not user:
        raise Unauthenticated("the token names no user")
    if not isinstance(jti, str) or not jti:
        raise Unauthenticated("the token's 'jti' is not a non-empty string")
    issued_at, expires_at = _seconds(claims, "iat"), _seconds(claims, "exp")
    starts_at = max(issued_at, _seconds(claims, "nbf") if "nbf" in claims else issued_at)
    if starts_at > now + CLOCK_LEEWAY_S:
        raise Unauthenticated(f"the token is not valid before {utc_text(starts_at)}")
    if expires_at <= now:
        raise Unauthenticated(f"the token expired at {utc_text(expires_at)}")
    return TokenClaims(user=user, jti=jti, issued_at=issued_at, expires_at=expires_at)


def _seconds(claims: Mapping[str, object], name: str) -> int:
    value = claims[name]
    # bool is an int to Python, not a time to anyone; JSON's 1e999 is infinity, and a time
    # before 1970 or after 9999 cannot even be written as a date in the refusal.
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < _Y10K:
        raise Unauthenticated(f"the token's {name!r} is not a time in seconds")
    return int(value)


def utc_text(seconds: int) -> str:
    """A time in seconds as a person reads it: UTC, to the second."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Revocations(Aggregate):
    """The revoked token ids (the deny list), kept in the ledger's store."""

    @staticmethod
    def create_id() -> uuid.UUID:
        """One deny list per store: every gateway on it reads the same one."""
        return REVOCATIONS_ID

    # Named apart from the project's events: the relay announces by event name.
    @event("DenyListStarted")
    def __init__(self) -> None:
        self.revoked: dict[str, str] = {}  # jti: who revoked it

    def revoke(self, jti: str, by: str) -> bool:
        """Deny the token `jti` from now on; False when it was denied already."""
        if jti in self.revoked:
            return False
        self._revoked(jti, by)
        return True

    @event("TokenRevoked")
    def _revoked(self, jti: str, by: str) -> None:
        self.revoked[jti] = by
