"""Bus conventions: subjects, the one event stream, publishing, the way to the blob store.

Every service publishes through `Bus.publish`, which names the service as the
event's producer and sets `Nats-Msg-Id` to the event id so that a retried
publish is stored once. A consumer acts only on an event that is what its
subject says (`delivery_problem`). File contents travel as blobs addressed by
their sha256 (see `blobs`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nats.js.api import StorageType, StreamConfig

# Re-exported (explicitly, for mypy): services reach the blob store through the bus.
from layercake_contracts.blobs import BLOB_BUCKET as BLOB_BUCKET  # noqa: PLC0414
from layercake_contracts.blobs import BlobStore as BlobStore  # noqa: PLC0414
from layercake_contracts.blobs import blob_stream_config, declare_stream
from layercake_contracts.blobs import sha256_of as sha256_of  # noqa: PLC0414
from layercake_contracts.producers import producer_problem

if TYPE_CHECKING:
    from faststream.nats import NatsBroker
    from nats.aio.client import Client
    from nats.js import JetStreamContext

    from layercake_contracts.events import Event, EventBase
    from layercake_contracts.producers import Service

STREAM_NAME = "LC_EVENTS"
SUBJECT_ROOT = "lc.evt"
ALL_EVENTS = f"{SUBJECT_ROOT}.>"
# Long enough that a relay restarting after an outage still hits the dedup window.
DUPLICATE_WINDOW_S = 24 * 3600.0
MSG_ID_HEADER = "Nats-Msg-Id"


def subject_for(event: EventBase) -> str:
    """The subject an event is published on: `lc.evt.<project_id>.<Type>`."""
    event_type: str = getattr(event, "type")  # noqa: B009  # every concrete event has `type`
    return f"{SUBJECT_ROOT}.{event.project_id}.{event_type}"


def subject_filter(event_type: str | None = None, project_id: str = "*") -> str:
    """A subscription filter for one event type, or for every event."""
    if event_type is None:
        return ALL_EVENTS if project_id == "*" else f"{SUBJECT_ROOT}.{project_id}.>"
    return f"{SUBJECT_ROOT}.{project_id}.{event_type}"


def delivery_problem(subject: str, event: Event) -> str | None:
    """Why `event` must not be acted on as delivered on `subject`, or None.

    Consumers filter, and act for, the subject's project and type, so a payload
    naming another (a GateApproved for bob's project on alice's subject) is
    refused, as is an event its producer does not make.
    """
    project_id, _, event_type = subject.removeprefix(f"{SUBJECT_ROOT}.").partition(".")
    if event.type != event_type:
        return f"type: subject says {event_type!r}, message says {event.type!r}"
    if event.project_id != project_id:
        return f"project: subject says {project_id!r}, message says {event.project_id!r}"
    return producer_problem(event.type, event.producer)


def stream_config() -> StreamConfig:
    """The one stream that keeps every event, on disk."""
    return StreamConfig(
        name=STREAM_NAME,
        subjects=[ALL_EVENTS],
        storage=StorageType.FILE,
        duplicate_window=DUPLICATE_WINDOW_S,
    )


async def ensure_stream(js: JetStreamContext) -> None:
    """Create the event stream, or bring an existing one to our configuration."""
    await declare_stream(js, stream_config())


@dataclass(frozen=True)
class Published:
    """What the stream said about a publish."""

    sequence: int
    duplicate: bool


class Bus:
    """Publishes events and reaches the blob store over one broker connection.

    A service's bus names it as the producer of what it publishes and refuses
    an event type the service does not produce. A bus without a producer (a
    test or a tool standing in for the services) publishes events as they are.
    """

    def __init__(self, broker: NatsBroker, producer: Service | None = None) -> None:
        self._broker = broker
        self.producer = producer
        self._blobs: BlobStore | None = None

    async def publish(self, event: EventBase) -> Published:
        """Store `event` on the stream once, however often this is called."""
        if self.producer is not None:
            event = event.published_by(self.producer)
        ack = await self._broker.publish(
            event.model_dump_json().encode(),
            subject_for(event),
            headers={MSG_ID_HEADER: str(event.event_id)},
            stream=STREAM_NAME,
            timeout=5.0,
        )
        return Published(sequence=ack.seq, duplicate=bool(ack.duplicate))

    @property
    def connection(self) -> Client:
        """The NATS connection (for JetStream reads and questions, see `rpc`)."""
        return self._broker.connection

    async def blobs(self) -> BlobStore:
        """The blob store, its bucket created on first use."""
        if self._blobs is None:
            await declare_stream(self.connection.jetstream(), blob_stream_config())
            self._blobs = BlobStore(self.connection)
        return self._blobs
