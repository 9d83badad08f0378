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

import json
from typing import TYPE_CHECKING

import jwt

from layercake_gateway.core.project import LedgerError

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

JWT_ALGORITHM = "HS256"
# A file write of MAX_FILE_CHARS characters each sent as a 12-byte JSON escape
# (a surrogate pair) is 4.8 MB, the largest request a person may make.
DEFAULT_MAX_BODY_BYTES = 8 * 2**20


class Unauthenticated(LedgerError):
    """A request without a valid bearer token; `reason` says what was wrong with it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def bearer(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer …` value; None for no value or another scheme."""
    scheme, _, token = (authorization or "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def authenticate(token: str | None, secret: str) -> str:
    """The user a bearer token names; `Unauthenticated` for none, a forged or an expired one."""
    if token is None:
        raise Unauthenticated("a bearer token is required")
    try:
        claims = jwt.decode(token, secret, algorithms=[JWT_ALGORITHM])
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from exc
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Unauthenticated("the token names no user")
    return subject


def too_large(limit: int) -> dict[str, object]:
    """What a 413 says: the limit, in words and as a number."""
    return {"detail": f"the request body is over the limit of {limit} bytes", "limit_bytes": limit}


class BodyGuard:
    """ASGI middleware: authenticate before any body is read, then read at most `limit` bytes."""

    def __init__(self, app: ASGIApp, secret: str, limit: int) -> None:
        self._app, self._secret, self._limit = app, secret, limit

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
            authenticate(bearer(headers.get("authorization")), self._secret)
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
