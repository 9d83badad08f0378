"""The outbox relay: the ledger's recorded decisions, published to the bus in order.

Decisions are recorded first (with the message that caused them); this relay
then reads the store's notification log from where it last finished, publishes
what each record announces, and only then notes the record as relayed. A crash
in between publishes the same events again on restart, with the same ids, so
the stream keeps them once: nothing lost, nothing duplicated.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from eventsourcing.persistence import Tracking

from layercake_gateway.core.outbox import Recorded, announcements, due_at
from layercake_gateway.core.project import Project

if TYPE_CHECKING:
    import uuid
    from collections.abc import Awaitable, Callable

    from eventsourcing.persistence import Notification

    from layercake_contracts.events import EventBase
    from layercake_gateway.adapters.ledger import Ledger

RELAYED = "relay"
BATCH = 100


class Relay:
    """Publishes the ledger's announcements, each record once."""

    def __init__(self, ledger: Ledger, publish: Callable[[EventBase], Awaitable[object]]) -> None:
        self._ledger = ledger
        self._publish = publish
        self._projects: dict[uuid.UUID, tuple[str, uuid.UUID]] = {}  # bus id, run
        self._one_at_a_time = asyncio.Lock()  # the consumer, the API and the loop all relay

    async def run_once(self) -> int:
        """Relay what was recorded since the last run; how many records were relayed."""
        async with self._one_at_a_time:
            return await self._relay()

    async def _relay(self) -> int:
        recorder = self._ledger.recorder
        last = await asyncio.to_thread(recorder.max_tracking_id, RELAYED)
        notifications = await asyncio.to_thread(
            recorder.select_notifications, (last or 0) + 1, BATCH
        )
        relayed = 0
        for notification in notifications:
            recorded = await asyncio.to_thread(self._recorded, notification)
            due = due_at(recorded)
            if due is not None and due > datetime.now(UTC):
                break  # an agent's retry waits its backoff; order holds the rest behind it
            for event in announcements(recorded):
                await self._publish(event)
            await asyncio.to_thread(
                recorder.insert_events, [], tracking=Tracking(RELAYED, notification.id)
            )
            relayed += 1
        return relayed

    def _recorded(self, notification: Notification) -> Recorded:
        domain_event = self._ledger.app.mapper.to_domain_event(notification)
        aggregate_id = domain_event.originator_id
        if aggregate_id not in self._projects:
            aggregate: object = self._ledger.app.repository.get(aggregate_id)
            # The token deny list shares the store; it is no project's and announces nothing.
            if isinstance(aggregate, Project):
                self._projects[aggregate_id] = (aggregate.project_id, aggregate.run_id())
            else:
                self._projects[aggregate_id] = ("", aggregate_id)
        project_id, run = self._projects[aggregate_id]
        return Recorded.of(domain_event, project_id, run)
