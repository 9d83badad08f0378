"""The HTTP API's door: who is asking, and how much of a body the gateway will read.

FastAPI reads and parses a route's body before it resolves the route's
dependencies, the bearer token included, so a check in a route comes too late:
an anonymous 300 MB POST took the gateway from 79 MB to 1.0 GB before its 401
(issue #14). `BodyGuard` runs in front of every route instead: a body is read
only from a caller whose token is valid, and never beyond the limit, whether
the client declared its length or streams it in chunks. It must not decide
anything else: what a route answers stays in the routes.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING

import jwt

from layercake_gateway.core.tokens import Unauthenticated, valid_claims

if TYPE_CHECKING:
    from collections.abc import Callable

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


def authenticate(token: str | None, secret: str, revoked: Callable[[str], bool]) -> str:
    """The user a bearer token names; `Unauthenticated` saying why for any other token.

    None, a token not signed with `secret`, one without exp/iat/jti, an expired
    or not yet valid one, one whose jti `revoked` names. The library's messages
    are not passed on: ours name the check, never the key.
    """
    if token is None:
        raise Unauthenticated("a bearer token is required")
    try:
        # The times are checked by the core, with every claim required named.
        claims = jwt.decode(token, secret, algorithms=[JWT_ALGORITHM], options=_SIGNATURE_ONLY)
    except jwt.InvalidSignatureError as exc:
        raise Unauthenticated("the token's signature is not the gateway's") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("not a token this gateway reads (a JWT signed HS256)") from exc
    valid = valid_claims(claims, time.time())
    if revoked(valid.jti):
        raise Unauthenticated(f"the token {valid.jti} was revoked")
    return valid.user


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
            # In a thread: the deny list is read from the ledger's store.
            await asyncio.to_thread(
                authenticate, bearer(headers.get("authorization")), self._secret, self._revoked
            )
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
