"""A bus connection signed in as one user, keeping what the server said it refused.

nats-py reports a permissions violation asynchronously, through the error callback,
so a test that tries what a user may not do reads the refusal here.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import nats
from nats.errors import Error as NatsError

from layercake_contracts.runtime import inbox_prefix

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from nats.aio.client import Client
    from pydantic import BaseModel


class Session:
    """A connection signed in as one user, with what the server told it went wrong."""

    def __init__(self, connection: Client, errors: list[str]) -> None:
        self.connection, self.errors = connection, errors

    def refused(self, subject: str) -> bool:
        """Whether the server said a publish to `subject` violated this user's permissions."""
        said = f'permissions violation for publish to "{subject}"'.lower()
        return any(said in error for error in self.errors)

    async def publish(self, event: BaseModel, subject: str) -> bool:
        """Publish to the stream; whether the stream acknowledged it."""
        try:
            await self.connection.jetstream().publish(
                subject, event.model_dump_json().encode(), timeout=2
            )
        except NatsError:
            return False
        return True


@asynccontextmanager
async def signed_in(url: str, seed: Path, user: str) -> AsyncIterator[Session]:
    """A session on the server at `url`, signed in with `user`'s nkey seed file."""
    errors: list[str] = []

    async def record(exc: Exception) -> None:
        errors.append(str(exc).lower())

    connection = await nats.connect(
        url,
        error_cb=record,
        allow_reconnect=False,
        nkeys_seed=str(seed),
        inbox_prefix=inbox_prefix(user),
    )
    try:
        yield Session(connection, errors)
    finally:
        await connection.close()
