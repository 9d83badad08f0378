"""Events: a project's bus events as a live Server-Sent Events stream, and its error history.

The open streams are kept in `app.state.streams`: `end_streams` ends them
when the server stops (uvicorn waits for every open response, and a live
stream never finishes on its own).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse
from nats.js.api import ConsumerConfig, DeliverPolicy

from layercake_contracts.bus import subject_filter
from layercake_gateway.dependencies import (  # FastAPI reads the annotations at runtime
    BusDep,
    LedgerDep,
    User,
    owned_project,
)
from layercake_gateway.responses import BUS, OWNED, SIGNED_IN

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI
    from nats.js import JetStreamContext

router = APIRouter()


@router.get("/projects/{project_id}/errors", responses=SIGNED_IN | OWNED)
async def errors(
    project_id: str, who: User, ledger: LedgerDep, resolved: bool | None = None
) -> list[dict[str, Any]]:
    """The error history; `resolved=true|false` filters it."""
    entries = (await owned_project(ledger, project_id, who)).errors
    if resolved is None:
        return list(entries)
    return [e for e in entries if (e["resolved_at"] is not None) is resolved]


@router.get("/projects/{project_id}/events", responses=SIGNED_IN | OWNED | BUS)
async def events(
    request: Request,
    project_id: str,
    who: User,
    ledger: LedgerDep,
    bus: BusDep,
    last_event_id: Annotated[int | None, Header(ge=0)] = None,
) -> StreamingResponse:
    """The project's events as Server-Sent Events, live; resume with Last-Event-ID."""
    project = await owned_project(ledger, project_id, who)
    subject = subject_filter(None, project.project_id)
    start = (
        {"deliver_policy": DeliverPolicy.BY_START_SEQUENCE, "opt_start_seq": last_event_id + 1}
        if last_event_id is not None
        else {"deliver_policy": DeliverPolicy.ALL}
    )
    subscription = await bus.connection.jetstream().subscribe(
        subject, ordered_consumer=True, config=ConsumerConfig(**start)
    )
    streams: set[JetStreamContext.PushSubscription] = request.app.state.streams
    streams.add(subscription)
    return StreamingResponse(_sse(subscription, streams), media_type="text/event-stream")


async def end_streams(api: FastAPI) -> None:
    """End every live event stream, as a finished response: a stopping server waits for those."""
    streams: set[JetStreamContext.PushSubscription] = api.state.streams
    while streams:
        await streams.pop().unsubscribe()  # which ends its loop in `_sse`


async def _sse(
    subscription: JetStreamContext.PushSubscription,
    streams: set[JetStreamContext.PushSubscription],
) -> AsyncIterator[str]:
    """Each message as an SSE frame whose id is its stream sequence, until it is ended."""
    try:
        async for message in subscription.messages:
            sequence = message.metadata.sequence.stream
            event_type = message.subject.rsplit(".", 1)[-1]
            yield f"id: {sequence}\nevent: {event_type}\ndata: {message.data.decode()}\n\n"
    finally:
        if subscription in streams:  # else `end_streams` has ended it
            streams.discard(subscription)
            await subscription.unsubscribe()
