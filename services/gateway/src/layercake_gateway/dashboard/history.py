"""One project's bus events, all of them, read once: what the sections that show events share.

The ledger keeps what the events decided, not their payloads (a build's steps, a
heal's prompt, an answer's usage); the stream keeps those. A read is an ordered,
ephemeral consumer of the project's subjects from the first message, stopped at
the last one the stream held when it began, within a bounded time. It changes
nothing and acknowledges nothing. An event that does not parse (a later
version's type) is left out.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from nats.js.api import ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from layercake_contracts.bus import STREAM_NAME, subject_filter
from layercake_contracts.events import parse_event

if TYPE_CHECKING:
    from layercake_contracts.bus import Bus
    from layercake_contracts.events import EventBase

HISTORY_TIMEOUT_S = 10.0
MAX_EVENTS = 20_000


class HistoryUnavailable(Exception):
    """The project's events could not be read: `reason` says why."""

    def __init__(self, project_id: str, reason: str) -> None:
        super().__init__(f"the events of {project_id} could not be read: {reason}")
        self.project_id, self.reason = project_id, reason


async def project_history(
    bus: Bus, project_id: str, timeout_s: float = HISTORY_TIMEOUT_S
) -> list[EventBase]:
    """Every event of `project_id` on the stream, in order (none when it has none yet)."""
    jetstream = bus.connection.jetstream()
    subject = subject_filter(None, project_id)
    try:
        info = await jetstream.stream_info(STREAM_NAME, subjects_filter=subject)
    except NotFoundError as exc:
        raise HistoryUnavailable(project_id, f"the stream {STREAM_NAME} is missing") from exc
    expected = sum((info.state.subjects or {}).values())
    if expected == 0:
        return []
    if expected > MAX_EVENTS:
        reason = f"it has {expected} events, more than the {MAX_EVENTS} a page reads"
        raise HistoryUnavailable(project_id, reason)
    subscription = await jetstream.subscribe(
        subject, ordered_consumer=True, config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL)
    )
    found: list[EventBase] = []
    try:
        async with asyncio.timeout(timeout_s):
            async for message in subscription.messages:
                with contextlib.suppress(ValidationError):
                    found.append(parse_event(message.data))
                if message.metadata.num_pending == 0:
                    break
    except TimeoutError as exc:
        reason = f"only {len(found)} of {expected} events came within {timeout_s:g} s"
        raise HistoryUnavailable(project_id, reason) from exc
    finally:
        await subscription.unsubscribe()
    return found
