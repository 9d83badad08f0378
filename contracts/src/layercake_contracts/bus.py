"""Bus conventions: subjects, the one event stream, publishing, the blob store.

Every service publishes through `Bus.publish`, which names the service as the
event's producer and sets `Nats-Msg-Id` to the event id so that a retried
publish is stored once. A consumer acts only on an event that is what its
subject says (`delivery_problem`). File contents travel as blobs addressed by
their sha256 in a JetStream Object Store bucket.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nats.js.api import StorageType, StreamConfig
from nats.js.errors import BadRequestError, NotFoundError, ObjectNotFoundError

from layercake_contracts.errors import BlobCorrupt, BlobMissing
from layercake_contracts.producers import producer_problem

if TYPE_CHECKING:
    from faststream.nats import NatsBroker
    from nats.aio.client import Client
    from nats.js import JetStreamContext
    from nats.js.object_store import ObjectStore

    from layercake_contracts.events import Event, EventBase
    from layercake_contracts.producers import Service

STREAM_NAME = "LC_EVENTS"
SUBJECT_ROOT = "lc.evt"
ALL_EVENTS = f"{SUBJECT_ROOT}.>"
BLOB_BUCKET = "lc-blobs"
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
    config = stream_config()
    try:
        await js.add_stream(config)
    except BadRequestError:
        await js.update_stream(config)


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
            store = await self._broker.object_storage(BLOB_BUCKET, storage=StorageType.FILE)
            self._blobs = BlobStore(store)
        return self._blobs


def sha256_of(data: bytes) -> str:
    """The content address of `data`."""
    return hashlib.sha256(data).hexdigest()


class BlobStore:
    """Contents by sha256 in a JetStream Object Store bucket; put is idempotent."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    async def put(self, data: bytes) -> str:
        """Store `data` (once) and return its sha256."""
        digest = sha256_of(data)
        if not await self.exists(digest):
            await self._store.put(digest, data)
        return digest

    async def exists(self, digest: str) -> bool:
        """True when a blob with this sha256 is stored."""
        try:
            await self._store.get_info(digest)
        except (ObjectNotFoundError, NotFoundError):
            return False
        return True

    async def get(self, digest: str) -> bytes:
        """The bytes stored under `digest`; checked against it."""
        try:
            result = await self._store.get(digest)
        except (ObjectNotFoundError, NotFoundError) as exc:
            raise BlobMissing(digest) from exc
        data = result.data or b""
        if sha256_of(data) != digest:
            raise BlobCorrupt(digest, sha256_of(data))
        return data
