"""The consumer runtime every service shares: durable pull consumers that never lose a message.

A service builds its broker with `create_broker` and registers handlers with
`subscribe`. The `Reliability` middleware then owns acknowledgement for every
message: it acks on success, sends in-progress acks while a handler works, naks
with backoff on failure, and after the last allowed delivery (or at once, for a
message that does not validate) publishes `ProcessingFailed` and terminates the
original. A message is never redelivered forever and never dropped in silence.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import uuid
from typing import TYPE_CHECKING, Any

import structlog
from faststream import AckPolicy, BaseMiddleware
from faststream.nats import JStream, NatsBroker, PullSub
from pydantic import ValidationError

from layercake_contracts.bus import (
    STREAM_NAME,
    SUBJECT_ROOT,
    Bus,
    delivery_problem,
    ensure_stream,
    subject_filter,
)
from layercake_contracts.consumers import ConsumerDrift, declared, reconcile
from layercake_contracts.events import (
    PROJECT_ID_PATTERN,
    ProcessingFailed,
    parse_event,
    uncatalogued,
)
from layercake_contracts.heartbeat import beat
from layercake_contracts.producers import service_named
from layercake_contracts.settings import BusSettings, DeliveryPolicy

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path
    from types import TracebackType

    from faststream._internal.context import ContextRepo
    from faststream.message import StreamMessage
    from faststream.nats import NatsRouter
    from nats.aio.msg import Msg
    from nats.js.api import ConsumerConfig

    from layercake_contracts.events import EventBase

log = structlog.get_logger(__name__)

# Declared by `ensure_stream`, never by FastStream, so every service agrees on it.
EVENTS = JStream(name=STREAM_NAME, declare=False)
_DEAD_LETTER_NAMESPACE = uuid.UUID("8d0b6a52-4f4e-4d47-9a51-52b0c4c6a0f1")
_UNKNOWN_PROJECT = "unknown"


class Malformed(Exception):  # a message, not an error of ours
    """A message that is not the event its subject names."""


class _PastBound(Exception):
    """A message delivered again after its last allowed delivery."""


class ServiceRuntime:
    """One service's broker, bus and delivery policy.

    A runtime named after one of the five services publishes as that service;
    any other name (a test's observer, a benchmark) publishes events as made.
    """

    def __init__(
        self,
        service: str,
        nats_url: str,
        policy: DeliveryPolicy | None = None,
        nkey_seed_file: Path | None = None,
    ) -> None:
        self.service = service
        self.nats_url = nats_url
        self.policy = policy or DeliveryPolicy()
        # What each durable consumer must be; `start` brings existing ones to it.
        self.consumers: list[ConsumerConfig] = []
        self.broker = NatsBroker(
            nats_url,
            middlewares=[self._reliability],
            max_reconnect_attempts=-1,
            # Signed in as itself (see `layercake.natsauth`), with replies to its own inbox.
            nkeys_seed=None if nkey_seed_file is None else str(nkey_seed_file),
            inbox_prefix=inbox_prefix(service),
        )
        self.bus = Bus(self.broker, service_named(service))

    def _reliability(self, msg: Msg | None, /, *, context: ContextRepo) -> BaseMiddleware[Any, Any]:
        if msg is None or not msg.subject.startswith(SUBJECT_ROOT):
            # No message (FastStream publishing), or a question (see rpc): nothing to acknowledge.
            return BaseMiddleware(msg, context=context)
        return Reliability(msg, context=context, runtime=self)

    def subscribe(
        self,
        router: NatsRouter | NatsBroker,
        event_type: type[EventBase] | None,
        *,
        name: str | None = None,
        max_workers: int = 1,
        ordered: bool = False,
    ) -> Callable[[Callable[..., Any]], Any]:
        """Register a handler on a durable pull consumer for one event type (or all).

        `ordered`: one message in flight at a time, so a message that is retried
        holds back the later ones (the ledger's order is the project's history).
        """
        type_name = None if event_type is None else event_type.model_fields["type"].default
        durable = f"{self.service}-{name or type_name or 'all'}"
        subject = subject_filter(type_name)
        config = declared(durable, subject, self.policy.ack_wait_s, ordered=ordered)
        self.consumers.append(config)
        return router.subscriber(  # type: ignore[no-any-return,call-overload]  # max_workers is passed only when > 1, which FastStream's overloads cannot express
            subject,
            stream=EVENTS,
            durable=durable,
            # One message a fetch; the workers give the concurrency. nats-py's batch fetch ends
            # an idle wait with a bare asyncio.TimeoutError, which FastStream does not take for
            # a timeout: it logs a traceback as ERROR and restarts the consumer, every few seconds.
            pull_sub=PullSub(batch_size=1, timeout=1.0),
            config=config,
            ack_policy=AckPolicy.MANUAL,
            # FastStream's default is the shared `_INBOX.`, which the server lets no one read.
            inbox_prefix=f"{inbox_prefix(self.service)}.".encode(),
            # More than one worker: messages of this consumer are handled concurrently.
            **({"max_workers": max_workers} if max_workers > 1 else {}),
        )

    async def start(self) -> None:
        """Connect, make sure the stream exists, then start the consumers.

        Consumers an older version made are first brought to the declared config,
        or the start stops with `ConsumerDrift` (see `consumers`).
        """
        await self.broker.connect()
        js = self.broker.connection.jetstream()
        await ensure_stream(js)
        try:
            await reconcile(js, STREAM_NAME, self.consumers, self.nats_url)
        except ConsumerDrift:
            await self.broker.stop()
            raise
        await self.broker.start()

    def connected(self) -> bool:
        """Whether the broker's connection to the bus is up now."""
        return bool(self.broker.connection.is_connected)

    async def stop(self) -> None:
        """Drain: finish the messages in hand, then close."""
        await self.broker.stop()

    async def dead_letter(self, msg: Msg, error: str) -> None:
        """Publish `ProcessingFailed` for `msg`, naming its event when it can."""
        meta = msg.metadata
        project_id, original_type = _project_and_type(msg.subject)
        # What can be read of a bad message's envelope is kept: its id, its run, its type.
        envelope = _envelope(msg.data)
        original_id = _uuid_in(envelope, "event_id")
        correlation = _uuid_in(envelope, "correlation_id") or uuid.uuid5(
            _DEAD_LETTER_NAMESPACE, msg.subject
        )
        if isinstance(envelope.get("type"), str):
            original_type = envelope["type"]
        event = ProcessingFailed(
            # Deterministic: a dead letter published twice is stored once.
            event_id=uuid.uuid5(
                _DEAD_LETTER_NAMESPACE,
                f"{self.service}/{meta.stream}/{meta.sequence.stream}",
            ),
            project_id=project_id,
            correlation_id=correlation,
            causation_id=original_id,
            service=self.service,
            subject=msg.subject,
            stream_sequence=meta.sequence.stream,
            deliveries=meta.num_delivered,
            original_event_id=original_id,
            original_type=original_type,
            error=error[:4000],
        )
        await self.bus.publish(event)


def _envelope(data: bytes) -> dict[str, Any]:
    """The message's JSON object as far as it is one; {} for bytes that are not."""
    try:
        found = json.loads(data)
    except ValueError:  # not JSON, or not UTF-8
        return {}
    return found if isinstance(found, dict) else {}


def _uuid_in(envelope: dict[str, Any], field: str) -> uuid.UUID | None:
    """The envelope's `field` if it is a UUID, else None."""
    try:
        return uuid.UUID(str(envelope[field]))
    except (KeyError, ValueError):
        return None


def _project_and_type(subject: str) -> tuple[str, str | None]:
    """The project id and event type a subject names, as far as it names them."""
    prefix = f"{SUBJECT_ROOT}."
    if not subject.startswith(prefix):
        return _UNKNOWN_PROJECT, None
    project_id, _, event_type = subject.removeprefix(prefix).partition(".")
    if not re.fullmatch(PROJECT_ID_PATTERN, project_id):
        project_id = _UNKNOWN_PROJECT
    return project_id, event_type or None


def inbox_prefix(user: str) -> str:
    """The user's own inbox: its replies (and JetStream's deliveries) come only to it.

    The server lets each user subscribe only to `_INBOX_<user>.>`, so no one reads
    another's replies or JetStream deliveries.
    """
    return f"_INBOX_{user}"


class Reliability(BaseMiddleware):
    """Acknowledgement, heartbeats, bounded redelivery and dead letters for one message."""

    def __init__(self, msg: Msg, /, *, context: ContextRepo, runtime: ServiceRuntime) -> None:
        super().__init__(msg, context=context)
        self._raw = msg
        self._runtime = runtime
        self._heartbeat: asyncio.Task[None] | None = None

    async def on_receive(self) -> None:
        """Start telling the server the message is being worked on."""
        self._heartbeat = asyncio.create_task(self._beat())

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self._runtime.policy.heartbeat_s)
            await self._raw.in_progress()

    async def consume_scope(
        self,
        call_next: Callable[[StreamMessage[Any]], Any],
        msg: StreamMessage[Any],
    ) -> Any:  # noqa: ANN401  # whatever the handler returns
        """Refuse, before the handler runs, a message past its bound or not its subject's event.

        Not its subject's: another type or project, or a producer its type does not have.
        """
        deliveries = self._raw.metadata.num_delivered
        if deliveries > self._runtime.policy.max_deliver:
            raise _PastBound(deliveries)
        try:
            event = parse_event(self._raw.data)
        except ValidationError as exc:
            if self._is_later_type():
                return None  # acked in `after_processed`, the handler never called
            raise Malformed(str(exc)) from exc
        problem = delivery_problem(self._raw.subject, event)
        if problem is not None:
            raise Malformed(problem)
        with structlog.contextvars.bound_contextvars(
            project_id=event.project_id,
            event_id=str(event.event_id),
            correlation_id=str(event.correlation_id),
        ):
            return await call_next(msg)

    def _is_later_type(self) -> bool:
        """Whether the message is an event of a type not in the catalogue, on its own subject."""
        found = uncatalogued(self._raw.data)
        if found is None:
            return False
        kind, envelope = found
        if self._raw.subject != f"{SUBJECT_ROOT}.{envelope.project_id}.{kind}":
            return False
        log.info(
            "unknown_event_type_ignored",
            service=self._runtime.service,
            subject=self._raw.subject,
            event_type=kind,
            event_id=str(envelope.event_id),
        )
        return True

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,  # noqa: ARG002  # the base class's signature
        exc_val: BaseException | None = None,
        exc_tb: TracebackType | None = None,  # noqa: ARG002
    ) -> bool:
        """Ack, nak with backoff, or dead-letter and terminate."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
        if exc_val is None:
            await self._raw.ack()
            return False
        if not isinstance(exc_val, Exception):
            return False  # cancellation or exit: the server redelivers after AckWait
        await self._on_failure(exc_val)
        return True

    async def _on_failure(self, exc: Exception) -> None:
        policy, raw = self._runtime.policy, self._raw
        deliveries = raw.metadata.num_delivered
        final = isinstance(exc, Malformed | _PastBound) or deliveries >= policy.max_deliver
        logger = log.bind(
            service=self._runtime.service,
            subject=raw.subject,
            deliveries=deliveries,
            error=repr(exc),
        )
        if not final:
            logger.warning("handler_failed_will_retry")
            await raw.nak(delay=policy.backoff_after(deliveries))
            return
        error = (
            f"{type(exc.__cause__ or exc).__name__}: {exc}"
            if not isinstance(exc, _PastBound)
            else f"delivered {deliveries} times, more than the {policy.max_deliver} allowed"
        )
        try:
            await self._runtime.dead_letter(raw, error)
        except Exception:
            # The dead letter is not stored yet: keep the message, try again later.
            logger.exception("dead_letter_publish_failed")
            await raw.nak(delay=policy.backoff_after(deliveries))
            return
        logger.error("message_dead_lettered")
        await raw.term()


def run_worker(make_runtime: Callable[[], ServiceRuntime]) -> None:
    """The body of every `layercake <service> run`: build the runtime, serve until a signal.

    A consumer the runtime cannot bring to its declared config ends the worker with
    the reason and the fix (exit status 1).
    """
    try:
        asyncio.run(serve(make_runtime(), BusSettings().heartbeat_file))
    except ConsumerDrift as exc:
        raise SystemExit(str(exc)) from exc


async def serve(runtime: ServiceRuntime, heartbeat: Path | None = None) -> None:
    """Run a service until SIGINT or SIGTERM, then drain and stop; touch `heartbeat` meanwhile."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)
    await runtime.start()
    log.info("service_started", service=runtime.service)
    beating = asyncio.create_task(beat(heartbeat, runtime.connected)) if heartbeat else None
    try:
        await stopping.wait()
    finally:
        if beating is not None:
            beating.cancel()
        await runtime.stop()
        log.info("service_stopped", service=runtime.service)
