"""The HTTP API's door: who is asking, and how much of a body the gateway will read.

FastAPI reads and parses a route's body before it resolves the route's
dependencies, the bearer token included, so a check in a route comes too late:
an anonymous 300 MB POST took the gateway from 79 MB to 1.0 GB before its 401
(issue #14). `BodyGuard` runs in front of every route instead: a body is read
only from a caller whose token is valid, and never beyond the limit, whether
the client declared its length or streams it in chunks. It must not decide
anything else: what a route answers stays in the routes.
A caller is known by a bearer header, or by the session cookie a sign-in link
set (`core/session.py`), which changes state only from the gateway's own origin.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from typing import TYPE_CHECKING

import jwt
from starlette.requests import cookie_parser

from layercake_gateway.core.session import SESSION_COOKIE, CrossSiteRefused, cross_site_problem
from layercake_gateway.core.tokens import (
    DEFAULT_TOKEN_TTL_S,
    SIGNIN_CODE_TTL_S,
    TokenClaims,
    Unauthenticated,
    claims_for,
    signin_code_claims,
    valid_claims,
    valid_code,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from jwt.types import Options
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

JWT_ALGORITHM = "HS256"
# A file write of MAX_FILE_CHARS characters each sent as a 12-byte JSON escape
# (a surrogate pair) is 4.8 MB, the largest request a person may make.
DEFAULT_MAX_BODY_BYTES = 8 * 2**20
_SIGNATURE_ONLY: Options = {"verify_exp": False, "verify_iat": False, "verify_nbf": False,
                   "verify_sub": False, "verify_jti": False}  # fmt: skip


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` value; None for no value or another scheme."""
    scheme, _, token = (authorization or "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def issue_token(
    secret: str, user: str, lifetime_s: int = DEFAULT_TOKEN_TTL_S
) -> tuple[str, TokenClaims]:
    """A bearer token for `user`, valid from now for `lifetime_s` seconds, and what it says."""
    return _issued(secret, user, lifetime_s, claims_for, valid_claims)


def create_token(secret: str, user: str, lifetime_s: int = DEFAULT_TOKEN_TTL_S) -> str:
    """A bearer token for `user`, valid from now for `lifetime_s` seconds."""
    return issue_token(secret, user, lifetime_s)[0]


def issue_signin_code(
    secret: str, user: str, lifetime_s: int = SIGNIN_CODE_TTL_S
) -> tuple[str, TokenClaims]:
    """A one-time sign-in code for `user`, valid from now for `lifetime_s` seconds."""
    return _issued(secret, user, lifetime_s, signin_code_claims, valid_code)


def _issued(
    secret: str,
    user: str,
    lifetime_s: int,
    made: Callable[[str, str, int, int], dict[str, object]],
    valid: Callable[[Mapping[str, object], float], TokenClaims],
) -> tuple[str, TokenClaims]:
    now = int(time.time())
    claims = made(user, uuid.uuid4().hex, now, lifetime_s)
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM), valid(claims, now)


def caller_token(method: str, headers: Mapping[str, str], scheme: str) -> str | None:
    """The caller's token: the bearer header's, else the session cookie's; None for neither.

    `headers` are named in lower case. A state-changing request signed in by the
    cookie alone must come from this gateway's own origin (`CrossSiteRefused`).
    """
    if (token := bearer(headers.get("authorization"))) is not None:
        return token
    cookie = cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE)
    if not cookie:
        return None
    own = f"{scheme}://{headers.get('host', '')}"
    if (problem := cross_site_problem(method, headers.get("origin"), own)) is not None:
        raise CrossSiteRefused(problem)
    return cookie


def authenticate(token: str | None, secret: str, revoked: Callable[[str], bool]) -> str:
    """The user a bearer token names; `Unauthenticated` saying why for any other token.

    None, a token not signed with `secret`, one without exp/iat/jti, an expired
    or not yet valid one, one whose jti `revoked` names, a sign-in code. The
    library's messages are not passed on: ours name the check, never the key.
    """
    if token is None:
        raise Unauthenticated("a bearer token (or a sign-in link's session) is required")
    valid = valid_claims(_signed_claims(token, secret), time.time())
    if revoked(valid.jti):
        raise Unauthenticated(f"the token {valid.jti} was revoked")
    return valid.user


def read_code(code: str, secret: str) -> TokenClaims:
    """What a sign-in code says, if `secret` signed it and it may sign in now (not yet spent)."""
    return valid_code(_signed_claims(code, secret), time.time())


def _signed_claims(token: str, secret: str) -> dict[str, object]:
    try:
        # The times are checked by the core, with every claim required named.
        claims: dict[str, object] = jwt.decode(
            token, secret, algorithms=[JWT_ALGORITHM], options=_SIGNATURE_ONLY
        )
    except jwt.InvalidSignatureError as exc:
        raise Unauthenticated("the token's signature is not the gateway's") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("not a token this gateway reads (a JWT signed HS256)") from exc
    return claims


def too_large(limit: int) -> dict[str, object]:
    """What a 413 says: the limit, in words and as a number."""
    return {"detail": f"the request body is over the limit of {limit} bytes", "limit_bytes": limit}


class BodyGuard:
    """ASGI middleware: authenticate before any body is read, then read at most `limit` bytes."""

    def __init__(
        self, app: ASGIApp, secret: str, limit: int, revoked: Callable[[str], bool]
    ) -> None:
        self._app, self._secret, self._limit, self._revoked = app, secret, limit, revoked

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass a body-less request on; read a body only from a known caller, within the limit."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope.get("headers", ())}  # fmt: skip
        length = headers.get("content-length")
        if scope["type"] != "http" or (
            "transfer-encoding" not in headers and length in {None, "0"}
        ):
            await self._app(scope, receive, send)
            return
        try:
            token = caller_token(scope["method"], headers, scope["scheme"])
            # In a thread: the deny list is read from the ledger's store.
            await asyncio.to_thread(authenticate, token, self._secret, self._revoked)
        except CrossSiteRefused as exc:
            await _refuse(send, 403, {"detail": exc.reason})
            return
        except Unauthenticated as exc:
            await _refuse(send, 401, {"detail": exc.reason}, (b"www-authenticate", b"Bearer"))
            return
        if length is not None and (not length.isdigit() or int(length) > self._limit):
            await _refuse(send, 413, too_large(self._limit))
            return
        read = await self._read(receive)
        if read is None:
            await _refuse(send, 413, too_large(self._limit))
            return
        await self._app(scope, _replay(read, receive), send)

    async def _read(self, receive: Receive) -> list[Message] | None:
        """The body's messages up to its end (or the client's leaving); None past the limit."""
        read: list[Message] = []
        size = 0
        while True:
            message = await receive()
            read.append(message)
            size += len(message.get("body", b""))
            if size > self._limit:
                return None  # the rest stays unread: the answer closes the connection
            if message["type"] != "http.request" or not message.get("more_body", False):
                return read


def _replay(read: list[Message], receive: Receive) -> Receive:
    """A `receive` that gives the messages read already, then whatever comes next."""
    pending = list(read)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


async def _refuse(
    send: Send, status: int, answer: dict[str, object], *extra: tuple[bytes, bytes]
) -> None:
    """Answer at once and close: a connection kept open would read the rest of the body."""
    data = json.dumps(answer).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode()),
               (b"connection", b"close"), *extra]  # fmt: skip
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
