"""What a test's stream holds: every event stored, in order, read straight from JetStream."""

from __future__ import annotations

from typing import TYPE_CHECKING

from layercake_contracts.bus import STREAM_NAME
from layercake_contracts.events import Event, parse_event

if TYPE_CHECKING:
    from layercake_contracts.bus import Bus


async def stream_events(bus: Bus) -> list[Event]:
    """Every event the stream stores, oldest first."""
    js = bus._broker.connection.jetstream()  # noqa: SLF001  # the test reads what the bus wrote
    info = await js.stream_info(STREAM_NAME)
    return [
        parse_event((await js.get_msg(STREAM_NAME, seq)).data or b"")
        for seq in range(1, info.state.last_seq + 1)
    ]
