"""The gateway's bus edge: every event into the ledger (exactly once), then the relay."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from faststream.nats.annotations import NatsMessage  # noqa: TC002  # FastStream reads it at runtime

from layercake_contracts.events import Event  # noqa: TC001  # FastStream reads the annotation at runtime

if TYPE_CHECKING:
    from layercake_contracts.runtime import ServiceRuntime
    from layercake_gateway.adapters.ledger import Ledger
    from layercake_gateway.adapters.relay import Relay


def register(runtime: ServiceRuntime, ledger: Ledger, relay: Relay) -> None:
    """One durable consumer on every event; what the ledger decides is relayed right after."""

    @runtime.subscribe(runtime.broker, None, name="ledger", ordered=True)
    async def on_any_event(event: Event, message: NatsMessage) -> None:
        position = message.raw_message.metadata.sequence.stream
        if await asyncio.to_thread(ledger.record, event, position):
            await relay.run_once()
